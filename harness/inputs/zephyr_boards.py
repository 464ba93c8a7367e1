"""What the workspace's own board metadata says about a board, as twister reads it:
the `<board>.yaml` whose `identifier:` is the board's Zephyr name (boards/<arch>/<board>/
in the old layout, boards/<vendor>/<board>/ in the hardware model v2), and in the v2
model the names twister also accepts for it (its aliases, from the directory's
board.yml: `qemu_x86` for `qemu_x86/atom`)."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import yaml

IDENTIFIER = re.compile(r"^identifier:\s*['\"]?([^\s'\"]+)", re.M)


@functools.lru_cache(maxsize=None)
def _index(zephyr_base: Path) -> dict[str, Path]:
    """identifier -> its board yaml, for every board of the workspace."""
    found = {}
    for path in sorted((zephyr_base / "boards").rglob("*.yaml")):
        if path.name in ("twister.yaml", "board.yml"):
            continue
        try:
            m = IDENTIFIER.search(path.read_text(errors="replace"))
        except OSError:
            continue
        if m:
            found.setdefault(m.group(1), path)
    return found


def _target(identifier: str, path: Path) -> tuple[str, set[str]]:
    """twister 4.x's name for the board and the names it also accepts: `board/qualifier`
    is also known as `board` when the qualifier has no further `/` and the board has a
    single SoC (board.yml beside the yaml); a yaml that names only `board` is that
    board's `board/soc`. Before the hardware model v2 (no board.yml): the identifier."""
    board, _, qualifier = identifier.partition("/")
    try:
        data = yaml.safe_load((path.parent / "board.yml").read_text()) or {}
    except (OSError, yaml.YAMLError):
        return identifier, {identifier}
    for entry in data.get("boards") or [data.get("board") or {}]:
        socs = entry.get("socs") or []
        if entry.get("name") != board or len(socs) != 1 or "/" in qualifier:
            continue
        target = identifier if qualifier else f"{board}/{socs[0].get('name')}"
        return target, {target, board}
    return identifier, {identifier}


def metadata(zephyr_base: Path, name: str) -> tuple[dict, set[str]]:
    """(the board yaml's data with twister's name for the board as `identifier`, the
    names twister knows the board by) for the Zephyr board `name` (an identifier or an
    alias); ({}, {name}) when the workspace has none."""
    index = _index(Path(zephyr_base))
    for identifier, path in index.items():
        if name != identifier and not name.startswith(identifier.split("/")[0]):
            continue
        target, aliases = _target(identifier, path)
        if name in aliases:
            try:
                data = yaml.safe_load(path.read_text()) or {}
            except yaml.YAMLError:
                data = {}
            return {**data, "identifier": target}, aliases
    return {}, {name}
