"""`filter:` expressions of a scenario, evaluated after configuration as twister does:
with the workspace's own parser (scripts/pylib/twister/expr_parser.py, which needs
`ply`) over ARCH, PLATFORM, the environment, the build's .config and CMakeCache,
and its devicetree (zephyr/edt.pickle, read with the workspace's devicetree package).
"""
from __future__ import annotations

import functools
import importlib.util
import os
import pickle
import re
import shutil
import sys
import tempfile
import threading
from pathlib import Path

from harness.build.west_build import cmake_cache
from harness.errors import SetupError

CONFIG_LINE = re.compile(r"^(CONFIG_[A-Za-z0-9_]+)=(.*)$")


def passes(expression: str, *, arch: str, board: str, build_dir: Path, zephyr_base: Path,
           environ: dict) -> bool:
    """True when `expression` holds for the configured build in `build_dir`."""
    parser = _parser(str(zephyr_base))
    data = {"ARCH": arch, "PLATFORM": board, **environ, **_config(build_dir / "zephyr" / ".config"),
            **cmake_cache(build_dir)}
    edt = _edt(build_dir / "zephyr" / "edt.pickle", zephyr_base)
    try:
        return bool(parser.parse(expression, data, edt))
    except (SyntaxError, ValueError) as exc:     # this run fails with the reason, not the matrix
        raise SetupError(f"filter {expression!r} cannot be evaluated: {exc}",
                         "correct the scenario's filter: in its testcase.yaml / sample.yaml") from None


_LOCK = threading.Lock()


def _parser(zephyr_base: str):
    with _LOCK:                                  # parallel runs: load it once
        return _load_parser(zephyr_base)


@functools.lru_cache(maxsize=None)
def _load_parser(zephyr_base: str):
    path = Path(zephyr_base) / "scripts" / "pylib" / "twister" / "expr_parser.py"
    if not path.is_file():
        raise SetupError(f"{path} not found: this Zephyr has no twister filter parser",
                         "use a Zephyr 3.0-3.4 workspace")
    try:
        import ply  # noqa: F401  (the parser exits the process without it)
    except ImportError:
        raise SetupError("the Python package 'ply' is missing (twister's filter parser needs it)",
                         "pip install ply (it is a dependency of the harness)") from None
    spec = importlib.util.spec_from_file_location("harness_twister_expr_parser", path)
    module = importlib.util.module_from_spec(spec)
    tables = Path(tempfile.mkdtemp(prefix="harness-parsetab-"))
    saved = os.environ.get("PARSETAB_DIR")
    os.environ["PARSETAB_DIR"] = str(tables)     # ply's tables: not into the user's tree
    sys.modules[spec.name] = module              # ply's lex reads the module's source
    try:
        spec.loader.exec_module(module)
    except Exception as exc:                     # noqa: BLE001  (their code, any failure)
        sys.modules.pop(spec.name, None)
        raise SetupError(f"twister's filter parser {path} failed to load: {exc!r}",
                         "check that the workspace's Python requirements are installed") from None
    finally:
        os.environ.pop("PARSETAB_DIR", None) if saved is None else os.environ.update(PARSETAB_DIR=saved)
        shutil.rmtree(tables, ignore_errors=True)
    return module


def _config(path: Path) -> dict:
    text = path.read_text(errors="replace") if path.is_file() else ""
    return {m.group(1): m.group(2).strip() for m in map(CONFIG_LINE.match, text.splitlines()) if m}


def _edt(path: Path, zephyr_base: Path):
    if not path.is_file():
        return None
    src = zephyr_base / "scripts" / "dts" / "python-devicetree" / "src"
    if str(src) not in sys.path:
        sys.path.append(str(src))              # edt.pickle holds devicetree.edtlib objects
    with open(path, "rb") as f:
        return pickle.load(f)
