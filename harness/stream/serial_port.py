"""A real board's UART: a serial port read with pyserial, with the same interface as the
emulator sources of stream/uart.py (receive, send, close), opened before the board is
flashed and reset, so no boot line is lost.

A port that is missing, held by another process (named), or that vanishes while it is
read is a fault of the board's set-up, raised as a BoardFault with its own verdict.
"""
from __future__ import annotations

import os
import select
from pathlib import Path

import serial

from harness.errors import HarnessError
from harness.judging.verdict import Verdict

PROC = Path("/proc")


class BoardFault(HarnessError):
    """A board of the lab misbehaved (port, flashing, silence): its own verdict, never
    FAIL or CRASH, since the firmware was never judged."""

    def __init__(self, verdict: Verdict, message: str, hint: str = "") -> None:
        super().__init__(message, hint)
        self.verdict = verdict
        self.exit_code = verdict.code


def holders(port: str, proc: Path = PROC) -> list[str]:
    """Processes that have `port` open, as 'pid N (command line)'."""
    try:
        target = os.path.realpath(port)
    except OSError:
        return []
    found = []
    for entry in proc.iterdir() if proc.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            fds = list((entry / "fd").iterdir())
            if not any(os.readlink(fd) == target for fd in fds):
                continue
            argv = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue                            # gone, or not ours to look into
        command = " ".join(a.decode(errors="replace") for a in argv if a)
        mine = " (this harness)" if int(entry.name) == os.getpid() else ""
        found.append(f"pid {entry.name}{mine} ({command or '?'})")
    return found


def open_port(port: str, baud: int) -> "SerialPortSource":
    """The board's port, opened exclusively; PORT_MISSING or PORT_BUSY (naming the holder)."""
    if not os.path.exists(port):
        raise BoardFault(Verdict.PORT_MISSING, f"serial port {port} does not exist",
                         "is the board plugged in and powered? `harness hardware-map "
                         "--generate` lists the connected ones")
    held = holders(port)
    if held:
        raise BoardFault(Verdict.PORT_BUSY, f"serial port {port} is held by {', '.join(held)}",
                         "close that terminal or stop that process; two readers would "
                         "split the board's output between them")
    try:
        return SerialPortSource(serial.Serial(port, baud, timeout=0, exclusive=True))
    except serial.SerialException as exc:
        text = str(exc)
        if "exclusively lock" in text or "Device or resource busy" in text:
            raise BoardFault(Verdict.PORT_BUSY, f"serial port {port} is locked by another "
                             f"process: {text}", "see `fuser -v PORT` for who holds it") from None
        if not os.path.exists(port):
            raise BoardFault(Verdict.PORT_MISSING, f"serial port {port} vanished while it "
                             "was being opened", "check the cable") from None
        raise BoardFault(Verdict.PORT_MISSING, f"cannot open serial port {port}: {text}",
                         "check its permissions (the dialout group) and the cable") from None


class SerialPortSource:
    """pyserial on a board's port: b"" when the port vanished (unplugged, re-enumerated,
    or the stand-in board of the tests stopped)."""

    def __init__(self, port: serial.Serial) -> None:
        self.port = port
        self.name = port.port
        self._held = b""                # bytes read already, given out first (unread())

    def receive(self, wait: float) -> bytes | None:
        """Bytes that arrived within `wait` host seconds (None: none yet; b"": vanished)."""
        if self._held:
            data, self._held = self._held, b""
            return data
        try:
            ready, _, _ = select.select([self.port.fileno()], [], [], max(wait, 0))
            if not ready:
                return None
            return self.port.read(65536) or None     # pyserial raises when a port vanished
        except (serial.SerialException, OSError, ValueError):
            return b""

    def unread(self, data: bytes) -> None:
        """Give `data` out again, before anything read after it (the part of what arrived
        while flashing that belongs to the new image)."""
        self._held = data + self._held

    def send(self, data: bytes) -> None:
        """Write `data` to the board's UART input."""
        try:
            self.port.write(data)
            self.port.flush()
        except (serial.SerialException, OSError) as exc:
            raise BoardFault(Verdict.PORT_VANISHED, f"cannot write to serial port {self.name}: "
                             f"{exc}", "check the cable") from None

    def close(self) -> None:
        try:
            self.port.close()
        except (serial.SerialException, OSError):
            pass
