"""Judge the JUnit file of a pytest-harness run as twister does (twisterlib/harness.py,
Pytest._parse_report_file): failures -> FAIL, errors (twister: ERROR) -> HARNESS_ERROR,
all skipped -> SKIPPED, else PASS; one test case per pytest test, named `<scenario>.<test name>`.
Pure: it gets the file's text."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from harness.judging.verdict import Verdict

CASE_STATUS = {"skipped": "skipped", "failure": "failed", "error": "error"}


@dataclass(frozen=True)
class PytestVerdict:
    verdict: Verdict
    reason: str
    testcases: list
    seconds: float | None = None


def judge(scenario: str, junit_xml: str | None) -> PytestVerdict:
    """`junit_xml`: the report's text, or None when pytest wrote none."""
    if not junit_xml:
        return PytestVerdict(Verdict.HARNESS_ERROR, "pytest wrote no JUnit report", [])
    try:
        root = ET.fromstring(junit_xml)
    except ET.ParseError as exc:
        return PytestVerdict(Verdict.HARNESS_ERROR, f"pytest's JUnit report is malformed: {exc}",
                             [])
    suite = root if root.tag == "testsuite" else root.find("testsuite")
    if suite is None:
        return PytestVerdict(Verdict.SKIPPED, "No tests collected", [])
    cases = [_case(scenario, tc) for tc in suite.findall("testcase")]
    tests, failures = suite.get("tests", "0"), suite.get("failures", "0")
    if failures != "0":
        verdict, reason = Verdict.FAIL, f"{failures}/{tests} pytest scenario(s) failed"
    elif suite.get("errors", "0") != "0":
        verdict, reason = Verdict.HARNESS_ERROR, "Error during pytest execution: " + "; ".join(
            c["message"] for c in cases if c["status"] == "error")
    elif suite.get("skipped", "0") == tests:
        verdict, reason = Verdict.SKIPPED, "every pytest test skipped" if cases else \
            "No tests collected"
    else:
        verdict, reason = Verdict.PASS, f"{tests} pytest test(s) passed"
    return PytestVerdict(verdict, reason, cases, _float(suite.get("time")))


def _case(scenario: str, tc: ET.Element) -> dict:
    outcome = tc.find("*")
    status = "passed" if outcome is None else CASE_STATUS.get(outcome.tag, "error")
    message = "" if outcome is None else (outcome.get("message") or "").strip()
    return {"name": f"{scenario}.{tc.get('name')}", "suite": scenario, "status": status,
            "duration_s": _float(tc.get("time")), "line": None, "message": message[:500]}


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
