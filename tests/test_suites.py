"""Zephyr's console and ztest harnesses judged from real captured UART logs
(tests/data/ztest: Zephyr 3.0.99 logs from twister's runs, 3.4.99 logs from QEMU)."""
import pytest
from conftest import DATA

from harness.inputs import scenarios
from harness.judging.replay import judge_log
from harness.judging.verdict import Verdict
from harness.suite import judge_for

ZTEST = DATA / "ztest"


def scenario(name, **keys):
    return scenarios.Scenario(name, ZTEST, ZTEST / "testcase.yaml",
                              scenarios._typed(keys, name, lambda m: None))


def judged(log, s):
    return judge_log(judge_for(s)(), (ZTEST / log).read_bytes())


def cases(outcome):
    out = {}
    for c in outcome.evidence["testcases"]:
        out[c["status"]] = out.get(c["status"], 0) + 1
    return out


@pytest.mark.parametrize("log, name, counts", [
    # twister, same workspace: kernel.memory_protection 54/0/2, .userspace 39/0/0, common 41/0/4
    ("zephyr-3.0.kernel.memory_protection.log", "kernel.memory_protection",
     {"passed": 54, "skipped": 2}),
    ("zephyr-3.0.kernel.memory_protection.userspace.log", "kernel.memory_protection.userspace",
     {"passed": 39}),
    ("zephyr-3.0.kernel.common.log", "kernel.common", {"passed": 41, "skipped": 4}),
    # 3.4: the counts of the suites' own `SUITE PASS - ... pass = N, fail = 0, skip = M` lines
    ("zephyr-3.4.kernel_common.log", "kernel.common", {"passed": 42, "skipped": 2}),
    ("zephyr-3.4.userspace.log", "kernel.memory_protection.userspace", {"passed": 40}),
    ("zephyr-3.4.fatal_exception.log", "kernel.common.stack_protection", {"passed": 1}),
])
def test_ztest_suites_pass_with_their_provoked_faults_and_per_case_results(log, name, counts):
    outcome = judged(log, scenario(name))
    assert outcome.verdict is Verdict.PASS, outcome.reason
    assert cases(outcome) == counts
    first = outcome.evidence["testcases"][0]
    assert first["name"].startswith(name + ".") and not first["name"].endswith("test_")
    assert first["duration_s"] is not None and first["line"] > 0


@pytest.mark.parametrize("log", ["zephyr-3.4.kernel_common.log", "zephyr-3.4.userspace.log",
                                 "zephyr-3.4.fatal_exception.log"])
def test_3_4_per_case_results_agree_with_the_suite_summaries(log):
    import re
    text = (ZTEST / log).read_text()
    summary = [tuple(map(int, m)) for m in re.findall(r"pass = (\d+), fail = (\d+), skip = (\d+)", text)]
    got = cases(judged(log, scenario("s")))
    assert (got.get("passed", 0), got.get("failed", 0), got.get("skipped", 0)) == \
        tuple(map(sum, zip(*summary)))


def test_the_3_0_names_match_twisters():
    outcome = judged("zephyr-3.0.kernel.common.log", scenario("kernel.common"))
    names = {c["name"]: c["status"] for c in outcome.evidence["testcases"]}
    assert names["kernel.common.bitfield"] == "skipped"      # as in twister_report.xml
    assert names["kernel.common.atomic"] == "passed"


def test_faults_provoked_by_a_suite_are_counted_not_called_crashes():
    outcome = judged("zephyr-3.0.kernel.memory_protection.log", scenario("kernel.memory_protection"))
    assert outcome.evidence["expected_faults"] >= 20
    assert "fatal error(s) provoked by the tests" in outcome.reason


def test_a_failing_case_fails_the_run_with_its_assertion_line():
    log = (ZTEST / "zephyr-3.0.kernel.common.log").read_bytes()
    bad = log.replace(b" PASS - test_atomic in", b"    Assertion failed at main.c:42: "
                      b"test_atomic: (x == 1) is false\r\n FAIL - test_atomic in", 1)
    bad = bad.replace(b"PROJECT EXECUTION SUCCESSFUL", b"PROJECT EXECUTION FAILED")
    outcome = judge_log(judge_for(scenario("kernel.common"))(), bad)
    assert outcome.verdict is Verdict.FAIL
    failed = [c for c in outcome.evidence["testcases"] if c["status"] == "failed"]
    assert [c["name"] for c in failed] == ["kernel.common.atomic"]
    assert "Assertion failed at main.c:42" in failed[0]["message"]


def test_a_suite_that_faults_and_never_finishes_is_a_crash_with_triage():
    log = (ZTEST / "zephyr-3.0.kernel.memory_protection.log").read_bytes()
    cut = log[:log.index(b"Caught system error")]             # it stops at the dump
    outcome = judge_log(judge_for(scenario("kernel.memory_protection"))(), cut)
    assert outcome.verdict is Verdict.CRASH
    assert outcome.evidence["fault"]["kind"] == "mpu_data_access_violation"


def test_a_suite_that_goes_on_after_a_provoked_fault_and_then_stops_is_not_that_faults_crash():
    # seen on Renode 1.15.3: fatal/exception's stack overflow case never faults and hangs
    log = (ZTEST / "zephyr-3.0.kernel.memory_protection.log").read_bytes()
    cut = log[:log.index(b"START - test_inherit_resource_pool")]
    outcome = judge_log(judge_for(scenario("kernel.memory_protection"))(), cut)
    assert outcome.verdict is Verdict.FAIL and "fault" not in outcome.evidence
    assert "after 1 fatal error(s) provoked by the tests" in outcome.reason


def test_console_one_line_and_an_unfinished_console_run():
    hello = scenario("sample.basic.helloworld", harness="console",
                     harness_config={"type": "one_line", "regex": ["Hello World! (.*)"]})
    assert judged("zephyr-3.0.sample.basic.helloworld.log", hello).verdict is Verdict.PASS
    coop = scenario("sample.kernel.philosopher.coop_only", harness="console",
                    harness_config={"type": "multi_line", "ordered": False,
                                    "regex": [r".*STARVING.*", r".*DROPPED ONE FORK.*",
                                              r".*THINKING.*", r".*EATING.*"]})
    outcome = judged("zephyr-3.0.sample.kernel.philosopher.coop_only.log", coop)
    assert outcome.verdict is Verdict.FAIL and "log ended" in outcome.reason   # twister: failed


def test_console_multi_line_ordered_counts_a_pattern_only_after_the_one_before():
    s = scenario("x", harness="console",
                 harness_config={"type": "multi_line", "regex": ["first", "second"]})
    early = judge_log(judge_for(s)(), b"second\r\nfirst\r\n")
    assert early.verdict is not Verdict.PASS
    assert judge_log(judge_for(s)(), b"second\r\nfirst\r\nsecond\r\n").verdict is Verdict.PASS


def test_console_fault_is_a_crash_unless_the_scenario_ignores_faults():
    dump = (ZTEST / "zephyr-3.0.kernel.memory_protection.log").read_bytes()
    dump = dump[:dump.index(b"Caught system error")]
    config = {"type": "one_line", "regex": ["MPU FAULT"]}
    strict = scenario("c", harness="console", harness_config=config)
    assert judge_log(judge_for(strict)(), dump).verdict is Verdict.CRASH
    lenient = scenario("c", harness="console", harness_config=config, tags="ignore_faults")
    assert judge_log(judge_for(lenient)(), dump).verdict is Verdict.PASS


def test_junit_has_a_testcase_per_ztest_case_and_skips_are_skipped(tmp_path):
    import xml.etree.ElementTree as ET

    from harness.judging.results import RunResult
    from harness.judging.verdict import Outcome
    from harness.reports import report
    log = (ZTEST / "zephyr-3.0.kernel.memory_protection.log").read_bytes()
    ran = RunResult("kernel.memory_protection", "mps2_an385", "qemu",
                    judge_log(judge_for(scenario("kernel.memory_protection"))(), log), tmp_path / "a")
    skipped = RunResult("kernel.memory_protection.gap_filling.arc", "mps2_an385", "qemu",
                        Outcome(Verdict.SKIPPED, "Not in test case arch allow list"), tmp_path / "b")
    report.write_junit([ran, skipped], tmp_path / "junit.xml")
    suite = ET.parse(tmp_path / "junit.xml").getroot()
    cases = suite.findall("testcase")
    assert len(cases) == 2 + 56 and suite.get("tests") == "58"
    assert suite.get("failures") == "0" and suite.get("skipped") == "3"   # 1 run + 2 ztest cases
    skips = [c for c in cases if c.find("skipped") is not None]
    assert len(skips) == 1 + 2
    assert skips[0].get("name") == "mps2_an385.qemu" or any(
        s.find("skipped").get("message") == "Not in test case arch allow list" for s in skips)
    assert "PASS" in report.line(ran) and "cases: 54 passed, 2 skipped" in report.line(ran)


def test_a_real_crash_that_halts_the_system_is_a_crash_not_a_hang():
    log = (ZTEST / "zephyr-3.0.kernel.memory_protection.log").read_bytes()
    cut = log[:log.index(b"Caught system error")] + b"E: Halting system\r\n"
    outcome = judge_log(judge_for(scenario("kernel.memory_protection"))(), cut)
    assert outcome.verdict is Verdict.CRASH


def test_console_record_groups_reach_the_evidence():
    s = scenario("r", harness="console", harness_config={
        "type": "one_line", "regex": ["done"], "record": {"regex": r"took (?P<ms>\d+) ms"}})
    outcome = judge_log(judge_for(s)(), b"took 12 ms\r\ntook 15 ms\r\ndone\r\n")
    assert outcome.evidence["recorded"] == [{"ms": "12"}, {"ms": "15"}]
