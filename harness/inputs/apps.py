"""Apps: firmware/apps/<name>/app.yaml (a Zephyr sample or our own source) or a path."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.errors import UsageError
from harness.host.paths import APPS_DIR

DEFAULT_APP = "prod_consumer"


@dataclass(frozen=True)
class App:
    name: str
    expect: Path
    boards: tuple
    zephyr_sample: str | None = None   # path inside ZEPHYR_BASE
    source: Path | None = None         # our own sources (or a user's directory)
    cmake_args: tuple = ()             # a test suite's extra_args, as CMake arguments
    extra_configs: tuple = ()          # a test suite's extra_configs (Kconfig lines)
    overlay_confs: tuple = ()          # a test suite's extra_overlay_confs (Kconfig files)

    def source_dir(self, zephyr_base: Path) -> Path:
        return self.source if self.source else zephyr_base / self.zephyr_sample


def known() -> list[str]:
    return sorted(p.parent.name for p in APPS_DIR.glob("*/app.yaml"))


def is_suite_dir(ref: str) -> bool:
    """A Zephyr app directory that states its tests in sample.yaml / testcase.yaml and
    has no expect.yaml of ours (which would win)."""
    path = Path(ref).expanduser()
    return (path.is_dir() and not (path / "expect.yaml").is_file()
            and not (path / "app.yaml").is_file()
            and any((path / n).is_file() for n in ("sample.yaml", "testcase.yaml")))


def load(ref: str, expect: str | None = None, judged: bool = True) -> App:
    """`ref` is an app name under firmware/apps or a path to a Zephyr app directory.
    `judged=False`: an app that is only booted and talked to (an interactive session, a
    Robot suite's firmware) needs no expectation file."""
    path = Path(ref).expanduser()
    if (APPS_DIR / ref / "app.yaml").is_file():
        return _from_file(APPS_DIR / ref / "app.yaml", expect)
    if (path / "app.yaml").is_file():
        return _from_file(path / "app.yaml", expect)
    if path.is_dir() and (path / "CMakeLists.txt").is_file():
        guess = path / "expect.yaml"
        chosen = Path(expect) if expect else guess
        if not chosen.is_file() and judged:
            raise UsageError(f"app {path} has no expectation file: neither {guess.name} nor a "
                             "sample.yaml / testcase.yaml",
                             f"pass --expect FILE (e.g. {APPS_DIR / DEFAULT_APP / 'expect.yaml'}), "
                             "or add a sample.yaml with a console or ztest harness")
        return App(path.resolve().name, chosen.resolve() if chosen.is_file() else Path(), (),
                   source=path.resolve())
    raise UsageError(f"unknown app '{ref}': not a name under {APPS_DIR} nor a directory "
                     "with a CMakeLists.txt", f"known apps: {', '.join(known())}")


def _from_file(path: Path, expect: str | None) -> App:
    try:
        data = yaml.safe_load(path.read_text())
        src = data.get("source")
        return App(data["name"], Path(expect) if expect else path.parent / data["expect"],
                   tuple(data.get("boards", ())), data.get("zephyr_sample"),
                   (path.parent / src).resolve() if src else None)
    except (yaml.YAMLError, KeyError, TypeError, AttributeError) as exc:
        raise UsageError(f"{path}: malformed app file ({exc})",
                         "it needs name, expect, and zephyr_sample or source") from None
