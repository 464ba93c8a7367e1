"""Emulator adapters by name, and the emulators of a session."""
from __future__ import annotations

import contextlib
import threading
from pathlib import Path

from harness.emulators.base import Emulator
from harness.emulators.qemu import Qemu
from harness.emulators.renode import Renode
from harness.emulators.serial_board import SerialBoard
from harness.errors import UsageError

ADAPTERS: dict[str, type[Emulator]] = {"qemu": Qemu, "renode": Renode, "hardware": SerialBoard}
HARDWARE = SerialBoard.name       # boards of the lab (harness.emulators.lab), not an emulator


def lends_boards(name: str) -> bool:
    """Whether `name` runs on boards of the lab (held one run at a time)."""
    return getattr(adapter(name), "lends_boards", False)


def adapter(name: str) -> type[Emulator]:
    if name not in ADAPTERS:
        raise UsageError(f"unknown emulator '{name}'", f"known emulators: {', '.join(ADAPTERS)}")
    return ADAPTERS[name]


class Emulators:
    """The emulators of a session: adapters with the session's overrides, and the
    pools of reusable processes (Renode), closed when the session ends."""

    def __init__(self, *, out_dir: Path, environ: dict, overrides: dict | None = None,
                 reuse: bool = True, lab=None) -> None:
        self.out_dir = out_dir
        self.lab = lab                           # the boards of the lab (emulators.lab.Lab)
        self.environ = environ
        self.overrides = dict(overrides or {})   # e.g. {"renode": {"binary": ...}}
        self.reuse = reuse
        self._pools: dict = {}
        self._guard = threading.Lock()

    def adapter(self, board, emu: str, run_dir: Path) -> Emulator:
        """The adapter for `emu` on `board`, with the session's overrides applied."""
        cls = adapter(emu)
        if lends_boards(emu):
            settings = {**cls.board_settings(board), **self.overrides.get(emu, {})}
            return cls(board, settings, run_dir, self.lab, self.environ)
        settings = {**board.emulator(emu), **self.overrides.get(emu, {})}
        return cls(board, settings, run_dir, self.pool(emu), self.environ)

    def hold(self, board, emu: str, cancel=None):
        """For a run on a board of the lab: hold one of `board`'s platform for the whole
        run and its isolation proof (a context manager; nothing to hold for emulators)."""
        if self.lab is None or not lends_boards(emu):
            return contextlib.nullcontext()
        return self.lab.hold(board, cancel)

    def pool(self, emu: str):
        """The pool of reusable `emu` processes (None: a process per run)."""
        pool_class = adapter(emu).pool_class
        if not self.reuse or pool_class is None:
            return None
        with self._guard:
            if emu not in self._pools:
                self._pools[emu] = pool_class(self.out_dir / f".{emu}-processes", self.environ)
            return self._pools[emu]

    def close(self) -> None:
        """Stop every kept process, so no emulator outlives the session."""
        with self._guard:
            pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()
