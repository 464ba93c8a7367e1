"""The run orchestrator: app -> west build -> emulator -> UART -> matcher -> verdict -> report.

The CLI, the pytest plugin, the Robot library and the west command all call
`Session`; none of them holds logic of its own.
"""
from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import shutil
import threading
import time
from pathlib import Path
from typing import Callable

from harness import boundary, emulators, isolation_run
from harness.audit import run as audit_run
from harness.build import symbols, toolchain
from harness.build.builds import Builds
from harness.build.toolchain import Toolchain
from harness.build.west_build import Built
from harness.coverage import run as coverage_run
from harness.emulators import Emulators
from harness.errors import HarnessError, Interrupted, SetupError, UsageError
from harness.host.background import AnyOf, background
from harness.host.files import new_run_dir
from harness.inputs import apps, expectations
from harness.inputs import boards as boards_mod
from harness.inputs.workspace import Workspace
from harness.judging import agreement
from harness.judging.judge import Judge
from harness.judging.results import RunResult
from harness.judging.verdict import Outcome, Verdict
from harness.reports import footprint, report
from harness.stream.device import Device
from harness.stream.watch import watch

log = logging.getLogger(__name__)
DEFAULT_EMULATOR = "qemu"


def _back_with(result: RunResult, cert: dict) -> None:
    result.certificate = {k: cert.get(k) for k in (
        "status", "summary", "cached", "run_dir", "elf_sha256", "emulator")}
    result.certificate.update({k: cert[k] for k in ("target", "board_id") if k in cert})
    if result.verdict is Verdict.PASS and cert.get("status") != "CERTIFIED":
        result.outcome = Outcome(Verdict.UNTRUSTED, "PASS on the UART, but isolation is not "
                                 f"proven: {cert.get('summary')}", result.outcome.evidence)


def validate(board_names, emulator_names, board_dirs=boards_mod.BOARDS_DIR) -> list[tuple]:
    """(Board, emulator name) pairs; bad names fail here, before anything runs.
    `board_dirs`: where board files are looked up (a project's own first)."""
    for emu in emulator_names or []:
        emulators.adapter(emu)
    pairs = []
    for name in board_names:
        board = boards_mod.load(name, board_dirs)
        # without names: QEMU, or the emulator a board without QEMU describes (hifive1: Renode)
        for emu in emulator_names or ([DEFAULT_EMULATOR] if DEFAULT_EMULATOR in board.emulators
                                      else list(board.emulators)[:1] or [DEFAULT_EMULATOR]):
            if not emulators.lends_boards(emu):    # a board of the lab has no section
                board.emulator(emu)
            pairs.append((board, emu))
    return pairs


class Session:
    """The run pipeline of one harness invocation (a command, a Robot suite, a pytest
    session): build -> boot -> judge -> report, over `builds` (toolchains and west
    builds) and `emulators` (adapters and pooled processes). Validated at the edge
    (harness.inputs.config); closed when the invocation ends."""

    def __init__(self, *, workspace: Workspace, out_dir: Path, environ: dict,
                 timeout_s: float | None = None, pristine: bool = False,
                 isolation: bool = True, say: Callable[[str], None] = print,
                 audit_domains: bool | None = None,
                 emulator_overrides: dict | None = None,
                 build_dirs: dict[tuple[str, str], Path] | None = None,
                 reuse_emulators: bool = True,
                 find_toolchain: Callable[[str, dict], Toolchain] = toolchain.find,
                 board_dirs=boards_mod.BOARDS_DIR,
                 default_timeout_s: float | None = None, lab=None) -> None:
        self.workspace = workspace
        self.board_dirs = board_dirs        # board files: a project's own dirs, then ours
        self.out_dir = out_dir
        self.environ = environ
        self.timeout_s = timeout_s          # host seconds; None: the board file's value
        self.default_timeout_s = default_timeout_s   # a project file's: below a scenario's own
        self.isolation = isolation
        self.audit_domains = audit_domains   # True: audit every run; False: none; None: where
                                             # the app's expectation audits by default
        self.say = say
        self.coverage = False               # --coverage: gcov images where they run (QEMU)
        self.cancel = threading.Event()     # set: running builds and boots abort
        self.builds = Builds(workspace=workspace, out_dir=out_dir, environ=environ,
                             pristine=pristine, say=say, cancel=self.cancel,
                             build_dirs=build_dirs, find_toolchain=find_toolchain)
        self.emulators = Emulators(out_dir=out_dir, environ=environ,
                                   overrides=emulator_overrides, reuse=reuse_emulators,
                                   lab=lab)       # boards of the lab (emulators.lab), if any

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the emulator processes kept for reuse. Every front end calls this
        when its session ends, so no emulator outlives a harness invocation."""
        self.emulators.close()

    def board(self, name: str):
        """The board file `name`, from the project's board directories, then ours."""
        return boards_mod.load(name, self.board_dirs)

    # -- running -----------------------------------------------------------
    def run(self, app, board_names, emulator_names) -> list[RunResult]:
        return self.run_pairs(app, validate(board_names, emulator_names, self.board_dirs))

    def run_pairs(self, app, pairs) -> list[RunResult]:
        """`app` on each (Board, emulator) of `pairs`, in order."""
        spec = expectations.load(app.expect)
        return [self.run_checked(app, board, emu, spec) for board, emu in pairs]

    def run_checked(self, app, board, emu: str, spec, **run) -> RunResult:
        """A run of `app`, backed by the (cached) isolation certificate of its board.
        `run`: run_one's keyword arguments (a test suite's judge, filter, build_only, timeout).
        On a board of the lab, one board is held for the run and its proof."""
        if emulators.lends_boards(emu) and not (run.get("before_compile") or run.get("build_only")):
            self._build_first(app, board)
        with contextlib.ExitStack() as held:
            try:
                held.enter_context(self.emulators.hold(board, emu, self.cancel))
            except HarnessError as exc:     # e.g. no board of that platform is connected
                if isinstance(exc, Interrupted):
                    raise
                return self._reported(app, board, emu, boundary.outcome(exc))
            return self._run_checked(app, board, emu, spec, **run)

    def _build_first(self, app, board) -> None:
        """Before a board of the lab is held: build the app and the probe, so no board waits
        for a build (a build error is reported by the run's own build, from the cache)."""
        self.builds.prefetch(app, board)
        if self.isolation:
            self.builds.prefetch(apps.load(isolation_run.PROBE_APP), board)

    def _run_checked(self, app, board, emu: str, spec, **run) -> RunResult:
        try:            # e.g. a board's oldest Renode: say so before building anything
            self.emulators.adapter(board, emu, self.out_dir).check_version()
            missing = self.workspace.missing_modules(board)
            if missing:
                raise SetupError(f"{board.name} needs the Zephyr module(s) {', '.join(missing)}, "
                                 f"which the workspace at {self.workspace.topdir} lacks",
                                 "add them to the workspace (west update with its manifest "
                                 "allowing them); a workspace `harness setup` makes has them")
        except (SetupError, UsageError) as exc:
            return self._reported(app, board, emu, boundary.outcome(exc))
        certificate = None
        if self.isolation:
            # the certificate's lookup (the probe's no-op build) overlaps the app's build
            # and boot; a certificate not in the cache is made by running the probe after
            lookup = background(contextvars.copy_context().run,     # the board held, if any
                                isolation_run.cached, self, board, emu)
            certificate = lambda: self._certificate(lookup, board, emu)   # noqa: E731
        make_judge = run.pop("make_judge", None) or (lambda: Judge(spec))
        return self.run_one(app, board, emu, make_judge, certificate, **run)

    def _certificate(self, lookup, board, emu: str) -> dict:
        try:
            return (lookup.result() or isolation_run.certify(self, board, emu)).certificate
        except HarnessError as exc:
            if exc.verdict in (Verdict.INTERRUPTED, Verdict.BAD_INPUT):
                raise
            return {"status": "INVALID", "summary": f"probe could not run: {exc}"}

    def run_one(self, app, board, emu: str, make_judge, certificate=None, *,
                before_compile=None, build_only: bool | str = False,
                timeout_s: float | None = None) -> RunResult:
        """Build, boot and judge once; reports are written whatever happens. With a
        `certificate` (a dict, or a function that gives it once the run is over), a PASS
        on a board whose isolation is not proven is UNTRUSTED. `before_compile` sees the
        configured build (a filter may skip the run there); `build_only` stops after the
        build; `timeout_s` (host seconds) is the run's budget unless the session sets one."""
        run_dir = new_run_dir(self.out_dir, app.name, board.name, emu)
        result = RunResult(app.name, board.name, emu,
                           Outcome(Verdict.HARNESS_ERROR, "the run ended before a verdict"), run_dir)
        t0 = time.monotonic()
        try:
            if before_compile or build_only:
                built = self._built(result, app, board, before_compile)
                result.outcome = Outcome(Verdict.SKIPPED, "build_only: built, not run" + (
                    f" ({build_only})" if isinstance(build_only, str) else "")) \
                    if build_only else result.outcome
                if not build_only:
                    result = self.boot(result, board, emu, built, make_judge(), timeout_s)
            else:
                result = self._build_and_boot(result, app, board, emu, make_judge, timeout_s)
            if callable(certificate):
                certificate = certificate()
        except BaseException as exc:    # the one boundary: result.json says what the CLI says
            result.outcome = boundary.outcome(exc)
            self._keep_build_log(app, board, result)
            if result.verdict is Verdict.INTERRUPTED or not isinstance(exc, (HarnessError, OSError)):
                raise                   # a signal, or a bug of ours: the front end's boundary
        finally:
            result.timings["total_s"] = round(time.monotonic() - t0, 3)
            if isinstance(certificate, dict):
                _back_with(result, certificate)
            try:
                self.report(result)
            except OSError as exc:      # e.g. the disk filled up: say what the run had found
                raise OSError(exc.errno, f"{exc.strerror} writing the report of a run that "
                              f"ended {result.verdict.label} ({result.outcome.reason})",
                              exc.filename) from None
        return result

    def _built(self, result: RunResult, app, board, before_compile=None) -> Built:
        built = self.builds.firmware(app, board, before_compile,
                                     coverage_run.wanted(self, board, result))
        result.timings["build_s"] = round(built.seconds, 3)
        result.provenance.update(provenance(self, board, built))   # a boot beside it adds its own
        result.footprint = footprint.of(built)
        _keep(built.log, result.run_dir / "build.log", result)
        return built

    def _build_and_boot(self, result: RunResult, app, board, emu: str, make_judge,
                        timeout_s: float | None) -> RunResult:
        """Boot the image the last build made while the build checks it (usually a
        no-op); that boot counts only if the build gives the very same bytes (sha256),
        else (or if it fails) it is stopped and the new image boots."""
        early = self.builds.earlier_image(app, board, result.run_dir,
                                          coverage_run.wanted(self, board, result))
        if early is not None and hasattr(make_judge(), "drive"):   # its test code boots the
            early.elf.unlink(missing_ok=True)        # board, maybe more than once: the built one
            early = None
        if early is not None and emulators.lends_boards(emu):   # a board is flashed from
            early.elf.unlink(missing_ok=True)                   # its build, once built
            early = None
        if early is None:
            return self.boot(result, board, emu, self._built(result, app, board), make_judge(),
                             timeout_s)
        stale = threading.Event()              # stops the boot early; decided again below

        def judge_image(done) -> None:
            if done.exception() is not None or done.result().sha256 != early.sha256:
                stale.set()
        building = background(self._built, result, app, board)
        building.add_done_callback(judge_image)
        booted, failed = None, None
        try:
            booted = self.boot(result, board, emu, early, make_judge(), timeout_s,
                               cancel=AnyOf(self.cancel, stale))
        except Interrupted:
            if self.cancel.is_set() or not stale.is_set():
                raise               # the harness is stopping, not the stale image
        except HarnessError as exc:  # e.g. the emulator failed: counts only for the same bytes
            failed = exc
        finally:
            early.elf.unlink(missing_ok=True)       # the build directory has the same bytes
        built = building.result()                   # the build's own error, if it failed
        if built.sha256 == early.sha256:
            if failed is not None:
                raise failed
            if booted is not None:
                booted.timings["boot_overlapped_build"] = True
                return booted
        self.say(f"  {app.name} for {board.name}: the build changed the firmware "
                 f"(sha256 {built.sha256[:12]}, booted {early.sha256[:12]}): booting it again")
        for stale_file in result.run_dir.iterdir():     # what the stale boot left
            if stale_file.is_dir():
                shutil.rmtree(stale_file, ignore_errors=True)
            elif stale_file.name != "build.log":
                stale_file.unlink()
        result.outcome = Outcome(Verdict.HARNESS_ERROR, "the run ended before a verdict")
        return self.boot(result, board, emu, built, make_judge(), timeout_s)

    def _reported(self, app, board, emu: str, outcome: Outcome) -> RunResult:
        """A run that ended before building (its reports written all the same)."""
        result = RunResult(app.name, board.name, emu, outcome,
                           new_run_dir(self.out_dir, app.name, board.name, emu))
        self.report(result)
        return result

    def _keep_build_log(self, app, board, result: RunResult) -> None:
        build_log = self.builds.log_path(app.name, board.name)
        try:
            if build_log.is_file() and "build_log" not in result.artifacts:
                _keep(build_log, result.run_dir / "build.log", result)
        except OSError:
            pass                        # e.g. the disk is full: the verdict says so already

    def report(self, result: RunResult) -> None:
        """result.json and junit.xml into the run directory."""
        report.write_run(result)
        result.artifacts.update(result_json=str(result.run_dir / "result.json"),
                                junit=str(result.run_dir / "junit.xml"))

    def start_device(self, app, board, emu: str) -> Device:
        """Build `app` and boot it; the caller owns the Device and must close() it."""
        built = self.builds.firmware(app, board)
        return Device(self.emulators.adapter(board, emu, new_run_dir(self.out_dir, app.name, board.name, emu)),
                      built.elf)

    def boot(self, result: RunResult, board, emu: str, built, judge,
             timeout_s: float | None = None, cancel=None) -> RunResult:
        emulator = self._adapter(board, emu, result.run_dir, built)
        settings = emulator.settings
        result.provenance["emulator"] = f"{emu}: {emulator.version()}"
        timeout = (self.timeout_s or timeout_s or self.default_timeout_s
                   or float(settings.get("timeout_s", 30)))
        if hasattr(judge, "drive"):            # a pytest or shell scenario drives the board
            return self._driven(result, board, emu, built, judge, timeout, cancel)
        judge.settle_like(emulator)
        coverage_run.expect_dump(judge, built)
        intent = getattr(getattr(judge, "spec", None), "audit", None)
        emulator.audit, not_audited = audit_run.plan(self.audit_domains, result, board, emu,
                                                     built.elf, intent, bool(built.coverage))
        emulator.coverage_trace = coverage_run.trace_path(self.coverage, emu, result, built)
        try:
            watched = watch(emulator, built.elf, judge, timeout, cancel=cancel or self.cancel)
        finally:
            result.artifacts.update(uart_raw=str(result.run_dir / "uart.raw"),
                                    emulator_log=str(result.run_dir / f"{emu}.log"))
        result.outcome = judge.outcome(watched.ending)
        if hasattr(emulator, "review"):         # a board of the lab: in its own terms
            result.outcome = emulator.review(result.outcome, watched)
        result.timings.update(watched.timings)
        result.outcome.evidence.update(teardown=watched.teardown, uart_bytes=watched.uart_bytes,
                                       virtual_time_s=watched.virtual_time_s)
        fault = result.outcome.evidence.get("fault")
        if fault:
            fault["trace_resolved"] = symbols.resolve(built.elf, fault["trace"],
                                                      self.builds.toolchain(board).addr2line)
        if not_audited:
            result.outcome.evidence["domains"] = {"not_audited": not_audited}
        if emulator.audit is not None:
            result.outcome = audit_run.conclude(result.outcome, emulator.audit, intent,
                                                result.run_dir, board.protection)
        result.coverage = coverage_run.conclude(self.coverage, result, judge, built,
                                                self.builds.toolchain(board), self.workspace,
                                                self.environ)
        return result


    def _driven(self, result: RunResult, board, emu: str, built, driver, timeout: float,
                cancel=None) -> RunResult:
        """A run whose test code boots the board (one boot per connection of its device)."""
        platform = boards_mod.zephyr_name(board, self.workspace.version())
        try:
            result.outcome, extra = driver.drive(
                lambda run_dir: self._adapter(board, emu, run_dir, built), built,
                result.run_dir, platform, timeout, cancel or self.cancel)
        finally:
            result.artifacts.update({k: str(result.run_dir / name) for k, name in (
                ("uart_raw", "uart.raw"), ("emulator_log", f"{emu}.log"),
                ("pytest_log", "pytest.log")) if (result.run_dir / name).is_file()})
        result.artifacts.update({k: v for k, v in extra.items() if v})
        fault = result.outcome.evidence.get("fault")
        if fault:
            fault["trace_resolved"] = symbols.resolve(built.elf, fault["trace"],
                                                      self.builds.toolchain(board).addr2line)
        return result

    def run_driven(self, name: str, board, emu: str, driver, timeout_s: float) -> RunResult:
        """A run of test code that brings its own firmware (a Robot suite whose
        `Execute Command` lines create the machine): nothing is built or certified."""
        run_dir = new_run_dir(self.out_dir, name, board.name, emu)
        result = RunResult(name, board.name, emu,
                           Outcome(Verdict.HARNESS_ERROR, "the run ended before a verdict"), run_dir)
        t0 = time.monotonic()
        try:
            result.outcome, extra = driver.drive(
                lambda rd: self.emulators.adapter(board, emu, rd), None, run_dir, board.name,
                self.timeout_s or timeout_s, self.cancel)
            result.artifacts.update(extra)
        except BaseException as exc:            # the one boundary, as in run_one
            result.outcome = boundary.outcome(exc)
            if result.verdict is Verdict.INTERRUPTED or not isinstance(exc, (HarnessError, OSError)):
                raise
        finally:
            result.timings["total_s"] = round(time.monotonic() - t0, 3)
            self.report(result)
        return result

    def _adapter(self, board, emu: str, run_dir: Path, built):
        emulator = self.emulators.adapter(board, emu, run_dir)
        emulator.build_dir = built.build_dir
        return emulator


def agreements(session, app, results: list[RunResult]) -> list[dict]:
    """Compare runs of one (app, board) on several emulators; written to
    runs/<app>/<board>.agreement.json."""
    spec = expectations.load(app.expect)
    found = []
    for board in dict.fromkeys(r.board for r in results):
        same = [r for r in results if r.board == board]
        if len(same) > 1:
            found.append(agreement.compare(same, spec))
            path = session.out_dir / "runs" / app.name / f"{board}.agreement.json"
            path.write_text(json.dumps(found[-1], indent=2) + "\n")
    return found


def provenance(session, board, built) -> dict:
    """Where a run's image came from: the ELF, Zephyr, the toolchain, the protection unit."""
    return {"elf": str(built.elf), "elf_sha256": built.sha256,
            "zephyr_version": session.workspace.version(),
            "zephyr_board": boards_mod.zephyr_name(board, session.workspace.version()),
            "zephyr_revision": session.workspace.revision(),
            "workspace": str(session.workspace.topdir),
            "toolchain": session.builds.toolchain(board).describe(),
            "protection": f"{board.protection}: {board.protection_detail}"}


def _keep(src: Path, dest: Path, result: RunResult) -> None:
    shutil.copyfile(src, dest)
    result.artifacts["build_log"] = str(dest)
