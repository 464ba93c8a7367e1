"""Zephyr's own harnesses as matchers: `console` (one_line / multi_line regexes) and
`ztest` (per-test-case results). Pure: no I/O, no clock.

Both follow the twister of Zephyr 3.0-3.4 (scripts/pylib/twister/harness.py):
console passes when its regexes matched (multi_line `ordered`: in order, a later
pattern seen early is simply not counted yet); ztest completes on `PROJECT
EXECUTION SUCCESSFUL` / `FAILED` and reports each `PASS/FAIL/SKIP - test_x in
N seconds` line. They offer the interface of matcher.Matcher (feed, done,
violation, events, missing) so judge.Judge drives them like an expect.yaml spec.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from harness.judging.matcher import Seen, Violation

# ` PASS - test_x in 0.1 seconds` (3.0-3.4); the leading space and the timing are optional
RESULT = re.compile(r"^\s*(PASS|FAIL|SKIP) - (?:test_)?(\S+?)(?: in (\d+(?:\.\d+)?) seconds)?\s*$")
START = re.compile(r"^\s*START - (?:test_)?(\S+)\s*$")
SUITE = re.compile(r"^\s*Running (?:test suite|TESTSUITE) (\S+)")
ASSERTION = re.compile(r"(Assertion failed at|ASSERTION FAIL|assert.*failed)", re.I)
RUN_PASSED = "PROJECT EXECUTION SUCCESSFUL"
RUN_FAILED = "PROJECT EXECUTION FAILED"
STATUS = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped"}


@dataclass
class Case:
    name: str                   # twister's: <scenario>.<test name without test_>
    suite: str
    status: str                 # passed | failed | skipped | started (no result line)
    line: int
    duration_s: float | None = None
    message: str = ""           # for a failing case: its assertion line

    def to_json(self) -> dict:
        return {"name": self.name, "suite": self.suite, "status": self.status,
                "duration_s": self.duration_s, "line": self.line, "message": self.message}


class ZtestMatcher:
    """Per-test-case results of a ztest run. `case_ids` is how the workspace's twister
    names a case: "scenario" (<scenario>.<test>, Zephyr 3.x-4.0) or "suite"
    (<ztest suite>.<test>, twister's default since it has --detailed-test-id)."""

    def __init__(self, scenario: str, case_ids: str = "scenario") -> None:
        self.scenario = scenario
        self.case_ids = case_ids
        self.cases: dict[str, Case] = {}
        self.events: list[Seen] = []
        self.violation: Violation | None = None
        self.done = False
        self.suite = ""
        self.last_assertion = ""
        self.project: tuple[int, str] | None = None

    def feed(self, text: str, lineno: int, t: float):
        if self.done:
            return None
        if m := SUITE.match(text):
            self.suite = m.group(1)
        elif m := START.match(text):
            name = self._id(m.group(1))
            self.cases[name] = Case(name, self.suite, "started", lineno)
            self.last_assertion = ""
        elif m := RESULT.match(text):
            return self._result(m, text, lineno, t)
        elif ASSERTION.search(text):
            self.last_assertion = text.strip()
        elif RUN_PASSED in text or RUN_FAILED in text:
            self._finish(text, lineno, t)
        return None

    def _id(self, test: str) -> str:
        return f"{self.suite}.{test}" if self.case_ids == "suite" and self.suite \
            else f"{self.scenario}.{test}"

    def _result(self, m: re.Match, text: str, lineno: int, t: float):
        name = self._id(m.group(2))
        status = STATUS[m.group(1)]
        case = Case(name, self.suite, status, lineno,
                    float(m.group(3)) if m.group(3) else None,
                    self.last_assertion if status == "failed" else "")
        self.cases[name] = case
        seen = Seen(status, len(self.events), lineno, text, t)
        self.events.append(seen)
        return seen

    def _finish(self, text: str, lineno: int, t: float) -> None:
        self.done = True
        self.project = (lineno, text)
        failed = [c for c in self.cases.values() if c.status == "failed"]
        if RUN_FAILED in text or failed:
            names = ", ".join(c.name for c in failed) or "no test case named"
            lines = [(c.line, c.message or f"FAIL - {c.name}") for c in failed] + [(lineno, text)]
            self.violation = Violation("ztest", f"{len(failed)} test case(s) failed: {names}",
                                       lines)

    def missing(self) -> list[str]:
        open_cases = [c.name for c in self.cases.values() if c.status == "started"]
        return [f"a result for {n}" for n in open_cases] + [RUN_PASSED]

    def testcases(self) -> list[dict]:
        return [c.to_json() for c in self.cases.values()]


class ConsoleMatcher:
    def __init__(self, scenario: str, config: dict) -> None:
        kind = config.get("type", "one_line")
        regexes = [str(r) for r in config.get("regex") or []]
        if kind not in ("one_line", "multi_line"):
            raise ValueError(f"harness_config type {kind!r} is not one_line or multi_line")
        if not regexes:
            raise ValueError("a console harness needs harness_config.regex")
        self.scenario = scenario
        self.patterns = [re.compile(r) for r in (regexes[:1] if kind == "one_line" else regexes)]
        self.ordered = bool(config.get("ordered", True)) and kind == "multi_line"
        record = (config.get("record") or {}).get("regex")
        self.record = re.compile(record) if record else None
        self.recording: list[dict] = []
        self.matched: dict[int, Seen] = {}
        self.events: list[Seen] = []
        self.violation = None           # a console harness fails only by fault or timeout
        self.done = False

    def feed(self, text: str, lineno: int, t: float):
        if self.record and (m := self.record.search(text)):
            self.recording.append({k: (v or "").strip() for k, v in m.groupdict().items()})
        if self.done:
            return None
        candidates = [len(self.matched)] if self.ordered else \
            [i for i in range(len(self.patterns)) if i not in self.matched]
        for i in candidates:
            if self.patterns[i].search(text):
                seen = Seen(f"regex[{i}]", i, lineno, text, t)
                self.matched[i] = seen
                self.events.append(seen)
        self.done = len(self.matched) == len(self.patterns)
        return None

    def missing(self) -> list[str]:
        return [f"a line matching {p.pattern!r}" for i, p in enumerate(self.patterns)
                if i not in self.matched]

    def testcases(self) -> list[dict]:
        return []
