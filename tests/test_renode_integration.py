"""Real Renode: prod_consumer and the isolation proof on the three Renode boards,
and QEMU/Renode agreement on mps2_an385. Skips without Renode (not in any
package registry: install Renode 1.14+, put `renode` on PATH or set HARNESS_RENODE)."""
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from harness.emulators.renode_install import version_tuple
from harness.frontends.cli import main
from harness.host.process import tool_version
from harness.inputs import boards
from harness.judging.verdict import Verdict

pytestmark = pytest.mark.integration
RENODE_BOARDS = ["mps2_an385", "stm32f4_disco", "nrf52840dk_nrf52840"]
# "Renode, version 1.14.0.30700 (...)" (1.14), "Renode v1.15.3.31322" (1.15 on)
RENODE_VERSION = re.compile(r"Renode,? v(?:ersion )?1\.(1[4-9]|[2-9]\d)\.")


@pytest.fixture(scope="module")
def renode():
    exe = os.environ.get("HARNESS_RENODE") or shutil.which("renode")
    if not exe:
        pytest.skip("Renode not found: install Renode 1.14 or newer (github.com/renode/renode) "
                    "and put `renode` on PATH, or set HARNESS_RENODE")
    return exe


@pytest.fixture(scope="module")
def renode_run(zephyr_workspace, renode, harness_out):
    return main(["run", "--board", ",".join(RENODE_BOARDS), "--emulator", "renode",
                 "--out", str(harness_out)])


@pytest.mark.parametrize("board", RENODE_BOARDS)
def test_prod_consumer_passes_under_renode_with_a_certificate(renode_run, harness_out, board):
    latest = harness_out / "runs" / "prod_consumer" / f"{board}.renode" / "latest"
    result = json.loads((latest / "result.json").read_text())
    assert result["verdict"] == "PASS", result["reason"]
    assert result["isolation"]["status"] == "CERTIFIED"
    assert RENODE_VERSION.match(result["provenance"]["emulator"].removeprefix("renode: "))
    assert result["evidence"]["virtual_time_s"] > 1.0           # the sample's ~1.4 s of guest time
    for name in ("uart.raw", "renode.log", "renode-monitor.txt", "build.log", "junit.xml"):
        assert (latest / name).is_file(), name
    assert not (latest / "renode-home").exists()


@pytest.mark.parametrize("board", RENODE_BOARDS)
def test_isolation_is_certified_on_each_renode_board(renode_run, harness_out, capsys, board):
    rc = main(["prove", "--board", board, "--emulator", "renode", "--out", str(harness_out),
               "--json"])
    cert = json.loads(capsys.readouterr().out)
    assert rc == 0 and cert["status"] == "CERTIFIED"
    assert RENODE_VERSION.match(cert["emulator"])
    assert all(c["status"] == "enforced" for c in cert["cases"] if c["kind"] == "forbidden")


def test_qemu_and_renode_agree_on_mps2_an385(renode_run, harness_out, capsys):
    rc = main(["run", "--board", "mps2_an385", "--emulator", "qemu,renode", "--out",
               str(harness_out)])
    out = capsys.readouterr().out
    assert rc == 0, out
    assert "AGREE          prod_consumer mps2_an385 qemu vs renode" in out
    found = json.loads((harness_out / "runs" / "prod_consumer" /
                        "mps2_an385.agreement.json").read_text())
    assert found["agree"] and found["differences"] == []


def test_runs_of_a_session_share_one_renode_and_see_a_fresh_emulation(renode_run, harness_out):
    """The second run in a reused Renode prints the very bytes of a run in a new
    process (Clear leaves nothing behind), and closing the session stops Renode."""
    from harness.host.process import session_alive
    from harness.inputs import apps, boards, config, expectations
    app, board = apps.load("prod_consumer"), boards.load("mps2_an385")
    spec = expectations.load(app.expect)
    with config.make_session(dict(os.environ), out=str(harness_out), say=lambda m: None,
                             reuse_emulators=False) as alone:
        fresh = alone.run_checked(app, board, "renode", spec)
    with config.make_session(dict(os.environ), out=str(harness_out), say=lambda m: None) as session:
        first, second = (session.run_checked(app, board, "renode", spec) for _ in range(2))
    assert [r.verdict.name for r in (fresh, first, second)] == ["PASS"] * 3
    ends = [r.outcome.evidence["teardown"] for r in (fresh, first, second)]
    assert ends[0]["ended_by"] == "quit" and ends[0]["renode_runs_in_process"] == 1
    assert ends[1]["ended_by"] == ends[2]["ended_by"] == "kept"
    assert ends[1]["kept_pid"] == ends[2]["kept_pid"]
    assert ends[2]["renode_runs_in_process"] == ends[1]["renode_runs_in_process"] + 1
    from harness.emulators import (
        renode_aot,  # the images set-up made, where it made any
    )
    from harness.emulators.renode_host import mono_tuned
    made = renode_aot.images(os.path.abspath(shutil.which("renode")), dict(os.environ))
    assert ends[0]["renode_aot_images"] == ends[2]["renode_aot_images"] == (str(made) if made else None)
    given = mono_tuned(dict(os.environ))["MONO_GC_PARAMS"]      # nursery-size=64m, or the user's
    assert ends[0]["renode_mono_gc_params"] == ends[2]["renode_mono_gc_params"] == given
    assert (second.run_dir / "uart.raw").read_bytes() == (fresh.run_dir / "uart.raw").read_bytes()
    assert (second.run_dir / "renode.log").read_text().count("Loading segment") >= 1
    assert not session_alive(ends[2]["kept_pid"]), "a Renode process outlived its session"
    assert not (harness_out / ".renode-processes").exists() or \
        not any((harness_out / ".renode-processes").iterdir())


def renode_launchers() -> list[str]:
    """`renode` and every `renode-<version>` launcher on PATH (several Renode
    versions side by side), so each one this machine has is checked."""
    found = {}
    for folder in os.environ.get("PATH", "").split(os.pathsep):
        for exe in sorted(Path(folder).glob("renode*")) if Path(folder).is_dir() else []:
            if re.fullmatch(r"renode(-[\d.]+)?", exe.name) and os.access(exe, os.X_OK):
                found.setdefault(exe.name, str(exe))
    return list(found.values())


@pytest.mark.parametrize("launcher", renode_launchers() or ["renode"])
def test_each_renode_version_here_certifies_and_passes_mps2_an385(renode_run, harness_out, capsys,
                                                                   launcher):
    if not shutil.which(launcher):
        pytest.skip(f"{launcher} not found: install Renode 1.14 or newer")
    rc = main(["run", "--board", "mps2_an385", "--emulator", "renode", "--renode", launcher,
               "--out", str(harness_out)])
    out = capsys.readouterr().out
    wanted = boards.load("mps2_an385").emulator("renode")["min_version"]
    found = version_tuple(tool_version((shutil.which(launcher), "--version")))
    if found is None or found < version_tuple(wanted):     # the version gate's verdict
        assert rc == Verdict.SETUP_ERROR.code, out
        assert f"mps2_an385 needs Renode {wanted} or newer" in out
        return
    assert rc == 0, out
    latest = harness_out / "runs" / "prod_consumer" / "mps2_an385.renode" / "latest"
    result = json.loads((latest / "result.json").read_text())
    assert result["isolation"]["status"] == "CERTIFIED"
    assert RENODE_VERSION.match(result["provenance"]["emulator"].removeprefix("renode: "))


@pytest.fixture(scope="module")
def riscv_toolchain():
    from harness.build import toolchain
    from harness.errors import SetupError
    try:
        return toolchain.find("riscv", dict(os.environ))
    except SetupError as exc:
        pytest.skip(f"{exc.message}: {exc.hint}")


def test_a_zephyr_boards_own_renode_script_runs_an_app(zephyr_workspace, renode, riscv_toolchain,
                                                      harness_out, capsys):
    """m2gl025_miv (`script: zephyr`): Zephyr's boards/riscv/m2gl025_miv/support/*.resc,
    its showAnalyzer UART sent to the harness; no MPU, so a PASS needs --no-isolation."""
    app = str(zephyr_workspace.zephyr_base / "samples" / "hello_world")
    rc = main(["run", "--app", app, "--board", "m2gl025_miv", "--no-isolation",
               "--out", str(harness_out)])
    latest = harness_out / "runs" / "sample.basic.helloworld" / "m2gl025_miv.renode" / "latest"
    result = json.loads((latest / "result.json").read_text())
    assert rc == 0 and result["verdict"] == "PASS", result["reason"]
    assert "Hello World! m2gl025_miv" in (latest / "uart.raw").read_text()
    script = (latest / "board.resc").read_text()
    assert "# (harness) showAnalyzer uart" in script and "$ORIGIN" not in script
    assert "include @" in (latest / "renode-monitor.txt").read_text()
    rc = main(["run", "--app", app, "--board", "m2gl025_miv", "--out", str(harness_out)])
    result = json.loads((latest.parent / "latest" / "result.json").read_text())
    assert result["verdict"] == "UNTRUSTED" and "no memory protection" in result["reason"]
    assert result["isolation"]["status"] == "NOT_APPLICABLE"


def _nices(sid: int) -> dict[bool, list[int]]:
    """Nice values of a session's threads: {is a SocketServerProvider thread: [...]}."""
    from harness.emulators.renode_host import SPINNING_THREADS
    from harness.host.process import session_threads
    if os.getpriority(os.PRIO_PROCESS, 0) >= 19:
        pytest.skip("the tests run at nice 19 already: a lowered thread looks like any other")
    nices: dict[bool, list[int]] = {}
    for tid, name in session_threads(sid):
        try:
            nice = os.getpriority(os.PRIO_PROCESS, tid)
        except OSError:
            continue                                       # the thread ended meanwhile
        nices.setdefault(name.startswith(SPINNING_THREADS), []).append(nice)
    return nices


def test_renodes_spinning_monitor_threads_get_the_lowest_priority(renode, tmp_path):
    """The threads of Renode's SocketServerProvider (they poll flat out for 60 ms after
    each monitor write) run at nice 19, the rest of Renode as it was started."""
    from harness.emulators.renode_host import RenodeHost
    host = RenodeHost(renode, tmp_path / "host", dict(os.environ))
    try:
        host.monitor.execute("version")
        nices = _nices(host.proc.sid)
    finally:
        host.stop(hard=True)
    assert nices.get(True), "no SocketServerProvider thread in this Renode: the workaround is moot"
    started_at = os.getpriority(os.PRIO_PROCESS, 0)      # what Renode inherited from us
    assert set(nices[True]) == {19} and set(nices[False]) == {started_at}


def test_a_socket_terminals_spinning_threads_are_lowered_too(renode_run, harness_out, monkeypatch):
    """With `uart_transport: socket` the UART's server threads are lowered as well
    (the monitor's connection has three of them; the terminal's come on top), and the
    run passes."""
    import copy

    from harness.emulators import renode as renode_mod
    from harness.inputs import apps, boards, config, expectations
    seen = []
    real_stop = renode_mod.Renode.stop

    def stop(self):                                   # while the run's terminal is open
        if self.host and not self.teardown:
            seen.append(_nices(self.host.proc.sid))
        return real_stop(self)

    monkeypatch.setattr(renode_mod.Renode, "stop", stop)
    app, board = apps.load("prod_consumer"), copy.deepcopy(boards.load("mps2_an385"))
    board.emulators["renode"]["uart_transport"] = "socket"
    with config.make_session(dict(os.environ), out=str(harness_out), say=lambda m: None) as session:
        result = session.run_checked(app, board, "renode", expectations.load(app.expect))
    assert result.verdict.name == "PASS", result.outcome.reason
    assert len(seen[-1][True]) > 3 and set(seen[-1][True]) == {19}, seen[-1]
    # nothing else inherited it (the CPU thread, started by `start`, among them)
    assert set(seen[-1][False]) == {os.getpriority(os.PRIO_PROCESS, 0)}, seen[-1]
