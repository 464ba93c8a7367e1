"""The boards of a lab: twister's hardware map (`--hardware-map FILE`), read into typed
devices, and generated from the connected USB serial devices.

One entry per board, as twister writes and reads it (scripts/schemas/twister/
hwmap-schema.yaml), plus `flash_command` (our own, for labs west does not cover):

    - platform: nrf52840dk/nrf52840     # a Zephyr board name (or a list of them)
      id: "683007782"                   # the probe's serial number: --dev-id for west flash
      product: J-Link
      runner: nrfjprog                  # west flash --runner (default: the board's own)
      runner_params: [--softreset]      # after `--` on the west flash command line
      serial: /dev/ttyACM0              # the board's UART
      baud: 115200                      # twister's key; serial_baud is read too
      connected: true
      fixtures: [gpio_loopback]
      pre_script: ./power-on.sh         # before flashing; post_flash_script after it;
      post_script: ./power-off.sh       # post_script after the run (relative to this file)
      flash_timeout: 60                 # host seconds
      flash_command: [./flash.sh, "{hex}", "{build_dir}"]   # instead of west flash

Only connected entries with a serial port are used (as twister does).
"""
from __future__ import annotations

import string
from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.errors import UsageError
from harness.inputs import boards

DEFAULT_BAUD = 115200
DEFAULT_FLASH_TIMEOUT_S = 60.0
PLACEHOLDERS = ("elf", "hex", "bin", "build_dir")
TWISTER_KEYS = {"available", "connected", "id", "notes", "platform", "probe_id", "product",
                "runner", "runner_params", "serial_pty", "serial", "baud", "post_script",
                "post_flash_script", "pre_script", "fixtures", "flash_timeout",
                "flash_with_test", "flash_before", "script_param"}
KEYS = TWISTER_KEYS | {"serial_baud", "flash_command"}
SCRIPTS = ("pre_script", "post_flash_script", "post_script")
# As twister's HardwareMap (hardwaremap.py): the makers whose USB serial devices are
# boards, and the west runner a debug probe's product name implies.
MANUFACTURERS = ("ARM", "SEGGER", "MBED", "STMicroelectronics", "Atmel Corp.",
                 "Texas Instruments", "Silicon Labs", "NXP", "NXP Semiconductors",
                 "Microchip Technology Inc.", "FTDI", "Digilent", "Microsoft", "Nuvoton",
                 "Espressif", "SecuringHardware.com")
RUNNERS = {"DAPLink CMSIS-DAP": "pyocd", "MBED CMSIS-DAP": "pyocd", "J-Link": "jlink",
           "J-Link OB": "jlink", "STM32 STLink": "openocd", "STLINK-V3": "openocd",
           "TTL232R-3V3": "dediprog", "MCP2200 USB Serial Port Emulator": "dediprog"}
RUNNER_PREFIXES = {"XDS110": "openocd", "Tigard": "openocd"}


@dataclass(frozen=True)
class Device:
    """One board of the lab."""
    platforms: tuple            # Zephyr board names it answers to
    id: str
    serial: str
    baud: int = DEFAULT_BAUD
    product: str = "unknown"
    runner: str | None = None            # west flash --runner; None: the board's default
    runner_params: tuple = ()            # after `--`
    fixtures: tuple = ()
    pre_script: str | None = None
    post_flash_script: str | None = None
    post_script: str | None = None
    flash_timeout_s: float = DEFAULT_FLASH_TIMEOUT_S
    flash_command: tuple = ()            # argv with {elf} {hex} {bin} {build_dir}

    def serves(self, board) -> bool:
        """Whether this device is a `board` (a board file), under either board model."""
        names = {board.name, board.zephyr_board, board.hwmv2_name, boards.HWMV2.get(board.name)}
        return any(p in names or boards.canonical(p) == board.name for p in self.platforms)

    @property
    def label(self) -> str:
        return f"{self.id} on {self.serial}"


def load(path: str | Path) -> list[Device]:
    """The connected devices of a hardware map file."""
    path = Path(path).expanduser()
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read hardware map {path}: {exc}",
                         "pass --hardware-map FILE (`harness hardware-map --generate` "
                         "writes one)") from None
    if data is None:
        data = []
    if not isinstance(data, list) or not all(isinstance(d, dict) for d in data):
        raise UsageError(f"{path}: a hardware map is a list of boards (mappings)",
                         "see docs/real-boards.md")
    found = [parse(entry, path, i) for i, entry in enumerate(data, 1)]
    return [d for d in found if d is not None]


def parse(entry: dict, path: Path, n: int = 1) -> Device | None:
    """One entry (None: not connected, or no serial port: left out, as by twister)."""
    where = f"{path}: board {n}"
    unknown = set(entry) - KEYS
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {sorted(unknown)}", f"allowed: {sorted(KEYS)}")
    for key in ("platform", "id"):
        if entry.get(key) in (None, ""):
            raise UsageError(f"{where}: {key} is required", "see docs/real-boards.md")
    if not entry.get("connected") or not entry.get("serial"):
        return None
    platform = entry["platform"]
    platforms = tuple(platform.split() if isinstance(platform, str) else platform)
    base = path.parent.resolve()
    return Device(
        platforms=tuple(map(str, platforms)), id=str(entry["id"]), serial=str(entry["serial"]),
        baud=_number(entry.get("baud", entry.get("serial_baud", DEFAULT_BAUD)), "baud", where),
        product=str(entry.get("product") or "unknown"), runner=entry.get("runner") or None,
        runner_params=_strings(entry.get("runner_params"), "runner_params", where),
        fixtures=_strings(entry.get("fixtures"), "fixtures", where),
        **{k: _script(base, entry.get(k)) for k in SCRIPTS},
        flash_timeout_s=float(_number(entry.get("flash_timeout", DEFAULT_FLASH_TIMEOUT_S),
                                      "flash_timeout", where)),
        flash_command=flash_argv(entry.get("flash_command"), where, base))


def flash_argv(value, where: str, base: Path | None = None) -> tuple:
    """A flash command as given (checked: a list of strings naming known placeholders);
    a relative program path (./flash.sh) is relative to the map file."""
    argv = _strings(value, "flash_command", where)
    for arg in argv:
        for _, name, _, _ in string.Formatter().parse(arg):
            if name is not None and name not in PLACEHOLDERS:
                raise UsageError(f"{where}: flash_command: unknown placeholder {{{name}}}",
                                 f"known: {', '.join('{%s}' % p for p in PLACEHOLDERS)}")
    if argv and base is not None and argv[0].startswith(("./", "../")):
        argv = (str(base / argv[0]), *argv[1:])
    return argv


def _strings(value, key: str, where: str) -> tuple:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(v, (str, int)) for v in value):
        raise UsageError(f"{where}: {key} must be a list of strings", f"e.g. {key}: [a, b]")
    return tuple(map(str, value))


def _number(value, key: str, where: str) -> int:
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value <= 0:
        raise UsageError(f"{where}: {key} must be a positive number, not {value!r}")
    return int(value)


def _script(base: Path, value) -> str | None:
    if not value:
        return None
    p = Path(str(value)).expanduser()
    return str(p if p.is_absolute() else base / p)


def for_board(devices: list[Device], board) -> list[Device]:
    return [d for d in devices if d.serves(board)]


# -- generation -------------------------------------------------------------------
def runner_for(product: str | None) -> str:
    """The west runner a debug probe's USB product name implies ('unknown' if none)."""
    if product in RUNNERS:
        return RUNNERS[product]
    return next((r for prefix, r in RUNNER_PREFIXES.items() if (product or "").startswith(prefix)),
                "unknown")


def detected(ports, persistent: dict | None = None) -> list[dict]:
    """Hardware map entries for the boards among `ports` (serial.tools.list_ports.comports():
    objects with device, serial_number, product, manufacturer, location). `persistent`
    maps /dev/ttyACMx to its /dev/serial/by-id link, which survives a re-plug."""
    makers = {m.casefold() for m in MANUFACTURERS}
    found = []
    for p in ports:
        if not p.manufacturer or p.manufacturer.casefold() not in makers:
            continue
        if p.manufacturer in ("Texas Instruments", "SecuringHardware.com") \
                and not (p.location or "").endswith("0"):
            continue                        # one probe, several ports: the first is the UART
        found.append({"connected": True, "id": p.serial_number or p.device,
                      "platform": "unknown", "product": p.product or "unknown",
                      "runner": runner_for(p.product),
                      "serial": (persistent or {}).get(p.device, p.device)})
    return sorted(found, key=lambda e: e["serial"])


def merge(existing: list[dict], found: list[dict]) -> list[dict]:
    """An existing map updated with what is connected now, as twister saves it: known
    boards (same id and product) keep their platform and settings and get the port they
    are on now; the others are marked disconnected; new ones are added."""
    merged = [{**e, "connected": False, "serial": None} for e in existing]
    for new in found:
        match = next((e for e in merged if e.get("id") == new["id"] and not e["connected"]
                      and e.get("product") == new["product"]), None)
        if match is None:
            merged.append(new)
        else:
            match.update(connected=True, serial=new["serial"])
    return merged


def scan() -> tuple[list, dict]:
    """The host's serial ports and their persistent names (Linux /dev/serial/by-id)."""
    from serial.tools import list_ports
    by_id = Path("/dev/serial/by-id")
    persistent = {str(link.resolve()): str(link) for link in by_id.iterdir()} \
        if by_id.is_dir() else {}
    return list(list_ports.comports()), persistent


def dump(entries: list[dict]) -> str:
    return yaml.safe_dump(entries, default_flow_style=False, sort_keys=False)
