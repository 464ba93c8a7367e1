"""The hardware map (parsing, generation from faked USB devices), the board locks across
processes, the flash command as twister builds it, and the pure review of a board's
run. No board and no emulator needed."""
import contextvars
import os
import subprocess
import sys
import textwrap
from contextlib import ExitStack
from types import SimpleNamespace

import pytest
import yaml

from harness.emulators import flash
from harness.emulators.lab import Lab, needing
from harness.errors import UsageError
from harness.frontends.cli import main
from harness.host import board_locks
from harness.inputs import boards, hardware_map
from harness.judging import board_faults
from harness.judging.verdict import BOARD_FAULTS, Outcome, Verdict
from harness.stream.serial_port import BoardFault

TWISTER_MAP = textwrap.dedent("""\
    - connected: true
      id: '000683007782'
      platform: nrf52840dk/nrf52840
      product: J-Link
      runner: nrfjprog
      runner_params: [--softreset]
      serial: /dev/ttyACM0
      baud: 9600
      fixtures: [gpio_loopback]
      pre_script: ./on.sh
      flash_timeout: 30
    - connected: false
      id: '0671FF'
      platform: stm32f4_disco
      product: STM32 STLink
      runner: openocd
      serial: null
    - connected: true
      id: standin-1
      platform: mps2_an385 mps2/an385
      product: stand-in
      runner: unknown
      serial: /tmp/ttyStandin
      serial_baud: 115200
      flash_command: [./flash.sh, '{elf}', '{build_dir}']
    """)


def write_map(tmp_path, text=TWISTER_MAP):
    path = tmp_path / "map.yaml"
    path.write_text(text)
    return path


def test_a_twister_map_gives_its_connected_boards_typed(tmp_path):
    devices = hardware_map.load(write_map(tmp_path))
    assert [d.id for d in devices] == ["000683007782", "standin-1"]     # not connected: out
    nrf, standin = devices
    assert nrf.platforms == ("nrf52840dk/nrf52840",) and nrf.baud == 9600
    assert nrf.runner == "nrfjprog" and nrf.runner_params == ("--softreset",)
    assert nrf.fixtures == ("gpio_loopback",) and nrf.flash_timeout_s == 30
    assert nrf.pre_script == str(tmp_path / "on.sh")
    assert standin.platforms == ("mps2_an385", "mps2/an385") and standin.baud == 115200
    assert standin.flash_command == (str(tmp_path / "flash.sh"), "{elf}", "{build_dir}")
    an385 = boards.load("mps2_an385")
    assert standin.serves(an385) and not nrf.serves(an385)
    assert nrf.serves(boards.load("nrf52840dk_nrf52840"))      # hwmv2 name in the map


@pytest.mark.parametrize("text, words", [
    ("- {connected: true, id: a, platform: x, serial: /dev/x, colour: red}", "unknown key"),
    ("- {connected: true, id: a, serial: /dev/x}", "platform is required"),
    ("- {connected: true, id: a, platform: x, serial: /dev/x, flash_command: [f, '{img}']}",
     "unknown placeholder {img}"),
    ("- {connected: true, id: a, platform: x, serial: /dev/x, baud: fast}", "baud must be"),
    ("{id: a}", "a list of boards"),
])
def test_a_bad_map_is_bad_input_naming_the_problem(tmp_path, text, words):
    with pytest.raises(UsageError) as err:
        hardware_map.load(write_map(tmp_path, text))
    assert words in str(err.value)


def port(device, manufacturer, product, serial_number, location="1-1:1.0"):
    return SimpleNamespace(device=device, manufacturer=manufacturer, product=product,
                           serial_number=serial_number, location=location)


FAKE_PORTS = [
    port("/dev/ttyACM1", "SEGGER", "J-Link", "000683007782"),
    port("/dev/ttyACM0", "STMicroelectronics", "STM32 STLink", "0671FF"),
    port("/dev/ttyS0", None, None, None),                                # no maker: not a board
    port("/dev/ttyACM2", "Texas Instruments", "XDS110 (03.00.00.15) Embed", "L1100", "1-2:1.3"),
    port("/dev/ttyACM3", "Texas Instruments", "XDS110 (03.00.00.15) Embed", "L1100", "1-2:1.0"),
]


def test_generation_finds_the_boards_among_the_serial_devices_as_twister_does():
    found = hardware_map.detected(FAKE_PORTS, {"/dev/ttyACM0": "/dev/serial/by-id/usb-ST"})
    assert [(e["serial"], e["runner"], e["id"]) for e in found] == [
        ("/dev/serial/by-id/usb-ST", "openocd", "0671FF"),
        ("/dev/ttyACM1", "jlink", "000683007782"),
        ("/dev/ttyACM3", "openocd", "L1100")]          # XDS110: only its first interface
    assert all(e["platform"] == "unknown" and e["connected"] for e in found)


def test_regenerating_keeps_known_boards_and_marks_the_unplugged(tmp_path, monkeypatch, capsys):
    path = write_map(tmp_path)
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: FAKE_PORTS[:3])
    assert main(["hardware-map", str(path), "--generate"]) == 0
    entries = {e["id"]: e for e in yaml.safe_load(path.read_text())}
    assert entries["000683007782"]["platform"] == "nrf52840dk/nrf52840"      # kept
    assert entries["000683007782"]["serial"] == "/dev/ttyACM1"               # where it is now
    assert entries["000683007782"]["runner_params"] == ["--softreset"]
    assert entries["0671FF"]["connected"] and entries["0671FF"]["serial"] == "/dev/ttyACM0"
    assert entries["standin-1"]["connected"] is False                        # not found now
    assert "2 board(s) connected, 3 in the map" in capsys.readouterr().out
    assert [d.id for d in hardware_map.load(path)] == ["000683007782", "0671FF"]


def test_a_new_map_names_the_boards_whose_platform_to_set(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("serial.tools.list_ports.comports", lambda: FAKE_PORTS[:1])
    path = tmp_path / "new.yaml"
    assert main(["hardware-map", str(path), "--generate"]) == 0
    assert yaml.safe_load(path.read_text())[0]["product"] == "J-Link"
    assert "set platform: on the 1 new one(s)" in capsys.readouterr().out


def test_a_board_lock_holds_across_processes_and_dies_with_its_holder(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""\
        import sys, time
        sys.path.insert(0, {str(board_locks.__file__.rsplit('/harness/', 1)[0])!r})
        from pathlib import Path
        from harness.host import board_locks
        lock = board_locks.try_lock(Path({str(tmp_path)!r}), 'board/1', 'mps2_an385')
        print('held', flush=True)
        time.sleep(60)
        """)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        assert board_locks.try_lock(tmp_path, "board/1") is None
        assert f"pid {holder.pid}" in board_locks.holder(tmp_path, "board/1")
    finally:
        holder.kill()
        holder.wait()
    lock = board_locks.try_lock(tmp_path, "board/1")        # the kernel released it
    assert lock is not None
    assert board_locks.try_lock(tmp_path, "board/1") is None   # also within one process
    lock.release()
    lock.release()                                          # idempotent


def test_the_lab_lends_each_board_once_and_matches_fixtures(tmp_path):
    devices = tuple(hardware_map.Device(("mps2_an385",), f"b{i}", f"/dev/x{i}",
                                        fixtures=("uart_loop",) if i else ()) for i in range(2))
    lab = Lab(devices, lock_dir=tmp_path, wait_s=0.3, say=lambda m: None)
    board = boards.load("mps2_an385")
    with lab.hold(board) as first, lab.hold(board) as again:
        assert again is first                               # re-entrant within one run
        assert lab.held(board) is first
    with ExitStack() as runs:                               # runs in contexts of their own
        held = [contextvars.Context().run(runs.enter_context, lab.hold(board)) for _ in range(2)]
        assert {d.id for d in held} == {"b0", "b1"}
        with pytest.raises(BoardFault) as err:              # a third waits, then gives up
            contextvars.Context().run(runs.enter_context, lab.hold(board))
        assert err.value.verdict is Verdict.PORT_BUSY and f"pid {os.getpid()}" in str(err.value)
    with needing(["uart_loop"]):
        assert [d.id for d in lab.boards_for(board)] == ["b1"]
        with lab.hold(board) as device:
            assert device.id == "b1"
    with needing(["relay"]), pytest.raises(UsageError, match="fixture"):
        lab.boards_for(board)
    with pytest.raises(UsageError, match="no connected board of platform qemu_x86"):
        lab.boards_for(boards.load("qemu_x86"))


def test_west_flash_is_built_as_twister_builds_it(tmp_path):
    elf = tmp_path / "zephyr" / "zephyr.elf"
    env = {"PATH": str(tmp_path / "bin")}
    (tmp_path / "bin").mkdir()
    west = tmp_path / "bin" / "west"
    west.write_text("#!/bin/sh\n")
    west.chmod(0o755)
    nrf = hardware_map.Device(("nrf52840dk/nrf52840",), "683", "/dev/ttyACM0", runner="nrfjprog",
                              runner_params=("--softreset",))
    assert flash.command(nrf, tmp_path, elf, env, extra=("--erase",)) == [
        str(west), "flash", "--skip-rebuild", "-d", str(tmp_path), "--runner", "nrfjprog",
        "--softreset", "--", "--erase", "--dev-id", "683"]
    stlink = hardware_map.Device(("stm32f4_disco",), "0671FF", "/dev/ttyACM1", runner="openocd",
                                 product="STM32 STLink")
    assert flash.command(stlink, tmp_path, elf, env)[-3:] == ["--", "--cmd-pre-init",
                                                              "hla_serial 0671FF"]
    jlink = hardware_map.Device(("x",), "51", "/dev/ttyACM2", runner="jlink")
    assert flash.command(jlink, tmp_path, elf, env)[-4:] == ["--runner", "jlink", "--dev-id", "51"]
    plain = hardware_map.Device(("x",), "/dev/ttyACM3", "/dev/ttyACM3")
    assert flash.command(plain, tmp_path, elf, env, runner="pyocd")[-5:] == [
        "--runner", "pyocd", "--", "--dev-id", "/dev/ttyACM3"]
    own = hardware_map.Device(("x",), "s", "/dev/x", flash_command=("f", "{hex}", "{bin}",
                                                                     "{build_dir}"))
    assert flash.command(own, tmp_path, elf, {}) == ["f", str(elf.with_suffix(".hex")),
                                                     str(elf.with_suffix(".bin")), str(tmp_path)]
    assert flash.west_flash_args("--erase,--board-id=42") == ("--erase", "--board-id=42")


def test_west_missing_is_a_setup_error_with_a_hint(tmp_path):
    from harness.errors import SetupError
    with pytest.raises(SetupError, match="west not found"):
        flash.command(hardware_map.Device(("x",), "i", "/dev/x"), tmp_path, tmp_path / "e.elf",
                      {"PATH": str(tmp_path)})


def test_the_cut_between_the_old_image_and_the_new_is_the_last_boot_banner():
    old = b"I: old image idle\r\n*** Booting Zephyr OS build v3.0 ***\r\nold again\r\n"
    new = b"*** Booting Zephyr OS build v3.0 ***\r\nI: new\r\n"
    assert flash.split_at_boot(old + new) == (old, new)
    assert flash.split_at_boot(b"I: no banner\n") == (b"", b"I: no banner\n")


def outcome(verdict, reason="r", lines=()):
    return Outcome(verdict, reason, {"last_lines": [f"{i}: {t}" for i, t in enumerate(lines, 1)]})


def test_a_board_run_is_reviewed_in_a_boards_terms():
    vanished = board_faults.review(outcome(Verdict.EMULATOR_ERROR, lines=["I: a", "I: b"]),
                                   "closed", 10, "/dev/ttyACM0")
    assert vanished.verdict is Verdict.PORT_VANISHED and "'I: b'" in vanished.reason
    silent = board_faults.review(outcome(Verdict.HANG, "no completion within 5 s of host time: x"),
                                 "timeout", 0, "/dev/ttyACM0")
    assert silent.verdict is Verdict.NO_OUTPUT and "within 5 s" in silent.reason
    hang = board_faults.review(outcome(Verdict.HANG, lines=["I: last"]), "timeout", 9, "p")
    assert hang.verdict is Verdict.HANG and hang.reason.endswith("last line seen: 'I: last'")
    for kept in (Verdict.PASS, Verdict.FAIL, Verdict.CRASH):
        assert board_faults.review(outcome(kept), "closed", 0, "p").verdict is kept


def test_board_faults_have_their_own_exit_codes_and_are_never_fail_or_crash():
    codes = {v.code for v in Verdict if v not in BOARD_FAULTS}
    assert len({v.code for v in BOARD_FAULTS}) == len(BOARD_FAULTS)
    assert not codes & {v.code for v in BOARD_FAULTS}
    readme = (hardware_map.Path(__file__).parent.parent / "README.md").read_text()
    docs = (hardware_map.Path(__file__).parent.parent / "docs" / "verdicts.md").read_text()
    for v in BOARD_FAULTS:
        assert f"| {v.label} | {v.code} |" in readme and v.label in docs


def lab_args(**kw):
    from argparse import Namespace
    base = dict(hardware_map=None, device_serial=None, device_serial_baud=115200,
                device_testing=False, west_runner=None, west_flash=None, board=None,
                emulator=None, fixture=None, board_dirs=(boards.BOARDS_DIR,),
                project_hardware_map=None)
    return Namespace(**{**base, **kw})


def test_the_command_line_makes_the_lab_at_the_edge(tmp_path):
    from harness.frontends.cli import options
    args = lab_args(hardware_map=str(write_map(tmp_path)))
    options.with_lab(args)
    assert args.emulator == "hardware" and args.board == ["nrf52840dk_nrf52840", "mps2_an385"]
    assert args.fixture == ["gpio_loopback"] and len(args.lab.devices) == 2
    args = lab_args(device_serial="/dev/ttyACM0", board=["mps2_an385"], west_flash="--erase,-v",
                    west_runner="jlink")
    options.with_lab(args)
    assert args.lab.devices[0].serial == "/dev/ttyACM0" and args.lab.west_flash == ("--erase", "-v")
    for bad, words in ((dict(device_serial="/dev/x"), "exactly one --board"),
                       (dict(device_testing=True), "needs a hardware map"),
                       (dict(hardware_map=str(write_map(tmp_path)), emulator="qemu"),
                        "does not combine")):
        with pytest.raises(UsageError, match=words):
            options.with_lab(lab_args(**bad))
    args = lab_args()
    options.with_lab(args)
    assert args.lab is None and args.emulator is None          # emulators, as ever


def test_the_project_file_names_the_map_for_device_testing(tmp_path, monkeypatch):
    from harness.inputs import project
    (tmp_path / "harness.yaml").write_text("hardware_map: lab/boards.yaml\n")
    proj = project.find(tmp_path)
    assert proj.hardware_map == str(tmp_path / "lab" / "boards.yaml")
    from harness.frontends.cli import options
    (tmp_path / "lab").mkdir()
    write_map(tmp_path / "lab").rename(tmp_path / "lab" / "boards.yaml")
    args = lab_args(device_testing=True, project_hardware_map=proj.hardware_map)
    options.with_lab(args)
    assert [d.id for d in args.lab.devices] == ["000683007782", "standin-1"]


def test_a_map_is_listed_with_its_ports_present_or_missing(tmp_path, capsys):
    port = tmp_path / "ttyACM0"
    port.write_text("")
    path = write_map(tmp_path, TWISTER_MAP.replace("/dev/ttyACM0", str(port)))
    assert main(["hardware-map", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert f"{port} (present)" in out[0] and "fixtures=gpio_loopback" in out[0]
    assert "/tmp/ttyStandin (MISSING)" in out[1] and len(out) == 2
