"""The isolation certificate from probe logs: real captures and doctored ones."""
import re

import pytest

from harness.host.paths import APPS_DIR
from harness.judging.isolation import ProbeJudge
from harness.judging.judge import Ending
from harness.judging.lines import LineSplitter
from harness.judging.verdict import Verdict

LOGS = APPS_DIR / "isolation_probe" / "logs"
PROTECTION = {"mps2_an385": "mpu", "qemu_x86": "mmu"}


def judge(text: str, protection: str):
    j = ProbeJudge(protection)
    s = LineSplitter()
    for i, line in enumerate(s.feed(text.encode()) + s.flush(), 1):
        j.feed(i, line, 0.0)
    return j.outcome(Ending("eof"))


def log(board: str) -> str:
    return (LOGS / f"{board}.qemu.log").read_text(errors="replace")


def cases(outcome) -> dict:
    return {c["name"]: c for c in outcome.evidence["certificate"]["cases"]}


@pytest.mark.parametrize("board", PROTECTION)
def test_real_probe_logs_are_certified(board):
    outcome = judge(log(board), PROTECTION[board])
    assert outcome.verdict is Verdict.PASS, outcome.reason
    got = cases(outcome)
    assert [n for n, c in got.items() if c["status"] == "enforced"] == [
        "other_read", "other_write", "kernel_read", "kernel_write", "exec_data", "stack_overflow"]
    assert all(got[n]["status"] == "ok" for n in ("own_read", "own_write", "syscall"))
    assert got["other_write"]["why"] == f"faulted at {got['other_write']['target']}"


def survive(text: str, name: str) -> str:
    """Doctor a log as if `name`'s access had not faulted."""
    block = re.search(rf"PROBE:CASE name={name} .*?PROBE:RESULT name={name} [^\n]*", text, re.S)
    fixed = (block.group(0).split("\n")[0] + f"\nPROBE:SURVIVED name={name} value=0x0\n"
             f"PROBE:RESULT name={name} faulted=0 reason=-1 intact=1")
    return text.replace(block.group(0), fixed)


@pytest.mark.parametrize("board", PROTECTION)
def test_an_access_that_did_not_fault_is_untrusted(board):
    outcome = judge(survive(log(board), "kernel_write"), PROTECTION[board])
    assert outcome.verdict is Verdict.UNTRUSTED
    assert "kernel_write" in outcome.reason and "succeeded" in outcome.reason


def test_a_changed_protected_value_is_untrusted():
    text = log("mps2_an385").replace("PROBE:RESULT name=other_write faulted=1 reason=0 intact=1",
                                     "PROBE:RESULT name=other_write faulted=1 reason=0 intact=0")
    assert judge(text, "mpu").verdict is Verdict.UNTRUSTED


def test_a_fault_on_another_address_does_not_count():
    text = log("mps2_an385").replace("MMFAR Address: 0x20002484", "MMFAR Address: 0x20002488", 1)
    outcome = judge(text, "mpu")
    assert outcome.verdict is Verdict.FAIL
    assert "wrong address" in outcome.reason


def test_an_oops_instead_of_a_protection_fault_does_not_count():
    text = log("qemu_x86")
    block = re.search(r"(PROBE:CASE name=other_read .*?\n)(.*?)(PROBE:FATAL)", text, re.S)
    text = text.replace(block.group(2), "E: >>> ZEPHYR FATAL ERROR 3: Kernel oops on CPU 0\r\n")
    outcome = judge(text, "mmu")
    assert outcome.verdict is Verdict.FAIL and "kernel_oops" in outcome.reason


def test_a_failed_positive_control_makes_the_proof_invalid():
    text = re.sub(r"PROBE:SURVIVED name=own_read [^\n]*\n", "", log("mps2_an385")).replace(
        "PROBE:RESULT name=own_read faulted=0", "PROBE:RESULT name=own_read faulted=1")
    outcome = judge(text, "mpu")
    assert outcome.verdict is Verdict.FAIL
    assert "positive control failed" in outcome.reason


def test_a_truncated_probe_is_not_certified():
    text = log("mps2_an385").split("PROBE:CASE name=exec_data")[0]
    outcome = judge(text, "mpu")
    assert outcome.verdict is Verdict.FAIL and "incomplete" in outcome.reason


def test_an_unreported_fault_address_is_accepted_only_with_a_note():
    text = log("mps2_an385").replace("MMFAR Address: 0x20000000", "MMFAR Address: 0x0")
    outcome = judge(text, "mpu")
    assert outcome.verdict is Verdict.PASS
    assert "did not report the faulting address" in cases(outcome)["other_read"]["why"]


def test_probe_endings_without_end_map_to_run_verdicts():
    j = ProbeJudge("mpu")
    j.feed(1, "PROBE:BEGIN v=1 board=x cases=9", 0.0)
    assert j.outcome(Ending("timeout")).verdict is Verdict.HANG
    assert j.outcome(Ending("exited", 1)).verdict is Verdict.EMULATOR_ERROR


def test_stack_overflow_without_a_reported_address_needs_the_pc_check():
    text = log("mps2_an385")
    block = re.search(r"PROBE:CASE name=stack_overflow .*?\n(.*?)PROBE:FATAL", text, re.S).group(1)
    renode = ("E: ***** MPU FAULT *****\r\nE:   Data Access Violation\r\n"
              "E:   MMFAR Address: 0x0\r\nE: Faulting instruction address (r15/pc): 0x0000594c\r\n"
              "E: >>> ZEPHYR FATAL ERROR 0: CPU exception on CPU 0\r\n"
              "E: Current thread: 0x20000040 (stack_overflow)\r\n")
    outcome = judge(text.replace(block, renode), "mpu")
    case = cases(outcome)["stack_overflow"]
    assert case["status"] == "enforced" and "did not report" in case["why"]


@pytest.mark.parametrize("mmfar,status", [
    ("0x200013f8", "enforced"),          # just below the stack (Renode 1.15 reports this)
    ("0x20001440", "invalid"),           # inside the stack: not an overflow
    ("0x20000000", "invalid"),           # far below: some other MPU fault
])
def test_an_unclassified_stack_fault_counts_only_just_below_the_stack(mmfar, status):
    text = (LOGS / "mps2_an385.renode-1.15.log").read_text(errors="replace")
    assert "target=0x20001440" in text and "MMFAR Address: 0x200013f8" in text
    doctored = text.replace("MMFAR Address: 0x200013f8", f"MMFAR Address: {mmfar}")
    case = cases(judge(doctored, "mpu"))["stack_overflow"]
    assert case["status"] == status, case["why"]


def test_an_old_probe_log_without_the_stack_bound_cannot_place_a_reported_fault():
    """Probe logs before the stack case printed its bound (target=0) stay strict."""
    text = log("mps2_an385")
    assert "name=stack_overflow kind=forbidden access=stack target=0x00000000" in text
    block = re.search(r"PROBE:CASE name=stack_overflow .*?\n(.*?)PROBE:FATAL", text, re.S).group(1)
    dump = ("E: ***** MPU FAULT *****\r\nE:   Data Access Violation\r\n"
            "E:   MMFAR Address: 0x200013f8\r\n"
            "E: Faulting instruction address (r15/pc): 0x0000594c\r\n"
            "E: >>> ZEPHYR FATAL ERROR 0: CPU exception on CPU 0\r\n")
    assert cases(judge(text.replace(block, dump), "mpu"))["stack_overflow"]["status"] == "invalid"


def test_real_renode_1_15_probe_log_is_certified_with_addresses():
    text = (LOGS / "mps2_an385.renode-1.15.log").read_text(errors="replace")
    outcome = judge(text, "mpu")
    assert outcome.verdict is Verdict.PASS, outcome.reason
    got = cases(outcome)
    assert all(got[n]["why"] == f"faulted at {got[n]['target']}"
               for n in ("other_read", "other_write", "kernel_read", "kernel_write", "exec_data"))
    assert "72 bytes below the stack" in got["stack_overflow"]["why"]


def test_real_renode_probe_log_is_certified_with_unreported_addresses_noted():
    text = (LOGS / "mps2_an385.renode.log").read_text(errors="replace")
    outcome = judge(text, "mpu")
    assert outcome.verdict is Verdict.PASS, outcome.reason
    got = cases(outcome)
    assert "did not report" in got["kernel_write"]["why"]
    assert got["exec_data"]["why"] == "faulted at 0x20000020"
