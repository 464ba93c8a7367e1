"""The project file of a firmware repository: `harness.yaml`, found by walking up from
the current directory (or named with --config). Every key is optional and checked;
command-line options override it. Relative paths are relative to the file.

    boards: [mps2_an385, my_board]       # default boards of run / matrix / prove
    emulators: [qemu, renode]            # default emulators
    board_dirs: [boards]                 # the project's own board files, before ours
    apps: [apps/blinky]                  # what `harness run` runs without --app
    test_roots: [tests]                  # what `harness matrix` runs without --app/-T
    out: build/harness                   # artifacts directory
    timeout: 30                          # host seconds per boot
    workspace: ~/zephyrproject           # the west workspace
    hardware_map: lab/boards.yaml        # the boards of `--device-testing` (docs/real-boards.md)
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness.errors import UsageError

FILE = "harness.yaml"
LISTS = ("boards", "emulators")
PATH_LISTS = ("board_dirs", "apps", "test_roots")
PATHS = ("out", "workspace", "hardware_map")


@dataclass(frozen=True)
class Project:
    path: Path
    boards: tuple = ()
    emulators: tuple = ()
    board_dirs: tuple = ()
    apps: tuple = ()
    test_roots: tuple = ()
    out: str | None = None
    workspace: str | None = None
    hardware_map: str | None = None      # twister's hardware map, for --device-testing
    timeout: float | None = None
    audit_domains: bool | None = None    # true: every run audits the firmware's memory
                                         # domains; false: none does; absent: as each app's
                                         # expectation says (audit: default:)
    extra: dict = field(default_factory=dict, compare=False)


def find(cwd: Path, explicit: str | None = None) -> Project | None:
    """--config FILE, else the nearest harness.yaml at or above `cwd` (None: there is none)."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise UsageError(f"project file {path} not found", "pass --config FILE")
        return load(path)
    for d in (cwd, *cwd.parents):
        if (d / FILE).is_file():
            return load(d / FILE)
    return None


def load(path: Path) -> Project:
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"{path}: cannot be read as YAML: {exc}") from None
    if not isinstance(data, dict):
        raise UsageError(f"{path}: a project file is a mapping of keys")
    allowed = {*LISTS, *PATH_LISTS, *PATHS, "timeout", "audit_domains"}
    unknown = set(data) - allowed
    if unknown:
        raise UsageError(f"{path}: unknown key(s) {sorted(unknown)}", f"allowed: {sorted(allowed)}")
    base = path.parent.resolve()
    values: dict = {}
    for key in LISTS + PATH_LISTS:
        items = data.get(key) or []
        if not isinstance(items, list) or not all(isinstance(i, str) and i for i in items):
            raise UsageError(f"{path}: {key} must be a list of names", f"e.g. {key}: [a, b]")
        values[key] = tuple(str(_resolve(base, i)) if key in PATH_LISTS else i for i in items)
    for key in PATH_LISTS:
        missing = [p for p in values[key] if not Path(p).is_dir()]
        if missing:
            raise UsageError(f"{path}: {key}: no such directory {missing[0]}")
    for key in PATHS:
        if data.get(key) is not None:
            if not isinstance(data[key], str):
                raise UsageError(f"{path}: {key} must be a path")
            values[key] = str(_resolve(base, data[key]))
    if data.get("timeout") is not None:
        if not isinstance(data["timeout"], (int, float)) or data["timeout"] <= 0:
            raise UsageError(f"{path}: timeout must be a positive number of host seconds")
        values["timeout"] = float(data["timeout"])
    if data.get("audit_domains") is not None:
        if not isinstance(data["audit_domains"], bool):
            raise UsageError(f"{path}: audit_domains must be true or false")
        values["audit_domains"] = data["audit_domains"]
    return Project(path, **values)


def _resolve(base: Path, text: str) -> Path:
    p = Path(text).expanduser()
    return p if p.is_absolute() else base / p
