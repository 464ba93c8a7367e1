"""One run per board at a time, across threads and harness processes on one host:
an flock on a file per board id (released by the kernel when its holder dies, so a
killed harness never leaves a board locked). The file names its holder."""
from __future__ import annotations

import fcntl
import os
import re
import sys
import tempfile
from pathlib import Path


def default_dir() -> Path:
    """Where the lock files live: per user, per host."""
    return Path(tempfile.gettempdir()) / f"zephyr-harness-boards-{os.getuid()}"


class BoardLock:
    """A held lock; release() is idempotent."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)                      # closing drops the flock


def _path(lock_dir: Path, key: str) -> Path:
    return lock_dir / (re.sub(r"[^A-Za-z0-9._-]", "_", key) + ".lock")


def try_lock(lock_dir: Path, key: str, what: str = "") -> BoardLock | None:
    """The lock of board `key`, or None when another run holds it."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = _path(lock_dir, key)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    os.ftruncate(fd, 0)
    os.write(fd, f"pid {os.getpid()} ({' '.join(sys.argv[:3])}) {what}\n".encode())
    return BoardLock(path, fd)


def holder(lock_dir: Path, key: str) -> str:
    """Who holds board `key`'s lock, as its holder wrote it ('' if unknown)."""
    try:
        return _path(lock_dir, key).read_text().strip()
    except OSError:
        return ""
