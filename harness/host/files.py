"""Small file helpers shared by the stages: atomic writes and one-line log tails."""
from __future__ import annotations

import os
import threading
from pathlib import Path


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` through a temporary file and a rename, so parallel
    readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError as exc:
        raise OSError(exc.errno, exc.strerror, str(path)) from None
    finally:
        tmp.unlink(missing_ok=True)


def tail(data: bytes | str, n: int = 5) -> str:
    """The last `n` lines of an emulator's output, joined on one line."""
    text = data.decode(errors="replace") if isinstance(data, bytes) else data
    return " | ".join(text.splitlines()[-n:])
