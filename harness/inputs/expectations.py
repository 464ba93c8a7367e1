"""Expectation files (expect.yaml) read from disk into a judging.expect spec."""
from __future__ import annotations

from pathlib import Path

import yaml

from harness.errors import UsageError
from harness.judging.expect import Expectation, parse


def load(path: str | Path) -> Expectation:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise UsageError(f"expectation file not found: {path}",
                         "pass --expect FILE or add expect.yaml next to the app") from None
    except yaml.YAMLError as exc:
        raise UsageError(f"{path}: not valid YAML: {exc}") from None
    return parse(data, str(path))
