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

from harness.host.paths import APPS_DIR
from harness.judging.verdict import Verdict

pytestmark = pytest.mark.integration

PASS_LOG = (DATA / "prod_consumer.mps2_an385.qemu.log").read_text()
PROBE_LOG = (APPS_DIR / "isolation_probe" / "logs" / "mps2_an385.qemu.log").read_text()
HEAD = "\n".join(PASS_LOG.splitlines()[:6]) + "\n"
FAULT = "\n".join(PROBE_LOG.splitlines()[12:21]) + "\n"

UNTRUSTED_PROBE = PROBE_LOG.replace(
    "PROBE:FATAL name=other_write reason=0", "PROBE:SURVIVED name=other_write value=0x0").replace(
    "PROBE:RESULT name=other_write faulted=1", "PROBE:RESULT name=other_write faulted=0")
FAIL_LOG = PASS_LOG.replace("I: monitor thread got data payload #2\n", "")

# verdict -> the fake emulators' scenarios and the run's settings:
#   qemu / renode: the app's scenario; probe: the probe's (None: no isolation proof);
#   emulators, app, board, path ("bare": without the fakes on PATH), sigterm, front_ends
CASES = {
    "PASS": {"qemu": {"log": PASS_LOG}},
    "FAIL": {"qemu": {"log": FAIL_LOG}},
    "CRASH": {"qemu": {"log": HEAD + FAULT}},
    "HANG": {"qemu": {"log": HEAD}},
    "STALL": {"renode": {"log": HEAD, "then": "freeze"}, "emulators": "renode"},
    "EMULATOR_ERROR": {"qemu": {"log": HEAD, "then": "die"}},
    "UNTRUSTED": {"qemu": {"log": PASS_LOG}, "probe": {"log": UNTRUSTED_PROBE}},
    "DISAGREE": {"qemu": {"log": PASS_LOG}, "renode": {"log": FAIL_LOG}, "emulators": "qemu,renode",
                 "front_ends": ("cli", "west")},         # the two that run several emulators
    "SETUP_ERROR": {"qemu": {"log": PASS_LOG}, "path": "bare"},
    "BUILD_ERROR": {"qemu": {"log": PASS_LOG}, "app": "broken"},
    "HARNESS_ERROR": {"qemu": {"log": PASS_LOG, "remove_run_dir": True}},
    "BAD_INPUT": {"qemu": {"log": PASS_LOG}, "board": "no_such_board"},
    "INTERRUPTED": {"qemu": {"log": HEAD}, "sigterm": True,
                    "front_ends": ("cli", "west")},      # pytest and Robot own their SIGTERM
    "SKIPPED": {"app": "suite", "front_ends": ("cli",)},  # a test suite's filter
}
FRONT_ENDS = ("cli", "west", "pytest", "robot")
NO_RESULT = {"BAD_INPUT": "no run starts for an unknown board",
             "HARNESS_ERROR": "its run directory vanished"}
PAIRS = [(f, v) for f in FRONT_ENDS for v, case in CASES.items()
         if f in case.get("front_ends", FRONT_ENDS)]

BOARD = """\
name: fake_an385
zephyr_board: mps2_an385
arch: arm
protection: {kind: mpu, detail: Armv7-M PMSA MPU (fake QEMU of the tests)}
emulators:
  qemu:
    binary: fake-qemu-system-arm
    args: [-machine, mps2-an385]
  renode:
    binary: fake-renode
    platform: fake.repl
    uart: sysbus.uart0
    stall_check_s: 0.5
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory, zephyr_workspace):
    root = tmp_path_factory.mktemp("project")
    (root / "bin").mkdir()
    (root / "bin" / "fake-qemu-system-arm").symlink_to(FAKES / "fake_qemu.py")
    (root / "bin" / "fake-renode").symlink_to(FAKES / "fake_renode.py")
    (root / "boards").mkdir()
    (root / "boards" / "fake_an385.yaml").write_text(BOARD)
    (root / "boards" / "fake.repl").write_text("// the fake Renode reads no platform\n")
    suite = root / "apps" / "suite"
    suite.mkdir(parents=True)
    (suite / "CMakeLists.txt").write_text("# never built: its only scenario is filtered out\n")
    (suite / "testcase.yaml").write_text(
        "tests:\n  front_ends.only_x86:\n    platform_allow: qemu_x86\n    harness: console\n"
        "    harness_config: {type: one_line, regex: [SUCCESS]}\n")
    broken = root / "apps" / "broken"
    (broken / "src").mkdir(parents=True)
    (broken / "CMakeLists.txt").write_text(
        "cmake_minimum_required(VERSION 3.20.0)\nfind_package(Zephyr REQUIRED HINTS $ENV{ZEPHYR_BASE})\n"
        "project(broken)\ntarget_sources(app PRIVATE src/main.c)\n")
    (broken / "prj.conf").write_text("")
    (broken / "src" / "main.c").write_text("void main(void) { this does not compile; }\n")
    (broken / "expect.yaml").write_text((APPS_DIR / "prod_consumer" / "expect.yaml").read_text())
    # audit_domains: false: the fake QEMU traces no MPU (prod_consumer audits by default)
    (root / "harness.yaml").write_text(
        f"board_dirs: [boards]\nout: out\ntimeout: 3\nworkspace: {zephyr_workspace.topdir}\n"
        "audit_domains: false\n")
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
        "    Firmware Should Pass    %{CASE_APP}    %{CASE_BOARD}    %{CASE_EMULATORS}    "
        "isolation=%{CASE_ISOLATION}\n")
    (Path.home() / ".cache").mkdir(exist_ok=True)
    return root


def _argv(front_end: str, root: Path, app: str, board: str, emulators: str,
          isolation: bool) -> list:
    py = sys.executable
    no_proof = [] if isolation else ["--no-isolation"]
    if front_end == "cli":
        return [py, "-m", "harness", "run", "--app", app, "--board", board,
                "--emulator", emulators, *no_proof]
    if front_end == "west":
        build = root / "out" / "build" / Path(app).name / "fake_an385"
        return [py, "-m", "west", "harness", "run", "-d", str(build), "--board", board,
                "--emulator", emulators, "--config", str(root / "harness.yaml"), *no_proof]
    if front_end == "pytest":
        return [py, "-m", "pytest", "-p", "no:cacheprovider", "--harness", "--harness-board",
                board, "--harness-emulator", emulators, "--harness-config",
                str(root / "harness.yaml"), "--junitxml", str(root / "junit.xml"), "-q",
                str(root / "test_run.py")]
    return [py, "-m", "robot", "--output", "NONE", "--report", "NONE", "--log", "NONE",
            "--xunit", str(root / "junit.xml"), "--console", "verbose", str(root / "run.robot")]


def _run_dirs(root: Path) -> set:
    return set((root / "out" / "runs").glob("*/fake_an385.*/2*"))


@pytest.mark.parametrize(("front_end", "verdict"), PAIRS)
def test_front_ends_agree_on_every_verdict(project, zephyr_workspace, front_end, verdict):
    case = CASES[verdict]
    root = project
    for name, scenario in (("qemu", case.get("qemu")), ("renode", case.get("renode")),
                           ("probe", case.get("probe"))):
        (root / f"{name}.json").write_text(json.dumps(scenario or {"log": PROBE_LOG}))
    app = str(root / "apps" / case["app"]) if case.get("app") else "prod_consumer"
    board = case.get("board", "fake_an385")
    emulators = case.get("emulators", "qemu")
    isolation = "probe" in case
    path = os.environ["PATH"] if case.get("path") == "bare" else f"{root / 'bin'}:{os.environ['PATH']}"
    env = {**os.environ, "PATH": path, "FAKE_QEMU_SCENARIO": str(root / "qemu.json"),
           "FAKE_QEMU_PROBE": str(root / "probe.json"),
           "FAKE_RENODE_SCENARIO": str(root / "renode.json"),
           "FAKE_RENODE_PROBE": str(root / "probe.json"), "CASE_APP": app, "CASE_BOARD": board,
           "CASE_EMULATORS": emulators, "CASE_ISOLATION": "1" if isolation else "0"}
    (root / "junit.xml").unlink(missing_ok=True)
    (root / "out" / "runs" / "prod_consumer" / "fake_an385.agreement.json").unlink(missing_ok=True)
    before = _run_dirs(root)
    cwd = zephyr_workspace.topdir if front_end == "west" else root
    argv = _argv(front_end, root, app, board, emulators, isolation)
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
        printed = out.splitlines() if out.strip() else [""]
        assert (printed[-1] if verdict == "DISAGREE" else printed[0]).startswith(verdict) \
            or f"harness: {verdict}: " in err, said
    elif verdict != "PASS":
        assert f"{verdict}: " in out, said
    # result.json of the run, where one could be written
    new = sorted(_run_dirs(root) - before)
    if verdict == "DISAGREE":       # each run's own verdict stands; the comparison says DISAGREE
        agreement = root / "out" / "runs" / "prod_consumer" / "fake_an385.agreement.json"
        assert json.loads(agreement.read_text())["agree"] is False, said
        verdicts = {json.loads((d / "result.json").read_text())["verdict"] for d in new}
        assert verdicts == {"PASS", "FAIL"}, said
    elif verdict in NO_RESULT:
        assert not any((d / "result.json").exists() for d in new), NO_RESULT[verdict]
    else:
        assert new, f"no run directory: {said}"
        result = json.loads((new[-1] / "result.json").read_text())
        assert result["verdict"] == verdict and result["exit_code"] == code, said
        assert result["reason"] or verdict == "PASS", result
        case = ET.parse(new[-1] / "junit.xml").getroot().find("testcase")
        bad = [e for tag in ("failure", "error", "skipped") for e in case.findall(tag)]
        if verdict == "PASS":
            assert not bad, said
        elif verdict == "SKIPPED":
            assert [(e.tag, e.get("message")) for e in bad] == [("skipped", result["reason"])], said
        else:
            assert [e.get("type") for e in bad] == [verdict], said
    # the front end's own JUnit / xUnit file
    if front_end in ("pytest", "robot"):
        junit = (root / "junit.xml").read_text()
        if verdict == "PASS":
            assert 'failures="0"' in junit and 'errors="0"' in junit, junit
        else:
            assert f"{verdict}: " in junit, junit
