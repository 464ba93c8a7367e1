"""Renode scripts: a board file's own, or the one a Zephyr board ships (support/*.resc)."""
import os

import pytest
from conftest import DATA, FAKES

from harness.emulators import resc
from harness.emulators.renode import Renode
from harness.errors import UsageError
from harness.inputs import boards
from harness.inputs.boards import Board
from harness.judging.judge import Judge
from harness.judging.verdict import Verdict
from harness.stream.watch import watch

PASS_LOG = (DATA / "prod_consumer.mps2_an385.qemu.log").read_text(errors="replace")
# As Zephyr 3.0's boards/riscv/m2gl025_miv/support/m2gl025_miv.resc is written.
MIV = '''$name?="Mi-V"

using sysbus
mach create $name
machine LoadPlatformDescription $ORIGIN/m2gl025_miv.repl

showAnalyzer uart
cpu PerformanceInMips 4

macro reset
"""
    sysbus LoadELF $bin
"""
runMacro $reset
'''


def zephyr_board(tmp_path, board_cmake="set(RENODE_SCRIPT ${CMAKE_CURRENT_LIST_DIR}/support/miv.resc)\n"):
    """A Zephyr board directory with a Renode script, and a build dir configured for it."""
    board_dir = tmp_path / "zephyr" / "boards" / "riscv" / "miv"
    (board_dir / "support").mkdir(parents=True)
    (board_dir / "board.cmake").write_text(board_cmake)
    (board_dir / "support" / "miv.resc").write_text(MIV)
    (board_dir / "support" / "m2gl025_miv.repl").write_text("cpu: CPU.VexRiscv @ sysbus\n")
    build = tmp_path / "build"
    (build / "zephyr").mkdir(parents=True)
    (build / "CMakeCache.txt").write_text(f"BOARD_DIR:PATH={board_dir}\nCACHED_BOARD:STRING=miv\n")
    return board_dir, build


def test_a_zephyr_boards_script_is_named_by_its_board_cmake(tmp_path):
    board_dir, build = zephyr_board(tmp_path)
    assert resc.zephyr_script(build) == board_dir / "support" / "miv.resc"


def test_without_renode_script_in_board_cmake_the_support_folder_is_searched(tmp_path):
    board_dir, build = zephyr_board(tmp_path, board_cmake="set(SUPPORTED_EMU_PLATFORMS renode)\n")
    assert resc.zephyr_script(build) == board_dir / "support" / "miv.resc"


def test_a_board_without_a_script_is_a_clear_error(tmp_path):
    board_dir, build = zephyr_board(tmp_path, board_cmake="")
    (board_dir / "support" / "miv.resc").unlink()
    with pytest.raises(UsageError, match="ships no Renode script") as err:
        resc.zephyr_script(build)
    assert "platform:" in err.value.hint


def test_an_unconfigured_build_dir_is_a_clear_error(tmp_path):
    with pytest.raises(UsageError, match="no BOARD_DIR"):
        resc.zephyr_script(tmp_path)


def test_show_analyzer_names_the_uart_and_is_left_out_and_origin_is_spelled_out(tmp_path):
    board_dir, _ = zephyr_board(tmp_path)
    script = resc.load(board_dir / "support" / "miv.resc")
    assert script.uart == "sysbus.uart"
    assert "\nshowAnalyzer" not in script.text and "# (harness) showAnalyzer uart" in script.text
    assert f"LoadPlatformDescription @{board_dir / 'support'}/m2gl025_miv.repl" in script.text
    assert "runMacro $reset" in script.text


def test_board_file_takes_a_script_instead_of_a_platform(tmp_path):
    def board_file(renode: str, kind: str = "none") -> str:
        (tmp_path / "b.yaml").write_text(f"name: b\narch: riscv\nprotection: {{kind: {kind}}}\n"
                                         f"emulators:\n  renode: {renode}\n")
        return boards.load("b", tmp_path)
    assert board_file("{script: zephyr}").emulator("renode") == {"script": "zephyr"}
    (tmp_path / "mine.resc").write_text(MIV)
    assert board_file("{script: mine.resc, uart: sysbus.uart}").protection == "none"
    with pytest.raises(UsageError, match="script .*no_such.resc not found"):
        board_file("{script: no_such.resc}")
    with pytest.raises(UsageError, match="platform: or script:, not both"):
        board_file("{script: zephyr, platform: x.repl, uart: u}")
    with pytest.raises(UsageError, match="needs platform: and uart:, or script:"):
        board_file("{uart: sysbus.uart0}")
    with pytest.raises(UsageError, match="protection.kind must be one of mpu, mmu, none"):
        board_file("{script: zephyr}", kind="pmp")


@pytest.mark.parametrize("wanted", ["zephyr", "own"])
def test_a_run_from_a_script_attaches_the_harness_to_the_uart_it_shows(tmp_path, prod_spec,
                                                                      scenario, wanted):
    board_dir, build = zephyr_board(tmp_path)
    (tmp_path / "own.resc").write_text(MIV.replace("$ORIGIN", f"@{board_dir / 'support'}"))
    elf = build / "zephyr" / "zephyr.elf"
    elf.write_text(scenario(log=PASS_LOG).read_text())
    conf = {"binary": str(FAKES / "fake_renode.py"), "stall_check_s": 0.5,
            "script": "zephyr" if wanted == "zephyr" else "own.resc"}
    board = Board("miv", "riscv", "none", "", {"renode": conf}, tmp_path / "miv.yaml")
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    emu = Renode(board, board.emulator("renode"), run_dir, None, dict(os.environ))
    judge = Judge(prod_spec)
    watched = watch(emu, elf, judge, 10.0)
    assert judge.outcome(watched.ending).verdict is Verdict.PASS
    transcript = (run_dir / "renode-monitor.txt").read_text()
    assert f">>> $bin=@{elf}" in transcript
    assert f">>> include @{run_dir / 'board.resc'}" in transcript
    assert ">>> sysbus.uart CreateFileBackend @" in transcript
    assert (run_dir / "uart.raw").read_text() == PASS_LOG
    assert "showAnalyzer uart: the UART goes to the harness" in (run_dir / "board.resc").read_text()
