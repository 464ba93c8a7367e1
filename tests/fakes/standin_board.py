#!/usr/bin/env python3
"""A stand-in board for the tests: QEMU running the flashed ELF, its UART on a
pseudo-terminal (a real tty that pyserial opens like /dev/ttyACM0).

    standin_board.py PORT_LINK CONTROL_SOCKET -- QEMU_ARGV...

The pseudo-terminal is the board's USB-UART bridge: it lives as long as this process
(the board is plugged in), across flashes, as a real bridge does; QEMU's own
`-serial pty` would make a new tty at every restart. PORT_LINK is a symlink to it.
QEMU's serial port is a unix socket server (wait=on, so QEMU holds the CPU until this
process is connected) whose bytes are copied to the tty, and the tty's input to it.

On CONTROL_SOCKET (unix), one command per connection:
  "flash ELF"       QEMU restarts with ELF; "ok" once it runs
  "flash-mute ELF"  the same, but the UART prints nothing (a dead UART)
  "stop"            QEMU stops (the board is held in reset)
SIGTERM (unplugging the board): QEMU stops, the tty goes away, and this process exits.
"""
import os
import select
import signal
import socket
import subprocess
import sys
import termios
import time
import tty

PENDING_MAX = 1 << 20        # bytes kept for a reader that is behind


class Board:
    def __init__(self, link, qemu_argv):
        self.link = link
        self.qemu_argv = qemu_argv
        self.master, slave = os.openpty()
        tty.setraw(slave, termios.TCSANOW)        # no echo before a reader configures it
        self.tty = os.ttyname(slave)
        os.close(slave)
        os.set_blocking(self.master, False)
        if os.path.lexists(link):
            os.unlink(link)
        os.symlink(self.tty, link)
        self.qemu = None
        self.uart = None
        self.mute = False
        self.pending = b""
        self.sock_path = link + ".uart.sock"

    def flash(self, elf, mute=False):
        self.stop()
        self.mute = mute
        self.pending = b""
        if os.path.exists(self.sock_path):
            os.unlink(self.sock_path)
        argv = [*self.qemu_argv, "-display", "none", "-monitor", "none",
                "-chardev", f"socket,id=con,path={self.sock_path},server=on,wait=on",
                "-serial", "chardev:con", "-kernel", elf]
        self.qemu = subprocess.Popen(argv, stdin=subprocess.DEVNULL, start_new_session=True,
                                     stdout=sys.stderr, stderr=sys.stderr)
        deadline = time.monotonic() + 10
        while True:
            try:
                self.uart = socket.socket(socket.AF_UNIX)
                self.uart.connect(self.sock_path)
                break
            except OSError:
                self.uart.close()
                self.uart = None
                if time.monotonic() > deadline or self.qemu.poll() is not None:
                    raise RuntimeError("QEMU did not open its UART socket") from None
                time.sleep(0.01)
        self.uart.setblocking(False)

    def stop(self):
        if self.uart is not None:
            self.uart.close()
            self.uart = None
        if self.qemu is not None and self.qemu.poll() is None:
            os.killpg(self.qemu.pid, signal.SIGKILL)
            self.qemu.wait()
        self.qemu = None

    def from_qemu(self):
        try:
            data = self.uart.recv(65536)
        except BlockingIOError:
            return
        if not data:                      # QEMU exited: the board sits dead until flashed
            self.stop()
            return
        if not self.mute:
            self.pending = (self.pending + data)[-PENDING_MAX:]
            self.to_tty()

    def to_tty(self):
        """What QEMU sent, into the tty as fast as its reader takes it; lost when nobody
        has the port open, as on a UART."""
        while self.pending:
            try:
                n = os.write(self.master, self.pending)
            except BlockingIOError:
                return                     # the reader is behind: kept for later
            except OSError:
                self.pending = b""         # EIO: nobody has the port open
                return
            self.pending = self.pending[n:]

    def from_tty(self):
        """The port's input to QEMU's UART; False when nobody has the port open."""
        try:
            data = os.read(self.master, 65536)
        except BlockingIOError:
            return True
        except OSError:                    # EIO: no reader has the tty open
            return False
        if self.uart is not None and data:
            try:
                self.uart.sendall(data)
            except OSError:
                pass
        return True


def serve(board, control_path):
    if os.path.exists(control_path):
        os.unlink(control_path)
    control = socket.socket(socket.AF_UNIX)
    control.bind(control_path)
    control.listen(4)
    print(f"standin: {board.link} -> {board.tty}", file=sys.stderr, flush=True)
    quiet_until = 0.0                      # the tty is hung up: do not spin on it
    while True:
        fds = [control] + ([board.uart] if board.uart is not None else [])
        if time.monotonic() >= quiet_until:
            fds.append(board.master)
        ready, writable, _ = select.select(fds, [board.master] if board.pending else [], [],
                                          0.05)
        if writable:
            board.to_tty()
        for r in ready:
            if r is control:
                command(board, control.accept()[0])
            elif r is board.master:
                if not board.from_tty():
                    quiet_until = time.monotonic() + 0.05
            elif r is board.uart:
                board.from_qemu()


def command(board, conn):
    with conn:
        words = conn.makefile().readline().split(maxsplit=1)
        try:
            if words and words[0] in ("flash", "flash-mute"):
                board.flash(words[1].strip(), mute=words[0] == "flash-mute")
            elif words and words[0] == "stop":
                board.stop()
            conn.sendall(b"ok\n")
        except (RuntimeError, OSError, IndexError) as exc:
            conn.sendall(f"error {exc}\n".encode())


def main():
    sep = sys.argv.index("--")
    link, control_path = sys.argv[1:sep]
    board = Board(link, sys.argv[sep + 1:])

    def unplug(*_):
        board.stop()
        os.close(board.master)
        for path in (link, control_path, board.sock_path):
            if os.path.lexists(path):
                os.unlink(path)
        os._exit(0)
    signal.signal(signal.SIGTERM, unplug)
    signal.signal(signal.SIGINT, unplug)
    try:
        serve(board, control_path)
    finally:
        board.stop()


if __name__ == "__main__":
    main()
