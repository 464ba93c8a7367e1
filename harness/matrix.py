"""`harness matrix`: apps x boards x emulators, in parallel, with live progress.

Each run is isolated (own run dir, ports, emulator process group, or for
Renode a fresh emulation in a process that no other run uses meanwhile); runs
of the same app and board share one build, runs of the same board and
emulator share one isolation certificate. Runs of an emulator whose processes
are reused are limited to a few at a time, so each process serves several.
"""
from __future__ import annotations

import concurrent.futures as cf
import json
import os
import platform
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from harness import __version__, suite
from harness.emulators import lab
from harness.errors import UsageError
from harness.host.paths import BOARDS_DIR
from harness.inputs import apps, expectations
from harness.judging.results import RunResult
from harness.judging.verdict import BOARD_FAULTS, Verdict, worst
from harness.reports import report
from harness.runner import validate

# retried with --retry-infra, never FAIL/CRASH: emulators and boards of the lab misbehaving
INFRA = (Verdict.EMULATOR_ERROR, Verdict.STALL, *BOARD_FAULTS)
# An emulator whose processes a session reuses (Renode) gets one more process
# per this many of its runs: a start-up costs about as much as 4 warm runs.
RUNS_PER_PROCESS = 4


@dataclass(frozen=True)
class Entry:
    app: str                    # an app name, or a test-suite scenario's name
    board: str
    emulator: str
    planned: object = field(default=None, compare=False)   # suite.Planned for a scenario

    @property
    def name(self) -> str:
        return f"{self.app}.{self.board}.{self.emulator}"


@dataclass
class MatrixResult:
    results: list = field(default_factory=list)
    cancelled: list = field(default_factory=list)
    wall_s: float = 0.0

    @property
    def verdict(self) -> Verdict:
        return worst(r.verdict for r in self.results)


def combine(rounds: list[MatrixResult]) -> MatrixResult:
    """Several rounds of one matrix (--repeat) as one result, round after round."""
    out = MatrixResult()
    for r in rounds:
        out.results += r.results
        out.cancelled += r.cancelled
        out.wall_s += r.wall_s
    return out


def entries(app_names, board_names, emulator_names, board_dirs=BOARDS_DIR) -> list[Entry]:
    """The matrix; boards default to each app's own list, emulators to qemu."""
    out = []
    for app_name in app_names:
        app = apps.load(app_name)
        for board, emu in validate(board_names or list(app.boards), emulator_names, board_dirs):
            out.append(Entry(app_name, board.name, emu))
    return out


def load_file(path: str) -> list[Entry]:
    """A matrix file: the cross product {apps: [...], boards: [...], emulators: [...]},
    and/or explicit runs: ["app board emulator", ...]."""
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise UsageError(f"cannot read matrix file {path}: {exc}") from None
    if not isinstance(data, dict) or set(data) - {"apps", "boards", "emulators", "runs"}:
        raise UsageError(f"{path}: a matrix file has only apps:, boards:, emulators: and "
                         "runs: lists")
    out = []
    if set(data) - {"runs"} or not data.get("runs"):
        out = entries(data.get("apps") or [apps.DEFAULT_APP], data.get("boards") or [],
                      data.get("emulators"))
    for run in data.get("runs") or []:
        parts = str(run).split()
        if len(parts) != 3:
            raise UsageError(f"{path}: run {run!r} must read 'APP BOARD EMULATOR'")
        out += [e for e in entries([parts[0]], [parts[1]], [parts[2]]) if e not in out]
    return out


def run(session, matrix: list[Entry], jobs: int, progress, fail_fast: bool = False,
        retry_infra: int = 0) -> MatrixResult:
    out = MatrixResult()
    t0 = time.monotonic()
    progress.start(matrix)
    _schedule(session, list(matrix), jobs, progress, fail_fast, retry_infra, out)
    out.wall_s = time.monotonic() - t0
    order = {e: i for i, e in enumerate(matrix)}
    out.results.sort(key=lambda r: order[Entry(r.app, r.board, r.emulator)])
    return out


def _schedule(session, queue, jobs, progress, fail_fast, retry_infra, out) -> None:
    with cf.ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        try:
            _loop(session, pool, queue, jobs, progress, fail_fast, retry_infra, out)
        except BaseException:     # Ctrl-C / SIGTERM: running boots abort before the pool joins
            session.cancel.set()
            raise


def process_limits(session, queue: list[Entry], jobs: int) -> dict:
    """How many runs of each reusable emulator may run at once: few enough that
    each process serves several runs instead of paying its start-up per run."""
    limits = {}
    for emu in {e.emulator for e in queue}:
        if session.emulators.pool(emu) is not None:
            count = sum(e.emulator == emu for e in queue)
            limits[emu] = max(1, min(jobs, -(-count // RUNS_PER_PROCESS)))
    return limits


def _loop(session, pool, queue, jobs, progress, fail_fast, retry_infra, out) -> None:
    running: dict = {}
    limits = process_limits(session, queue, jobs)
    queue.sort(key=lambda e: e.emulator not in limits)   # the start-up-heavy chains first
    busy: Counter = Counter()

    warming: set = set()       # builds whose app and board compile for the first time now
    warm: set = set()

    def startable(entry: Entry) -> bool:
        return entry.emulator not in limits or busy[entry.emulator] < limits[entry.emulator]

    while queue or running:
        while len(running) < max(1, jobs):             # submit only what can start now
            entry = _next(list(filter(startable, queue)), warming)
            if entry is None:
                break
            queue.remove(entry)
            busy[entry.emulator] += 1
            if _compiles(entry) not in warm | {None}:
                warming.add(_compiles(entry))
            running[pool.submit(_run_entry, session, entry, retry_infra, progress)] = entry
        done, _ = cf.wait(running, return_when=cf.FIRST_COMPLETED)
        for fut in done:
            result = fut.result()
            out.results.append(result)
            entry = running.pop(fut)
            warming.discard(_compiles(entry))
            warm.add(_compiles(entry))
            busy[entry.emulator] -= 1
            progress.finished(entry, result)
            if fail_fast and result.verdict not in (Verdict.PASS, Verdict.SKIPPED):
                out.cancelled += queue
                queue.clear()


def _next(startable: list[Entry], warming: set) -> Entry | None:
    """The first entry that can start, preferring one whose app and board are not being
    compiled for the first time right now: scenarios of one app share most objects
    through ccache (west_build.shared_compiles), but two of them compiled side by side
    share nothing, as the first two of each test suite would in list order. Measured on
    Zephyr 4.3, samples/philosophers and samples/synchronization cold at -j 2: the first
    two philosophers scenarios took 55 s each side by side, the later ones 17-29 s."""
    return next((e for e in startable if _compiles(e) not in warming),
                startable[0] if startable else None)


def _compiles(entry: Entry) -> tuple | None:
    """What an entry compiles (app source and board), None when it builds nothing."""
    if entry.planned is None:
        return (entry.app, entry.board)
    if entry.planned.skip:
        return None
    return (str(entry.planned.scenario.source), entry.board)


def from_plan(planned) -> list[Entry]:
    """Matrix entries for test-suite scenarios (suite.plan)."""
    return [Entry(p.scenario.name, p.board.name, p.emulator, p) for p in planned]


def _run_entry(session, entry: Entry, retry_infra: int, progress) -> RunResult:
    if entry.planned is not None:
        needs = [entry.planned.scenario["harness_config"].get("fixture")]    # a board with it
        attempt = lambda: _needing(needs, suite.run, session, entry.planned)   # noqa: E731
    else:
        app = apps.load(entry.app)
        board = validate([entry.board], [entry.emulator], session.board_dirs)[0][0]
        spec = expectations.load(app.expect)
        attempt = lambda: session.run_checked(app, board, entry.emulator, spec)   # noqa: E731
    progress.started(entry)
    attempts = []
    while True:
        result = attempt()
        attempts.append({"verdict": result.verdict.label, "reason": result.outcome.reason,
                         "run_dir": str(result.run_dir)})
        if result.verdict not in INFRA or len(attempts) > retry_infra:
            break
        progress.retrying(entry, result)
    if len(attempts) > 1:
        result.outcome.evidence["retried"] = attempts[:-1]
    return result


def _needing(fixtures, fn, *args):
    with lab.needing(fixtures):
        return fn(*args)


def write_reports(session, out: MatrixResult, directory: Path, shard: str | None = None,
                  agreements: list | None = None) -> dict:
    """junit.xml and summary.json; a disagreement between emulators makes the verdict DISAGREE."""
    agreements = agreements or []
    verdict = worst([out.verdict] + [Verdict.DISAGREE for a in agreements if a["agree"] is False])
    directory.mkdir(parents=True, exist_ok=True)
    junit, summary = directory / "junit.xml", directory / "summary.json"
    report.write_junit(out.results, junit, suite="harness-matrix")
    summary.write_text(json.dumps({
        "verdict": verdict.label, "exit_code": verdict.code, "agreements": agreements,
        "wall_s": round(out.wall_s, 3),
        "host": {"name": platform.node(), "system": platform.platform(),
                 "python": platform.python_version(), "cpus": os.cpu_count()},
        "harness_version": __version__,
        "zephyr": {"version": session.workspace.version(), "revision": session.workspace.revision()},
        "runs": [r.to_json() | {"retried": r.outcome.evidence.get("retried", [])}
                 for r in out.results],
        "cancelled": [e.name for e in out.cancelled],
        "shard": shard,
    }, indent=2, default=str) + "\n")
    return {"junit": junit, "summary": summary}
