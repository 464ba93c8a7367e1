"""`harness hardware-map`: write a twister hardware map from the connected USB serial
devices (--generate), or show the connected boards of one."""
from __future__ import annotations

import os
from pathlib import Path

import yaml

from harness.errors import UsageError
from harness.host.files import write_atomic
from harness.inputs import hardware_map


def add_parser(sub) -> None:
    hm = sub.add_parser("hardware-map", help="generate or show a twister hardware map "
                        "(the boards of the lab: docs/real-boards.md)")
    hm.add_argument("file", metavar="FILE", help="the hardware map (YAML, twister's format)")
    hm.add_argument("--generate", action="store_true",
                    help="scan the connected USB serial devices and write FILE (an existing "
                    "FILE keeps its platforms and settings; boards not found are marked "
                    "connected: false), as twister's --generate-hardware-map")
    hm.add_argument("--persistent", action="store_true",
                    help="name ports by their /dev/serial/by-id link, which survives a re-plug")


def run(args, environ) -> int:
    path = Path(args.file).expanduser()
    if args.generate:
        return generate(path, args.persistent)
    for d in hardware_map.load(path):
        state = "present" if os.path.exists(d.serial) else "MISSING"
        print(f"{' '.join(d.platforms):<24} {d.id:<20} {d.serial} ({state})  "
              f"{d.product}  runner={d.runner or '(board default)'}"
              + (f"  fixtures={','.join(d.fixtures)}" if d.fixtures else ""))
    return 0


def generate(path: Path, persistent: bool = False) -> int:
    ports, by_id = hardware_map.scan()
    found = hardware_map.detected(ports, by_id if persistent else None)
    existing = _existing(path)
    entries = hardware_map.merge(existing, found)
    write_atomic(path, hardware_map.dump(entries))
    unknown = sum(1 for e in entries if e.get("connected") and e.get("platform") == "unknown")
    print(f"{path}: {len(found)} board(s) connected, {len(entries)} in the map"
          + (f"; set platform: on the {unknown} new one(s)" if unknown else ""))
    return 0


def _existing(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    try:
        data = yaml.safe_load(path.read_text()) or []
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read hardware map {path}: {exc}") from None
    if not isinstance(data, list):
        raise UsageError(f"{path}: a hardware map is a list of boards")
    return data
