"""The device pytest-twister-harness's `dut` fixture gets when this harness runs a
pytest or shell scenario: loaded in the pytest child with `-p
harness.interactive.device`, it takes the place of the `custom` device type. Each
launch() connects to the harness's relay (HARNESS_RELAY=host:port), which boots the
board on QEMU or Renode; close() disconnects, and the relay stops the emulator.

Only this module imports twister_harness: it runs where the workspace's plugin is on
sys.path (scripts/pylib/pytest-twister-harness/src)."""
from __future__ import annotations

import os
import select
import socket

from twister_harness.device.device_adapter import DeviceAdapter
from twister_harness.device.factory import DeviceFactory
from twister_harness.exceptions import TwisterHarnessException

READ_WAIT_S = 0.1          # how long one read waits for bytes (the reader thread loops)


class RelayedDevice(DeviceAdapter):
    """A board booted by the harness, its UART carried over a local socket."""

    _sock: socket.socket | None = None
    _buf = b""

    def generate_command(self) -> None:
        """No command of its own: the harness starts the emulator."""
        self.command = ["harness-relay", os.environ.get("HARNESS_RELAY", "")]

    def _flash_and_run(self) -> None:
        host, _, port = os.environ.get("HARNESS_RELAY", "").rpartition(":")
        if not port:
            raise TwisterHarnessException("HARNESS_RELAY is not set: run this through "
                                          "`harness run` or `harness matrix`")
        try:
            self._sock = socket.create_connection((host, int(port)), timeout=self.base_timeout)
        except OSError as exc:
            raise TwisterHarnessException(f"the harness's relay at {host}:{port} did not "
                                          f"answer: {exc}") from None
        self._buf = b""

    def _connect_device(self) -> None:
        """Connected since the boot."""

    def _disconnect_device(self) -> None:
        """Output is kept until close()."""

    def _close_device(self) -> None:
        sock, self._sock = self._sock, None     # the reader thread may close it too
        if sock is not None:
            sock.close()                        # the relay stops the emulator

    def _read_device_output(self) -> bytes:
        """The next line (with its end), or b"" when none came within READ_WAIT_S."""
        while b"\n" not in self._buf:
            sock = self._sock
            try:
                if sock is None or not select.select([sock], [], [], READ_WAIT_S)[0]:
                    return b""
            except (ValueError, OSError):          # closed by the other thread meanwhile
                return b""
            try:
                data = sock.recv(4096)
            except OSError:
                data = b""
            if not data:                        # the board is gone: hand out what is left
                rest, self._buf = self._buf, b""
                self._close_device()
                return rest
            self._buf += data
        line, _, self._buf = self._buf.partition(b"\n")
        return line + b"\n"

    def _write_to_device(self, data: bytes) -> None:
        if self._sock is None:
            raise TwisterHarnessException("the board is not running")
        self._sock.sendall(data)

    def _flush_device_output(self) -> None:
        self._buf = b""

    def is_device_running(self) -> bool:
        return self._device_run.is_set() and self._sock is not None

    def is_device_connected(self) -> bool:
        return self.is_device_running() and self._device_connected.is_set()


DeviceFactory._devices["custom"] = RelayedDevice     # register_device_class keeps the first
