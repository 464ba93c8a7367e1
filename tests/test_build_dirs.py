"""A build directory another workspace configured is rebuilt from scratch (west itself
would refuse it when the board's name changed, e.g. mps2/an385 on Zephyr 4.x vs
mps2_an385 on 3.x); one this workspace configured is built incrementally. West's
process is replaced at the boundary: the command is recorded, an ELF is written."""
from types import SimpleNamespace

from harness.build import west_build


def configured(build_dir, app, zephyr_base, board):
    build_dir.mkdir(parents=True)
    (build_dir / "CMakeCache.txt").write_text(
        f"CMAKE_PROJECT_NAME:STATIC=Zephyr-Kernel\nAPPLICATION_SOURCE_DIR:PATH={app}\n"
        f"ZEPHYR_BASE:PATH={zephyr_base}\nBOARD:STRING={board}\nCACHED_BOARD:STRING={board}\n")


def build_with(tmp_path, monkeypatch, cache_base):
    app, ws = tmp_path / "app", tmp_path / "ws"
    app.mkdir()
    (ws / "zephyr").mkdir(parents=True)
    build_dir = tmp_path / "build" / "app" / "mps2_an385"
    configured(build_dir, app, cache_base, "mps2/an385" if cache_base != ws / "zephyr"
               else "mps2_an385")
    ran, said = [], []

    def run_logged(cmd, cwd, env, log_path, steps, cancel, append=False):
        ran.append(cmd)
        (build_dir / "zephyr").mkdir(exist_ok=True)
        (build_dir / "zephyr" / "zephyr.elf").write_bytes(b"\x7fELF")
        return 0
    monkeypatch.setattr(west_build, "_run_logged", run_logged)
    west_build.build(source=app, board="mps2_an385", build_dir=build_dir,
                     log_path=tmp_path / "build.log",
                     workspace=SimpleNamespace(zephyr_base=ws / "zephyr", topdir=ws),
                     toolchain=SimpleNamespace(cmake_args=(), variant="zephyr", env={}),
                     environ={}, say=said.append)
    return ran[-1], said


def test_a_build_directory_of_another_workspace_is_rebuilt_from_scratch(tmp_path, monkeypatch):
    cmd, said = build_with(tmp_path, monkeypatch, tmp_path / "other-ws" / "zephyr")
    assert cmd[-2:] == ["-p", "always"] and "west" in cmd
    assert any("was built with the Zephyr at" in line and "other-ws" in line for line in said)


def test_a_build_directory_of_this_workspace_is_built_incrementally(tmp_path, monkeypatch):
    cmd, said = build_with(tmp_path, monkeypatch, tmp_path / "ws" / "zephyr")
    assert cmd[:2] == ["cmake", "--build"] and not said


def test_builds_run_below_the_runs_priority(tmp_path):
    """A build is niced (BUILD_NICENESS above the harness's own), so an emulator run
    beside it keeps answering within wall-clock timeouts; its log names the command."""
    import os
    import sys
    import threading
    log = tmp_path / "build.log"
    steps = west_build._Steps("app/board", lambda s: None)
    rc = west_build._run_logged([sys.executable, "-c", "import os; print('nice', os.nice(0))"],
                                tmp_path, dict(os.environ), log, steps, threading.Event())
    text = log.read_text()
    assert rc == 0 and f"nice {min(19, os.nice(0) + west_build.BUILD_NICENESS)}" in text, text
    assert text.startswith("$ ") and f"-n {west_build.BUILD_NICENESS} {sys.executable}" in text


def test_a_build_command_that_cannot_run_is_the_hosts_problem(tmp_path):
    """`nice` reports a command it cannot run (rc 127): a SETUP_ERROR naming it, not a
    BUILD_ERROR of the firmware."""
    import os
    import threading

    import pytest

    from harness.errors import SetupError
    log = tmp_path / "build.log"
    steps = west_build._Steps("app/board", lambda s: None)
    rc = west_build._run_logged([str(tmp_path / "no-cmake")], tmp_path, dict(os.environ), log,
                                steps, threading.Event())
    assert rc == 127
    with pytest.raises(SetupError, match="could not be run: .*no-cmake"):
        west_build._failed("mps2_an385", rc, log)
