"""A board of the lab in place of an emulator: flashed with `west flash` (or a hardware
map entry's `flash_command`), its UART read with pyserial. The whole judging path (the
watch loop, the judge, triage, reports, repeats, the isolation certificate) is the
emulators'; only the transport and the start differ:

start(): hold a board -> open its port (PORT_MISSING, PORT_BUSY) -> pre_script ->
flash while reading the port (FLASH_FAILED, FLASH_TIMEOUT) -> post_flash_script -> the
stream begins with the new image's boot banner. stop(): post_script; the board is left
running (it is no process of ours), its lock released.

What a board cannot offer: virtual time (no STALL: a silent board is a HANG naming the
last line, or NO_OUTPUT), an exit code (it never exits: a vanished port is
PORT_VANISHED), the domain audit (QEMU's MPU trace).
"""
from __future__ import annotations

import subprocess
from contextlib import ExitStack
from pathlib import Path

from harness.emulators import flash
from harness.emulators.base import Emulator
from harness.errors import EmulatorError, UsageError
from harness.host.files import tail
from harness.host.process import OwnedProcess
from harness.judging import board_faults
from harness.judging.verdict import Outcome, Verdict
from harness.stream import serial_port, uart

DEFAULT_TIMEOUT_S = 60.0     # host seconds from the end of the flash (--timeout wins)
SCRIPT_TIMEOUT_S = 30.0      # host seconds for pre_script, post_flash_script, post_script
NAME = "hardware"


class SerialBoard(Emulator):
    name = NAME
    lends_boards = True      # Emulators gives it the session's Lab as its pool
    settle_s = 0.3           # host seconds after completion: bytes still in a USB buffer
    install_hint = "pass --device-serial PORT or --hardware-map FILE (docs/real-boards.md)"

    def __init__(self, board, settings: dict, run_dir: Path, pool, environ: dict) -> None:
        super().__init__(board, settings, run_dir, pool, environ)
        self.lab = pool
        self.device = None
        self.source: serial_port.SerialPortSource | None = None
        self._own_hold = ExitStack()     # a board held for this start only (no run held one)

    @staticmethod
    def board_settings(board) -> dict:
        """A board file describes emulators; a board of the lab needs only a budget."""
        return {"timeout_s": DEFAULT_TIMEOUT_S}

    def check_version(self) -> None:
        """A connected board of this platform must be in the session's hardware map."""
        if self.lab is None:
            raise UsageError(f"no board of the lab for {self.board.name}", self.install_hint)
        self.lab.boards_for(self.board)

    # -- the template --------------------------------------------------------
    def start(self, elf: Path) -> uart.UartStream:
        elf = Path(elf).resolve()
        if not elf.is_file():
            raise EmulatorError(f"no firmware image at {elf}", "build it first (harness run does)")
        self.teardown = {}
        self.device = self._board()
        self._note(f"board {self.device.id} ({self.device.product}) on {self.device.serial} "
                   f"at {self.device.baud} baud")
        self.source = serial_port.open_port(self.device.serial, self.device.baud)
        try:
            self.launch(elf)
            self.resume()
        except BaseException:
            self.source.close()
            raise
        return uart.UartStream(self.source, self.run_dir / "uart.raw")

    def launch(self, elf: Path) -> Path:
        """Flash `elf` with the port open and read; the new image runs when this returns."""
        self._script("pre_script")
        argv = flash.command(self.device, self.build_dir or elf.parent.parent, elf,
                             self.environ, self.lab.west_runner, self.lab.west_flash)
        self._note("flash: " + " ".join(argv))
        heard = flash.run(argv, self.run_dir / "flash.log", self.run_dir, self.source,
                          self.device.flash_timeout_s, env=self.environ)
        before, new = flash.split_at_boot(heard)
        if before:
            (self.run_dir / "uart.before-flash.raw").write_bytes(before)
            self._note(f"{len(before)} byte(s) before the new image's boot banner: "
                       "uart.before-flash.raw (not judged)")
        self.source.unread(new)
        return Path(self.device.serial)

    def resume(self) -> None:
        """The flash runner reset the board already: only the post_flash_script runs."""
        self._script("post_flash_script")

    def request_quit(self) -> None:
        """Nothing to ask: a board is not stopped, only released."""

    def poll(self) -> int | None:
        """A board never exits; a vanished port ends the stream instead."""
        return None

    def stop(self) -> dict:
        if self.teardown.get("ended_by"):
            return self.teardown
        post = ""
        if self.device is not None:
            try:
                self._script("post_script")
            except serial_port.BoardFault as exc:
                post = f"; {exc.message}"
        self._own_hold.close()
        self.teardown = {"ended_by": f"left running (a board is released, not stopped){post}",
                         "returncode": None,
                         "board_id": self.device.id if self.device else None}
        return self.teardown

    def version(self) -> str:
        device = self.lab.held(self.board) if self.lab else None
        if device is None and self.lab is not None:
            found = self.lab.boards_for(self.board)
            device = found[0] if len(found) == 1 else None
        if device is None:
            return "no board held"
        how = "its flash_command" if device.flash_command else \
            f"west flash --runner {self.lab.west_runner or device.runner or '(default)'}"
        return f"board {device.id} ({device.product}), flashed by {how}"

    def identity(self) -> dict:
        """What a certificate made on this board names: the board of the lab it ran on."""
        device = self.device or (self.lab.held(self.board) if self.lab else None)
        return {"target": NAME, "board_id": device.id if device else None,
                "serial": device.serial if device else None}

    def review(self, outcome: Outcome, watched) -> Outcome:
        """The judge's outcome, in a board's terms (judging.board_faults)."""
        return board_faults.review(outcome, watched.ending.why, watched.uart_bytes,
                                   self.device.serial if self.device else "?")

    def output_tail(self, n: int = 5) -> str:
        try:
            return tail((self.run_dir / "flash.log").read_bytes(), n)
        except OSError:
            return ""

    # -- internals -------------------------------------------------------------
    def _board(self):
        held = self.lab.held(self.board) if self.lab else None
        if held is not None:
            return held
        self.check_version()
        return self._own_hold.enter_context(self.lab.hold(self.board))

    def _script(self, key: str) -> None:
        script = getattr(self.device, key)
        if not script:
            return
        log_path = self.run_dir / f"{key}.log"
        self._note(f"{key}: {script}")
        try:
            proc = OwnedProcess([script], log_path, env=self.environ, cwd=self.run_dir)
        except OSError as exc:
            raise serial_port.BoardFault(Verdict.FLASH_FAILED, f"cannot run the board's {key} "
                                         f"{script}: {exc.strerror}",
                                         "is it executable? (paths are relative to the "
                                         "hardware map)") from None
        try:
            proc.proc.wait(timeout=SCRIPT_TIMEOUT_S)
        except subprocess.TimeoutExpired:      # stopped below, and a failure
            pass
        ended = proc.stop(hard=True)
        if ended["returncode"] != 0:
            raise serial_port.BoardFault(
                Verdict.FLASH_FAILED, f"the board's {key} {script} failed (rc "
                f"{ended['returncode']})", f"its output: {log_path}")

    def _note(self, text: str) -> None:
        with open(self.run_dir / f"{NAME}.log", "a") as f:
            f.write(text + "\n")
