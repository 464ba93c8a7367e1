"""The Robot Framework library: libdoc anywhere, the suites against real QEMU."""
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

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
    left = subprocess.run(["pgrep", "-f", str(harness_out)], capture_output=True, text=True)
    assert left.stdout == "", f"emulators left running: {left.stdout}"
