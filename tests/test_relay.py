"""The relay between a pytest device and the emulators it boots (harness.interactive.relay),
against the fake QEMU at the process boundary: one boot per connection, the board's
bytes relayed, and the fault dump of an emulator that prints it and ends at once is
still triaged (its last lines arrive only in the drain)."""
import os
import socket
import threading
import time

from conftest import FAKES

from harness.emulators.qemu import Qemu
from harness.host.deadline import Deadline
from harness.host.process import session_alive
from harness.inputs.boards import Board
from harness.interactive.relay import Relay

FAULT = ("*** Booting Zephyr OS ***\r\n"
         "E: ***** MPU FAULT *****\r\nE:   Data Access Violation\r\n"
         "E:   MMFAR Address: 0x20001000\r\n"
         "E: Faulting instruction address (r15/pc): 0x00000a2c\r\n"
         "E: >>> ZEPHYR FATAL ERROR 0: CPU exception on CPU 0\r\n"
         "E: Current thread: 0x20000ef0 (unknown)\r\n")


def serve(tmp_path, elf, connect):
    board = Board("fake", "arm", "mpu", "",
                  {"qemu": {"binary": str(FAKES / "fake_qemu.py"), "args": []}})
    made = []

    def new_emulator(run_dir):
        made.append(Qemu(board, board.emulator("qemu"), run_dir, None, dict(os.environ)))
        return made[-1]
    relay = Relay(new_emulator, elf, tmp_path)
    finished = threading.Event()
    server = threading.Thread(target=relay.serve, args=(finished.is_set, Deadline(20.0),
                                                        threading.Event()), daemon=True)
    server.start()
    try:
        received = connect(relay.address)
    finally:
        finished.set()
        server.join(10)
    assert not server.is_alive()
    assert all(not session_alive(e.proc.sid) for e in made), "an emulator outlived the relay"
    return relay, received


def read_until_closed(address: str, seconds: float = 10.0) -> bytes:
    host, port = address.split(":")
    with socket.create_connection((host, int(port)), timeout=seconds) as conn:
        data, end = b"", time.monotonic() + seconds
        while time.monotonic() < end:
            chunk = conn.recv(4096)
            if not chunk:
                break
            data += chunk
        return data


def test_a_fault_printed_as_the_emulator_ends_is_triaged(tmp_path, scenario):
    elf = scenario(log=FAULT, then="exit")
    relay, received = serve(tmp_path, elf, read_until_closed)
    assert relay.boots.count == 1 and relay.boots.died and relay.boots.died[0] == 1
    assert relay.boots.fault is not None and relay.boots.fault_boot == 1
    assert relay.boots.fault["address"] == "0x20001000"
    assert b"ZEPHYR FATAL ERROR" in received                # relayed to the device too
    assert (tmp_path / "uart.raw").read_bytes() == FAULT.encode()


def test_each_connection_is_a_boot_of_its_own(tmp_path, scenario):
    elf = scenario(log="*** Booting Zephyr OS ***\r\nhello\r\n", then="exit")

    def twice(address):
        return [read_until_closed(address), read_until_closed(address)]
    relay, received = serve(tmp_path, elf, twice)
    assert relay.boots.count == 2 and [b"hello" in r for r in received] == [True, True]
    assert relay.boots.run_dirs == [tmp_path, tmp_path / "boot-2"]
    assert relay.boots.fault is None and len(relay.boots.teardowns) == 2
