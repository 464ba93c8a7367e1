"""From UART lines and how the run ended to a verdict. Pure: no I/O, no clock.

The watch loop feeds lines (with the host time it read them) and asks
`should_stop(now)`; at the end it calls `outcome(ending)` where `ending` says
why the loop stopped: "stopped" (the judge asked), "timeout", "exited",
"closed" (UART socket closed), "stall" (virtual time frozen) or "eof"
(a saved log ended).
"""
from __future__ import annotations

from collections import deque
from dataclasses import dataclass

from harness.judging.expect import Expectation
from harness.judging.gcov_dump import GcovDump
from harness.judging.lines import Splicer
from harness.judging.matcher import Matcher, Violation
from harness.judging.triage import END_MARKERS, FaultDump
from harness.judging.verdict import Outcome, Verdict

DUMP_GRACE_S = 0.5     # host seconds to wait for the rest of a fault dump
TAIL = 20
DEFAULT_SETTLE_S = 0.2  # host seconds of capture after completion (adapters set their own)
DUMP_START_WAIT_S = 5.0  # host seconds after completion for a coverage image's dump to start
DUMP_OVERTIME_S = 30.0  # host seconds more, once, for a gcov dump under way at the deadline


@dataclass
class Ending:
    why: str                        # stopped | timeout | exited | closed | stall | eof
    returncode: int | None = None
    detail: str = ""


class Judge:
    """`matcher`: the expect.yaml matcher by default, or a Zephyr harness's (judging.suites).
    `faults_expected`: a fatal error does not end the run (ztest suites and `ignore_faults`
    scenarios provoke them on purpose); each is recorded, and a run that then never
    completes is a CRASH with the last fault's triage instead of a HANG."""

    def __init__(self, spec: Expectation, matcher=None, faults_expected: bool = False) -> None:
        self.spec = spec
        self.matcher = matcher if matcher is not None else Matcher(spec)
        self.faults_expected = faults_expected
        self.faults: list[dict] = []              # completed dumps, when faults are expected
        self.lines_after_fault = 0                # lines since the last of them ended
        self.dump = FaultDump()
        self.splicer = Splicer()
        self.forbidden: Violation | None = None
        self.tail: deque = deque(maxlen=TAIL)    # last lines, for failure reports
        self.nlines = 0
        self._fatal_at: float | None = None
        self._done_at: float | None = None
        self.settle_s = DEFAULT_SETTLE_S          # the capture window, unless the spec sets one
        self.settle_guest_s: float | None = None  # ... or this much guest time, where reported
        self.gcov: GcovDump | None = None         # --coverage: the firmware's gcov dump
        self._overtime_given = False

    def expect_gcov_dump(self) -> GcovDump:
        """A coverage image: after completion, wait for its gcov dump to end (the
        capture window starts then); dump lines are not the firmware's log."""
        self.gcov = GcovDump()
        return self.gcov

    def overtime_s(self) -> float:
        """Host seconds more to give a run at its deadline: once, while a gcov dump is
        under way, so that a long dump is not cut short by the time budget."""
        if self.gcov is None or not self.gcov.dumping or self._overtime_given:
            return 0.0
        self._overtime_given = True
        return DUMP_OVERTIME_S

    def feed(self, lineno: int, text: str, t: float) -> None:
        """A UART line; a log line split by another one is reassembled first (Splicer)."""
        if self.gcov is not None and self.gcov.feed(text):
            if not self.gcov.dumping and self._done_at is not None:
                self._done_at = max(self._done_at, t)      # the window starts after a dump
            return
        for n, line in self.splicer.feed(lineno, text):
            self._feed(n, line, t)

    def finish(self, t: float = 0.0) -> None:
        """The stream ended: a line held back by the splicer is judged as it came."""
        for n, line in self.splicer.flush():
            self._feed(n, line, t)

    def _feed(self, lineno: int, text: str, t: float) -> None:
        self.nlines += 1
        self.tail.append((lineno, text))
        if self.faults_expected:
            self._expected_fault(text, lineno)
        was_fatal = self.dump.started and not self.faults_expected
        if not self.faults_expected:
            self.dump.feed(text, lineno)
            if self.dump.started and not was_fatal:
                self._fatal_at = t
            if self.dump.started:
                return
        for pattern in self.spec.fail_on:
            if pattern.search(text) and not self.forbidden:
                self.forbidden = Violation("fail_on", f"forbidden line matched {pattern.pattern!r}",
                                           [(lineno, text)])
        if self.matcher.feed(text, lineno, t) is None and self.matcher.done and self._done_at is None:
            self._done_at = t

    def _expected_fault(self, text: str, lineno: int) -> None:
        if not any(marker in text for marker in END_MARKERS):   # "Halting system" ends it too
            self.lines_after_fault += 1
        self.dump.feed(text, lineno)
        if self.dump.complete:
            self.lines_after_fault = 0
            self.faults.append(self.dump.summary())
            self.dump = FaultDump()

    @property
    def completed(self) -> bool:
        """The expected sequence is complete (the run may still watch for late faults)."""
        return self.matcher.done

    def settle_like(self, emulator) -> None:
        """The capture window after completion of `emulator`: host seconds (settle_s),
        or guest seconds (settle_guest_s) where it reports its virtual time."""
        self.settle_s, self.settle_guest_s = emulator.settle_s, emulator.settle_guest_s

    def should_stop(self, now: float, guest_since_done: float | None = None) -> bool:
        """`now`: host seconds of the run; `guest_since_done`: guest seconds since the
        sequence completed, where the emulator reports them."""
        if self.dump.started and not self.faults_expected:
            return self.dump.complete or now - self._fatal_at >= DUMP_GRACE_S
        if self.forbidden or self.matcher.violation:
            return True
        if self._done_at is None or self._awaiting_dump(now):
            return False
        if self.spec.after_success_s is None and self.settle_guest_s is not None \
                and guest_since_done is not None and guest_since_done >= self.settle_guest_s:
            return True
        return now - self._done_at >= self.window_s

    def _awaiting_dump(self, now: float) -> bool:
        """A coverage run waits for its dump to end, and up to DUMP_START_WAIT_S host
        seconds after completion for one to start (main() returns after its last line)."""
        if self.gcov is None:
            return False
        return self.gcov.dumping or (self.gcov.status == "absent"
                                     and now - self._done_at < DUMP_START_WAIT_S)

    @property
    def window_s(self) -> float:
        """Host seconds to keep capturing after completion, so a late fault is caught:
        the expectation's `after_success_s`, else the emulator's `settle_s` (at most: an
        emulator with `settle_guest_s` ends the window once that much guest time passed)."""
        given = self.spec.after_success_s
        return self.settle_s if given is None else given

    def outcome(self, ending: Ending) -> Outcome:
        self.finish()
        evidence = {"events": [e.to_json() for e in self.matcher.events],
                    "last_lines": [f"{n}: {t}" for n, t in self.tail],
                    "ending": ending.__dict__}
        if getattr(self.matcher, "recording", None):
            evidence["recorded"] = list(self.matcher.recording)
        if self.splicer.notes:
            evidence["reassembled"] = list(self.splicer.notes)
        if self.gcov is not None:
            evidence["coverage_dump"] = self.gcov.summary()
        testcases = getattr(self.matcher, "testcases", lambda: [])()
        if testcases:
            evidence["testcases"] = testcases
        if self.faults_expected:
            return self._outcome_with_expected_faults(ending, evidence)
        if self.dump.started:
            fault = self.dump.summary()
            evidence["fault"] = fault
            evidence["fault_lines"] = [t for _, t in self.dump.lines]
            return Outcome(Verdict.CRASH, crash_reason(fault), evidence)
        broken = self.forbidden or self.matcher.violation
        if broken:
            evidence["violation"] = {"rule": broken.rule, "lines": broken.lines}
            return Outcome(Verdict.FAIL, str(broken), evidence)
        if self.matcher.done:
            return Outcome(Verdict.PASS, "expected sequence complete", evidence)
        return Outcome(*self._unfinished(ending), evidence)

    def _outcome_with_expected_faults(self, ending: Ending, evidence: dict) -> Outcome:
        faults = self.faults + ([self.dump.summary()] if self.dump.started else [])
        evidence["expected_faults"] = len(faults)
        broken = self.forbidden or self.matcher.violation
        if broken:
            evidence["violation"] = {"rule": broken.rule, "lines": broken.lines}
            return Outcome(Verdict.FAIL, str(broken), evidence)
        if self.matcher.done:
            note = f" ({len(faults)} fatal error(s) provoked by the tests)" if faults else ""
            return Outcome(Verdict.PASS, f"expected sequence complete{note}", evidence)
        verdict, why = self._unfinished(ending)
        if self.dump.started or (faults and self.lines_after_fault == 0):
            # the firmware stopped at a fault: that fault is the story (a provoked one is
            # followed by the suite's own lines, e.g. "Caught system error")
            evidence["fault"] = faults[-1]
            return Outcome(Verdict.CRASH, f"{crash_reason(faults[-1])}; then {why}", evidence)
        if faults:
            why += f" (after {len(faults)} fatal error(s) provoked by the tests)"
        return Outcome(verdict, why, evidence)

    def _unfinished(self, ending: Ending) -> tuple[Verdict, str]:
        missing = ", ".join(self.matcher.missing()) or "nothing"
        progress = (f"last event {self.matcher.events[-1].event}[{self.matcher.events[-1].key}]"
                    if self.matcher.events else "no expected event seen")
        heard = f"{self.nlines} line(s) read" if self.nlines else "no output at all"
        if ending.why == "exited":
            return (Verdict.EMULATOR_ERROR,
                    f"emulator exited with rc {ending.returncode} before the sequence completed "
                    f"({heard}; {progress}; missing {missing})")
        if ending.why == "closed":
            return Verdict.EMULATOR_ERROR, f"UART socket closed early ({heard}; missing {missing})"
        if ending.why == "eof":           # a saved log: it simply ended
            return Verdict.FAIL, f"log ended before the sequence completed ({progress}; missing {missing})"
        if ending.why == "stall":
            return Verdict.STALL, f"virtual time stopped advancing: {ending.detail} ({progress})"
        return (Verdict.HANG, f"no completion within {ending.detail}: {heard}; {progress}; "
                f"missing {missing}")


def crash_reason(fault: dict) -> str:
    """e.g. 'fatal error 0 (CPU exception): mpu data access violation at 0x20001000, pc 0x..'"""
    head = (f"fatal error {fault['reason_code']} ({fault['reason']})"
            if fault.get("reason_code") is not None else "fatal error")
    what = (fault.get("kind") or "unknown fault").replace("_", " ")
    if fault.get("address"):
        what += f" at {fault['address']}"
    extras = [f"pc {fault['pc']}" if fault.get("pc") else "",
              f"thread {fault['thread']} ({fault.get('thread_name')})" if fault.get("thread") else ""]
    return f"{head}: {what}" + "".join(f", {e}" for e in extras if e)
