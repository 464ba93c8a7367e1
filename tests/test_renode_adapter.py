"""The Renode adapter against a fake Renode (telnet monitor + socket terminal)."""
import os

import pytest
from conftest import DATA, FAKES

from harness.emulators import renode_host
from harness.emulators.renode import Renode
from harness.emulators.renode_host import HostPool
from harness.errors import EmulatorError, SetupError, UsageError
from harness.host.deadline import Deadline
from harness.host.process import session_alive
from harness.inputs.boards import Board
from harness.judging.judge import Judge
from harness.judging.verdict import Verdict
from harness.stream.watch import watch

PASS_LOG = (DATA / "prod_consumer.mps2_an385.qemu.log").read_text(errors="replace")


def boot(tmp_path, prod_spec, kernel, timeout=10.0, pool=None, **settings):
    conf = {"binary": str(FAKES / "fake_renode.py"), "platform": "renode/mps2_an385.repl",
            "uart": "sysbus.uart0", "commands": ["emulation SetGlobalAdvanceImmediately true"],
            "stall_check_s": 0.5, **settings}
    board = Board("fake", "arm", "mpu", "", {"renode": conf})
    emu = Renode(board, board.emulator("renode"), tmp_path, pool, dict(os.environ))
    judge = Judge(prod_spec)
    try:
        watched = watch(emu, kernel, judge, timeout)
    finally:
        if emu.proc and not pool:
            assert not session_alive(emu.proc.sid), "a Renode process outlived the run"
    return judge.outcome(watched.ending), watched, emu


@pytest.mark.parametrize("transport,attach", [
    ("file", "sysbus.uart0 CreateFileBackend @"), ("socket", "connector Connect sysbus.uart0 term")])
def test_byte_by_byte_uart_passes_and_the_monitor_transcript_is_kept(tmp_path, prod_spec, scenario,
                                                                     transport, attach):
    outcome, watched, _ = boot(tmp_path, prod_spec, scenario(log=PASS_LOG),
                               uart_transport=transport)
    assert outcome.verdict is Verdict.PASS, outcome.reason
    transcript = (tmp_path / "renode-monitor.txt").read_text()
    assert attach in transcript and ">>> start" in transcript
    assert "Loading" in (tmp_path / "renode.log").read_text()
    assert (tmp_path / "uart.raw").read_text() == PASS_LOG
    assert watched.virtual_time_s is not None and watched.virtual_time_s > 0
    assert not (tmp_path / "renode-host").exists()        # scratch HOME and TMPDIR removed
    assert not list(tmp_path.glob("renode-uart*"))         # uart.raw holds the bytes
    assert watched.teardown["ended_by"] == "quit"


def test_an_unknown_uart_transport_is_a_usage_error(tmp_path, prod_spec, scenario):
    with pytest.raises(UsageError, match="uart_transport 'pty'"):
        boot(tmp_path, prod_spec, scenario(log=PASS_LOG), uart_transport="pty")


def test_frozen_virtual_time_is_a_stall_not_a_hang(tmp_path, prod_spec, scenario):
    outcome, _, _ = boot(tmp_path, prod_spec, scenario(log="I: APP A partition: 0x1 32\r\n",
                                                       then="freeze"))
    assert outcome.verdict is Verdict.STALL and "virtual time stuck" in outcome.reason


def test_silence_with_moving_virtual_time_is_a_hang(tmp_path, prod_spec, scenario):
    outcome, _, _ = boot(tmp_path, prod_spec, scenario(log="", then="hang"), timeout=1.5)
    assert outcome.verdict is Verdict.HANG


def test_a_rejected_monitor_command_is_an_emulator_error_naming_it(tmp_path, prod_spec, scenario):
    with pytest.raises(EmulatorError, match="Renode rejected `connector Connect"):
        boot(tmp_path, prod_spec, scenario(log=PASS_LOG, bad_command="connector"),
             uart_transport="socket")


def test_a_missing_platform_file_is_reported(tmp_path, prod_spec, scenario):
    with pytest.raises(EmulatorError, match="Could not find file"):
        boot(tmp_path, prod_spec, scenario(), platform="renode/no_such.repl")


def test_renode_exiting_mid_run(tmp_path, prod_spec, scenario):
    outcome, _, _ = boot(tmp_path, prod_spec, scenario(log="I: hello\r\n", then="exit"))
    assert outcome.verdict is Verdict.EMULATOR_ERROR and "rc 3" in outcome.reason


def test_renode_ignoring_quit_is_still_stopped(tmp_path, prod_spec, scenario):
    outcome, watched, _ = boot(tmp_path, prod_spec, scenario(log=PASS_LOG, ignore_quit=True))
    assert outcome.verdict is Verdict.PASS
    assert watched.teardown["ended_by"] in ("SIGINT", "SIGTERM", "SIGKILL")


def test_missing_renode_says_how_to_get_it(tmp_path, prod_spec, scenario):
    with pytest.raises(SetupError, match="github.com/renode/renode"):
        boot(tmp_path, prod_spec, scenario(), binary="renode-not-installed")


def test_a_taken_terminal_port_is_retried_then_reported(tmp_path, prod_spec, scenario):
    with pytest.raises(EmulatorError, match="Address already in use"):
        boot(tmp_path, prod_spec, scenario(log=PASS_LOG, port_taken=True),
             uart_transport="socket")
    assert len(list(tmp_path.glob("renode-monitor.txt"))) == 1


def pooled_runs(tmp_path, prod_spec, pool, *scenarios, **kw):
    """Each scenario booted in its own run directory through `pool`."""
    runs = []
    for n, kernel in enumerate(scenarios):
        run_dir = tmp_path / f"run{n}"
        run_dir.mkdir()
        runs.append(boot(run_dir, prod_spec, kernel, pool=pool, **kw))
    return runs


def test_a_pool_reuses_one_renode_with_a_fresh_emulation_per_run(tmp_path, prod_spec, scenario):
    pool = HostPool(tmp_path / "hosts", {})
    try:
        runs = pooled_runs(tmp_path, prod_spec, pool, scenario(log=PASS_LOG),
                           scenario(log=PASS_LOG), scenario(log="I: hello\r\n", then="hang"),
                           timeout=3.0)
        (first, w1, e1), (second, w2, e2), (third, w3, e3) = runs
        assert [first.verdict, second.verdict, third.verdict] == \
            [Verdict.PASS, Verdict.PASS, Verdict.HANG]
        assert e1.proc.pid == e2.proc.pid == e3.proc.pid          # one Renode for all three
        assert [w.teardown["ended_by"] for w in (w1, w2, w3)] == ["kept"] * 3
        assert [w.teardown["renode_runs_in_process"] for w in (w1, w2, w3)] == [1, 2, 3]
        assert w1.teardown["renode_aot_images"] is None      # a fake: no mono-run Renode.exe
        assert w1.teardown["renode_mono_gc_params"] == "nursery-size=64m"
        assert w2.virtual_time_s < w1.virtual_time_s + 0.05       # the clock restarted
        for n in range(3):                                        # each run keeps its own part
            log = (tmp_path / f"run{n}" / "renode.log").read_text()
            assert log.count("Loading") == 1 and f"scenario{n}.json" in log
            transcript = (tmp_path / f"run{n}" / "renode-monitor.txt").read_text()
            assert transcript.count(">>> start") == 1
            assert transcript.count(">>> machine LoadPlatformDescription") == 1
            # the reset before it (Clear, then the same machine begun in the background)
            assert transcript.startswith(">>> Clear") == (n > 0)
        assert session_alive(e1.proc.sid)                         # kept idle for the next run
    finally:
        pool.close()
    assert not session_alive(e1.proc.sid), "closing the pool must stop its Renode"
    assert e1.proc.ended_by == "SIGKILL"          # nothing of it is needed: no Clear, no quit
    assert not (tmp_path / "hosts").exists()


def test_a_run_on_another_machine_gets_a_plain_fresh_emulation(tmp_path, prod_spec, scenario):
    """The host was begun for the last run's platform; another platform clears it first."""
    pool = HostPool(tmp_path / "hosts", {})
    try:
        (out1, _, e1), = pooled_runs(tmp_path, prod_spec, pool, scenario(log=PASS_LOG))
        run_dir = tmp_path / "other"
        run_dir.mkdir()
        out2, _, e2 = boot(run_dir, prod_spec, scenario(log=PASS_LOG), pool=pool,
                           platform="renode/stm32f4_disco.repl")
        assert out1.verdict is out2.verdict is Verdict.PASS and e1.proc.pid == e2.proc.pid
        transcript = (run_dir / "renode-monitor.txt").read_text()
        assert transcript.startswith(">>> Clear")
        assert "stm32f4_disco.repl" in transcript and "mps2_an385.repl" not in transcript
    finally:
        pool.close()


@pytest.mark.parametrize("edited", [False, True])
def test_a_platform_edited_between_runs_is_loaded_anew(tmp_path, prod_spec, scenario, edited):
    """A kept Renode was begun with the last run's platform description in the
    background; if the file changed since, the next run does not get that machine:
    a plain Clear, and the run loads the file itself."""
    from harness.host.paths import BOARDS_DIR
    platform = tmp_path / "board.repl"
    platform.write_text((BOARDS_DIR / "renode/mps2_an385.repl").read_text())
    pool = HostPool(tmp_path / "hosts", {})
    try:
        (first, _, e1), = pooled_runs(tmp_path, prod_spec, pool, scenario(log=PASS_LOG),
                                      platform=str(platform))
        if edited:
            platform.write_text(platform.read_text() + "// edited between the runs\n")
        run_dir = tmp_path / "second"
        run_dir.mkdir()
        second, _, e2 = boot(run_dir, prod_spec, scenario(log=PASS_LOG), pool=pool,
                             platform=str(platform))
        assert first.verdict is second.verdict is Verdict.PASS and e1.proc.pid == e2.proc.pid
        told = e2.host.monitor.transcript                  # everything this Renode was told,
        starts = [n for n, c in enumerate(told) if c == ">>> start"]
        told = told[:starts[1]]                            # up to the second run's start
        loads = [c for c in told if c.startswith(">>> machine LoadPlatformDescription")]
        clears = [c for c in told if c == ">>> Clear"]
        # first run, the background reset for the next; and when edited, the run's own
        assert (len(clears), len(loads)) == ((2, 3) if edited else (1, 2))
        assert (run_dir / "renode-monitor.txt").read_text().startswith(">>> Clear")
    finally:
        pool.close()


def test_a_renode_whose_memory_keeps_growing_is_replaced(tmp_path, prod_spec, scenario):
    """A kept Renode that grew by more than the pool's limit since its first run is
    stopped after its run (which passes, its logs kept), and the next run gets a new one."""
    pool = HostPool(tmp_path / "hosts", {})
    pool.max_growth_kib = 24 * 1024
    try:
        runs = pooled_runs(tmp_path, prod_spec, pool,
                           *(scenario(log=PASS_LOG, leak_mib=16) for _ in range(4)))
        assert [out.verdict for out, _, _ in runs] == [Verdict.PASS] * 4
        ends = [w.teardown for _, w, _ in runs]
        assert [e["ended_by"] for e in ends] == ["kept", "kept", "SIGKILL", "kept"]
        assert "Renode grew by" in ends[2]["retired"] and "24 MiB" in ends[2]["retired"]
        assert ends[2]["host_rss_kib"] - ends[0]["host_rss_kib"] > 24 * 1024
        pids = [emu.proc.pid for _, _, emu in runs]
        assert pids[0] == pids[1] == pids[2] != pids[3]
        assert not session_alive(pids[2])
        assert [e["renode_runs_in_process"] for e in ends] == [1, 2, 3, 1]
        assert "Loading" in (tmp_path / "run2" / "renode.log").read_text()
    finally:
        pool.close()


def test_a_renode_that_cannot_be_cleared_is_stopped_not_reused(tmp_path, prod_spec, scenario,
                                                               monkeypatch):
    monkeypatch.setattr(renode_host, "CLEAR_TIMEOUT_S", 0.5)
    pool = HostPool(tmp_path / "hosts", {})
    try:
        (out1, w1, e1), (out2, w2, e2) = pooled_runs(
            tmp_path, prod_spec, pool, scenario(log=PASS_LOG, clear_hangs=True),
            scenario(log=PASS_LOG))
        assert out1.verdict is out2.verdict is Verdict.PASS
        assert w1.teardown["ended_by"] == "kept"          # its reset failed after the run
        assert e1.proc.ended_by in ("quit", "SIGINT", "SIGTERM", "SIGKILL")
        assert not session_alive(e1.proc.sid) and e2.proc.pid != e1.proc.pid
    finally:
        pool.close()
    assert not session_alive(e2.proc.sid)


def test_a_renode_that_died_is_replaced(tmp_path, prod_spec, scenario):
    pool = HostPool(tmp_path / "hosts", {})
    try:
        (out1, _, e1), (out2, _, e2) = pooled_runs(
            tmp_path, prod_spec, pool, scenario(log="I: hello\r\n", then="exit"),
            scenario(log=PASS_LOG))
        assert out1.verdict is Verdict.EMULATOR_ERROR and out2.verdict is Verdict.PASS
        assert e2.proc.pid != e1.proc.pid
    finally:
        pool.close()
    assert not session_alive(e2.proc.sid)


def test_closing_a_pool_stops_lent_hosts_too_and_lends_nothing_more(tmp_path):
    """A host whose run was interrupted before it came back is still stopped."""
    pool = HostPool(tmp_path / "hosts", {})
    fake = str(FAKES / "fake_renode.py")
    lent, idle = pool.take(fake), pool.take(fake)
    assert lent.proc.pid != idle.proc.pid                  # both busy: two processes
    assert pool.give(idle)["ended_by"] == "kept"
    assert pool.take(fake) is idle                         # an idle one is lent again
    pool.give(idle)
    pool.close()
    assert not lent.alive() and not idle.alive()
    assert pool.give(lent)["ended_by"] == "SIGKILL"        # what comes back late stays stopped
    with pytest.raises(EmulatorError, match="closing"):
        pool.take(fake)
    assert not (tmp_path / "hosts").exists()


def test_a_doubled_prompt_does_not_shift_the_monitor_replies():
    """Renode sometimes prints its prompt twice; each reply must still be its own."""
    import socket
    import threading

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
    mon = Monitor(port, Deadline(5))
    assert [mon.execute("machine ElapsedVirtualTime") for _ in range(3)] == \
        ["reply 0", "reply 1", "reply 2"]


@pytest.mark.parametrize("printed, ok", [("Renode v1.13.3.24564", False), ("Renode v1.14.0.1", True),
                                         ("Renode v1.15.3.28699", True), ("garbage", False)])
def test_a_board_names_the_oldest_renode_it_works_with(tmp_path, printed, ok):
    from harness.errors import SetupError
    from harness.frontends import doctor
    fake = tmp_path / f"renode-{len(printed)}"
    fake.write_text(f"#!/bin/sh\necho '{printed}'\n")
    fake.chmod(0o755)
    board = Board("mps2_an385", "arm", "mpu", "", {"renode": {"binary": str(fake),
                                                               "min_version": "1.14"}})
    emu = Renode(board, board.emulator("renode"), tmp_path, None, dict(os.environ))
    row = doctor._emulator_row("renode", board.emulator("renode"), board, dict(os.environ))
    if ok:
        emu.check_version()
        assert row[0] is True
    else:
        with pytest.raises(SetupError, match="mps2_an385 needs Renode 1.14 or newer; found"):
            emu.check_version()
        assert row[0] is None and "needs Renode 1.14 or newer" in row[2]
