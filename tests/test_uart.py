"""The UART socket source keeps every byte the emulator sent, also those that
arrived while the harness was still opening the connection (QEMU runs the guest
from the moment it accepts it)."""
import socket
import threading
import time

import serial
from serial.urlhandler import protocol_socket

from harness.host.deadline import Deadline
from harness.stream import uart

BOOT = b"*** Booting Zephyr OS ***\r\nI: APP A partition: 0x20001020 32\r\n"


def _server_that_talks_at_once(sent: threading.Event) -> tuple[int, threading.Thread]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)

    def serve() -> None:
        conn, _ = listener.accept()
        conn.sendall(BOOT)              # the guest prints before the client is done opening
        sent.set()
        time.sleep(0.5)
        conn.close()
        listener.close()
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    return listener.getsockname()[1], thread


def _slow_open(monkeypatch, sent: threading.Event) -> None:
    """The harness descheduled in the middle of pyserial's open(), after the connect,
    until the bytes are on their way (and a moment for them to arrive)."""
    original = protocol_socket.Serial._reconfigure_port

    def late(self, *a, **kw):
        original(self, *a, **kw)
        assert sent.wait(10.0), "the server never sent"
        time.sleep(0.05)
    monkeypatch.setattr(protocol_socket.Serial, "_reconfigure_port", late)


def _read_all(source) -> bytes:
    got = b""
    while (data := source.receive(2.0)):
        got += data
    return got


def test_bytes_sent_while_the_connection_opens_are_kept(monkeypatch):
    sent = threading.Event()
    _slow_open(monkeypatch, sent)
    port, thread = _server_that_talks_at_once(sent)
    source = uart.open_source(port, Deadline(5.0))
    try:
        assert _read_all(source) == BOOT
    finally:
        source.close()
        thread.join()


def test_plain_pyserial_would_have_dropped_them(monkeypatch):
    """Why uart.connect does not use serial_for_url as it is: its open() flushes."""
    sent = threading.Event()
    _slow_open(monkeypatch, sent)
    port, thread = _server_that_talks_at_once(sent)
    plain = serial.serial_for_url(f"socket://127.0.0.1:{port}", timeout=0)
    try:
        assert _read_all(uart.SocketSource(plain)) == b""
    finally:
        uart.SocketSource(plain).close()
        thread.join()
