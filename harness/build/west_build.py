"""`west build` into one build directory per (app, board), incremental by default."""
from __future__ import annotations

import contextlib
import fcntl
import hashlib
import re
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from harness.errors import BuildError, Interrupted, SetupError
from harness.host.lifeline import LIFELINE
from harness.host.process import kill_session, which

ERROR_LINE = re.compile(r"(error:|Error:|CMake Error|FAILED:|fatal error|undefined reference)")
MISSING_MODULE = re.compile(r"ModuleNotFoundError: No module named '([\w.]+)'")
PROGRESS = re.compile(r"^\[(\d+)/(\d+)\]")
NOT_RUN = re.compile(r"^(?:\S*/)?nice: .*(No such file or directory|Permission denied).*$", re.M)
PROGRESS_EVERY_S = 3.0
# Builds run at this nice value: they are throughput work, while the runs beside them
# (an emulator answering a pytest shell test within twister's 1 s echo timeout, a Robot
# keyword's wait) are judged against the wall clock. On 2 cores, two builds (ninja's
# 4 jobs each) beside a Renode serving UART input took its echo past 1 s (seen in CI);
# at nice 10 each build process weighs about a tenth of a run's (CFS: 110 vs 1024).
BUILD_NICENESS = 10
# --coverage, as twister adds it (3.x needs COVERAGE_DUMP asked for; 4.x defaults to it):
# the image counts with gcov and prints its counters on the console once main() returns
COVERAGE_KCONFIG = ("CONFIG_COVERAGE=y", "CONFIG_COVERAGE_DUMP=y")
NO_COVERAGE = re.compile(r"\bCOVERAGE\b.*was assigned the value")   # Kconfig refused it


@dataclass(frozen=True)
class Built:
    elf: Path
    build_dir: Path
    log: Path
    seconds: float
    sha256: str
    coverage: bool = False      # built with COVERAGE_KCONFIG: its gcov data is dumped on the UART


def build(*, source: Path, board: str, build_dir: Path, log_path: Path, workspace, toolchain,
          environ: dict, pristine: bool = False, say=lambda msg: None,
          cancel: threading.Event | None = None, cmake_args: tuple = (),
          extra_configs: tuple = (), overlay_confs: tuple = (), before_compile=None,
          label: str = "") -> Built:
    """Run west build into `build_dir`, its output into `log_path`; return the ELF.
    `cmake_args` and `extra_configs` (Kconfig lines, as a test suite's `extra_args` and
    `extra_configs`) are given on configure; `before_compile(build_dir)` runs once the
    build is configured and before anything compiles (it may raise to stop there).
    Progress lines name the build by `label` (app/board) and end with one saying how it
    ended, so parallel builds can be told apart."""
    label = label or f"{source.name}/{board}"
    steps = _Steps(label, say)
    build_dir.parent.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "west", "build", "-b", board, "-d", str(build_dir), str(source)]
    cached = cached_source(build_dir)
    if (build_dir / "CMakeCache.txt").is_file() and not _cache_value(build_dir, "CMAKE_PROJECT_NAME"):
        # an earlier configure failed half-way: west would stop on every later run with
        # "could not find CMAKE_PROJECT_NAME in Cache"
        say(f"  {build_dir} was left half-configured by an earlier failed configure: "
            "configuring it from scratch")
        cached, pristine = None, True
    if cached and cached != source.resolve():
        say(f"  {build_dir} was built from {cached}: rebuilding it from scratch")
        pristine = True
    elif cached and not pristine and (base := _cache_value(build_dir, "ZEPHYR_BASE")) and \
            Path(base).resolve() != Path(workspace.zephyr_base).resolve():
        # another workspace's build (west would refuse it, e.g. mps2/an385 vs mps2_an385)
        say(f"  {build_dir} was built with the Zephyr at {base}: rebuilding it from scratch")
        pristine = True
    elif cached and not pristine and cached_board(build_dir) == board:
        # Configured for this app and board: `west build` would run exactly this
        # (cmake re-runs itself if a CMake input changed); it saves west's start-up.
        cmd = ["cmake", "--build", str(build_dir)]
    if pristine:
        cmd += ["-p", "always"]
    args = [*toolchain.cmake_args, *cmake_args, *_overlay(build_dir, extra_configs, overlay_confs)]
    stamp = _stamp(build_dir)
    if (build_dir / "CMakeCache.txt").exists() and not pristine and stamp.is_file() \
            and stamp.read_text() != "\n".join(args):
        say(f"  {build_dir}: its CMake arguments changed: configuring it from scratch")
        pristine = True
        cmd = [sys.executable, "-m", "west", "build", "-b", board, "-d", str(build_dir),
               str(source), "-p", "always"]
    configured = (build_dir / "CMakeCache.txt").exists() and not pristine
    if args and not configured:
        cmd += ["--", *args]                 # cached by CMake; passing again would reconfigure
    env = {**environ, "ZEPHYR_BASE": str(workspace.zephyr_base),
           "ZEPHYR_TOOLCHAIN_VARIANT": toolchain.variant, **toolchain.env}
    t0 = time.monotonic()
    cancel = cancel or threading.Event()
    with _exclusive(build_dir.with_name(build_dir.name + ".lock"), say):
        if before_compile is not None:
            if not configured:                  # configure only, then look, then compile
                rc = _run_logged(_cmake_only(cmd), workspace.topdir, env, log_path, steps, cancel)
                if rc != 0:
                    steps.end(False, time.monotonic() - t0)
                    _failed(board, rc, log_path)
                cmd = ["cmake", "--build", str(build_dir)]
            before_compile(build_dir)
        rc = _run_logged(cmd, workspace.topdir, env, log_path, steps, cancel,
                         append=before_compile is not None and not configured)
    seconds = time.monotonic() - t0
    elf = build_dir / "zephyr" / "zephyr.elf"
    steps.end(rc == 0 and elf.is_file(), seconds)
    if rc != 0 or not elf.is_file():
        _failed(board, rc, log_path)
    stamp.write_text("\n".join(args))
    return Built(elf, build_dir, log_path, seconds, sha256(elf))


def shared_compiles(build_root: Path, environ: dict) -> dict:
    """ccache settings (Zephyr compiles through ccache when it is on PATH) that let the
    build directories under `build_root` share objects: paths under it are hashed
    relative to the build directory (so scenarios of one app whose configuration is
    the same reuse each other's kernel and library objects), and the working
    directory is not hashed. Paths outside it stay absolute, so __FILE__ and Zephyr's
    -fmacro-prefix-map work as without ccache. The user's own CCACHE_* settings win."""
    if not which("ccache", environ):
        return {}
    return {"CCACHE_BASEDIR": str(build_root.resolve()), "CCACHE_NOHASHDIR": "1"}


def _stamp(build_dir: Path) -> Path:
    """The CMake arguments of the last successful build, written when it ends."""
    return build_dir.with_name(build_dir.name + ".cmake-args")


def finished(build_dir: Path) -> bool:
    """Whether the last build in `build_dir` ran to the end (its stamp is written last)."""
    try:
        return _stamp(build_dir).stat().st_mtime_ns >= \
            (build_dir / "zephyr" / "zephyr.elf").stat().st_mtime_ns
    except OSError:
        return False


def _failed(board: str, rc: int, log_path: Path):
    text = log_path.read_text(errors="replace")
    missing = MISSING_MODULE.search(text)
    if missing:       # the host lacks Zephyr's Python requirements: not the firmware's fault
        raise SetupError(f"west build for {board} needs the Python module '{missing.group(1)}', "
                         f"missing from {sys.executable}",
                         "pip install -r <workspace>/zephyr/scripts/requirements-base.txt into "
                         f"this Python (harness setup does it); full build log: {log_path}")
    if rc in (126, 127) and NOT_RUN.search(text):   # `nice` could not run the command
        raise SetupError(f"the build command for {board} could not be run: "
                         f"{NOT_RUN.search(text).group(0).strip()}",
                         f"install it or put it on PATH; full build log: {log_path}")
    first = first_error(text)
    if NO_COVERAGE.search(text):
        raise BuildError(f"{board} cannot be built with coverage: its Zephyr board does not "
                         "select HAS_COVERAGE_SUPPORT", f"run it without --coverage; full build "
                         f"log: {log_path}")
    raise BuildError(f"west build for {board} failed (rc {rc}): {first}",
                     f"full build log: {log_path}")


def _cmake_only(cmd: list[str]) -> list[str]:
    """The same west build command, stopping after CMake configured the build."""
    at = cmd.index("--") if "--" in cmd else len(cmd)
    return [*cmd[:at], "--cmake-only", *cmd[at:]]


def _overlay(build_dir: Path, extra_configs: tuple, overlay_confs: tuple = ()) -> list[str]:
    """One OVERLAY_CONFIG, as twister merges it: the scenario's `extra_overlay_confs`, then
    its `extra_configs` as a file beside the build dir (twister writes one into it; beside
    it, a pristine build keeps it), rewritten only when its contents change, so an
    up-to-date build stays up to date."""
    files = list(overlay_confs)
    if extra_configs:
        path = build_dir.with_name(build_dir.name + ".extra.conf")
        text = "\n".join(extra_configs) + "\n"
        if not path.is_file() or path.read_text() != text:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        files.append(str(path))
    return [f"-DOVERLAY_CONFIG={' '.join(files)}"] if files else []


@contextlib.contextmanager
def _exclusive(lock_path: Path, say):
    """Serialise builds of one build directory across processes (parallel harness runs)."""
    with open(lock_path, "w") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            say(f"  waiting for another build of {lock_path.with_suffix('')} to finish")
            fcntl.flock(lock, fcntl.LOCK_EX)
        yield


class _Steps:
    """A build's progress as lines named by the build: ninja's [N/M] at most every
    PROGRESS_EVERY_S, and always a last line with the final step and how it ended."""

    def __init__(self, label: str, say) -> None:
        self.label, self.say = label, say
        self.last = None
        self.t_shown = time.monotonic()

    def step(self, n: str, total: str) -> None:
        self.last = (n, total)
        if time.monotonic() - self.t_shown >= PROGRESS_EVERY_S:
            self.t_shown = time.monotonic()
            self.say(f"  build step {n}/{total}  {self.label}")

    def end(self, ok: bool, seconds: float) -> None:
        if self.last is None and ok:
            return                               # nothing was compiled: no progress to end
        where = f" at step {self.last[0]}/{self.last[1]}" if self.last else ""
        self.say(f"  build {'done' if ok else 'FAILED'}{where}  {self.label}  ({seconds:.1f} s)")


def _run_logged(cmd, cwd, env, log_path: Path, steps: _Steps, cancel: threading.Event,
                append: bool = False) -> int:
    nice = which("nice", env)
    cmd = [nice, "-n", str(BUILD_NICENESS), *cmd] if nice else list(cmd)
    with open(log_path, "a" if append else "w") as log:
        log.write("$ " + " ".join(cmd) + "\n")
        log.flush()
        proc = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, text=True,
                                errors="replace", start_new_session=True)
        LIFELINE.hold(proc.pid)                  # a killed harness takes its build down too
        try:
            for line in proc.stdout:
                log.write(line)
                if cancel.is_set():
                    raise Interrupted("build cancelled (the harness is stopping)")
                m = PROGRESS.match(line)
                if m:
                    steps.step(m.group(1), m.group(2))
            return proc.wait()
        finally:
            if proc.poll() is None:          # interrupted: take the whole build down
                kill_session(proc.pid)
                proc.wait()
            LIFELINE.release(proc.pid)
            log.write("\n[harness] build interrupted\n" if proc.returncode < 0 else "")


def cached_source(build_dir: Path) -> Path | None:
    """The application directory an existing build directory was configured for."""
    value = _cache_value(build_dir, "APPLICATION_SOURCE_DIR")
    return Path(value).resolve() if value else None


def cached_board(build_dir: Path) -> str | None:
    return _cache_value(build_dir, "CACHED_BOARD") or _cache_value(build_dir, "BOARD")


CACHE_LINE = re.compile(r"^([A-Za-z0-9_.\-]+):[A-Za-z]+=(.*)$")


def cmake_cache(build_dir: Path) -> dict[str, str]:
    """NAME -> value of a build directory's CMakeCache.txt ({} without one)."""
    try:
        text = (build_dir / "CMakeCache.txt").read_text(errors="replace")
    except OSError:
        return {}
    return {m.group(1): m.group(2) for m in map(CACHE_LINE.match, text.splitlines()) if m}


def _cache_value(build_dir: Path, name: str) -> str | None:
    return cmake_cache(build_dir).get(name)


def first_error(log_text: str) -> str:
    """The first line that reads like a compiler/CMake error, else the last line."""
    lines = log_text.splitlines()
    for line in lines:
        if ERROR_LINE.search(line) and not line.startswith("$ "):
            return line.strip()
    return lines[-1].strip() if lines else "(empty build log)"


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()
