"""The Robot Framework library: libdoc anywhere, the suites against real QEMU."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import processes_under

ROBOT_DIR = Path(__file__).parents[1] / "robot"


def test_libdoc_documents_every_keyword(tmp_path):
    out = tmp_path / "Emulation.json"
    subprocess.run([sys.executable, "-m", "robot.libdoc", "harness.robot.Emulation", str(out)],
                   check=True, capture_output=True)
    import json
    names = {k["name"] for k in json.loads(out.read_text())["keywords"]}
    assert {"Start Emulation", "Wait For Line On Uart", "Should Not Be On Uart",
            "Register Failing Uart String", "Wait For Expected Sequence",
            "Isolation Should Be Enforced", "Stop Emulation", "Build Firmware",
            "Require Emulator"} <= names
    assert all(k["doc"] for k in json.loads(out.read_text())["keywords"])


@pytest.mark.integration
def test_suites_pass_on_qemu_and_leave_nothing_running(zephyr_workspace, harness_out, tmp_path):
    cmd = [sys.executable, "-m", "robot", "--outputdir", str(tmp_path), "--xunit", "xunit.xml",
           "--variable", f"HARNESS_OUT:{harness_out}", "--console", "dotted", str(ROBOT_DIR)]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout[-3000:]
    suite = ET.parse(tmp_path / "xunit.xml").getroot()
    assert int(suite.get("tests")) >= 12 and suite.get("failures") == "0"
    assert processes_under(harness_out) == [], "emulators left running"


NO_TEARDOWN_SUITE = """*** Settings ***
Library    harness.robot.Emulation    out=${HARNESS_OUT}

*** Variables ***
${HARNESS_OUT}    harness-out

*** Test Cases ***
Boot Twice Without Any Teardown
    Require Emulator    renode
    Start Emulation    mps2_an385    renode
    Wait For Line On Uart    SUCCESS    timeout=60
    Start Emulation    mps2_an385    renode
    Wait For Line On Uart    SUCCESS    timeout=60
"""


@pytest.mark.integration
def test_a_suite_without_teardown_leaves_no_renode_behind(zephyr_workspace, harness_out, tmp_path):
    """The library stops the Renode processes it kept when Robot closes it, and
    removes their scratch directories (HOME, TMPDIR)."""
    suite = tmp_path / "no_teardown.robot"
    suite.write_text(NO_TEARDOWN_SUITE)
    cmd = [sys.executable, "-m", "robot", "--outputdir", str(tmp_path), "--xunit", "xunit.xml",
           "--variable", f"HARNESS_OUT:{harness_out}", "--console", "none", str(suite)]
    proc = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    result = ET.parse(tmp_path / "xunit.xml").getroot()
    if result.get("skipped") == "1":
        pytest.skip("Renode not found: install Renode 1.14+ and put `renode` on PATH")
    assert proc.returncode == 0, proc.stdout[-3000:]
    assert processes_under(harness_out) == [], "a Renode outlived the Robot run"
    scratch = harness_out / ".renode-processes"
    assert not scratch.exists() or not any(scratch.iterdir()), "Renode scratch left behind"
