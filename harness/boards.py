"""Board descriptions (boards/*.yaml) as typed objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import UsageError
from harness.paths import BOARDS_DIR

DEFAULT_BOARD = "mps2_an385"      # Keyword and fixture default: Armv7-M MPU, QEMU and Renode


@dataclass(frozen=True)
class Board:
    name: str
    arch: str
    protection: str                 # "mpu" | "mmu"
    protection_detail: str
    emulators: dict = field(default_factory=dict)   # emulator name -> its settings
    path: Path | None = None

    def emulator(self, name: str) -> dict:
        if name not in self.emulators:
            raise UsageError(f"board {self.name} has no '{name}' emulator description",
                             f"emulators for {self.name}: {', '.join(self.emulators)}; "
                             f"add a '{name}:' section to {self.path}")
        return self.emulators[name]


def known(directory: Path = BOARDS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load(name: str, directory: Path = BOARDS_DIR) -> Board:
    path = directory / f"{name}.yaml"
    if not path.is_file():
        raise UsageError(f"unknown board '{name}'",
                         f"known boards: {', '.join(known(directory))} (files in {directory})")
    try:
        data = yaml.safe_load(path.read_text())
        prot = data["protection"]
        return Board(data["name"], data["arch"], prot["kind"], prot.get("detail", ""),
                     data.get("emulators") or {}, path)
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: malformed board file ({exc})",
                         "it needs name, arch, protection.kind and emulators") from None
