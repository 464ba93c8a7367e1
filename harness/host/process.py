"""Owned child processes: own process group, bounded escalating teardown."""
from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import signal
import subprocess
from pathlib import Path

from harness.host.files import write_atomic
from harness.host.lifeline import LIFELINE
from harness.host.sessions import (  # noqa: F401  (re-exported)
    cpu_seconds,
    kill_session,
    lower_threads,
    session_alive,
    session_members,
    session_rss_kib,
    session_threads,
)

log = logging.getLogger(__name__)


class OwnedProcess:
    """A child started in its own session (and process group), output to a file.

    `stop()` is idempotent and bounded: polite request -> SIGINT -> SIGTERM ->
    SIGKILL to everything in its session, each with a deadline. It records how the
    process ended in `ended_by` and the exit code in `returncode`.
    """

    def __init__(self, argv: list[str], log_path: Path, env: dict | None = None,
                 cwd: Path | None = None, keep_stdin_open: bool = False) -> None:
        self.argv = argv
        self.log_path = log_path
        self._log = open(log_path, "ab")
        try:
            # Some emulators quit at EOF on stdin: those get a pipe we never write to.
            stdin = subprocess.PIPE if keep_stdin_open else subprocess.DEVNULL
            self.proc = subprocess.Popen(argv, stdin=stdin, stdout=self._log,
                                         stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                         start_new_session=True)
        except OSError:
            self._log.close()
            raise
        self.sid = self.proc.pid
        LIFELINE.hold(self.sid)                 # ends with the harness, even on SIGKILL
        self.ended_by: str | None = None
        self._sent: str | None = None           # the last step of stop() taken, if any
        log.debug("started pid %d: %s", self.proc.pid, " ".join(argv))

    @property
    def pid(self) -> int:
        return self.proc.pid

    def poll(self) -> int | None:
        rc = self.proc.poll()
        if rc is not None and self.ended_by is None:
            # Seen from another thread while stop() runs: the end that step brought.
            self.ended_by = self._sent or "exited"
        return rc

    @property
    def returncode(self) -> int | None:
        return self.proc.returncode

    def stop(self, polite=None, grace: float = 1.5, hard: bool = False) -> dict:
        """Stop the process and everything in its group; return how it ended.
        `hard`: SIGKILL at once, for a process whose state nobody needs any more.
        SIGINT/SIGTERM to the harness wait until this is done (bounded, a few seconds)."""
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
        try:
            return self._stop(polite, grace, hard)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def _stop(self, polite, grace: float, hard: bool) -> dict:
        if self.proc.poll() is None:
            steps = [("quit", polite), ("SIGINT", signal.SIGINT),
                     ("SIGTERM", signal.SIGTERM), ("SIGKILL", signal.SIGKILL)]
            if hard:
                steps = steps[-1:]
            for name, action in steps:
                if action is None:
                    continue
                self._sent = name
                try:
                    action() if callable(action) else os.killpg(self.sid, action)
                except (OSError, ConnectionError) as exc:
                    log.debug("%s failed: %s", name, exc)
                    if name == "quit":
                        continue            # nothing asked: no grace to wait for
                if self._wait(grace if name == "quit" else 1.0):
                    self.ended_by = self.ended_by or name
                    break
        self.poll()
        self._kill_session_leftovers()
        LIFELINE.release(self.sid)
        self._log.close()
        if self.proc.stdin:
            self.proc.stdin.close()
        return {"ended_by": self.ended_by, "returncode": self.proc.returncode}

    def _wait(self, seconds: float) -> bool:
        try:
            self.proc.wait(timeout=seconds)
            return True
        except subprocess.TimeoutExpired:
            return False

    def _kill_session_leftovers(self) -> None:
        """Children of the process (e.g. mono under the renode launcher) die too."""
        kill_session(self.sid)


VERSION_CACHE = Path("~/.cache/zephyr-isolation-harness/tool-versions.json")


def which(name: str, environ: dict) -> str | None:
    """`name` resolved on the PATH of `environ` (the session's environment, captured once
    at the edge), so every part of the harness, `doctor` included, finds the same binary."""
    return shutil.which(name, path=environ.get("PATH", os.defpath))


@functools.lru_cache(maxsize=None)
def tool_version(argv: tuple) -> str:
    """First line of `argv --version`-style output. Cached per process, and on disk
    per (binary, size, mtime): Renode's --version alone costs a Mono start-up."""
    key = _binary_key(argv)
    cache = VERSION_CACHE.expanduser()
    known = _read_json(cache)
    if key and key in known:
        return known[key]
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, timeout=60,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"unknown ({exc})"
    text = (out.stdout or out.stderr).strip().splitlines()
    version = text[0] if text and out.returncode == 0 else "unknown"
    if key and version != "unknown":
        try:
            write_atomic(cache, json.dumps({**_read_json(cache), key: version}))
        except OSError:
            pass                               # a read-only HOME only costs time
    return version


def _binary_key(argv: tuple) -> str | None:
    """argv[0] is a resolved path (see which())."""
    if not os.path.isfile(argv[0]):
        return None
    real = os.path.realpath(argv[0])
    st = os.stat(real)
    return f"{' '.join(argv[1:])}|{real}|{st.st_size}|{st.st_mtime_ns}"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
