"""Where the project's data lives: the package data of an installed wheel
(harness.data.boards / .firmware / .robot), or the repository's top-level boards/,
firmware/ and robot/ when the package runs from a checkout (editable installs map
the package data onto those same directories)."""
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _data(name: str) -> Path:
    try:
        spec = importlib.util.find_spec(f"harness.data.{name}")
    except ModuleNotFoundError:
        spec = None
    for location in (spec.submodule_search_locations or []) if spec else []:
        if Path(location).is_dir():
            return Path(location).resolve()
    return ROOT / name


BOARDS_DIR = _data("boards")
FIRMWARE_DIR = _data("firmware")
APPS_DIR = FIRMWARE_DIR / "apps"
ROBOT_DIR = _data("robot")
