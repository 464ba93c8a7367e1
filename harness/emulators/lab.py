"""The boards of a session (a hardware map, or one --device-serial), lent to one run at a
time: a run holds its board from before its firmware boots until its isolation proof is
done, so the certificate that backs a PASS is that very board's.

The board a run holds is kept in a context variable: the adapters made for that run, in
its thread and in the threads it starts with the context copied, flash that board.
"""
from __future__ import annotations

import contextvars
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from harness.errors import Interrupted, UsageError
from harness.host import board_locks
from harness.host.deadline import Deadline
from harness.inputs.hardware_map import Device, for_board
from harness.judging.verdict import Verdict
from harness.stream.serial_port import BoardFault

HELD: contextvars.ContextVar = contextvars.ContextVar("harness_held_board", default=None)
NEEDS: contextvars.ContextVar = contextvars.ContextVar("harness_fixtures", default=())
WAIT_S = 3600.0         # host seconds a run waits for a board of its platform to be free
POLL_S = 0.1


@contextmanager
def needing(fixtures) -> Iterator[None]:
    """Runs started in this block hold only boards with these fixtures (a scenario's)."""
    previous = NEEDS.get()
    NEEDS.set(tuple(f for f in fixtures if f))
    try:
        yield
    finally:
        NEEDS.set(previous)


@dataclass
class Lab:
    devices: tuple                       # hardware_map.Device, connected ones
    west_runner: str | None = None       # --west-runner: for every board
    west_flash: tuple = ()               # --west-flash: after `--`
    lock_dir: Path = field(default_factory=board_locks.default_dir)
    wait_s: float = WAIT_S
    say: object = print

    def boards_for(self, board) -> list[Device]:
        """The connected boards of `board`'s platform with the fixtures the run needs."""
        found = for_board(list(self.devices), board)
        needs = set(NEEDS.get())
        if found and needs and not any(needs <= set(d.fixtures) for d in found):
            raise UsageError(f"no {board.name} board of the hardware map has the fixture(s) "
                             f"{', '.join(sorted(needs))}", "add fixtures: to the board's entry")
        found = [d for d in found if needs <= set(d.fixtures)]
        if not found:
            platforms = sorted({p for d in self.devices for p in d.platforms})
            raise UsageError(f"no connected board of platform {board.name} in the hardware map",
                             f"its platforms: {', '.join(platforms) or 'none'}; run on one of "
                             "them, or connect one and regenerate the map")
        return found

    def held(self, board) -> Device | None:
        """The board of `board`'s platform this run holds (None: none)."""
        device = HELD.get()
        return device if device is not None and device.serves(board) else None

    @contextmanager
    def hold(self, board, cancel=None) -> Iterator[Device]:
        """A free board of `board`'s platform, locked (also against other harness processes)
        until the block ends; a run that holds one already keeps it."""
        mine = self.held(board)
        if mine is not None:
            yield mine
            return
        device, lock = self._acquire(board, cancel)
        HELD.set(device)
        try:
            yield device
        finally:
            HELD.set(None)
            lock.release()

    def _acquire(self, board, cancel) -> tuple[Device, board_locks.BoardLock]:
        candidates = self.boards_for(board)
        deadline, said = Deadline(self.wait_s), False
        while True:
            for device in candidates:
                lock = board_locks.try_lock(self.lock_dir, device.id,
                                            f"{board.name} {device.serial}")
                if lock is not None:
                    return device, lock
            holders = "; ".join(f"{d.id}: {board_locks.holder(self.lock_dir, d.id) or '?'}"
                                for d in candidates)
            if deadline.expired():
                raise BoardFault(Verdict.PORT_BUSY, f"every {board.name} board stayed busy for "
                                 f"{self.wait_s:g} s ({holders})",
                                 "another harness run holds them; wait for it or stop it")
            if cancel is not None and cancel.is_set():
                raise Interrupted("stopped while waiting for a free board")
            if not said:
                self.say(f"  waiting for a free {board.name} board ({holders})")
                said = True
            time.sleep(POLL_S)
