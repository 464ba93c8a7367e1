"""A Renode process, and the pool that lends one to each Renode run of a session.

Renode's start-up (Mono, then the monitor) costs 1-2 s of host time and its
first platform load another 0.5-1 s of JIT warm-up, more than a whole run on
QEMU. So, as Renode's own renode-test keeps one Renode for a suite and calls
`Reset Emulation` between tests, a session keeps idle Renode processes and each
run starts from a fresh emulation: the monitor's `Clear` (what `Reset Emulation`
calls) drops every machine, peripheral, memory, terminal and the virtual clock.

A returned host is reset in the background, off the runs' path: `Clear`, then
the commands that begin the machine the returned run had (creating it and
loading its platform description), since the next run is most often on the
same board; a run on another board, or after its platform description was
edited, gets a plain `Clear` first. Nothing of the guest runs before its own
run: no ELF is loaded and the clock does not move.

Only one run uses a host at a time. A host that cannot be reset within a
bounded time, or whose process died, is stopped instead of lent; closing the
pool (the session's end) kills every host it started (nothing of theirs is
needed by then: each run has copied its part of Renode's output), so no Renode
outlives the harness invocation and the session's end does not wait for a
`Clear` or a `quit` it has no use for.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path

from harness.emulators import renode_aot
from harness.emulators.monitor import Monitor
from harness.errors import EmulatorError, SetupError
from harness.host.background import background
from harness.host.deadline import Deadline
from harness.host.files import tail
from harness.host.process import OwnedProcess, lower_threads, session_rss_kib
from harness.stream.uart import free_port

STARTUP_TIMEOUT_S = 60.0     # host seconds for Mono + Renode to open the monitor
CLEAR_TIMEOUT_S = 10.0       # host seconds for `Clear` before the host is stopped instead
PREPARE_TIMEOUT_S = 30.0     # host seconds for each command that begins the next machine
# Renode's SocketServerProvider, which carries the monitor's telnet connection, polls
# its send queue flat out for 60 ms after every write (MaxReadThreadPoolingTimeMs), so
# each monitor command (its echo and reply) and the `start` before every run keep a
# host core busy for 60 ms, on a 2-core runner beside the emulated CPU's thread. Its
# threads (named so by Mono) get the lowest priority: they move a few bytes, late by
# nothing that matters. Measured on 1.15.3, mps2_an385, warm: two kept Renodes used in
# turn, median of 22, reset 0.100 -> 0.075 s and start to SUCCESS 0.141 -> 0.125 s; a
# process of 15 warm harness runs, 8 pairs, 0.95x the wall time.
SPINNING_THREADS = "SocketServerPro"
# Renode's memory grows with every emulation it clears and does not level off (measured
# on 1.15.3, prod_consumer on mps2_an385 in one kept process: 460 MiB after the first run,
# 944 MiB after 300, ~1.6 MiB a run), so a host that grew this much since its first run
# is stopped instead of kept: a long suite pays one start-up (1-2 s) every ~300 runs.
MAX_GROWTH_KIB = 512 * 1024
# Mono's nursery (where new objects go; a minor GC, which stops every thread, the
# emulated CPU's too, runs each time it fills) is 4 MiB by default; Renode fills it
# 90 times on its way to the monitor and 23 times in a warm prod_consumer run on
# mps2_an385 (35 ms of stopped world, measured with MONO_LOG_MASK=gc). With 64 MiB:
# 8 and 1-2. Measured on 1.15.3, in turn, 7 processes of 20 warm runs each: median run
# 0.258 -> 0.238 s, lower in all 7 pairs; start-and-quit 1.13 -> 1.10 s; 128 MiB gave
# nothing more. It costs ~75 MiB of resident memory a Renode. A nursery-size of the
# user's own in MONO_GC_PARAMS is kept.
MONO_NURSERY = "nursery-size=64m"


class RenodeHost:
    """One headless Renode with its monitor, own HOME and TMPDIR (Renode and Mono
    write ~/.config, ~/.mono and /tmp/renode-<pid>), output in `log_path`."""

    def __init__(self, binary: str, scratch: Path, environ: dict,
                 robot_server: bool = False) -> None:
        self.scratch = scratch
        home, tmp = scratch / "home", scratch / "tmp"
        home.mkdir(parents=True, exist_ok=True)
        tmp.mkdir(exist_ok=True)
        self.binary = binary
        self.log_path = scratch / "renode.log"
        self.port = free_port()
        # Renode's Robot Framework remote library (what `harness robot` suites call), served
        # beside the monitor by a host that `harness serve` keeps (renode_server)
        self.robot_port = free_port() if robot_server else None
        self.runs = 0
        self.monitor: Monitor | None = None
        self.prepared: tuple = ()             # (commands, stamp) run on the fresh emulation
        self.ready = None                     # Future of the reset after the last run (bool)
        self.begins = (0, 0)                  # log offset and transcript length it began at
        self.first_rss_kib: int | None = None    # its memory after its first run
        self._stop_lock = threading.Lock()
        self.aot_images = renode_aot.images(binary, environ)   # what Mono is pointed at
        try:
            env = launch_environment(environ, self.aot_images)
            self.mono_gc_params = env["MONO_GC_PARAMS"]
            robot = ["--robot-server-port", str(self.robot_port)] if self.robot_port else []
            self.proc = OwnedProcess(
                [binary, "--disable-xwt", "--plain", "--port", str(self.port), *robot],
                self.log_path,
                env={**env, "HOME": str(home), "TMPDIR": str(tmp)}, cwd=scratch,
                keep_stdin_open=True)          # Renode quits at EOF on stdin
        except OSError as exc:
            raise SetupError(f"cannot start {binary}: {exc.strerror}") from None
        try:
            self.monitor = Monitor(self.port, Deadline(STARTUP_TIMEOUT_S),
                                   alive=lambda: self.proc.poll() is None)
            # Its writer thread runs by now: it sent the first prompt.
            lower_threads(self.proc.sid, SPINNING_THREADS)
        except EmulatorError as exc:
            self.stop()
            last = tail(self.log_since(0))
            raise EmulatorError(exc.message, f"Renode's output: {last or '(none)'}; "
                                f"full log: {self.log_path}") from None
        self.begins = (self.log_size(), len(self.monitor.transcript))

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

    def reset(self, prepare: tuple[str, ...] = (), stamp: tuple | None = None) -> bool:
        """A fresh emulation with the commands `prepare` already run on it (or, when
        one of them fails, a plain fresh emulation: the run meets the error itself).
        `stamp`: the state of the files those commands read, kept with them in
        `prepared`. False when Renode did not manage a fresh emulation in time."""
        self.prepared = ()
        if not self.alive() or self.monitor is None:
            return False
        self.begins = (self.log_size(), len(self.monitor.transcript))
        try:
            self.monitor.execute("Clear", timeout=CLEAR_TIMEOUT_S)
        except EmulatorError:
            return False
        try:
            for command in prepare:
                self.monitor.execute(command, timeout=PREPARE_TIMEOUT_S)
        except EmulatorError:
            return self.reset()
        self.prepared = _begun(prepare, stamp)
        return True

    def stop(self, hard: bool = False) -> dict:
        """quit over the monitor, then SIGINT/SIGTERM/SIGKILL to its process group;
        `hard`: SIGKILL at once. Safe to call from two threads, and again."""
        with self._stop_lock:
            monitor = self.monitor
            polite = (lambda: monitor.send("quit")) if monitor and not hard else None
            ended = self.proc.stop(polite=polite, hard=hard)
            if monitor:
                monitor.close()
            shutil.rmtree(self.scratch / "home", ignore_errors=True)
            shutil.rmtree(self.scratch / "tmp", ignore_errors=True)
            return ended


class HostPool:
    """The Renode hosts of one session, by launcher; thread-safe. It knows every
    host it started, lent or idle, so closing it stops them all, even one whose
    run was interrupted between its end and its return to the pool."""

    def __init__(self, scratch_parent: Path, environ: dict, robot_server: bool = False) -> None:
        self.scratch_parent = scratch_parent
        self.environ = environ
        self.robot_server = robot_server       # its hosts serve Renode's Robot keywords too
        self._idle: list[RenodeHost] = []
        self._all: list[RenodeHost] = []
        self._lock = threading.Lock()
        self._closed = False
        self.max_growth_kib = MAX_GROWTH_KIB

    def take(self, binary: str, prepare: tuple[str, ...] = (),
             stamp: tuple | None = None) -> RenodeHost:
        """A live host for `binary` with a fresh emulation, on which `prepare` (the
        commands that begin the run's machine) has already run, or nothing has:
        `host.prepared` says which. Already run means with the files they read in
        the state `stamp` (a platform description edited since is loaded anew). An
        idle host is preferred, one already prepared for this machine first; else a
        new one (1-3 s of start-up)."""
        want = _begun(prepare, stamp)
        while True:
            with self._lock:
                if self._closed:
                    raise EmulatorError("the session is closing: no new Renode run starts")
                ours = [h for h in self._idle if h.binary == binary]
                ours.sort(key=lambda h: (_ready(h), _ready(h) and h.prepared == want),
                          reverse=True)
                host = ours[0] if ours else None
                if host:
                    self._idle.remove(host)
            if host is None:
                return self.start(binary)
            if host.ready is not None and not host.ready.result():
                self._retire(host)               # could not be reset, or died: the next one
                continue
            if not host.alive() or (host.prepared not in ((), want) and not host.reset()):
                self._retire(host)
                continue
            return host

    def start(self, binary: str) -> RenodeHost:
        """A new host, lent to the caller (give it back or discard it)."""
        self.scratch_parent.mkdir(parents=True, exist_ok=True)
        host = RenodeHost(binary, Path(tempfile.mkdtemp(prefix="renode-", dir=self.scratch_parent)),
                          self.environ, self.robot_server)
        with self._lock:
            self._all.append(host)
            closed = self._closed
        if closed:                               # closed while this one was starting
            self._retire(host, hard=True)
            raise EmulatorError("the session is closing: no new Renode run starts")
        return host

    def give(self, host: RenodeHost, prepare: tuple[str, ...] = (),
             stamp: tuple | None = None) -> dict:
        """Take `host` back after a run: kept and reset in the background (a fresh
        emulation, with `prepare` run on it for a next run on the same machine; `stamp`
        as for take), else stopped: when the pool is closing, the process died, or its
        memory grew by more than `max_growth_kib` since its first run. Returns how the
        run's emulator ended (for its teardown record), with the process's memory."""
        rss = session_rss_kib(host.proc.sid)
        if host.first_rss_kib is None:
            host.first_rss_kib = rss
        grown = rss - host.first_rss_kib
        outgrown = grown > self.max_growth_kib
        with self._lock:
            keep = not self._closed and host.alive() and not outgrown
            if keep:
                host.ready = background(self._reset, host, tuple(prepare), stamp)
                self._idle.append(host)
        if keep:
            return {"ended_by": "kept", "returncode": None, "kept_pid": host.proc.pid,
                    "host_rss_kib": rss}
        if outgrown and host.alive():                        # its run kept its logs already
            return {**self._retire(host, hard=True), "host_rss_kib": rss, "retired": (
                f"Renode grew by {grown // 1024} MiB over {host.runs} runs (more than "
                f"{self.max_growth_kib // 1024} MiB): stopped, a new one serves the next run")}
        return self._retire(host)

    def _reset(self, host: RenodeHost, prepare: tuple[str, ...], stamp: tuple | None) -> bool:
        if host.reset(prepare, stamp):
            return True
        with self._lock:                         # not lent again, and stopped now
            if host in self._idle:
                self._idle.remove(host)
        self._retire(host)
        return False

    def discard(self, host: RenodeHost) -> dict:
        """Stop a lent host instead of taking it back (its state is unknown: a run that
        timed out or was cut off mid-keyword)."""
        return self._retire(host, hard=True)

    def idle_count(self, binary: str) -> int:
        with self._lock:
            return sum(1 for h in self._idle if h.binary == binary)

    def close(self) -> None:
        """Kill every host (bounded per host); later gives stop their host."""
        with self._lock:
            self._closed, hosts, self._idle = True, list(self._all), []
        for host in hosts:
            self._retire(host, hard=True)

    def _retire(self, host: RenodeHost, hard: bool = False) -> dict:
        ended = host.stop(hard=hard)             # idempotent: a stopped host stays stopped
        _remove(host.scratch)
        with self._lock:
            if host in self._all:
                self._all.remove(host)
        return ended


def launch_environment(environ: dict, aot_images: Path | None) -> dict:
    """What a Renode the harness runs emulations in is given: `environ` with its AOT
    images (renode_aot.with_images) and Mono's larger nursery (mono_tuned)."""
    return mono_tuned(renode_aot.with_images(environ, aot_images))


def mono_tuned(environ: dict) -> dict:
    """`environ` for a Renode the harness starts: Mono's nursery enlarged (MONO_NURSERY),
    unless MONO_GC_PARAMS already sets one."""
    params = environ.get("MONO_GC_PARAMS", "")
    if "nursery-size" in params:
        return environ
    return {**environ, "MONO_GC_PARAMS": ",".join(filter(None, (MONO_NURSERY, params)))}


def _begun(prepare: tuple[str, ...], stamp: tuple | None) -> tuple:
    """What `host.prepared` holds once `prepare` ran with its files in state `stamp`."""
    return (tuple(prepare), stamp) if prepare else ()


def _ready(host: RenodeHost) -> bool:
    """Reset, or never used: lending it costs no wait."""
    return host.ready is None or host.ready.done()


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
    try:
        os.rmdir(path.parent)              # the pool's directory, once empty
    except OSError:
        pass
