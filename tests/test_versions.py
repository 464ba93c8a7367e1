"""Zephyr versions: the verified range, and board names of the hardware model v2 (3.7+)."""
import pytest

from harness.inputs import boards, workspace


@pytest.mark.parametrize("given, ours", [("mps2/an385", "mps2_an385"), ("mps2_an385", "mps2_an385"),
                                         ("nrf52840dk/nrf52840", "nrf52840dk_nrf52840"),
                                         ("qemu_x86", "qemu_x86"), ("stm32f4_disco", "stm32f4_disco")])
def test_board_names_of_either_model_find_our_board_file(given, ours):
    assert boards.canonical(given) == ours
    assert boards.load(given).name == ours


@pytest.mark.parametrize("version, mps2, nrf", [
    ("3.0.99", "mps2_an385", "nrf52840dk_nrf52840"), ("3.4.99", "mps2_an385", "nrf52840dk_nrf52840"),
    ("3.6.0", "mps2_an385", "nrf52840dk_nrf52840"), ("3.7.0", "mps2/an385", "nrf52840dk/nrf52840"),
    ("4.1.0", "mps2/an385", "nrf52840dk/nrf52840")])
def test_west_gets_the_name_the_workspaces_zephyr_knows(version, mps2, nrf):
    assert boards.zephyr_name(boards.load("mps2_an385"), version) == mps2
    assert boards.zephyr_name(boards.load("nrf52840dk_nrf52840"), version) == nrf
    assert boards.zephyr_name(boards.load("qemu_x86"), version) == "qemu_x86"


def test_a_board_file_may_name_its_hwmv2_name():
    board = boards.Board("my_board", "arm", "mpu", "", {}, None, "my_board/my_soc")
    assert boards.zephyr_name(board, "3.7.0") == "my_board/my_soc"
    assert boards.zephyr_name(board, "3.4.99") == "my_board"


@pytest.mark.parametrize("version, note", [
    ("3.0.99", None), ("3.4.99", None), ("4.0.0", None), ("4.3.0", None), ("4.3.99", None),
    ("3.2.0", "between"), ("3.7.0", "between"), ("4.1.0", "between"),
    ("2.7.0", "outside"), ("4.4.0", "outside"), ("5.0.0", "outside")])
def test_versions_not_verified_here_are_named(version, note):
    found = workspace.unverified(version)
    assert workspace.verified(version) is (note is None)
    if note is None:
        assert found is None
    else:
        assert version in found and note in found
        assert all(v in found for v in ("3.0.99", "3.4.99", "4.0.0", "4.3.0"))


def test_a_board_needing_a_module_the_workspace_lacks_is_named(tmp_path):
    for rel, text in (("modules/hal/nordic/zephyr/module.yml", "name: hal_nordic\n"),
                      ("modules/hal/cmsis/zephyr/module.yml", "build: {}\n")):
        (tmp_path / rel).parent.mkdir(parents=True)
        (tmp_path / rel).write_text(text)
    (tmp_path / ".west").mkdir()
    ws = workspace.Workspace(tmp_path, tmp_path / "zephyr", "test")
    assert {"hal_nordic", "hal_cmsis", "cmsis"} <= ws.modules()
    assert ws.missing_modules(boards.load("stm32f4_disco")) == ["hal_stm32"]
    assert ws.missing_modules(boards.load("nrf52840dk_nrf52840")) == []
    assert ws.missing_modules(boards.load("mps2_an385")) == []
