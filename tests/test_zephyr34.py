"""The same harness on a user's Zephyr 3.4 workspace (by convention ~/zephyrproject-3.4,
see ENVIRONMENT notes in the README): prod_consumer with a certificate on mps2_an385
under QEMU and Renode (which agree: Renode's interleaved log line is reassembled), and
on qemu_x86."""
import json
import shutil
from pathlib import Path

import pytest

from harness.frontends.cli import main

pytestmark = pytest.mark.integration
WS34 = Path.home() / "zephyrproject-3.4"


@pytest.fixture(scope="module")
def ws34(zephyr_workspace):
    if not (WS34 / "zephyr" / "VERSION").is_file():
        pytest.skip(f"no Zephyr 3.4 workspace at {WS34} (a second workspace made by hand: "
                    "see the README's Zephyr versions)")
    return WS34


def result(out, board, emu):
    return json.loads((out / "runs" / "prod_consumer" / f"{board}.{emu}" / "latest" /
                       "result.json").read_text())


def test_prod_consumer_on_zephyr_3_4_mps2_an385_qemu_and_renode(ws34, tmp_path, capsys):
    emulators = "qemu,renode" if shutil.which("renode") else "qemu"
    rc = main(["run", "--workspace", str(ws34), "--board", "mps2_an385", "--emulator", emulators,
               "--out", str(tmp_path)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    for emu in emulators.split(","):
        r = result(tmp_path, "mps2_an385", emu)
        assert r["verdict"] == "PASS" and r["isolation"]["status"] == "CERTIFIED"
        assert r["provenance"]["zephyr_version"] == "3.4.99"
    if "renode" in emulators:
        assert "AGREE          prod_consumer mps2_an385 qemu vs renode" in printed


def test_prod_consumer_on_zephyr_3_4_qemu_x86(ws34, tmp_path):
    assert main(["run", "--workspace", str(ws34), "--board", "qemu_x86", "--emulator", "qemu",
                 "--out", str(tmp_path)]) == 0
    r = result(tmp_path, "qemu_x86", "qemu")
    assert r["verdict"] == "PASS" and r["isolation"]["status"] == "CERTIFIED"
