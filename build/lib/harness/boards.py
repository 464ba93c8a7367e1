"""Board descriptions (boards/*.yaml) as typed objects."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import UsageError
from harness.paths import BOARDS_DIR

DEFAULT_BOARD = "mps2_an385"      # Keyword and fixture default: Armv7-M MPU, QEMU and Renode
# Zephyr 3.7 moved to the hardware model v2: board/soc[/variant] names. Ours, both ways;
# a board file may name its own with `hwmv2_name:`.
HWMV2 = {"mps2_an385": "mps2/an385", "nrf52840dk_nrf52840": "nrf52840dk/nrf52840",
         "stm32f4_disco": "stm32f4_disco", "qemu_x86": "qemu_x86"}
HWMV2_SINCE = (3, 7)


def canonical(name: str) -> str:
    """Our board file's name for `name`, given in either model (mps2/an385 -> mps2_an385)."""
    known = {v: k for k, v in HWMV2.items()}
    return known.get(name, name.replace("/", "_"))


def zephyr_name(board: "Board", zephyr_version: str) -> str:
    """The name `west build -b` wants from a Zephyr of `zephyr_version` (e.g. '3.7.0')."""
    parts = tuple(int(x) for x in zephyr_version.split(".")[:2] if x.isdigit())
    if parts < HWMV2_SINCE:
        return board.name
    return board.hwmv2_name or HWMV2.get(board.name, board.name)


@dataclass(frozen=True)
class Board:
    name: str
    arch: str
    protection: str                 # "mpu" | "mmu"
    protection_detail: str
    emulators: dict = field(default_factory=dict)   # emulator name -> its settings
    path: Path | None = None
    hwmv2_name: str | None = None   # the board's name in Zephyr 3.7's hardware model

    def emulator(self, name: str) -> dict:
        if name not in self.emulators:
            raise UsageError(f"board {self.name} has no '{name}' emulator description",
                             f"emulators for {self.name}: {', '.join(self.emulators)}; "
                             f"add a '{name}:' section to {self.path}")
        return self.emulators[name]


def known(directory: Path = BOARDS_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.yaml"))


def load(name: str, directory: Path = BOARDS_DIR) -> Board:
    name = canonical(name)
    path = directory / f"{name}.yaml"
    if not path.is_file():
        raise UsageError(f"unknown board '{name}'",
                         f"known boards: {', '.join(known(directory))} (files in {directory})")
    try:
        data = yaml.safe_load(path.read_text())
        prot = data["protection"]
        return Board(data["name"], data["arch"], prot["kind"], prot.get("detail", ""),
                     data.get("emulators") or {}, path, data.get("hwmv2_name"))
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: malformed board file ({exc})",
                         "it needs name, arch, protection.kind and emulators") from None
