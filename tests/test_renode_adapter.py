"""The Renode adapter against a fake Renode (telnet monitor + socket terminal)."""
import pytest

from conftest import DATA, FAKES
from harness.boards import Board
from harness.emulators.renode import Renode
from harness.errors import EmulatorError, SetupError
from harness.judge import Judge
from harness.process import session_alive
from harness.verdict import Verdict
from harness.watch import watch

PASS_LOG = (DATA / "prod_consumer.mps2_an385.qemu.log").read_text(errors="replace")


def boot(tmp_path, prod_spec, kernel, timeout=10.0, **settings):
    conf = {"binary": str(FAKES / "fake_renode.py"), "platform": "renode/mps2_an385.repl",
            "uart": "sysbus.uart0", "commands": ["emulation SetGlobalAdvanceImmediately true"],
            "stall_check_s": 0.5, **settings}
    board = Board("fake", "arm", "mpu", "", {"renode": conf})
    emu = Renode(board, board.emulator("renode"), tmp_path)
    judge = Judge(prod_spec)
    try:
        watched = watch(emu, kernel, judge, timeout)
    finally:
        if emu.proc:
            assert not session_alive(emu.proc.sid), "a Renode process outlived the run"
    return judge.outcome(watched.ending), watched


def test_byte_by_byte_uart_passes_and_the_monitor_transcript_is_kept(tmp_path, prod_spec, scenario):
    outcome, watched = boot(tmp_path, prod_spec, scenario(log=PASS_LOG))
    assert outcome.verdict is Verdict.PASS, outcome.reason
    transcript = (tmp_path / "renode-monitor.txt").read_text()
    assert "connector Connect sysbus.uart0 term" in transcript and ">>> start" in transcript
    assert watched.virtual_time_s is not None and watched.virtual_time_s > 0
    assert not (tmp_path / "renode-home").exists()        # scratch HOME removed
    assert watched.teardown["ended_by"] == "quit"


def test_frozen_virtual_time_is_a_stall_not_a_hang(tmp_path, prod_spec, scenario):
    outcome, _ = boot(tmp_path, prod_spec, scenario(log="I: APP A partition: 0x1 32\r\n",
                                                    then="freeze"))
    assert outcome.verdict is Verdict.STALL and "virtual time stuck" in outcome.reason


def test_silence_with_moving_virtual_time_is_a_hang(tmp_path, prod_spec, scenario):
    outcome, _ = boot(tmp_path, prod_spec, scenario(log="", then="hang"), timeout=1.5)
    assert outcome.verdict is Verdict.HANG


def test_a_rejected_monitor_command_is_an_emulator_error_naming_it(tmp_path, prod_spec, scenario):
    with pytest.raises(EmulatorError, match="Renode rejected `connector Connect"):
        boot(tmp_path, prod_spec, scenario(log=PASS_LOG, bad_command="connector"))


def test_a_missing_platform_file_is_reported(tmp_path, prod_spec, scenario):
    with pytest.raises(EmulatorError, match="Could not find file"):
        boot(tmp_path, prod_spec, scenario(), platform="renode/no_such.repl")


def test_renode_exiting_mid_run(tmp_path, prod_spec, scenario):
    outcome, _ = boot(tmp_path, prod_spec, scenario(log="I: hello\r\n", then="exit"))
    assert outcome.verdict is Verdict.EMULATOR_ERROR and "rc 3" in outcome.reason


def test_renode_ignoring_quit_is_still_stopped(tmp_path, prod_spec, scenario):
    outcome, watched = boot(tmp_path, prod_spec, scenario(log=PASS_LOG, ignore_quit=True))
    assert outcome.verdict is Verdict.PASS
    assert watched.teardown["ended_by"] in ("SIGINT", "SIGTERM", "SIGKILL")


def test_missing_renode_says_how_to_get_it(tmp_path, prod_spec, scenario):
    with pytest.raises(SetupError, match="github.com/renode/renode"):
        boot(tmp_path, prod_spec, scenario(), binary="renode-not-installed")


def test_a_taken_terminal_port_is_retried_then_reported(tmp_path, prod_spec, scenario):
    with pytest.raises(EmulatorError, match="Address already in use"):
        boot(tmp_path, prod_spec, scenario(log=PASS_LOG, port_taken=True))
    assert len(list(tmp_path.glob("renode-monitor.txt"))) == 1


def test_a_doubled_prompt_does_not_shift_the_monitor_replies():
    """Renode sometimes prints its prompt twice; each reply must still be its own."""
    import socket
    import threading
    import time

    from harness.emulators.monitor import Monitor

    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def renode():
        conn, _ = server.accept()
        conn.sendall(b"\xff\xfd\x00Renode\n\r(monitor) ")
        for n, line in enumerate(conn.makefile("rb")):
            cmd = bytes(b for b in line if b < 128).decode().strip()   # minus telnet replies
            conn.sendall(f"{cmd}\n\rreply {n}\r\n(m) ".encode())
            conn.sendall(b"(m) ")                  # the doubled prompt
    threading.Thread(target=renode, daemon=True).start()
    mon = Monitor(port, time.monotonic() + 5)
    assert [mon.execute("machine ElapsedVirtualTime") for _ in range(3)] == \
        ["reply 0", "reply 1", "reply 2"]
