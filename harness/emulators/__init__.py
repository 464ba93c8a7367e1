"""Emulator adapters by name."""
from __future__ import annotations

from harness.emulators.base import Emulator
from harness.emulators.qemu import Qemu
from harness.emulators.renode import Renode
from harness.errors import UsageError

ADAPTERS: dict[str, type[Emulator]] = {"qemu": Qemu, "renode": Renode}


def adapter(name: str) -> type[Emulator]:
    if name not in ADAPTERS:
        raise UsageError(f"unknown emulator '{name}'", f"known emulators: {', '.join(ADAPTERS)}")
    return ADAPTERS[name]
