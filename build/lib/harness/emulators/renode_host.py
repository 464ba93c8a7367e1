"""A Renode process, and the pool that lends one to each Renode run of a session.

Renode's start-up (Mono, then the monitor) costs about 2 s of host time and its
first platform load another second of JIT warm-up, more than a whole run on
QEMU. So, as Renode's own renode-test keeps one Renode for a suite and calls
`Reset Emulation` between tests, a session keeps idle Renode processes and each
run starts from a fresh emulation: the monitor's `Clear` (what `Reset Emulation`
calls) drops every machine, peripheral, memory, terminal and the virtual clock.

Only one run uses a host at a time. A host that cannot be cleared within a
bounded time, or whose process died, is stopped instead of returned; closing
the pool (the session's end) stops every host it started, so no Renode
outlives the harness invocation.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from harness.deadline import Deadline
from harness.emulators.monitor import Monitor
from harness.errors import EmulatorError, SetupError
from harness.files import tail
from harness.process import OwnedProcess
from harness.uart import free_port

STARTUP_TIMEOUT_S = 60.0     # host seconds for Mono + Renode to open the monitor
CLEAR_TIMEOUT_S = 10.0       # host seconds for `Clear` before the host is stopped instead


class RenodeHost:
    """One headless Renode with its monitor, own HOME and TMPDIR (Renode and Mono
    write ~/.config, ~/.mono and /tmp/renode-<pid>), output in `log_path`."""

    def __init__(self, binary: str, scratch: Path, environ: dict) -> None:
        self.scratch = scratch
        home, tmp = scratch / "home", scratch / "tmp"
        home.mkdir(parents=True, exist_ok=True)
        tmp.mkdir(exist_ok=True)
        self.binary = binary
        self.log_path = scratch / "renode.log"
        self.port = free_port()
        self.runs = 0
        self.monitor: Monitor | None = None
        try:
            self.proc = OwnedProcess(
                [binary, "--disable-xwt", "--plain", "--port", str(self.port)], self.log_path,
                env={**environ, "HOME": str(home), "TMPDIR": str(tmp)}, cwd=scratch,
                keep_stdin_open=True)          # Renode quits at EOF on stdin
        except OSError as exc:
            raise SetupError(f"cannot start {binary}: {exc.strerror}") from None
        try:
            self.monitor = Monitor(self.port, Deadline(STARTUP_TIMEOUT_S),
                                   alive=lambda: self.proc.poll() is None)
        except EmulatorError as exc:
            self.stop()
            last = tail(self.log_since(0))
            raise EmulatorError(exc.message, f"Renode's output: {last or '(none)'}; "
                                f"full log: {self.log_path}") from None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size
        except OSError:
            return 0

    def log_since(self, offset: int) -> bytes:
        try:
            with open(self.log_path, "rb") as f:
                f.seek(offset)
                return f.read()
        except OSError:
            return b""

    def clear(self) -> bool:
        """A fresh, empty emulation; False when Renode did not manage it in time."""
        if not self.alive() or self.monitor is None:
            return False
        try:
            self.monitor.execute("Clear", timeout=CLEAR_TIMEOUT_S)
        except EmulatorError:
            return False
        return True

    def stop(self) -> dict:
        """quit over the monitor, then SIGINT/SIGTERM/SIGKILL to its process group."""
        monitor = self.monitor
        ended = self.proc.stop(polite=(lambda: monitor.send("quit")) if monitor else None)
        if monitor:
            monitor.close()
        shutil.rmtree(self.scratch / "home", ignore_errors=True)
        shutil.rmtree(self.scratch / "tmp", ignore_errors=True)
        return ended


class HostPool:
    """The Renode hosts of one session, by launcher; thread-safe. It knows every
    host it started, lent or idle, so closing it stops them all, even one whose
    run was interrupted between its end and its return to the pool."""

    def __init__(self, scratch_parent: Path, environ: dict) -> None:
        self.scratch_parent = scratch_parent
        self.environ = environ
        self._idle: list[RenodeHost] = []
        self._all: list[RenodeHost] = []
        self._lock = threading.Lock()
        self._closed = False

    def take(self, binary: str) -> RenodeHost:
        """An idle live host for `binary`, else a new one (2-3 s of start-up)."""
        with self._lock:
            if self._closed:
                raise EmulatorError("the session is closing: no new Renode run starts")
            dead = [h for h in self._idle if not h.alive()]
            ready = [h for h in self._idle if h.binary == binary and h not in dead]
            for host in dead + ready[:1]:
                self._idle.remove(host)
        for host in dead:
            self._retire(host)
        if ready:
            return ready[0]
        self.scratch_parent.mkdir(parents=True, exist_ok=True)
        host = RenodeHost(binary, Path(tempfile.mkdtemp(prefix="renode-", dir=self.scratch_parent)),
                          self.environ)
        with self._lock:
            self._all.append(host)
            closed = self._closed
        if closed:                               # closed while this one was starting
            self._retire(host)
            raise EmulatorError("the session is closing: no new Renode run starts")
        return host

    def give(self, host: RenodeHost) -> dict:
        """Take `host` back after a run: cleared and kept idle, else stopped.
        Returns how the run's emulator ended (for the run's teardown record)."""
        with self._lock:
            keep = not self._closed
        if keep and host.clear():
            with self._lock:
                if not self._closed:
                    self._idle.append(host)
                    return {"ended_by": "cleared", "returncode": None, "kept_pid": host.proc.pid}
        return self._retire(host)

    def close(self) -> None:
        """Stop every host (bounded per host); later gives stop their host."""
        with self._lock:
            self._closed, hosts, self._idle = True, list(self._all), []
        for host in hosts:
            self._retire(host)

    def _retire(self, host: RenodeHost) -> dict:
        ended = host.stop()                      # idempotent: a stopped host stays stopped
        _remove(host.scratch)
        with self._lock:
            if host in self._all:
                self._all.remove(host)
        return ended


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    try:
        os.rmdir(path.parent)              # the pool's directory, once empty
    except OSError:
        pass
