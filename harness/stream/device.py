"""A running emulated board for interactive use (Robot keywords, pytest
fixtures): wait for lines, forbid lines, check the expected sequence.
Everything happens in the caller's thread; no reader thread drops lines."""
from __future__ import annotations

import re
import time
from pathlib import Path

from harness.errors import HarnessError
from harness.host.deadline import Deadline
from harness.judging.judge import Ending, Judge, crash_reason
from harness.judging.triage import FaultDump
from harness.judging.verdict import Outcome, Verdict
from harness.stream.uart import Line
from harness.stream.watch import follow


class UartFailure(HarnessError):
    """A UART expectation of a keyword or fixture was not met."""

    verdict = Verdict.FAIL
    exit_code = Verdict.FAIL.code


class Device:
    def __init__(self, emulator, elf: Path, crash_fails: bool = True) -> None:
        self.emulator = emulator
        self.crash_fails = crash_fails     # a fatal error fails the waiting keyword at once
        self.elf = elf
        self.history: list[Line] = []
        self._cursor = 0            # history index of the next unconsumed line
        self._failing: list[re.Pattern] = []
        self._dump = FaultDump()
        self.stream = emulator.start(elf)

    @property
    def run_dir(self) -> Path:
        return self.emulator.run_dir

    def register_failing(self, text: str, regex: bool = False) -> None:
        self._failing.append(_pattern(text, regex))

    def wait_for_line(self, text: str, timeout: float, regex: bool = False) -> Line:
        """The next line containing `text` (host-time `timeout` in seconds)."""
        pattern = _pattern(text, regex)
        for line in self._lines(timeout):
            if pattern.search(line.text):
                return line
        raise self._failure(f"no line matching {text!r} within {timeout:g} s (host time)")

    def should_not_see(self, text: str, timeout: float, regex: bool = False) -> None:
        pattern = _pattern(text, regex)
        for line in self._lines(timeout):
            if pattern.search(line.text):
                raise self._failure(f"forbidden line {line.text!r} (line {line.lineno})")

    def expect_sequence(self, spec, timeout: float) -> Outcome:
        """Judge every line since boot (and what follows) against an expectation spec."""
        judge = Judge(spec)
        judge.settle_like(self.emulator)
        for line in self.history:
            judge.feed(line.lineno, line.text, line.t)
        ending = Ending("stopped")
        if not judge.should_stop(time.monotonic() - self.stream.t0):
            ending = follow(self.emulator, self.stream, judge, timeout, self.history.append)
        self._cursor = len(self.history)
        return judge.outcome(ending)

    def close(self) -> dict:
        self.stream.close()
        return self.emulator.stop()

    def transcript(self, last: int | None = None) -> list[str]:
        lines = self.history[-last:] if last else self.history
        return [line.text for line in lines]

    # -- internals -----------------------------------------------------------
    def _lines(self, timeout: float):
        """Unconsumed lines, then new ones, until `timeout` host seconds pass.
        Failing strings and crashes fail in stream order, when their line is reached."""
        deadline = Deadline(timeout)
        while True:
            while self._cursor < len(self.history):
                line = self.history[self._cursor]
                self._cursor += 1
                self._check(line)
                yield line
            left = deadline.remaining()
            if left <= 0:
                return
            if self.emulator.poll() is not None and self.stream.closed:
                raise self._failure(f"the emulator exited (rc {self.emulator.poll()})")
            self._read(min(left, 0.05))

    def _check(self, line: Line) -> None:
        bad = next((p for p in self._failing if p.search(line.text)), None)
        if bad:
            raise self._failure(f"failing string {bad.pattern!r} seen: {line.text!r}")
        self._dump.feed(line.text, line.lineno)
        if self.crash_fails and self._dump.complete:
            raise self._failure("the firmware crashed: " + crash_reason(self._dump.summary()))

    def _read(self, wait: float) -> list[Line]:
        new = self.stream.read_lines(wait)
        self.history.extend(new)
        return new

    def _failure(self, message: str) -> UartFailure:
        tail = "\n".join(f"  {t}" for t in self.transcript(10)) or "  (no output)"
        return UartFailure(f"{message}\nlast UART lines:\n{tail}",
                           f"artifacts: {self.run_dir} (uart.raw, {self.emulator.name}.log)")


def _pattern(text: str, regex: bool) -> re.Pattern:
    try:
        return re.compile(text if regex else re.escape(text))
    except re.error as exc:
        raise UartFailure(f"bad regex {text!r}: {exc}") from None
