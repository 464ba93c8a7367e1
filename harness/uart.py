"""The board's UART as a stream of timestamped lines, read over a TCP socket
with pyserial. Every raw byte is written to disk before it is interpreted."""
from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import serial

from harness.lines import LineSplitter


@dataclass(frozen=True)
class Line:
    lineno: int
    text: str
    t: float          # host seconds since the stream was opened


def connect(port: int, deadline: float, alive=lambda: True) -> serial.SerialBase:
    """Connect to an emulator's UART server socket, retrying until `deadline`
    (monotonic) while `alive()` says the emulator is still starting."""
    while True:
        try:
            return serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0)
        except serial.SerialException:
            if time.monotonic() >= deadline or not alive():
                raise
            time.sleep(0.01)


class UartStream:
    def __init__(self, port: serial.SerialBase, raw_path: Path, t0: float | None = None) -> None:
        self.port = port
        self.raw = open(raw_path, "wb")
        self.raw_path = raw_path
        self.t0 = time.monotonic() if t0 is None else t0
        self.closed = False
        self.nbytes = 0
        self._splitter = LineSplitter()
        self._lineno = 0

    def read_lines(self, wait: float) -> list[Line]:
        """Lines completed within `wait` seconds (host time); [] if none."""
        if self.closed:
            return []
        ready, _, _ = select.select([self.port], [], [], max(wait, 0))
        if not ready:
            return []
        try:
            data = self.port.read(65536)
        except (serial.SerialException, OSError):
            data = b""
        if not data:          # readable but empty: the peer closed the socket
            self.closed = True
            return self._lines(self._splitter.flush())
        self.raw.write(data)
        self.raw.flush()
        self.nbytes += len(data)
        return self._lines(self._splitter.feed(data))

    def drain(self, seconds: float) -> list[Line]:
        """Everything that arrives until the socket closes or `seconds` pass."""
        out: list[Line] = []
        deadline = time.monotonic() + seconds
        while not self.closed and time.monotonic() < deadline:
            out += self.read_lines(deadline - time.monotonic())
        return out

    def flush_partial(self) -> list[Line]:
        return self._lines(self._splitter.flush())

    def close(self) -> None:
        self.closed = True
        _close_quickly(self.port)
        self.raw.close()

    def _lines(self, texts: list[str]) -> list[Line]:
        now = time.monotonic() - self.t0
        out = []
        for text in texts:
            self._lineno += 1
            out.append(Line(self._lineno, text, now))
        return out


def _close_quickly(port) -> None:
    """pyserial's socket:// close() sleeps 0.3 s to ease quick reconnects; a UART
    stream never reconnects, so close the socket directly when there is one."""
    sock = getattr(port, "_socket", None)
    try:
        if sock is None:
            port.close()
            return
        sock.close()
        port._socket = None
        port.is_open = False
    except (serial.SerialException, OSError):
        pass


def free_port() -> int:
    """A TCP port free right now on 127.0.0.1 (the emulator binds it next;
    callers retry with a new port if someone else took it meanwhile)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
