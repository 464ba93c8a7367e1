"""Flashing a board of the lab: the command (`west flash` as twister builds it, or a
hardware map entry's own `flash_command`), run as an owned process with a deadline
while the board's serial port is read, and the cut between what the old image printed
and what the new one prints.

Most west runners halt the CPU, program it and reset it before they exit, so the new
image's first lines arrive while the flash command is still running; the port is open
before the flash starts and read all along, so none is lost. What arrived before the
new image's boot banner (the old image's last words) is kept apart, not judged.
"""
from __future__ import annotations

import csv
from pathlib import Path

from harness.errors import Interrupted, SetupError
from harness.host.deadline import Deadline
from harness.host.process import OwnedProcess, which
from harness.judging.verdict import Verdict
from harness.stream.serial_port import BoardFault

BOOT_BANNER = b"*** Booting Zephyr OS"
READ_S = 0.05
# How twister passes a board's id to each runner (twisterlib/handlers.py): before `--`
# (a west flash option) or after it (the runner's own).
ID_OPTIONS = {"jlink": (("--dev-id", "{id}"), ()), "linkserver": (("--probe={id}",), ()),
              "stm32cubeprogrammer": (("--tool-opt=sn={id}",), ()),
              "pyocd": ((), ("--dev-id", "{id}")), "nrfjprog": ((), ("--dev-id", "{id}")),
              "nrfutil": ((), ("--dev-id", "{id}")), "esp32": ((), ("--esp-device", "{id}"))}
OPENOCD_ID = {"STM32 STLink": "hla_serial {id}", "STLINK-V3": "hla_serial {id}",
              "EDBG CMSIS-DAP": "cmsis_dap_serial {id}",
              "LPC-LINK2 CMSIS-DAP": "adapter serial {id}"}


def west_flash_args(text: str | None) -> tuple:
    """--west-flash's value as twister reads it: comma-separated ('--erase,--board-id=42')."""
    return tuple(next(csv.reader([text]))) if text else ()


def command(device, build_dir: Path, elf: Path, environ: dict, runner: str | None = None,
            extra: tuple = ()) -> list[str]:
    """The argv that flashes `elf` (from `build_dir`) onto `device`."""
    if device.flash_command:
        names = {"elf": elf, "hex": elf.with_suffix(".hex"), "bin": elf.with_suffix(".bin"),
                 "build_dir": build_dir}
        return [arg.format(**{k: str(v) for k, v in names.items()}) for arg in
                device.flash_command]
    west = which("west", environ)
    if not west:
        raise SetupError("west not found on PATH: it flashes the board",
                         "activate the workspace's Python environment, or give the board a "
                         "flash_command in the hardware map")
    argv = [west, "flash", "--skip-rebuild", "-d", str(build_dir)]
    after = list(extra)
    runner = runner or (device.runner if device.runner not in (None, "unknown") else None)
    if runner:
        argv += ["--runner", runner]
        before_dd, after_dd = ID_OPTIONS.get(runner, ((), ()))
        if runner == "openocd" and device.product in OPENOCD_ID:
            after_dd = ("--cmd-pre-init", OPENOCD_ID[device.product])
        argv += [a.format(id=device.id) for a in before_dd]
        after += [a.format(id=device.id) for a in after_dd]
        argv += list(device.runner_params)
    return argv + (["--", *after] if after else [])


def run(argv: list[str], log_path: Path, run_dir: Path, source, timeout_s: float,
        cancel=None, env: dict | None = None) -> bytes:
    """Run the flash command while reading `source` (the board's open port); return what
    the port gave meanwhile. FLASH_FAILED / FLASH_TIMEOUT / PORT_VANISHED as BoardFaults;
    the process group never outlives this call."""
    try:
        proc = OwnedProcess(argv, log_path, env=env, cwd=run_dir)
    except OSError as exc:
        raise BoardFault(Verdict.FLASH_FAILED, f"cannot start the flash command {argv[0]}: "
                         f"{exc.strerror}", "check the runner is installed (or the "
                         "flash_command's path)") from None
    heard = bytearray()
    deadline = Deadline(timeout_s)
    try:
        while proc.poll() is None:
            if deadline.expired():
                raise BoardFault(Verdict.FLASH_TIMEOUT, f"flashing did not finish within "
                                 f"{timeout_s:g} s (host time): {' '.join(argv)}",
                                 f"flash log: {log_path}; raise flash_timeout in the "
                                 "hardware map if the board is just slow")
            if cancel is not None and cancel.is_set():
                raise Interrupted("flashing cancelled (the harness is stopping)")
            data = source.receive(READ_S)
            if data == b"":
                raise BoardFault(Verdict.PORT_VANISHED, "the serial port vanished while the "
                                 "board was being flashed", "a board whose UART is its own USB "
                                 "device re-enumerates on reset: use a separate USB-UART")
            heard += data or b""
    finally:
        ended = proc.stop(hard=True)
    if ended["returncode"] != 0:
        raise BoardFault(Verdict.FLASH_FAILED, f"flashing failed (rc {ended['returncode']}): "
                         f"{' '.join(argv)}: {_last_line(log_path)}", f"flash log: {log_path}")
    return bytes(heard)


def split_at_boot(heard: bytes) -> tuple[bytes, bytes]:
    """(what the old image printed, what the new one did) of the bytes read while
    flashing: the cut is the last Zephyr boot banner's line; without one, all of it is
    the new image's (a runner that halts the CPU first leaves nothing of the old)."""
    at = heard.rfind(BOOT_BANNER)
    if at < 0:
        return b"", heard
    line_start = max(heard.rfind(b"\n", 0, at), heard.rfind(b"\r", 0, at)) + 1
    return heard[:line_start], heard[line_start:]


def _last_line(log_path: Path) -> str:
    try:
        lines = log_path.read_text(errors="replace").strip().splitlines()
    except OSError:
        return "(no flash log)"
    return lines[-1] if lines else "(the flash command printed nothing)"
