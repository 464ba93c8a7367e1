"""The verdict of a Robot run and its test cases, one per Robot test: twister's robot
harness passes a scenario when renode-test exits 0 and fails it otherwise; here the
reason names the failed tests. `judge` is pure; `read` reads Robot's output files."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from harness.judging.verdict import Verdict

STATUS = {"PASS": "passed", "FAIL": "failed", "SKIP": "skipped", "NOT RUN": "skipped"}
# A line Renode's UART analyzer logged: "12:00:01.2345 [INFO] uart0: [host: ...|virt: ...] text"
ANALYZER_LINE = re.compile(r"^[\d:.]+ \[INFO\] ([\w.\-]+): \[host: [^\]]*\] ?(.*)$")
ANSI = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_]|c)")


@dataclass(frozen=True)
class RobotTest:
    suite: str
    name: str
    status: str                 # Robot's: PASS, FAIL, SKIP, NOT RUN
    message: str
    seconds: float | None


@dataclass(frozen=True)
class RobotVerdict:
    verdict: Verdict
    reason: str
    testcases: list


def read(outputs: list[Path]) -> list[RobotTest] | None:
    """Every test of Robot's output files; None when one is missing or unreadable
    (the Robot run crashed before writing it)."""
    from robot.api import ExecutionResult
    from robot.errors import DataError
    tests = []
    for path in outputs:
        try:
            result = ExecutionResult(str(path))
        except (DataError, OSError):
            return None
        tests += [RobotTest(t.parent.name, t.name, t.status, t.message,
                            t.elapsed_time.total_seconds() if hasattr(t, "elapsed_time")
                            else t.elapsedtime / 1000)
                  for t in result.suite.all_tests]
    return tests


def judge(name: str, tests: list[RobotTest] | None, returncode: int | None) -> RobotVerdict:
    if tests is None:
        return RobotVerdict(Verdict.HARNESS_ERROR, f"the Robot run ended (rc {returncode}) "
                            "without its output file: see robot.log", [])
    cases = [{"name": f"{name}.{t.name}", "suite": t.suite, "status": STATUS.get(t.status,
             "failed"), "duration_s": t.seconds, "line": None, "message": t.message[:500]}
             for t in tests]
    failed = [t for t in tests if t.status == "FAIL"]
    if failed:
        first = failed[0]
        return RobotVerdict(Verdict.FAIL, f"{len(failed)}/{len(tests)} Robot test(s) failed; "
                            f"{first.name}: {first.message.splitlines()[0] if first.message else ''}",
                            cases)
    if not tests:
        return RobotVerdict(Verdict.SKIPPED, "No tests selected", cases)
    if all(t.status != "PASS" for t in tests):
        return RobotVerdict(Verdict.SKIPPED, "every Robot test skipped", cases)
    if returncode not in (0, None):
        return RobotVerdict(Verdict.HARNESS_ERROR, f"Robot exited with {returncode} though no "
                            "test failed: see robot.log", cases)
    return RobotVerdict(Verdict.PASS, f"{len(tests)} Robot test(s) passed", cases)


def uart_lines(renode_log: str) -> list[str]:
    """The guest's UART lines in Renode's log (its analyzer logs each line it shows),
    ANSI escapes removed: what a Robot run's fault triage reads."""
    out = []
    for line in renode_log.splitlines():
        m = ANALYZER_LINE.match(line)
        if m:
            out.append(ANSI.sub("", m.group(2)))
    return out
