"""The board's UART as a stream of timestamped lines, and the way back in. Every raw
byte is written to disk before it is interpreted (uart.raw: the board's output, byte
for byte); what the harness writes to the board goes into uart-io.log, in order with
the lines read, each with its host time.

Two sources of bytes: an emulator's UART server socket, read with pyserial
(QEMU, and Renode's socket terminal), and a file the emulator appends each
byte to as the guest sends it (Renode's UART file backend, see
emulators/renode.py for why)."""
from __future__ import annotations

import select
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import serial
from serial.urlhandler import protocol_socket

from harness.host.deadline import Deadline, retry
from harness.judging.lines import LineSplitter

IO_LOG = "uart-io.log"


@dataclass(frozen=True)
class Line:
    lineno: int
    text: str
    t: float          # host seconds since the stream was opened


def open_source(endpoint: int | Path, deadline: Deadline, alive=lambda: True):
    """The byte source for an emulator's UART: a TCP port or a file path."""
    if isinstance(endpoint, Path):
        return FileSource(endpoint)
    return SocketSource(connect(endpoint, deadline, alive))


def connect(port: int, deadline: Deadline, alive=lambda: True) -> serial.SerialBase:
    """Connect to an emulator's UART server socket, retrying until `deadline`
    while `alive()` says the emulator is still starting."""
    return retry(lambda: _EveryByte(f"socket://127.0.0.1:{port}", timeout=0),
                 deadline, (serial.SerialException,), alive=alive)


class _EveryByte(protocol_socket.Serial):
    """pyserial's socket:// port, without the flush its open() ends with: that
    reset_input_buffer() drops whatever arrived since the connection was accepted,
    and QEMU (`wait=on`) runs the guest from that moment, so a harness descheduled
    between the two lost the first lines of the boot (seen here: a run judged FAIL
    whose log began at the sample's first ISR line)."""

    def reset_input_buffer(self) -> None:
        if not self.is_open:
            raise serial.PortNotOpenError()


class SocketSource:
    """A pyserial socket:// connection; b"" when the peer closed it."""

    def __init__(self, port: serial.SerialBase) -> None:
        self.port = port

    def receive(self, wait: float) -> bytes | None:
        """Bytes that arrived within `wait` seconds (None: none yet; b"": closed)."""
        ready, _, _ = select.select([self.port], [], [], max(wait, 0))
        if not ready:
            return None
        try:
            return self.port.read(65536)
        except (serial.SerialException, OSError):
            return b""

    def send(self, data: bytes) -> None:
        """Write `data` to the board's UART (the emulator buffers what the guest has not
        read yet: QEMU reads the socket only as fast as its UART model takes bytes)."""
        try:
            self.port.write(data)
        except (serial.SerialException, OSError) as exc:
            raise serial.SerialException(f"the UART connection is closed: {exc}") from None

    def close(self) -> None:
        _close_quickly(self.port)


class FileSource:
    """A file the emulator appends UART bytes to; never closes by itself (the
    emulator's exit is what ends it)."""
    POLL_S = 0.005

    def __init__(self, path: Path) -> None:
        try:
            self.file = open(path, "rb")
        except OSError as exc:
            raise serial.SerialException(f"cannot open the UART file {path}: {exc.strerror}") \
                from None

    def receive(self, wait: float) -> bytes | None:
        deadline = Deadline(wait)
        while True:
            data = self.file.read(65536)
            if data or deadline.expired():
                return data or None
            time.sleep(min(self.POLL_S, deadline.remaining()))

    def close(self) -> None:
        self.file.close()


class UartStream:
    """Lines read from `source`; `write()` sends bytes back through `sender` (the
    emulator's way into its UART: the source's own `send`, or Renode's monitor)."""

    def __init__(self, source, raw_path: Path, t0: float | None = None, sender=None) -> None:
        self.source = source
        self.raw = open(raw_path, "wb")
        self.raw_path = raw_path
        self.io = open(raw_path.with_name(IO_LOG), "w", encoding="utf-8")
        self.sender = sender or getattr(source, "send", None)
        self.t0 = time.monotonic() if t0 is None else t0
        self.closed = False
        self.nbytes = 0
        self.written = 0
        self.tee = None               # also called with every chunk of raw bytes (a relay)
        self._splitter = LineSplitter()
        self._lineno = 0

    def write(self, data: bytes) -> None:
        """Send `data` to the board; recorded in uart-io.log before it is sent."""
        if self.sender is None:
            raise serial.SerialException("this emulator's UART takes no input")
        if self.closed:
            raise serial.SerialException("the UART stream is closed")
        self.io.write(f"{time.monotonic() - self.t0:10.3f} > {data.decode('utf-8', 'replace')!r}\n")
        self.io.flush()
        self.sender(data)
        self.written += len(data)

    def pending(self) -> str:
        """The unfinished last line (e.g. a shell prompt waiting for input)."""
        return self._splitter.pending()

    def read_lines(self, wait: float) -> list[Line]:
        """Lines completed within `wait` seconds (host time); [] if none."""
        if self.closed:
            return []
        data = self.source.receive(wait)
        if data is None:
            return []
        if not data:          # readable but empty: the peer closed the socket
            self.closed = True
            return self._lines(self._splitter.flush())
        try:
            self.raw.write(data)
            self.raw.flush()
        except OSError as exc:               # disk full, vanished directory: name the file
            raise OSError(exc.errno, exc.strerror, str(self.raw_path)) from None
        self.nbytes += len(data)
        if self.tee is not None:
            self.tee(data)
        return self._lines(self._splitter.feed(data))

    def drain(self, seconds: float) -> list[Line]:
        """Everything that arrives until the source closes or `seconds` pass."""
        out: list[Line] = []
        deadline = Deadline(seconds)
        while not self.closed and not deadline.expired():
            out += self.read_lines(deadline.remaining())
        return out

    def flush_partial(self) -> list[Line]:
        return self._lines(self._splitter.flush())

    def close(self) -> None:
        self.closed = True
        self.source.close()
        self.raw.close()
        self.io.close()

    def _lines(self, texts: list[str]) -> list[Line]:
        now = time.monotonic() - self.t0
        out = []
        for text in texts:
            self._lineno += 1
            out.append(Line(self._lineno, text, now))
            if not self.io.closed:
                self.io.write(f"{now:10.3f} < {text}\n")
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
