"""`harness serve`: Renode processes kept warm between harness invocations.

A `harness robot` run pays Renode's start-up (Mono, then the monitor and the robot
server: 1-2 s) and the JIT warm-up of its first platform load (0.5-0.8 s) before
its first keyword, about as long as the suite itself. The server holds Renodes that
have paid both (each started with its monitor and --robot-server-port, a platform
description loaded once and cleared), and lends one to each run that asks, over a
Unix socket (`HARNESS_RENODE_SERVER`; renode_lease is the client).

What keeps the rule that no emulator outlives the harness process that owns it:
the server is that process. Its Renodes are its owned processes (lifeline: they die
with it, SIGKILL included); a lease lasts as long as the client's connection; a
client that ends without giving its Renode back in order (timeout, crash, killed)
gets that Renode stopped, and a new one started in its place. A Renode given back
in order gets a fresh emulation (`Clear`, what renode-keywords' Reset Emulation
calls) before the next lease, as renode-test does between suites.

The wire format: one JSON object per line. The client sends
{"lease": {"binary": PATH, "run": RUN_DIR}}; the server answers
{"robot_port", "monitor_port", "pid", "log", "offset", "binary", "host"} or {"error"};
later the client sends {"release": "ok" | "broken"} and the server answers
{"released": {how the Renode was taken back}}.
"""
from __future__ import annotations

import json
import os
import socket
import socketserver
import sys
import threading
import time
from pathlib import Path

from harness.emulators.renode_host import HostPool, RenodeHost
from harness.errors import HarnessError, UsageError
from harness.host.background import background

SERVER_ENV = "HARNESS_RENODE_SERVER"    # the socket a client leases its Renode through
DEFAULT_SOCKET = Path("~/.cache/zephyr-isolation-harness/renode-server.sock")
LEASE_WAIT_S = 120.0                    # a client waits this long for a Renode to start


class RenodeServer:
    """Warm Renodes of one binary, lent one per lease; `renodes` kept idle ahead."""

    def __init__(self, binary: str, environ: dict, scratch: Path,
                 warm: tuple[str, ...] = (), renodes: int = 1, say=print) -> None:
        self.binary = binary
        self.warm = warm                       # monitor commands run once on a new Renode
        self.renodes = renodes
        self.say = say
        self.pool = HostPool(scratch, environ, robot_server=True)
        self.leases = 0
        self.lent = 0
        self.last_activity = time.monotonic()
        self._lock = threading.Lock()
        self._filling = threading.Lock()

    def fill(self) -> None:
        """Start Renodes until `renodes` are kept, idle or lent (one at a time: each
        takes a core; none is started while a run uses one, unless one was stopped)."""
        if not self._filling.acquire(blocking=False):
            return                             # another thread fills already
        try:
            self._fill()
        finally:
            self._filling.release()

    def _fill(self) -> None:
        while self.pool.idle_count(self.binary) + self.lent < self.renodes:
            try:
                host = self.pool.start(self.binary)
            except HarnessError as exc:
                self.say(f"harness serve: cannot start Renode: {exc}")
                return
            if self.warm:                      # JIT warm-up: the first platform load
                host.reset(self.warm)
            self.pool.give(host)               # Clear in the background, then idle
            self.say(f"harness serve: Renode pid {host.proc.pid} ready "
                     f"(robot server port {host.robot_port})")

    def lend(self, request: dict) -> RenodeHost:
        wanted = os.path.realpath(request.get("binary") or self.binary)
        if wanted != os.path.realpath(self.binary):
            raise UsageError(f"this server runs {self.binary}, not {request.get('binary')}",
                             "start `harness serve --renode` with the Renode the runs use, or "
                             f"unset {SERVER_ENV}")
        host = self.pool.take(self.binary)     # an idle one, else a new one (1-2 s)
        with self._lock:
            self.leases += 1
            self.lent += 1
            self.last_activity = time.monotonic()
        host.runs += 1
        return host

    def take_back(self, host: RenodeHost, in_order: bool) -> dict:
        if in_order and host.alive():
            ended = self.pool.give(host)       # a fresh emulation before the next lease
        else:
            ended = {**self.pool.discard(host), "replaced": True}
        with self._lock:
            self.lent -= 1
            self.last_activity = time.monotonic()
        background(self.fill)                  # a stopped one is replaced off the runs' path
        return ended

    def idle_for(self) -> float:
        with self._lock:
            return 0.0 if self.lent else time.monotonic() - self.last_activity

    def close(self) -> None:
        self.pool.close()


class _Handler(socketserver.StreamRequestHandler):
    server: "_UnixServer"

    def handle(self) -> None:
        renodes = self.server.renodes
        try:
            request = json.loads(self.rfile.readline() or b"null")
            if not isinstance(request, dict) or not isinstance(request.get("lease"), dict):
                raise UsageError("expected {\"lease\": {...}} on one line")
            host = renodes.lend(request["lease"])
        except (ValueError, HarnessError) as exc:
            self._send({"error": str(exc)})
            return
        self._send({"robot_port": host.robot_port, "monitor_port": host.port,
                    "pid": host.proc.pid, "log": str(host.log_path), "offset": host.log_size(),
                    "binary": host.binary, "host": host.runs})
        in_order = False
        try:
            line = self.rfile.readline()        # held until the run ends (or the client dies)
            in_order = bool(line) and json.loads(line).get("release") == "ok"
        except (OSError, ValueError):
            pass
        ended = renodes.take_back(host, in_order)
        run = request["lease"].get("run", "?")
        renodes.say(f"harness serve: lease {renodes.leases} ({run}) "
                    f"{'given back' if in_order else 'cut off: Renode replaced'}")
        try:
            self._send({"released": ended})
        except OSError:
            pass                                # the client is gone: nothing to tell

    def _send(self, obj: dict) -> None:
        self.wfile.write((json.dumps(obj) + "\n").encode())
        self.wfile.flush()


class _UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    renodes: RenodeServer


def serve(renodes: RenodeServer, address: Path, idle_exit: float | None = None) -> None:
    """Serve leases at `address` until SIGINT/SIGTERM (KeyboardInterrupt or Interrupted
    in this thread) or `idle_exit` seconds with nothing lent; then stop every Renode."""
    address = claim(address)
    server = _UnixServer(str(address), _Handler)
    server.renodes = renodes
    try:
        os.chmod(address, 0o600)               # the user's own runs only
        background(renodes.fill)
        if idle_exit:
            threading.Thread(target=_exit_when_idle, args=(server, renodes, idle_exit),
                             daemon=True, name="idle-exit").start()
        renodes.say(f"harness serve: serving Renode at {address}\n"
                    f"  export {SERVER_ENV}={address}")
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
        renodes.close()
        try:
            address.unlink()
        except OSError:
            pass


def claim(address: Path) -> Path:
    """`address`, free: a socket file nobody answers on is left from a server that was
    killed and is removed; one that answers is another server's (BAD_INPUT)."""
    address = address.expanduser().absolute()
    address.parent.mkdir(parents=True, exist_ok=True)
    if address.exists() or address.is_symlink():
        probe = socket.socket(socket.AF_UNIX)
        try:
            probe.connect(str(address))
        except OSError:
            address.unlink()
        else:
            raise UsageError(f"a server already listens at {address}",
                             "use it, stop it, or pass --socket PATH for another")
        finally:
            probe.close()
    return address


def _exit_when_idle(server: _UnixServer, renodes: RenodeServer, seconds: float) -> None:
    while renodes.idle_for() < seconds:
        time.sleep(min(1.0, seconds / 4))
    print(f"harness serve: nothing lent for {seconds:g} s: stopping", file=sys.stderr, flush=True)
    server.shutdown()
