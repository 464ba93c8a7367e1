"""The QEMU adapter and the watch loop against a fake QEMU that speaks QMP and a
TCP UART (tests/fakes/fake_qemu.py). Every case checks that nothing survives."""
import os
import time

import pytest
from conftest import DATA, FAKES
from test_triage import ARM_MPU

from harness.emulators.qemu import Qemu
from harness.errors import EmulatorError, SetupError
from harness.host.process import session_alive
from harness.inputs.boards import Board
from harness.judging.judge import Judge
from harness.judging.verdict import Verdict
from harness.stream.watch import watch

PASS_LOG = str(DATA / "prod_consumer.mps2_an385.qemu.log")


def boot(tmp_path, prod_spec, kernel, timeout=5.0, binary=str(FAKES / "fake_qemu.py"),
         **settings):
    board = Board("fake", "arm", "mpu", "", {"qemu": {"binary": binary, "args": [], **settings}})
    emu = Qemu(board, board.emulator("qemu"), tmp_path, None, dict(os.environ))
    judge = Judge(prod_spec)
    t0 = time.monotonic()
    try:
        watched = watch(emu, kernel, judge, timeout)
    finally:
        if emu.proc:
            assert not session_alive(emu.proc.sid), "an emulator process outlived the run"
    outcome = judge.outcome(watched.ending)
    return outcome, watched, time.monotonic() - t0


def test_a_good_log_passes_and_the_raw_bytes_are_kept(tmp_path, prod_spec, scenario):
    outcome, watched, _ = boot(tmp_path, prod_spec, scenario(log=PASS_LOG, chunk=7))
    assert outcome.verdict is Verdict.PASS, outcome.reason
    assert (tmp_path / "uart.raw").read_bytes() == open(PASS_LOG, "rb").read()
    assert watched.teardown["ended_by"] == "quit"


def test_first_line_is_not_lost(tmp_path, prod_spec, scenario):
    outcome, *_ = boot(tmp_path, prod_spec, scenario(log=PASS_LOG))
    # lines 1-2 are QEMU's nic warning and Zephyr's boot banner
    assert outcome.evidence["events"][0]["line"] == 3


def test_silent_firmware_is_a_hang_after_the_budget(tmp_path, prod_spec, scenario):
    outcome, _, took = boot(tmp_path, prod_spec, scenario(log=""), timeout=1.0)
    assert outcome.verdict is Verdict.HANG and "no output at all" in outcome.reason
    assert 1.0 <= took < 4.0


def test_babbling_without_progress_is_a_hang(tmp_path, prod_spec, scenario):
    outcome, *_ = boot(tmp_path, prod_spec, scenario(log="", then="babble"), timeout=1.0)
    assert outcome.verdict is Verdict.HANG and "no expected event seen" in outcome.reason


def test_a_fault_ends_the_run_at_once_with_triage(tmp_path, prod_spec, scenario):
    log = "I: APP A partition: 0x1 32\r\n" + "\r\n".join(ARM_MPU) + "\r\n"
    outcome, _, took = boot(tmp_path, prod_spec, scenario(log=log), timeout=20.0)
    assert outcome.verdict is Verdict.CRASH
    assert outcome.evidence["fault"]["address"] == "0x20001000"
    assert took < 5.0, "a crash must not wait for the timeout"


@pytest.mark.parametrize("rc", [0, 3])
def test_exit_without_success_is_an_emulator_error(tmp_path, prod_spec, scenario, rc):
    outcome, watched, _ = boot(tmp_path, prod_spec, scenario(log="I: hello\r\n", then="exit", rc=rc))
    assert outcome.verdict is Verdict.EMULATOR_ERROR
    assert f"rc {rc}" in outcome.reason


def test_killed_emulator_is_an_emulator_error(tmp_path, prod_spec, scenario):
    outcome, *_ = boot(tmp_path, prod_spec, scenario(log="I: hello\r\n", then="die"))
    assert outcome.verdict is Verdict.EMULATOR_ERROR and "rc -9" in outcome.reason


def test_uart_closed_early_is_an_emulator_error(tmp_path, prod_spec, scenario):
    outcome, *_ = boot(tmp_path, prod_spec, scenario(log="I: hello\r\n", then="close"))
    assert outcome.verdict is Verdict.EMULATOR_ERROR and "closed" in outcome.reason


def test_stubborn_emulator_and_its_children_are_killed_within_bounds(tmp_path, prod_spec, scenario):
    kernel = scenario(log="", ignore_quit=True, ignore_sigterm=True, child=True)
    outcome, watched, took = boot(tmp_path, prod_spec, kernel, timeout=0.5)
    assert watched.teardown["ended_by"] == "SIGKILL"
    assert took < 6.0


def test_an_emulator_that_cannot_bind_its_port_is_retried_then_reported(tmp_path, prod_spec,
                                                                        scenario):
    with pytest.raises(EmulatorError, match="Address already in use"):
        boot(tmp_path, prod_spec, scenario(bind_fail=True))


def test_missing_emulator_binary_is_a_setup_error(tmp_path, prod_spec, scenario):
    with pytest.raises(SetupError, match="not found on PATH"):
        boot(tmp_path, prod_spec, scenario(), binary="qemu-system-nonexistent")


def test_bad_emulator_arguments_are_reported_with_its_message(tmp_path, prod_spec, scenario):
    t0 = time.monotonic()
    with pytest.raises(EmulatorError, match="unsupported machine type"):
        boot(tmp_path, prod_spec, scenario(bad_args=True))
    assert time.monotonic() - t0 < 5, "a dead emulator must not be waited for"


def test_success_then_a_fault_in_the_capture_window_is_a_crash(tmp_path, prod_spec, scenario):
    log = open(PASS_LOG, encoding="latin-1").read() + "\r\n".join(ARM_MPU) + "\r\n"
    outcome, *_ = boot(tmp_path, prod_spec, scenario(log=log))
    assert outcome.verdict is Verdict.CRASH


def test_garbage_and_a_1mb_line_do_not_hide_a_good_run(tmp_path, prod_spec, scenario):
    noise = "\x00\xff\x1b[31mred\x1b[0m\rcr-only\r" + "x" * 1_000_000 + "\n"
    log = noise + open(PASS_LOG, encoding="latin-1").read() + "partial last line"
    outcome, watched, _ = boot(tmp_path, prod_spec, scenario(log=log, chunk=65536))
    assert outcome.verdict is Verdict.PASS, outcome.reason
    assert (tmp_path / "uart.raw").stat().st_size == watched.uart_bytes > 1_000_000


ICOUNT = {"args": ["-icount", "shift=7,align=off,sleep=off"], "stall_check_s": 0.5}


def test_with_icount_an_idle_qemu_is_a_stall_long_before_the_budget(tmp_path, prod_spec, scenario):
    """-icount sleep=off warps the clock to the next armed timer: QEMU using no CPU means
    a guest halted with nothing to wake it."""
    outcome, _, took = boot(tmp_path, prod_spec, scenario(log="I: APP A partition: 0x1 32\r\n",
                                                          then="idle"), timeout=20, **ICOUNT)
    assert outcome.verdict is Verdict.STALL and "used no CPU" in outcome.reason
    assert took < 5


def test_with_icount_a_busy_silent_qemu_is_still_a_hang(tmp_path, prod_spec, scenario):
    outcome, *_ = boot(tmp_path, prod_spec, scenario(log="", then="spin"), timeout=2, **ICOUNT)
    assert outcome.verdict is Verdict.HANG


def test_without_icount_idle_is_not_judged(tmp_path, prod_spec, scenario):
    """Without icount a guest may idle for real time (a long k_sleep): only the budget."""
    outcome, *_ = boot(tmp_path, prod_spec, scenario(log="", then="idle"), timeout=2,
                       stall_check_s=0.5)
    assert outcome.verdict is Verdict.HANG
