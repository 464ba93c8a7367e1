"""Real Renode: prod_consumer and the isolation proof on the three Renode boards,
and QEMU/Renode agreement on mps2_an385. Skips without Renode (not in any
package registry: install Renode 1.14+, put `renode` on PATH or set HARNESS_RENODE)."""
import json
import os
import shutil

import pytest

from harness.cli import main

pytestmark = pytest.mark.integration
RENODE_BOARDS = ["mps2_an385", "stm32f4_disco", "nrf52840dk_nrf52840"]


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
    assert result["provenance"]["emulator"].startswith("renode: Renode, version 1.1")
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
    assert cert["emulator"].startswith("Renode, version")
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
