"""The harness's side of a pytest-driven run: each connection from the pytest child is
one boot of the board. The emulator starts with the UART reader attached (no boot line
lost), its bytes go to the child as they come, the child's bytes go to the UART
(recorded in uart-io.log), and every line is watched for a fatal error, so a crash is a
CRASH with its triage, as in any run. The child closing the connection stops the
emulator; the emulator ending closes the connection."""
from __future__ import annotations

import select
import socket
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import Interrupted
from harness.host.deadline import Deadline
from harness.judging.triage import FaultDump

POLL_S = 0.02


@dataclass
class Boots:
    """What the boots of one run saw."""
    count: int = 0
    uart_bytes: int = 0
    run_dirs: list[Path] = field(default_factory=list)
    teardowns: list[dict] = field(default_factory=list)
    fault: dict | None = None          # the first fatal error's triage summary
    fault_boot: int | None = None
    died: tuple | None = None          # (boot, exit code) of an emulator that ended by itself


class Relay:
    """A local server; `serve()` boots one emulator per connection until `done()`."""

    def __init__(self, new_emulator, elf: Path, run_dir: Path) -> None:
        self.new_emulator = new_emulator      # run_dir -> an Emulator adapter
        self.elf = elf
        self.run_dir = run_dir
        self.server = socket.create_server(("127.0.0.1", 0))
        self.address = f"127.0.0.1:{self.server.getsockname()[1]}"
        self.boots = Boots()

    def serve(self, done, deadline: Deadline, cancel: threading.Event) -> None:
        """Boot for each connection until `done()` is true (the child exited), the
        deadline passes or `cancel` is set (Interrupted)."""
        try:
            while not done() and not deadline.expired():
                if cancel.is_set():
                    raise Interrupted("the run was cancelled")
                if select.select([self.server], [], [], POLL_S)[0]:
                    conn, _ = self.server.accept()
                    with conn:
                        self._boot(conn, done, deadline, cancel)
        finally:
            self.server.close()

    def _boot(self, conn: socket.socket, done, deadline: Deadline, cancel) -> None:
        n = self.boots.count = self.boots.count + 1
        run_dir = self.run_dir if n == 1 else self.run_dir / f"boot-{n}"
        run_dir.mkdir(exist_ok=True)
        self.boots.run_dirs.append(run_dir)
        emulator = self.new_emulator(run_dir)
        stream = None
        dump = FaultDump()
        try:
            stream = emulator.start(self.elf)
            conn.settimeout(1.0)            # a child that stopped reading cannot block us
            stream.tee = lambda data: _send(conn, data)
            while not deadline.expired() and not cancel.is_set() and not stream.closed:
                ended = emulator.poll() is not None
                lines = [*stream.drain(0.2), *stream.flush_partial()] if ended else \
                    stream.read_lines(POLL_S)
                for line in lines:         # the last words of an emulator that ended too
                    dump.feed(line.text, line.lineno)
                if dump.complete and self.boots.fault is None:
                    self.boots.fault, self.boots.fault_boot = dump.summary(), n
                if ended or stream.closed:     # QEMU closes its UART socket as it exits
                    self.boots.died = self.boots.died or (n, _exit_code(emulator))
                    break
                if select.select([conn], [], [], 0)[0]:
                    data = _recv(conn)
                    if not data:                 # the child closed: this boot is over
                        break
                    stream.write(data)
                if done():
                    break
        finally:
            try:
                if stream is not None:
                    self.boots.uart_bytes += stream.nbytes
                    stream.close()
            finally:
                self.boots.teardowns.append(emulator.stop())


def _exit_code(emulator, wait_s: float = 1.0):
    """The exit code of an emulator that is ending (it may close its UART first)."""
    deadline = Deadline(wait_s)
    while emulator.poll() is None and not deadline.expired():
        time.sleep(0.01)
    rc = emulator.poll()
    return rc if rc is not None else "its UART closed"


def _send(conn: socket.socket, data: bytes) -> None:
    try:
        conn.sendall(data)
    except OSError:
        pass                   # the child went away; uart.raw keeps the bytes all the same


def _recv(conn: socket.socket) -> bytes:
    try:
        return conn.recv(4096)
    except OSError:
        return b""
