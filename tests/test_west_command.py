"""`west harness`: unit parts anywhere, the real command in the real workspace."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.errors import UsageError
from harness.frontends.west_command import app_for, read_build_dir

WEST = [sys.executable, "-m", "west"]


def test_build_dir_board_and_source_are_read(tmp_path):
    (tmp_path / "CMakeCache.txt").write_text(
        "CACHED_BOARD:STRING=qemu_x86\n"
        "APPLICATION_SOURCE_DIR:PATH=/ws/zephyr/samples/userspace/prod_consumer\n")
    board, source = read_build_dir(tmp_path)
    assert board == "qemu_x86"
    assert app_for(source, None).name == "prod_consumer"


def test_not_a_build_dir_says_what_to_do(tmp_path):
    with pytest.raises(UsageError, match="west build -b BOARD APP"):
        read_build_dir(tmp_path)


@pytest.mark.integration
def test_west_build_then_west_harness_run(zephyr_workspace, harness_out, tmp_path):
    manifest = zephyr_workspace.topdir / "manifest" / "west-commands.yml"
    if not manifest.is_file():
        pytest.skip(f"{manifest} missing: rerun `harness setup` to install the west command")
    env = {**os.environ, "ZEPHYR_TOOLCHAIN_VARIANT": "gnuarmemb", "GNUARMEMB_TOOLCHAIN_PATH": "/usr"}
    build = tmp_path / "build"
    subprocess.run([*WEST, "build", "-b", "mps2_an385", "-d", str(build),
                    "zephyr/samples/userspace/prod_consumer"], cwd=zephyr_workspace.topdir,
                   env=env, check=True, capture_output=True, stdin=subprocess.DEVNULL)
    proc = subprocess.run([*WEST, "harness", "run", "-d", str(build), "--out", str(harness_out)],
                          cwd=zephyr_workspace.topdir, capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("PASS") and "prod_consumer mps2_an385 qemu" in proc.stdout
    latest = Path(harness_out) / "runs" / "prod_consumer" / "mps2_an385.qemu" / "latest"
    result = json.loads((latest / "result.json").read_text())
    assert result["provenance"]["elf"] == str(build / "zephyr" / "zephyr.elf")
