"""Every front end (the CLI, `west harness`, the pytest plugin, the Robot library) tells
the same verdict in result.json, its JUnit/xUnit file, its printed line and its exit
code, for every verdict it can give.

The firmware is real (west build of prod_consumer for a project's own board file,
`fake_an385` = Zephyr's mps2_an385); the emulator is the fake QEMU at the process
boundary (tests/fakes/fake_qemu.py on PATH as `fake-qemu-system-arm`), which plays a
scenario per verdict. Verdicts no single front end run gives (SKIPPED of a suite's
filter, DISAGREE of two emulators, STALL of Renode's virtual time) are covered with
the CLI in tests/test_suites.py, test_agreement.py and test_renode_adapter.py.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import DATA, FAKES

from harness.judging.verdict import Verdict
from harness.paths import APPS_DIR

pytestmark = pytest.mark.integration

PASS_LOG = (DATA / "prod_consumer.mps2_an385.qemu.log").read_text()
PROBE_LOG = (APPS_DIR / "isolation_probe" / "logs" / "mps2_an385.qemu.log").read_text()
HEAD = "\n".join(PASS_LOG.splitlines()[:6]) + "\n"
FAULT = "\n".join(PROBE_LOG.splitlines()[12:21]) + "\n"

# verdict -> (fake QEMU scenario, probe scenario or None (no isolation), extra)
CASES = {
    "PASS": ({"log": PASS_LOG}, None, {}),
    "FAIL": ({"log": PASS_LOG.replace("I: monitor thread got data payload #2\n", "")}, None, {}),
    "CRASH": ({"log": HEAD + FAULT}, None, {}),
    "HANG": ({"log": HEAD}, None, {}),
    "EMULATOR_ERROR": ({"log": HEAD, "then": "die"}, None, {}),
    "UNTRUSTED": ({"log": PASS_LOG}, {"log": PROBE_LOG.replace(
        "PROBE:FATAL name=other_write reason=0", "PROBE:SURVIVED name=other_write value=0x0")
        .replace("PROBE:RESULT name=other_write faulted=1",
                 "PROBE:RESULT name=other_write faulted=0")}, {}),
    "SETUP_ERROR": ({"log": PASS_LOG}, None, {"path": "without the fake"}),
    "BUILD_ERROR": ({"log": PASS_LOG}, None, {"app": "broken"}),
    "HARNESS_ERROR": ({"log": PASS_LOG, "remove_run_dir": True}, None, {}),
    "BAD_INPUT": ({"log": PASS_LOG}, None, {"board": "no_such_board"}),
    "INTERRUPTED": ({"log": HEAD}, None, {"sigterm": True}),
}
FRONT_ENDS = ("cli", "west", "pytest", "robot")
NO_RESULT = {"BAD_INPUT": "no run starts for an unknown board",
             "HARNESS_ERROR": "its run directory vanished"}
OWN_SIGNALS = {"pytest", "robot"}      # their runners own SIGTERM: INTERRUPTED is not theirs
PAIRS = [(f, v) for f in FRONT_ENDS for v in CASES if not (v == "INTERRUPTED" and f in OWN_SIGNALS)]

BOARD = """\
name: fake_an385
zephyr_board: mps2_an385
arch: arm
protection: {kind: mpu, detail: Armv7-M PMSA MPU (fake QEMU of the tests)}
emulators:
  qemu:
    binary: fake-qemu-system-arm
    args: [-machine, mps2-an385]
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory, zephyr_workspace):
    root = tmp_path_factory.mktemp("project")
    (root / "bin").mkdir()
    (root / "bin" / "fake-qemu-system-arm").symlink_to(FAKES / "fake_qemu.py")
    (root / "boards").mkdir()
    (root / "boards" / "fake_an385.yaml").write_text(BOARD)
    broken = root / "apps" / "broken"
    (broken / "src").mkdir(parents=True)
    (broken / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20.0)\nfind_package(Zephyr REQUIRED HINTS $ENV{ZEPHYR_BASE})\n"
        "project(broken)\ntarget_sources(app PRIVATE src/main.c)\n")
    (broken / "prj.conf").write_text("")
    (broken / "src" / "main.c").write_text("void main(void) { this does not compile; }\n")
    (broken / "expect.yaml").write_text((APPS_DIR / "prod_consumer" / "expect.yaml").read_text())
    (root / "harness.yaml").write_text(
        f"board_dirs: [boards]\nout: out\ntimeout: 3\nworkspace: {zephyr_workspace.topdir}\n")
    (root / "test_run.py").write_text(
        "import os\nimport pytest\n\n"
        "@pytest.mark.harness_app(os.environ['CASE_APP'])\n"
        "def test_run(harness_run):\n"
        "    harness_run(isolation=os.environ['CASE_ISOLATION'] == '1')\n")
    (root / "run.robot").write_text(
        "*** Settings ***\n"
        "Library    harness.robot.Emulation    config=${CURDIR}/harness.yaml\n\n"
        "*** Test Cases ***\n"
        "Run\n"
        "    Firmware Should Pass    %{CASE_APP}    %{CASE_BOARD}    qemu    "
        "isolation=%{CASE_ISOLATION}\n")
    (Path.home() / ".cache").mkdir(exist_ok=True)
    return root


def _argv(front_end: str, root: Path, app: str, board: str, isolation: bool, ws: Path) -> list:
    py = sys.executable
    if front_end == "cli":
        return [py, "-m", "harness", "run", "--app", app, "--board", board, "--emulator", "qemu",
                *([] if isolation else ["--no-isolation"])]
    if front_end == "west":
        build = root / "out" / "build" / ("broken" if app.endswith("broken") else app) / "fake_an385"
        return [py, "-m", "west", "harness", "run", "-d", str(build), "--board", board,
                "--config", str(root / "harness.yaml"), *([] if isolation else ["--no-isolation"])]
    if front_end == "pytest":
        return [py, "-m", "pytest", "-p", "no:cacheprovider", "--harness", "--harness-board",
                board, "--harness-config", str(root / "harness.yaml"), "--junitxml",
                str(root / "junit.xml"), "-q", str(root / "test_run.py")]
    return [py, "-m", "robot", "--output", "NONE", "--report", "NONE", "--log", "NONE",
            "--xunit", str(root / "junit.xml"), "--console", "verbose", str(root / "run.robot")]


def _run_dirs(root: Path) -> set:
    return set((root / "out" / "runs").glob("*/fake_an385.qemu/2*"))


@pytest.mark.parametrize(("front_end", "verdict"), PAIRS)
def test_front_ends_agree_on_every_verdict(project, zephyr_workspace, front_end, verdict):
    scenario, probe, extra = CASES[verdict]
    root = project
    (root / "scenario.json").write_text(json.dumps(scenario))
    (root / "probe.json").write_text(json.dumps(probe or {"log": PROBE_LOG}))
    app = str(root / "apps" / "broken") if extra.get("app") else "prod_consumer"
    board = extra.get("board", "fake_an385")
    path = os.environ["PATH"] if extra.get("path") else f"{root / 'bin'}:{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "FAKE_QEMU_SCENARIO": str(root / "scenario.json"),
           "FAKE_QEMU_PROBE": str(root / "probe.json"), "CASE_APP": app, "CASE_BOARD": board,
           "CASE_ISOLATION": "1" if probe else "0"}
    (root / "junit.xml").unlink(missing_ok=True)
    before = _run_dirs(root)
    cwd = zephyr_workspace.topdir if front_end == "west" else root
    argv = _argv(front_end, root, app, board, probe is not None, zephyr_workspace.topdir)
    if verdict == "INTERRUPTED":
        argv += ["--timeout", "60"]
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while not any((d / "uart.raw").is_file() and (d / "uart.raw").stat().st_size
                      for d in _run_dirs(root) - before):
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
        rc = proc.returncode
    else:
        done = subprocess.run(argv, cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, timeout=300)
        out, err, rc = done.stdout, done.stderr, done.returncode
    said = f"rc={rc}\nstdout:\n{out}\nstderr:\n{err}"
    code = Verdict[verdict].code

    # the exit code (Robot's is its count of failed tests)
    if front_end == "robot":
        assert (rc != 0) == (code != 0), said
    else:
        assert rc == code, said
    # the printed line
    if front_end in ("cli", "west"):
        printed = out.splitlines()[0] if out.strip() else err
        assert printed.startswith(verdict) or f"harness: {verdict}: " in err, said
    elif verdict != "PASS":
        assert f"{verdict}: " in out, said
    # result.json of the run, where one could be written
    new = sorted(_run_dirs(root) - before)
    if verdict in NO_RESULT:
        assert not any((d / "result.json").exists() for d in new), NO_RESULT[verdict]
    else:
        assert new, f"no run directory: {said}"
        result = json.loads((new[-1] / "result.json").read_text())
        assert result["verdict"] == verdict and result["exit_code"] == code, said
        assert result["reason"] or verdict == "PASS", result
        case = ET.parse(new[-1] / "junit.xml").getroot().find("testcase")
        bad = case.find("failure") if case.find("failure") is not None else case.find("error")
        assert (bad is None) if verdict == "PASS" else (bad.get("type") == verdict), said
    # the front end's own JUnit / xUnit file
    if front_end in ("pytest", "robot"):
        junit = (root / "junit.xml").read_text()
        if verdict == "PASS":
            assert 'failures="0"' in junit and 'errors="0"' in junit, junit
        else:
            assert f"{verdict}: " in junit, junit
