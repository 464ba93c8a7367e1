"""Find the Zephyr workspace and tell which Zephyr it holds.

Search order: an explicit path, then ZEPHYR_BASE, then the west workspace
around the current directory, then ~/zephyrproject (Zephyr's default).
"""
from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from harness.errors import SetupError

DEFAULT = Path("~/zephyrproject")
SETUP_HINT = ("run `harness setup` (or `harness setup --mirror DIR` without network), "
              "or pass --workspace PATH to an existing west workspace")


@dataclass(frozen=True)
class Workspace:
    topdir: Path            # the west workspace (holds .west/), or the zephyr dir's parent
    zephyr_base: Path
    found_by: str

    def version(self) -> str:
        return zephyr_version(self.zephyr_base)

    def revision(self) -> str:
        return git_head(self.zephyr_base)

    def modules(self) -> set[str]:
        """The Zephyr modules of the workspace, by the names Zephyr knows them by: a
        module.yml's `name:`, else its directory (modules/hal/stm32: stm32, hal_stm32)."""
        names = set()
        for yml in (p for depth in ("*", "*/*", "*/*/*")
                    for p in self.topdir.glob(f"{depth}/zephyr/module.yml")):
            folder = yml.parent.parent
            found = re.search(r"^name:\s*(\S+)", yml.read_text(errors="replace"), re.M)
            names |= {found.group(1)} if found else {folder.name,
                                                     f"{folder.parent.name}_{folder.name}"}
        return names

    def missing_modules(self, board) -> list[str]:
        """Modules the board needs that this west workspace lacks. Without west (a bare
        zephyr tree) modules come from ZEPHYR_MODULES or not at all: none is assumed
        missing."""
        if not board.zephyr_modules or not (self.topdir / ".west").is_dir():
            return []
        return sorted(set(board.zephyr_modules) - self.modules())


def find(explicit: str | None, zephyr_base_env: str | None, cwd: Path, home: Path) -> Workspace:
    candidates = []
    if explicit:
        candidates.append((Path(explicit).expanduser(), "--workspace"))
    if zephyr_base_env:
        candidates.append((Path(zephyr_base_env), "ZEPHYR_BASE"))
    around = _west_topdir(cwd)
    if around:
        candidates.append((around, f"west workspace around {cwd}"))
    candidates.append((home / "zephyrproject", "default ~/zephyrproject"))
    problems = []
    for path, how in candidates:
        ws, problem = _check(path.resolve(), how)
        if ws:
            return ws
        problems.append(f"{how}: {problem}")
        if how in ("--workspace", "ZEPHYR_BASE"):
            break                   # an explicit choice that is broken is an error, not a miss
    raise SetupError("no usable Zephyr workspace: " + "; ".join(problems), SETUP_HINT)


def _check(path: Path, how: str) -> tuple[Workspace | None, str]:
    if not path.exists():
        return None, f"{path} does not exist"
    if (path / "VERSION").is_file() and (path / "cmake").is_dir():
        zephyr = path                               # a zephyr tree itself
        top = _west_topdir(path) or path.parent
    else:
        top, zephyr = path, path / "zephyr"
        if not (zephyr / "VERSION").is_file():
            return None, f"{path} has no zephyr/ checkout (half set up?)"
    if not (zephyr / "samples").is_dir():
        return None, f"{zephyr} is incomplete (no samples/)"
    return Workspace(top, zephyr, how), ""


def _west_topdir(start: Path) -> Path | None:
    for d in [start, *start.parents]:
        if (d / ".west").is_dir():
            return d
    return None


VERIFIED = ("3.0.99", "3.4.99", "4.0.0", "4.3.0")   # run end to end here (docs/zephyr-versions.md)


def _major_minor(version: str) -> tuple[int, int]:
    major, minor = version.split(".")[:2]
    return int(major), int(minor)


def verified(version: str) -> bool:
    """True when a Zephyr of this major.minor was run end to end here."""
    try:
        return _major_minor(version) in {_major_minor(v) for v in VERIFIED}
    except ValueError:
        return False


def unverified(version: str) -> str | None:
    """A note when `version` is not one this harness was verified on (None when it is)."""
    names = ", ".join(VERIFIED)
    try:
        major_minor = _major_minor(version)
    except ValueError:
        return f"Zephyr version {version!r} not understood; verified on {names}"
    if verified(version):
        return None
    if _major_minor(VERIFIED[0]) < major_minor < _major_minor(VERIFIED[-1]):
        return (f"Zephyr {version} lies between the versions this harness was verified on "
                f"({names}); it is expected to work, but was not run here")
    return (f"Zephyr {version} is outside the versions this harness was verified on "
            f"({names}); builds and judging may differ")


def zephyr_version(zephyr_base: Path) -> str:
    text = (zephyr_base / "VERSION").read_text()
    f = dict(re.findall(r"^(\w+)\s*=\s*(\S*)", text, re.M))
    return f"{f.get('VERSION_MAJOR')}.{f.get('VERSION_MINOR')}.{f.get('PATCHLEVEL')}"


def git_head(repo: Path) -> str:
    try:
        out = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                             text=True, timeout=10, stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return out.stdout.strip() or "unknown"
