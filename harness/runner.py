"""The run orchestrator: app -> west build -> emulator -> UART -> matcher -> verdict -> report.

The CLI, the pytest plugin, the Robot library and the west command all call
`Session`; none of them holds logic of its own.
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness import boards as boards_mod
from harness import build as build_mod
from harness import emulators, isolation_run, report, symbols, toolchain
from harness.judging import agreement
from harness import expectations
from harness.device import Device
from harness.errors import HarnessError, Interrupted
from harness.judging.judge import Judge
from harness.judging.results import RunResult
from harness.judging.verdict import Outcome, Verdict
from harness.watch import watch

log = logging.getLogger(__name__)
DEFAULT_EMULATOR = "qemu"


def _back_with(result: RunResult, cert: dict) -> None:
    result.certificate = {k: cert.get(k) for k in (
        "status", "summary", "cached", "run_dir", "elf_sha256", "emulator")}
    if result.verdict is Verdict.PASS and cert.get("status") != "CERTIFIED":
        result.outcome = Outcome(Verdict.UNTRUSTED, "PASS on the UART, but isolation is not "
                                 f"proven: {cert.get('summary')}", result.outcome.evidence)


def validate(board_names, emulator_names) -> list[tuple]:
    """(Board, emulator name) pairs; bad names fail here, before anything runs."""
    for emu in emulator_names or []:
        emulators.adapter(emu)
    pairs = []
    for name in board_names:
        board = boards_mod.load(name)
        for emu in emulator_names or [DEFAULT_EMULATOR]:
            board.emulator(emu)
            pairs.append((board, emu))
    return pairs


@dataclass
class Session:
    """Everything a run needs, validated once at the edge."""

    workspace: object
    out_dir: Path
    environ: dict
    timeout_s: float | None = None      # host seconds; None: the board file's value
    pristine: bool = False
    isolation: bool = True
    say: object = print
    emulator_overrides: dict = field(default_factory=dict)   # e.g. {"renode": {"binary": ...}}
    build_dirs: dict = field(default_factory=dict)   # (app, board) -> an existing build dir
    reuse_emulators: bool = True        # runs may share an emulator process (fresh emulation)
    _built: dict = field(default_factory=dict)
    _toolchains: dict = field(default_factory=dict)
    _locks: dict = field(default_factory=dict)      # one per (app, board): parallel runs share builds
    _guard: threading.Lock = field(default_factory=threading.Lock)
    cancel: threading.Event = field(default_factory=threading.Event)  # set: running boots abort
    _pools: dict = field(default_factory=dict)      # emulator name -> its pool of processes

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the emulator processes kept for reuse. Every front end calls this
        when its session ends, so no emulator outlives a harness invocation."""
        with self._guard:
            pools, self._pools = self._pools, {}
        for pool in pools.values():
            pool.close()

    # -- building ----------------------------------------------------------
    def toolchain(self, board) -> toolchain.Toolchain:
        if board.arch not in self._toolchains:
            self._toolchains[board.arch] = toolchain.find(board.arch, self.environ)
        return self._toolchains[board.arch]

    def firmware(self, app, board) -> build_mod.Built:
        """Build (incrementally) once per session for each (app, board)."""
        key = (app.name, board.name)
        with self.lock(key):
            return self._firmware(key, app, board)

    def lock(self, key) -> threading.Lock:
        """A lock per key, for work that parallel runs share (builds, certificates)."""
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())

    def _firmware(self, key, app, board) -> build_mod.Built:
        if key not in self._built:
            build_dir = self.build_dirs.get(key, self.out_dir / "build" / app.name / board.name)
            self.say(f"building {app.name} for {board.name} (west build -d {build_dir})")
            self._built[key] = build_mod.build(
                app.source_dir(self.workspace.zephyr_base), board.name, build_dir,
                self.build_log(app.name, board.name), self.workspace, self.toolchain(board),
                self.environ, self.pristine, self.say, self.cancel)
        return self._built[key]

    # -- running -----------------------------------------------------------
    def run(self, app, board_names, emulator_names) -> list[RunResult]:
        spec = expectations.load(app.expect)
        pairs = validate(board_names, emulator_names)
        return [self.run_checked(app, board, emu, spec) for board, emu in pairs]

    def agreements(self, app, results: list[RunResult]) -> list[dict]:
        """Compare runs of one (app, board) on several emulators; written to
        runs/<app>/<board>.agreement.json."""
        spec = expectations.load(app.expect)
        found = []
        for board in dict.fromkeys(r.board for r in results):
            same = [r for r in results if r.board == board]
            if len(same) > 1:
                found.append(agreement.compare(same, spec))
                path = self.out_dir / "runs" / app.name / f"{board}.agreement.json"
                path.write_text(json.dumps(found[-1], indent=2) + "\n")
        return found

    def run_checked(self, app, board, emu: str, spec) -> RunResult:
        """A run of `app`, backed by the (cached) isolation certificate of its board."""
        cert = None
        if self.isolation:
            try:
                cert = isolation_run.certify(self, board, emu).certificate
            except HarnessError as exc:
                if exc.verdict is None:
                    raise
                cert = {"status": "INVALID", "summary": f"probe could not run: {exc}"}
        return self.run_one(app, board, emu, lambda: Judge(spec), cert)

    def run_one(self, app, board, emu: str, make_judge, certificate: dict | None = None
                ) -> RunResult:
        """Build, boot and judge once; reports are written whatever happens. With a
        `certificate`, a PASS on a board whose isolation is not proven is UNTRUSTED."""
        run_dir = self.new_run_dir(app.name, board.name, emu)
        result = RunResult(app.name, board.name, emu, Outcome(Verdict.SETUP_ERROR, ""), run_dir)
        t0 = time.monotonic()
        try:
            built = self.firmware(app, board)
            result.timings["build_s"] = round(built.seconds, 3)
            result.provenance = self.provenance(board, built)
            self._keep(built.log, run_dir / "build.log", result)
            result = self.boot(result, board, emu, built, make_judge())
        except (HarnessError, KeyboardInterrupt) as exc:
            verdict = Verdict.INTERRUPTED if isinstance(exc, (Interrupted, KeyboardInterrupt)) \
                else exc.verdict
            if verdict is None:
                raise
            result.outcome = Outcome(verdict, str(exc) or "interrupted (SIGINT)")
            build_log = self.build_log(app.name, board.name)
            if build_log.is_file():
                self._keep(build_log, run_dir / "build.log", result)
            if verdict is Verdict.INTERRUPTED:
                raise
        finally:
            result.timings["total_s"] = round(time.monotonic() - t0, 3)
            if certificate is not None:
                _back_with(result, certificate)
            report.write_run(result)
            result.artifacts.update(result_json=str(run_dir / "result.json"),
                                    junit=str(run_dir / "junit.xml"))
        return result

    def emulator(self, board, emu: str, run_dir: Path):
        """The adapter for `emu` on `board`, with the session's overrides applied."""
        settings = {**board.emulator(emu), **self.emulator_overrides.get(emu, {})}
        return emulators.adapter(emu)(board, settings, run_dir, self.pool(emu), self.environ)

    def pool(self, emu: str):
        """The session's pool of reusable `emu` processes (None: a process per run)."""
        pool_class = emulators.adapter(emu).pool_class
        if not self.reuse_emulators or pool_class is None:
            return None
        with self._guard:
            if emu not in self._pools:
                self._pools[emu] = pool_class(self.out_dir / f".{emu}-processes", self.environ)
            return self._pools[emu]

    def start_device(self, app, board, emu: str) -> Device:
        """Build `app` and boot it; the caller owns the Device and must close() it."""
        built = self.firmware(app, board)
        return Device(self.emulator(board, emu, self.new_run_dir(app.name, board.name, emu)),
                      built.elf)

    def boot(self, result: RunResult, board, emu: str, built, judge) -> RunResult:
        emulator = self.emulator(board, emu, result.run_dir)
        settings = emulator.settings
        result.provenance["emulator"] = f"{emu}: {emulator.version()}"
        timeout = self.timeout_s or float(settings.get("timeout_s", 30))
        try:
            watched = watch(emulator, built.elf, judge, timeout, cancel=self.cancel)
        finally:
            result.artifacts.update(uart_raw=str(result.run_dir / "uart.raw"),
                                    emulator_log=str(result.run_dir / f"{emu}.log"))
        result.outcome = judge.outcome(watched.ending)
        result.timings.update(watched.timings)
        result.outcome.evidence.update(teardown=watched.teardown, uart_bytes=watched.uart_bytes,
                                       virtual_time_s=watched.virtual_time_s)
        fault = result.outcome.evidence.get("fault")
        if fault:
            fault["trace_resolved"] = symbols.resolve(built.elf, fault["trace"],
                                                      self.toolchain(board).addr2line)
        return result

    # -- bookkeeping -------------------------------------------------------
    def build_log(self, app: str, board: str) -> Path:
        return self.out_dir / "build" / app / f"{board}.build.log"

    def new_run_dir(self, app: str, board: str, emu: str) -> Path:
        stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f") + f"-{os.getpid()}"
        parent = self.out_dir / "runs" / app / f"{board}.{emu}"
        run_dir = parent / stamp
        run_dir.mkdir(parents=True)
        tmp_link = parent / f".latest-{stamp}"
        tmp_link.symlink_to(stamp)
        os.replace(tmp_link, parent / "latest")      # atomic, also with parallel runs
        return run_dir

    def provenance(self, board, built) -> dict:
        return {"elf": str(built.elf), "elf_sha256": built.sha256,
                "zephyr_version": self.workspace.version(),
                "zephyr_revision": self.workspace.revision(),
                "workspace": str(self.workspace.topdir),
                "toolchain": self.toolchain(board).describe(),
                "protection": f"{board.protection}: {board.protection_detail}"}

    @staticmethod
    def _keep(src: Path, dest: Path, result: RunResult) -> None:
        shutil.copyfile(src, dest)
        result.artifacts["build_log"] = str(dest)
