"""The lifeline: emulator and build sessions end when the harness process ends,
however it ends (SIGKILL included).

The harness starts one watcher (`python -m harness.host.lifeline`, in a session of its
own) with the read end of a pipe as its stdin; only the harness holds the write
end. The harness writes `+SID` for every child session it starts and `-SID` once
it has stopped it. When the write end closes (the harness exited or was killed:
the kernel closes its descriptors), the watcher SIGKILLs every session still
listed and exits.
"""
from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

from harness.host.sessions import kill_session


class Lifeline:
    """The harness's end: one watcher per harness process, started on first use."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._pid_started_in: int | None = None

    def hold(self, sid: int) -> None:
        self._send(f"+{sid}\n")

    def release(self, sid: int) -> None:
        self._send(f"-{sid}\n")

    def _send(self, text: str) -> None:
        with self._lock:
            if self._fd is None or self._pid_started_in != os.getpid():
                self._start()
            try:
                os.write(self._fd, text.encode())
            except OSError:                   # the watcher is gone: start another
                self._start()
                os.write(self._fd, text.encode())

    def _start(self) -> None:
        read_end, write_end = os.pipe()       # both non-inheritable; stdin= dups the read end
        try:
            # cwd and environment of its own: nothing of a run's directories or HOME
            env = {k: v for k, v in os.environ.items() if k == "PATH"}
            here = str(Path(__file__).resolve().parents[2])       # importable from a checkout too
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [here, os.environ.get("PYTHONPATH")]))
            subprocess.Popen([sys.executable, "-m", "harness.host.lifeline"], stdin=read_end,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             start_new_session=True, close_fds=True, cwd="/", env=env)
        finally:
            os.close(read_end)
        self._fd, self._pid_started_in = write_end, os.getpid()


LIFELINE = Lifeline()      # one per harness process, like its descriptors


def watch(stream) -> set[int]:
    """Read +SID / -SID lines until EOF; the sessions still held."""
    held: set[int] = set()
    for raw in stream:
        line = raw.strip()
        if line[:1] in (b"+", b"-") and line[1:].isdigit():
            (held.add if line[:1] == b"+" else held.discard)(int(line[1:]))
    return held


def main() -> int:
    for sid in watch(sys.stdin.buffer):
        kill_session(sid, timeout=3.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
