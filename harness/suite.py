"""Running Zephyr test suites: scenarios (harness.inputs.scenarios) x boards x emulators.

plan -> for each (scenario, board, emulator): a static skip reason or a run;
a run builds with the scenario's extra_args / extra_configs, evaluates its
`filter:` on the configured build (SKIPPED when false, nothing compiled), stops
after the build for `build_only`, then boots under the isolation certificate and
judges with the scenario's harness (console or ztest), or hands the board to the
scenario's pytest code (pytest and shell: harness.interactive).
"""
from __future__ import annotations

import json
import re
import shutil
from dataclasses import dataclass, replace
from pathlib import Path

from harness import boundary
from harness.build import filters
from harness.errors import BuildError, HarnessError, UsageError
from harness.host.files import new_run_dir
from harness.inputs import boards, scenarios, zephyr_boards
from harness.inputs.apps import App
from harness.interactive.pytest_harness import PytestScenario
from harness.interactive.robot_run import RobotSuites, parse_options
from harness.judging import agreement
from harness.judging.expect import Expectation
from harness.judging.judge import Judge
from harness.judging.results import RunResult
from harness.judging.selection import (
    BoardFacts,
    Selection,
    not_runnable,
    platform_key_reason,
    skip_reason,
)
from harness.judging.suites import ConsoleMatcher, ZtestMatcher
from harness.judging.verdict import Outcome, Verdict

INTERACTIVE = ("pytest", "shell", "robot")  # twister harnesses whose test code drives the board


class Skipped(HarnessError):
    """The scenario does not run on this board (its filter said so); not an error."""

    verdict = Verdict.SKIPPED
    exit_code = Verdict.SKIPPED.code


@dataclass(frozen=True)
class Planned:
    scenario: scenarios.Scenario
    board: object               # boards.Board
    emulator: str
    skip: str | None            # the static reason it does not run, or None
    built_only: str | None = None   # why it is built but not run (twister: "not run")
    requires: tuple = ()        # the Planned runs whose builds it needs (required_applications)
    fixtures: tuple = ()        # --fixture values, for the pytest harness (--twister-fixture)

    @property
    def name(self) -> str:
        return f"{self.scenario.name}.{self.board.name}.{self.emulator}"

    @property
    def app(self) -> str:       # the matrix's progress display and reports call it the app
        return self.scenario.name


def collect(roots, warn) -> list[scenarios.Scenario]:
    """The scenarios of every sample.yaml / testcase.yaml at or under each root."""
    found, seen = [], set()
    for root in roots:
        for path in scenarios.discover(Path(root)):
            for s in scenarios.load(path, warn):
                if s.name in seen:
                    warn(f"{path}: scenario {s.name} is already defined elsewhere; this one "
                         "is left out")
                else:
                    seen.add(s.name)
                    found.append(s)
    return found


def plan(found, pairs, zephyr_base: Path, selection: Selection = Selection(),
         zephyr_version: str = "3.0.0") -> list[Planned]:
    """`pairs`: (Board, emulator) from runner.validate."""
    out = []
    facts = {b.name: board_facts(zephyr_base, b, zephyr_version) for b, _ in pairs}
    for s in found:
        keyed: dict = {}                          # platform_key -> the board that covers it
        for board, emu in pairs:
            why = skip_reason(s, facts[board.name], selection) or \
                platform_key_reason(s, facts[board.name], keyed) or \
                ("No robot support for the selected emulator: Robot suites run on Renode"
                 if s.harness == "robot" and emu != "renode" else None)
            out.append(Planned(s, board, emu, why, not_runnable(s, selection),
                               fixtures=tuple(sorted(selection.fixtures))))
    return [_with_required(p, out, facts) for p in out]


def _with_required(p: Planned, planned: list[Planned], facts: dict) -> Planned:
    """twister's required_applications (TestPlan.apply_changes_for_required_applications):
    each names a scenario (and optionally a platform) whose build the pytest harness gets
    as --required-build; one that is not planned, or does not run, filters this one."""
    needed = p.scenario["required_applications"]
    if p.skip or not needed:
        return p
    found = []
    for req in needed:
        req = req if isinstance(req, dict) else {"name": str(req)}
        platform = req.get("platform")
        match = next((q for q in planned if q.scenario.name == req.get("name")
                      and q.emulator == p.emulator
                      and (facts[q.board.name].known_as({platform}) if platform
                           else q.board.name == p.board.name)), None)
        if match is None:
            return replace(p, skip=f"Missing required application {req.get('name')}")
        if match.skip:
            return replace(p, skip=f"Required app {match.name} is filtered")
        if p.scenario.name in {r.get("name") if isinstance(r, dict) else r
                               for r in match.scenario["required_applications"]}:
            return replace(p, skip="Circular dependency in required applications")
        found.append(match)
    return replace(p, requires=tuple(found))


def board_facts(zephyr_base: Path, board, zephyr_version: str = "3.0.0") -> BoardFacts:
    """What the workspace's own board file says (RAM, flash, supported features,
    simulators), under the name twister gives the board on this Zephyr."""
    name = boards.zephyr_name(board, zephyr_version)    # twister's platform: the Zephyr board
    data, aliases = zephyr_boards.metadata(zephyr_base, name)
    sims = data.get("simulation") or []
    sims = [s.get("name") if isinstance(s, dict) else s for s in ([sims] if isinstance(sims, str) else sims)]
    return BoardFacts(data.get("identifier", name), data.get("arch", board.arch),
                      int(data.get("ram", 128)), int(data.get("flash", 512)),
                      frozenset(f for item in data.get("supported") or () for f in item.split(":")),
                      frozenset(data.get("toolchain") or ()), frozenset(aliases),
                      sims[0] if sims else "na")


def app_of(s: scenarios.Scenario, arch: str = "", platform: str = "",
           simulation: str = "") -> App:
    """The scenario as an app to build for a platform (twister's arch, name, simulator)."""
    return App(s.name, Path(), (), source=s.source,
               cmake_args=tuple(s.cmake_args(arch, platform, simulation)),
               extra_configs=tuple(s.kconfig_lines(arch, platform)),
               overlay_confs=tuple(s["extra_overlay_confs"]))


def run(session, p: Planned) -> RunResult:
    """One planned run: SKIPPED without building, or built, filtered and judged."""
    if p.skip:
        return skipped(session, p, p.skip)
    make_judge = judge_for(p.scenario, case_ids(session.workspace.zephyr_base))
    if p.scenario.harness in INTERACTIVE and not p.built_only:          # its own test code drives the board
        try:
            driver = driver_for(p.scenario, session.workspace.zephyr_base, session.environ)
            driver.check()
            driver.fixtures = p.fixtures
            try:
                driver.required_builds = [_build_of(session, q) for q in p.requires]
            except BuildError:             # twister: SKIPPED, "Required application failed"
                return skipped(session, p, "Required application failed")
        except HarnessError as exc:
            return skipped(session, p, str(exc), boundary.outcome(exc).verdict)
        make_judge = lambda: driver                # noqa: E731
    ws = session.workspace
    facts = board_facts(ws.zephyr_base, p.board, ws.version())
    return session.run_checked(app_of(p.scenario, facts.arch, facts.name, facts.simulation),
                               p.board, p.emulator,
                               None,
                               make_judge=make_judge,
                               before_compile=_filter_check(session, p),
                               build_only=p.scenario["build_only"] or p.built_only or False,
                               timeout_s=float(p.scenario["timeout"]))


def _build_of(session, p: Planned) -> Path:
    """The build directory of a required application (built now unless it is already),
    with its build.log inside, where twister keeps it (tests look for it there)."""
    ws = session.workspace
    facts = board_facts(ws.zephyr_base, p.board, ws.version())
    app = app_of(p.scenario, facts.arch, facts.name, facts.simulation)
    built = session.builds.firmware(app, p.board)
    log = session.builds.log_path(app.name, p.board.name)
    if log.is_file():
        shutil.copyfile(log, built.build_dir / "build.log")
    return built.build_dir


def driver_for(s: scenarios.Scenario, zephyr_base: Path, environ: dict):
    """What runs a pytest, shell or robot scenario (harness.interactive)."""
    if s.harness != "robot":
        return PytestScenario(s, zephyr_base, environ)
    config = s["harness_config"] or {}
    suites = config.get("robot_testsuite") or []
    if not suites:
        raise UsageError(f"{s.yaml_path}: {s.name}: harness_config.robot_testsuite is "
                         "required for a robot scenario", "name the scenario's .robot file(s)")
    try:
        options = parse_options(config.get("robot_option"))
    except UsageError as exc:
        raise UsageError(f"{s.yaml_path}: {s.name}: {exc.message}", exc.hint) from None
    return RobotSuites([s.source / p for p in ([suites] if isinstance(suites, str) else suites)],
                       s.name, options=options,
                       keywords=Path(zephyr_base) / "tests" / "robot" / "common.robot")


def skipped(session, p: Planned, reason: str, verdict: Verdict = Verdict.SKIPPED) -> RunResult:
    """A run that does not happen, with its reason (and verdict: SKIPPED, or the bad
    input that stopped it), reported like any other."""
    run_dir = new_run_dir(session.out_dir, p.scenario.name, p.board.name, p.emulator)
    result = RunResult(p.scenario.name, p.board.name, p.emulator,
                       Outcome(verdict, reason, {"scenario": str(p.scenario.yaml_path)}),
                       run_dir)
    session.report(result)
    return result


def judge_for(s: scenarios.Scenario, case_ids: str = "scenario"):
    """A factory of the scenario's judge: ztest (the default, as in twister) or console.
    `case_ids`: how the workspace's twister names test cases (see case_ids())."""
    spec = Expectation(str(s.yaml_path), [], [])
    if s.harness == "console":
        config = s["harness_config"]
        return lambda: Judge(spec, ConsoleMatcher(s.name, config), faults_expected=s.ignores_faults)
    return lambda: Judge(spec, ZtestMatcher(s.name, case_ids), faults_expected=True)


def case_ids(zephyr_base: Path) -> str:
    """How the workspace's own twister names ztest cases by default: "suite"
    (<suite>.<test>) where its test suites compose case names (compose_case_name, with
    --detailed-test-id off by default: Zephyr 4.3 here; 4.0 still names <scenario>.<test>),
    else "scenario"."""
    code = zephyr_base / "scripts" / "pylib" / "twister" / "twisterlib" / "testsuite.py"
    try:
        return "suite" if "compose_case_name" in code.read_text(errors="replace") else "scenario"
    except OSError:
        return "scenario"


def _filter_check(session, p: Planned):
    expression = p.scenario["filter"]
    if not expression:
        return None

    def check(build_dir: Path) -> None:
        ws = session.workspace
        platform = board_facts(ws.zephyr_base, p.board, ws.version()).name   # twister's PLATFORM
        if not filters.passes(expression, arch=p.board.arch, board=platform,
                              build_dir=build_dir, zephyr_base=session.workspace.zephyr_base,
                              environ=session.environ):
            raise Skipped(f"filter: {expression}")
    return check


def validate_console(found) -> None:
    """A console harness with a bad config is a clear error before anything runs."""
    for s in found:
        if s.harness == "console":
            try:
                ConsoleMatcher(s.name, s["harness_config"])
            except (ValueError, TypeError, re.error) as exc:
                raise UsageError(f"{s.yaml_path}: {s.name}: bad harness_config: {exc}") from None


def agreements(session, results: list[RunResult]) -> list[dict]:
    """Per scenario and board run on several emulators: verdicts and per-test-case
    statuses compared; written to runs/<scenario>/<board>.agreement.json."""
    found = []
    groups: dict = {}
    for r in results:
        if r.verdict is not Verdict.SKIPPED:
            groups.setdefault((r.app, r.board), []).append(r)
    for (app, board), same in groups.items():
        if len(same) > 1:
            found.append(agreement.compare_cases(same))
            path = session.out_dir / "runs" / app / f"{board}.agreement.json"
            path.write_text(json.dumps(found[-1], indent=2) + "\n")
    return found
