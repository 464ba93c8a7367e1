"""Board descriptions (boards/*.yaml) as typed objects."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import UsageError
from harness.host.paths import BOARDS_DIR

PROTECTION_KINDS = ("mpu", "mmu", "none")      # none: runs, but no PASS can be certified
NO_PROTECTION = "none"
ZEPHYR_SCRIPT = "zephyr"    # renode `script: zephyr`: the Zephyr board's own support/*.resc
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
    base = board.zephyr_board or board.name
    if parts < HWMV2_SINCE:
        return base
    return board.hwmv2_name or HWMV2.get(base, base)


@dataclass(frozen=True)
class Board:
    name: str
    arch: str
    protection: str                 # "mpu" | "mmu" | "none"
    protection_detail: str
    emulators: dict = field(default_factory=dict)   # emulator name -> its settings
    path: Path | None = None
    hwmv2_name: str | None = None   # the board's name in Zephyr 3.7's hardware model
    zephyr_board: str | None = None  # the Zephyr board it builds for, when not `name`
    zephyr_modules: tuple = ()      # Zephyr modules its build needs (hal_stm32, hal_nordic)

    def emulator(self, name: str) -> dict:
        if name not in self.emulators:
            raise UsageError(f"board {self.name} has no '{name}' emulator description",
                             f"emulators for {self.name}: {', '.join(self.emulators)}; "
                             f"add a '{name}:' section to {self.path}")
        return self.emulators[name]


TOP_KEYS = {"name", "arch", "protection", "emulators", "hwmv2_name", "zephyr_board",
            "zephyr_modules"}
EMULATOR_KEYS = {
    "qemu": {"binary", "args", "timeout_s", "stall_check_s"},
    "renode": {"binary", "platform", "script", "uart", "commands", "timeout_s", "stall_check_s",
               "min_version", "uart_transport"},
}


def _dirs(directory) -> tuple[Path, ...]:
    return (directory,) if isinstance(directory, Path) else tuple(directory)


def known(directory=BOARDS_DIR) -> list[str]:
    """Board names in `directory` (or each of several, e.g. a project's own board dirs
    before the harness's)."""
    return sorted({p.stem for d in _dirs(directory) for p in Path(d).glob("*.yaml")})


def load(name: str, directory=BOARDS_DIR) -> Board:
    """The board file `name`.yaml from the first directory that has one."""
    name = canonical(name)
    dirs = _dirs(directory)
    path = next((Path(d) / f"{name}.yaml" for d in dirs if (Path(d) / f"{name}.yaml").is_file()),
                None)
    if path is None:
        raise UsageError(f"unknown board '{name}'",
                         f"known boards: {', '.join(known(dirs))} (files in "
                         f"{', '.join(map(str, dirs))})")
    try:
        data = yaml.safe_load(path.read_text())
        prot = data["protection"]
        board = Board(data["name"], data["arch"], prot["kind"], prot.get("detail", ""),
                      data.get("emulators") or {}, path, data.get("hwmv2_name"),
                      data.get("zephyr_board"), tuple(data.get("zephyr_modules") or ()))
    except (yaml.YAMLError, KeyError, TypeError) as exc:
        raise UsageError(f"{path}: malformed board file ({exc})",
                         "it needs name, arch, protection.kind and emulators") from None
    _check(board, data, path)
    return board


def beside(board: Board, name: str) -> Path:
    """A file a board file names (a Renode platform or script): relative to its directory."""
    return ((board.path.parent if board.path else BOARDS_DIR) / name).resolve()


def platform_file(board: Board, settings: dict) -> Path:
    """A Renode platform description, relative to the board file's directory."""
    return beside(board, settings["platform"])


def _check(board: Board, data: dict, path: Path) -> None:
    if board.protection not in PROTECTION_KINDS:
        raise UsageError(f"{path}: protection.kind must be one of {', '.join(PROTECTION_KINDS)}, "
                         f"not {board.protection!r}")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise UsageError(f"{path}: unknown key(s) {sorted(unknown)}", f"allowed: {sorted(TOP_KEYS)}")
    for emu, settings in board.emulators.items():
        allowed = EMULATOR_KEYS.get(emu)
        if allowed is None:
            raise UsageError(f"{path}: unknown emulator '{emu}'", f"known: {sorted(EMULATOR_KEYS)}")
        if not isinstance(settings, dict) or set(settings) - allowed:
            extra = sorted(set(settings) - allowed) if isinstance(settings, dict) else settings
            raise UsageError(f"{path}: {emu}: unknown key(s) {extra}", f"allowed: {sorted(allowed)}")
        if emu == "renode":
            wanted = settings.get("min_version")
            if wanted is not None and not (isinstance(wanted, str)
                                           and re.fullmatch(r"\d+\.\d+(\.\d+)?", wanted)):
                raise UsageError(f"{path}: renode min_version must be a quoted version like "
                                 f"\"1.14\", not {wanted!r}")
            _check_renode(board, settings, path)
        if emu == "qemu" and "binary" not in settings:
            raise UsageError(f"{path}: qemu needs binary: (e.g. qemu-system-arm)")


def _check_renode(board: Board, settings: dict, path: Path) -> None:
    """A platform description and its UART, or a Renode script (`script: zephyr`: the
    Zephyr board's own, found in the build; else a file relative to the board file)."""
    if "script" in settings:
        if "platform" in settings:
            raise UsageError(f"{path}: renode takes platform: or script:, not both",
                             "a script creates the machine itself")
        if settings["script"] == ZEPHYR_SCRIPT:
            return
        key = "script"
    elif "platform" in settings and "uart" in settings:
        key = "platform"
    else:
        raise UsageError(f"{path}: renode needs platform: and uart:, or script:",
                         "script: zephyr runs the Zephyr board's own support/*.resc")
    wanted = beside(board, settings[key])
    if not wanted.is_file():
        raise UsageError(f"{path}: renode {key} {wanted} not found",
                         f"{key}: is relative to the board file's directory")
