"""Small file helpers shared by the stages: atomic writes and one-line log tails."""
from __future__ import annotations

import datetime
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


def new_run_dir(out_dir: Path, app: str, board: str, emu: str) -> Path:
    """A new run directory runs/<app>/<board>.<emu>/<timestamp>, `latest` beside it."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f") + f"-{os.getpid()}"
    parent = out_dir / "runs" / app / f"{board}.{emu}"
    run_dir = parent / stamp
    run_dir.mkdir(parents=True)
    tmp_link = parent / f".latest-{stamp}"
    tmp_link.symlink_to(stamp)
    os.replace(tmp_link, parent / "latest")      # atomic, also with parallel runs
    return run_dir
