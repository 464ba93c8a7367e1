"""Verdicts from whole logs: the pure part of a run."""
from conftest import real_log
from test_triage import ARM_MPU

from harness.judging.judge import Ending, Judge
from harness.judging.replay import judge_bytes
from harness.judging.verdict import Verdict


def test_fault_after_success_inside_the_window_is_a_crash(prod_spec):
    data = real_log("prod_consumer.mps2_an385.qemu.log") + "\r\n".join(ARM_MPU).encode()
    outcome = judge_bytes(data, prod_spec)
    assert outcome.verdict is Verdict.CRASH
    assert "CPU exception): mpu data access violation at 0x20001000, pc 0x00000a2c" in outcome.reason


def test_fault_mid_run_is_a_crash_with_triage(prod_spec):
    head = real_log("prod_consumer.mps2_an385.qemu.log").split(b"count=5")[0]
    outcome = judge_bytes(head + b"\r\n" + "\r\n".join(ARM_MPU).encode(), prod_spec)
    assert outcome.verdict is Verdict.CRASH
    assert outcome.evidence["fault"]["pc"] == "0x00000a2c"
    assert outcome.evidence["fault_lines"][0] == "E: ***** MPU FAULT *****"


def test_garbage_bytes_around_a_valid_log_still_pass(prod_spec):
    data = real_log("prod_consumer.qemu_x86.qemu.log")
    noisy = b"\x00\xff\xfe\x1b[31m garbage \x1b[0m\r\n" + data.replace(b"\r\n", b"\r\n\x00", 5)
    assert judge_bytes(noisy, prod_spec).verdict is Verdict.PASS


def test_truncated_log_fails_naming_what_is_missing(prod_spec):
    head = real_log("prod_consumer.qemu_x86.qemu.log").split(b"count=7")[0]
    outcome = judge_bytes(head, prod_spec)
    assert outcome.verdict is Verdict.FAIL
    assert "isr[7..9], got[4..9]" in outcome.reason


def test_endings_map_to_distinct_verdicts(prod_spec):
    def ended(why, rc=None):
        j = Judge(prod_spec)
        j.feed(1, "I: APP A partition: 0x1 32", 0.1)
        return j.outcome(Ending(why, rc, "10 s of host time")).verdict
    assert ended("timeout") is Verdict.HANG
    assert ended("exited", 0) is Verdict.EMULATOR_ERROR     # rc 0 is never success
    assert ended("closed") is Verdict.EMULATOR_ERROR
    assert ended("stall") is Verdict.STALL


def test_fail_on_pattern_fails_at_once():
    from harness.judging import expect
    spec = expect.parse({"events": {"done": {"literal": "DONE", "final": True}},
                         "fail_on": ["BAD THING"]})
    j = Judge(spec)
    j.feed(1, "a BAD THING happened", 0.0)
    assert j.should_stop(0.0)
    assert j.outcome(Ending("stopped")).verdict is Verdict.FAIL


def test_the_capture_window_ends_by_guest_time_where_the_emulator_reports_it(prod_spec):
    import dataclasses

    class Reporting:                    # an emulator with virtual time, as Renode's adapter
        settle_s, settle_guest_s = 0.2, 0.5
    judge = Judge(prod_spec)
    judge.settle_like(Reporting)
    for n, line in enumerate(real_log("prod_consumer.mps2_an385.qemu.log").decode().splitlines()):
        judge.feed(n, line, 1.0)
    assert judge.completed
    assert not judge.should_stop(1.05, guest_since_done=0.3)       # neither window is over
    assert judge.should_stop(1.05, guest_since_done=0.5)           # half a guest second passed
    assert judge.should_stop(1.25, guest_since_done=0.1)           # the host cap still holds
    assert not judge.should_stop(1.05)                             # no guest time: host window
    own = Judge(dataclasses.replace(prod_spec, after_success_s=1.0))  # the expectation's wins
    own.settle_like(Reporting)
    for n, line in enumerate(real_log("prod_consumer.mps2_an385.qemu.log").decode().splitlines()):
        own.feed(n, line, 1.0)
    assert not own.should_stop(1.5, guest_since_done=5.0) and own.should_stop(2.0)
