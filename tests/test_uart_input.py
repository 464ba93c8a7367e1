"""UART input against a fake QEMU whose guest is a tiny shell (tests/fakes/fake_qemu.py,
"then": "shell"): it echoes what it reads and answers `version` and `echo`. The same
verbs on real QEMU and Renode are in test_interactive_real.py."""
import os
import re
import time

import pytest
from conftest import FAKES

from harness.emulators.qemu import Qemu
from harness.host.process import session_alive
from harness.inputs.boards import Board
from harness.stream.device import Device, UartFailure


@pytest.fixture
def device(tmp_path, scenario):
    board = Board("fake", "arm", "mpu", "",
                  {"qemu": {"binary": str(FAKES / "fake_qemu.py"), "args": []}})
    emu = Qemu(board, board.emulator("qemu"), tmp_path, None, dict(os.environ))
    dev = Device(emu, scenario(log="*** Booting Zephyr OS ***\r\n", then="shell"))
    try:
        yield dev
    finally:
        dev.close()
        assert not session_alive(emu.proc.sid), "an emulator process outlived the device"


def test_a_shell_command_and_its_answer(device):
    assert "uart:~$" in device.wait_for_prompt("uart:~$", 5)
    device.write_line("version")
    line = device.wait_for_line("Zephyr version", 5)
    assert line.text == "Zephyr version 4.3.0"
    assert "uart:~$" in device.wait_for_prompt("uart:~$", 5)


def test_what_was_written_is_kept_in_order_with_what_was_read(device):
    device.wait_for_prompt("uart:~$", 5)
    device.write_line("echo one", line_ending="\n")
    device.wait_for_line("one", 5)
    device.close()
    io = (device.run_dir / "uart-io.log").read_text().splitlines()
    entries = [(float(m.group(1)), m.group(2), m.group(3))
               for m in (re.match(r"\s*([\d.]+) ([<>]) (.*)", e) for e in io)]
    assert [e[1:] for e in entries] == [
        ("<", "*** Booting Zephyr OS ***"), (">", "'echo one\\n'"),
        ("<", "uart:~$ echo one"), ("<", "one")]
    times = [e[0] for e in entries]
    assert times == sorted(times)
    raw = (device.run_dir / "uart.raw").read_bytes()      # the board's output only
    assert raw.startswith(b"*** Booting Zephyr OS ***\r\n\x1b[1;32muart:~$ \x1b[mecho one\r\n")


def test_input_written_before_the_firmware_reads_it_is_not_lost(device):
    device.write_line("echo early")           # before the prompt was even seen
    assert device.wait_for_line("^early$", 5, regex=True).text == "early"


def test_a_shell_that_drops_input_as_it_starts_is_awaited_by_pressing_enter(tmp_path, scenario):
    """A shell deaf for a while after its first prompt (as Zephyr's, which flushes its
    input as it starts): a line written at the prompt is lost; wait_for_shell presses
    Enter until a fresh prompt answers, and the line written then is read."""
    board = Board("fake", "arm", "mpu", "",
                  {"qemu": {"binary": str(FAKES / "fake_qemu.py"), "args": []}})
    for n, wait in enumerate(("prompt", "shell")):
        emu = Qemu(board, board.emulator("qemu"), tmp_path / f"run{n}", None, dict(os.environ))
        (tmp_path / f"run{n}").mkdir()
        dev = Device(emu, scenario(log="boot\r\n", then="shell", deaf_s=0.6))
        try:
            if wait == "prompt":
                dev.wait_for_prompt("uart:~$", 5)
                dev.write_line("version")
                with pytest.raises(UartFailure, match="no line matching"):
                    dev.wait_for_line("Zephyr version", 1.0)
            else:
                t0 = time.monotonic()
                assert "uart:~$" in dev.wait_for_shell("uart:~$", 5)
                assert time.monotonic() - t0 >= 0.5            # the first Enters were lost
                dev.write_line("version")
                assert dev.wait_for_line("Zephyr version", 5).text == "Zephyr version 4.3.0"
        finally:
            dev.close()
    with pytest.raises(UartFailure, match="never answered Enter"):
        emu = Qemu(board, board.emulator("qemu"), tmp_path / "run9", None, dict(os.environ))
        (tmp_path / "run9").mkdir()
        dev = Device(emu, scenario(log="boot\r\n", then="shell", deaf_s=60))
        try:
            dev.wait_for_shell("uart:~$", 1.2)
        finally:
            dev.close()


def test_the_char_delay_paces_the_bytes_and_reads_meanwhile(device):
    device.wait_for_prompt("uart:~$", 5)
    t0 = time.monotonic()
    device.write_line("echo slow", char_delay=0.02)
    assert time.monotonic() - t0 >= 9 * 0.02
    assert device.wait_for_line("^slow$", 5, regex=True).text == "slow"


def test_the_pytest_twister_harness_verbs(device):
    device.wait_for_prompt("uart:~$", 5)
    device.write(b"echo a\necho b\n")
    lines = device.readlines_until(regex="^b$", timeout=5)
    assert lines == ["uart:~$ echo a", "a", "uart:~$ echo b", "b"]
    device.write(b"version\n")
    assert device.readlines_until(num_of_lines=2, timeout=5) == \
        ["uart:~$ version", "Zephyr version 4.3.0"]
    assert device.readlines() == []
    with pytest.raises(UartFailure, match="no a line matching 'never'"):
        device.readlines_until(regex="never", timeout=0.3)


def test_a_prompt_that_never_comes_names_the_unfinished_line(device):
    with pytest.raises(UartFailure, match=r"no prompt 'login:'.*unfinished line: 'uart:~\$ '"):
        device.wait_for_prompt("login:", 0.5)


def test_writing_after_the_emulator_is_gone_fails_clearly(device):
    device.wait_for_prompt("uart:~$", 5)
    device.emulator.stop()
    device.stream.close()
    with pytest.raises(UartFailure, match="cannot write to the UART"):
        device.write_line("version")
