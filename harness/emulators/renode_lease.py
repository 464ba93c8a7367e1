"""A Renode lent by `harness serve` (renode_server) for one run: the client side.

It stands where the run's own Renode process would (poll, stop), so the Robot run
drives either alike. The connection is the lease: it stays open for the run, and
closing it without `release` (this process died) makes the server stop that Renode.
"""
from __future__ import annotations

import json
import os
import socket
from pathlib import Path

from harness.emulators.renode_server import LEASE_WAIT_S, SERVER_ENV
from harness.errors import SetupError

RELEASE_WAIT_S = 15.0       # the server's answer to a release (it only schedules a Clear)


class Lease:
    def __init__(self, sock: socket.socket, file, info: dict) -> None:
        self._sock = sock
        self._file = file
        self.info = info
        self.robot_port: int = info["robot_port"]
        self.pid: int = info["pid"]
        self.log_path = Path(info["log"])
        self.offset: int = info["offset"]
        self.released: dict | None = None

    def poll(self) -> int | None:
        """None while the lent Renode lives (as OwnedProcess.poll); 1 once it is gone."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return 1
        except PermissionError:
            pass
        return None

    def drop(self) -> None:
        """Close the lease without giving the Renode back (as if this process died)."""
        self.released = {"ended_by": "dropped", "returncode": None}
        self._file.close()
        self._sock.close()

    def log(self) -> bytes:
        """Renode's output since the lease began (its UART analyzer lines included)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self.offset)
                return f.read()
        except OSError:
            return b""

    def stop(self, in_order: bool = True, **_ignored) -> dict:
        """Give the Renode back: in order (kept, reset for the next lease), or not
        (the server stops it). Idempotent; returns how the server took it back."""
        if self.released is not None:
            return self.released
        self.released = {"ended_by": "server", "returncode": None, "kept_pid": self.pid}
        try:
            self._sock.settimeout(RELEASE_WAIT_S)
            self._file.write((json.dumps({"release": "ok" if in_order else "broken"}) + "\n")
                             .encode())
            self._file.flush()
            answer = json.loads(self._file.readline() or b"{}").get("released")
            if isinstance(answer, dict):
                self.released = {**answer, "ended_by": answer.get("ended_by") or "server",
                                 "kept_pid": self.pid}
        except (OSError, ValueError):
            pass                          # the server then stops that Renode on its own
        finally:
            self._file.close()
            self._sock.close()
        return self.released


def address(environ: dict) -> str | None:
    return environ.get(SERVER_ENV) or None


def take(where: str, binary: str, run: Path) -> Lease:
    """A lease of a warm Renode from the server at `where` (SETUP_ERROR when none answers:
    the variable names a server that is not running)."""
    hint = (f"start one with `harness serve` (it prints the address), or unset {SERVER_ENV} "
            "to let each run start its own Renode")
    sock = socket.socket(socket.AF_UNIX)
    file = sock.makefile("rwb")
    try:
        sock.settimeout(5.0)
        sock.connect(os.path.expanduser(where))
        sock.settimeout(LEASE_WAIT_S)
        file.write((json.dumps({"lease": {"binary": binary, "run": str(run)}}) + "\n").encode())
        file.flush()
        reply = json.loads(file.readline() or b"{}")
    except (OSError, ValueError) as exc:
        file.close()
        sock.close()
        raise SetupError(f"no Renode server answers at {where} ({SERVER_ENV}): "
                         f"{getattr(exc, 'strerror', None) or exc}", hint) from None
    if "error" in reply or "robot_port" not in reply:
        file.close()
        sock.close()
        raise SetupError(f"the Renode server at {where} lent nothing: "
                         f"{reply.get('error', 'no answer')}", hint)
    sock.settimeout(None)
    return Lease(sock, file, reply)
