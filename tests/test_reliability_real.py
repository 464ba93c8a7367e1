"""Failure cases that need the real workspace, west and QEMU."""
import json
import signal
import subprocess
import sys
import time

import pytest

from harness.frontends.cli import main
from harness.judging.verdict import EXIT_INTERRUPTED, Verdict

pytestmark = pytest.mark.integration
HARNESS = [sys.executable, "-m", "harness"]


def alive(marker: str) -> str:
    return subprocess.run(["pgrep", "-af", marker], capture_output=True, text=True).stdout


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_signal_during_build_kills_the_build_and_keeps_its_log(zephyr_workspace, tmp_path, sig):
    out = tmp_path / "out"
    proc = subprocess.Popen(HARNESS + ["run", "--board", "mps2_an385", "--no-isolation",
                                       "--out", str(out)], stderr=subprocess.PIPE, text=True,
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    for line in proc.stderr:                       # progress lines: the build is under way
        if "build step" in line:
            break
        assert time.monotonic() < deadline
    proc.send_signal(sig)
    assert proc.wait(timeout=15) == EXIT_INTERRUPTED
    assert alive(str(out)) == "", "a build process outlived the harness"
    run_dir = (out / "runs" / "prod_consumer" / "mps2_an385.qemu" / "latest").resolve()
    result = json.loads((run_dir / "result.json").read_text())
    assert result["verdict"] == "INTERRUPTED"
    assert "build interrupted" in (run_dir / "build.log").read_text()


def test_two_parallel_runs_of_the_same_app_and_board(zephyr_workspace, harness_out):
    cmd = HARNESS + ["run", "--board", "mps2_an385", "--out", str(harness_out)]
    procs = [subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                              stdin=subprocess.DEVNULL) for _ in range(2)]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    dirs = {o.split("artifacts: ")[1].split()[0] for o, _ in outs}
    assert len(dirs) == 2, "each run must have its own run directory"


def test_missing_toolchain_is_a_setup_error_with_the_install_command(
        zephyr_workspace, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("ZEPHYR_TOOLCHAIN_VARIANT", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))                 # no Zephyr SDK under ~
    rc = main(["run", "--board", "mps2_an385", "--no-isolation", "--out", str(tmp_path / "o"),
               "--workspace", str(zephyr_workspace.topdir)])
    out = capsys.readouterr().out
    assert rc == Verdict.SETUP_ERROR.code
    assert "no toolchain found for arm boards" in out and "gcc-arm-none-eabi" in out


@pytest.mark.parametrize("emulator", ["qemu", "renode"])
def test_sigkill_mid_run_leaves_no_real_emulator_alive(zephyr_workspace, harness_out, emulator):
    """A run that waits on a never-completing sequence (hello_world judged by
    prod_consumer's expectations) is SIGKILLed while its emulator runs."""
    import shutil

    from conftest import processes_under

    from harness.host.paths import APPS_DIR
    if emulator == "renode" and not shutil.which("renode"):
        pytest.skip("Renode not found: install Renode 1.14 or newer and put `renode` on PATH")
    out = harness_out / f"sigkill-{emulator}"
    proc = subprocess.Popen(HARNESS + [
        "run", "--board", "mps2_an385", "--emulator", emulator, "--no-isolation", "--out", str(out),
        "--timeout", "120", "--app", str(zephyr_workspace.zephyr_base / "samples" / "hello_world"),
        "--expect", str(APPS_DIR / "prod_consumer" / "expect.yaml")],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    uart = out / "runs" / "hello_world" / f"mps2_an385.{emulator}"
    deadline = time.monotonic() + 180
    while not any(p.stat().st_size for p in uart.glob("*/uart.raw")):
        assert proc.poll() is None and time.monotonic() < deadline, "the run never booted"
        time.sleep(0.2)
    assert [p for p in processes_under(out) if not p.startswith(f"{proc.pid}:")]
    proc.kill()
    proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while [p for p in processes_under(out)] and time.monotonic() < deadline:
        time.sleep(0.2)
    assert processes_under(out) == [], "an emulator outlived the SIGKILLed harness"


def test_a_half_configured_build_dir_is_reconfigured_by_itself(zephyr_workspace, harness_out,
                                                               capsys):
    """Seen: after a configure failed half-way, west stops on every later run with
    'could not find CMAKE_PROJECT_NAME in Cache'; the harness starts that build over."""
    out = harness_out / "half-configured"
    build = out / "build" / "sample.basic.helloworld" / "mps2_an385"
    build.mkdir(parents=True)
    (build / "CMakeCache.txt").write_text("# half written by a failed configure\nBOARD:STRING=mps2_an385\n")
    rc = main(["run", "--out", str(out), "--board", "mps2_an385", "--no-isolation",
               "--app", str(zephyr_workspace.zephyr_base / "samples" / "hello_world")])
    err = capsys.readouterr().err
    assert "left half-configured by an earlier failed configure" in err
    result = json.loads((out / "runs" / "sample.basic.helloworld" / "mps2_an385.qemu" / "latest" /
                         "result.json").read_text())
    assert result["verdict"] == "PASS" and rc == 0
