"""Where the project's data lives (the repository this package sits in)."""
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BOARDS_DIR = ROOT / "boards"
FIRMWARE_DIR = ROOT / "firmware"
APPS_DIR = FIRMWARE_DIR / "apps"
