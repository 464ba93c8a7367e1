"""The same harness on each Zephyr workspace this machine has beside the default one
(by convention ~/zephyrproject-3.4, ~/zephyrproject-4.0, ~/zephyrproject-4.3; see
docs/zephyr-versions.md): prod_consumer with a certificate on mps2_an385 under QEMU and
Renode (which agree), given by its hardware-model-v2 name, and on qemu_x86; fault_demo
is a CRASH with the fault named, as on 3.0.99; on 4.3 the Renode-only boards too."""
import json
import os
import shutil
from pathlib import Path

import pytest

from harness.frontends.cli import main

pytestmark = pytest.mark.integration
VERSIONS = {"3.4": "3.4.99", "4.0": "4.0.0", "4.3": "4.3.0"}


@pytest.fixture(scope="module", params=sorted(VERSIONS))
def ws(request, zephyr_workspace):
    path = Path.home() / f"zephyrproject-{request.param}"
    if not (path / "zephyr" / "VERSION").is_file():
        pytest.skip(f"no Zephyr {request.param} workspace at {path}: make one as "
                    "docs/zephyr-versions.md describes (with network: `harness setup "
                    f"--workspace {path} --zephyr v{VERSIONS[request.param]}`)")
    return path, VERSIONS[request.param]


@pytest.fixture(scope="module")
def out(ws, tmp_path_factory):
    return tmp_path_factory.mktemp(f"zephyr-{ws[1]}")


def result(out, app, board, emu):
    return json.loads((out / "runs" / app / f"{board}.{emu}" / "latest" /
                       "result.json").read_text())


def test_prod_consumer_on_mps2_an385_qemu_and_renode(ws, out, capsys):
    path, version = ws
    emulators = "qemu,renode" if shutil.which("renode") else "qemu"
    rc = main(["run", "--workspace", str(path), "--board", "mps2/an385", "--emulator", emulators,
               "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    for emu in emulators.split(","):
        r = result(out, "prod_consumer", "mps2_an385", emu)
        assert r["verdict"] == "PASS" and r["isolation"]["status"] == "CERTIFIED"
        assert r["provenance"]["zephyr_version"] == version
        hwmv2 = tuple(map(int, version.split(".")[:2])) >= (3, 7)
        assert r["provenance"]["zephyr_board"] == ("mps2/an385" if hwmv2 else "mps2_an385")
        audited(r)
    if "renode" in emulators:
        assert "AGREE          prod_consumer mps2_an385 qemu vs renode: same verdict, payload " \
            "chains and domain matrices" in printed


def audited(r: dict) -> None:
    """prod_consumer audits its domains by default: app B reaches its partition, the
    shared one and its own stack, nothing of app A."""
    dom = r["evidence"]["domains"]
    b = dom["threads"]["app_b_stack"]["regions"]
    assert dom["violations"] == [] and dom["error"] is None
    assert [b[n]["access"] for n in ("app_b_partition", "shared_partition", "own stack",
                                     "app_a_partition", "kernel data")] == \
        ["read-write", "read-write", "read-write", "none", "none"]


def test_prod_consumer_on_qemu_x86(ws, out):
    """PASS with a certificate on 3.4 and 4.0. Zephyr 4.3 builds x86 with `clang
    --config=FILE` (clang 16 on): the harness picks a clang 16 where one is installed
    (.ci/apt-packages.txt installs it), and says SETUP_ERROR where none is; with clang 16
    the 4.3 kernel itself does not compile for qemu_x86 (kernel/sched.c calls
    move_thread_to_end_of_prio_q undeclared, an error in clang 16), a BUILD_ERROR."""
    path, version = ws
    from harness.build import toolchain
    rc = main(["run", "--workspace", str(path), "--board", "qemu_x86", "--emulator", "qemu",
               "--out", str(out)])
    r = result(out, "prod_consumer", "qemu_x86", "qemu")
    if version == "4.3.0":
        if toolchain._llvm("x86", dict(os.environ), 16) is None:
            assert r["verdict"] == "SETUP_ERROR" and "clang 16 or newer" in r["reason"]
            return
        log = Path(r["artifacts"]["build_log"]).read_text()
        assert r["verdict"] == "BUILD_ERROR" and rc == r["exit_code"]
        assert "clang version 16" in r["provenance"].get("toolchain", "") or "llvm-16" in log
        assert "move_thread_to_end_of_prio_q" in log and "unknown argument" not in log
        return
    assert rc == 0 and r["verdict"] == "PASS" and r["isolation"]["status"] == "CERTIFIED"
    audited(r)      # 4.0: the user stacks are mapped apart (CONFIG_THREAD_STACK_MEM_MAPPED)


def test_fault_demo_is_a_crash_with_the_fault_named(ws, out, capsys):
    path, version = ws
    rc = main(["run", "--workspace", str(path), "--app", "fault_demo", "--board", "mps2_an385",
               "--emulator", "qemu", "--out", str(out)])
    r = result(out, "fault_demo", "mps2_an385", "qemu")
    assert r["verdict"] == "CRASH" and rc == r["exit_code"], capsys.readouterr().out
    fault = r["evidence"]["fault"]
    assert fault["kind"] == "mpu_data_access_violation" and fault["thread_name"] == "fault_demo"
    assert fault["trace_resolved"][0]["function"] == "user_entry"
    assert r["isolation"]["status"] == "CERTIFIED"


@pytest.mark.parametrize("board", ["stm32f4_disco", "nrf52840dk/nrf52840"])
def test_prod_consumer_on_the_renode_only_boards(ws, out, board):
    """PASS with a certificate where the workspace has the board's HAL module; where it
    lacks it (the 3.4 workspace made here has no hal_stm32), a SETUP_ERROR naming it."""
    path, version = ws
    if not shutil.which("renode"):
        pytest.skip("renode not found: see docs/renode.md")
    from harness.inputs import boards, workspace
    missing = workspace.find(str(path), None, Path.cwd(), Path.home()).missing_modules(
        boards.load(board))
    rc = main(["run", "--workspace", str(path), "--board", board, "--emulator", "renode",
               "--out", str(out)])
    r = result(out, "prod_consumer", board.replace("/", "_"), "renode")
    if missing:
        assert r["verdict"] == "SETUP_ERROR" and rc == r["exit_code"]
        assert all(m in r["reason"] for m in missing)
        return
    assert rc == 0 and r["verdict"] == "PASS" and r["isolation"]["status"] == "CERTIFIED"
