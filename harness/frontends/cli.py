"""The `harness` command: a thin adapter over harness.runner.

Commands import the modules only they need (matrix, suites, set-up, doctor), so
`harness run` starts fast (bench/run_overhead.py measures it).

Exit codes: each run verdict has its own (see harness.judging.verdict and README);
bad input exits 2, an interrupt 130. Exceptions map through harness.boundary (`guarded`).
"""
from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import sys
import traceback
from pathlib import Path

from harness import (
    __version__,
    apps,
    boards,
    boundary,
    config,
    emulators,
    files,
    isolation_run,
    project,
    renode_install,
    report,
    runner,
    workspace,
)
from harness.errors import SetupError, UsageError
from harness.frontends import progress as progress_mod
from harness.judging import repeats
from harness.judging.selection import Selection
from harness.judging.verdict import Verdict, worst, worst_code
from harness.paths import BOARDS_DIR


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"harness {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    p.add_argument("--debug", action="store_true",
                   help="print the traceback of a harness failure (exit 11)")
    sub = p.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="build and boot an app, judge its UART log")
    run.add_argument("--app",
                     help=f"app name ({', '.join(apps.known())}) or a Zephyr app directory "
                     "(its expect.yaml, or else the scenarios of its sample.yaml/testcase.yaml)")
    run.add_argument("--expect", help="expectation file (default: the app's expect.yaml)")
    run.add_argument("--board", action="append", help="board (repeat or comma-separate; "
                     "default: the app's boards)")
    run.add_argument("--emulator", help=f"emulator(s), comma-separated ({', '.join(emulators.ADAPTERS)})")
    _common(run)
    run.add_argument("--timeout", type=float, help="host seconds per boot (default: board file)")
    run.add_argument("--pristine", action="store_true", help="rebuild from scratch")
    run.add_argument("--no-isolation", action="store_true",
                     help="skip the isolation proof (the run then cannot PASS... see README)")
    _selection(run)

    chk = sub.add_parser("check-log", help="judge a saved UART log without building or booting")
    chk.add_argument("log", help="the log file (raw bytes are fine)")
    chk.add_argument("--app", default=apps.DEFAULT_APP)
    chk.add_argument("--expect", help="expectation file (default: the app's)")
    chk.add_argument("--json", action="store_true", help="print the outcome as JSON")

    mx = sub.add_parser("matrix", help="run apps x boards x emulators in parallel, with a "
                        "live summary, one JUnit file and a JSON summary")
    mx.add_argument("--app", action="append", help="app(s) (default: prod_consumer)")
    mx.add_argument("-T", "--testsuite-root", action="append", metavar="DIR",
                    help="run every scenario of the sample.yaml/testcase.yaml files under DIR "
                    "(repeatable, like twister's -T)")
    mx.add_argument("--board", action="append", help="board(s) (default: each app's boards)")
    mx.add_argument("--emulator", help="emulator(s), comma-separated (default: qemu)")
    mx.add_argument("--matrix", help="YAML file with apps:, boards:, emulators: lists "
                    "(a cross product) and/or runs: ['APP BOARD EMULATOR', ...]")
    mx.add_argument("-j", "--jobs", type=int, default=os.cpu_count() or 1,
                    help="parallel runs (default: the number of CPUs, %(default)s here)")
    mx.add_argument("--fail-fast", action="store_true", help="cancel queued runs after a non-PASS")
    mx.add_argument("--retry-infra", type=int, default=0, metavar="N",
                    help="re-run emulator errors up to N times (never FAIL or CRASH)")
    _common(mx)
    mx.add_argument("--timeout", type=float, help="host seconds per boot (default: board file)")
    mx.add_argument("--no-isolation", action="store_true", help="skip the isolation proof")
    mx.add_argument("--shard", metavar="K/N", help="run only part K of N of the selected runs "
                    "(deterministic; for CI machines that split one matrix)")
    mx.add_argument("--durations", metavar="SUMMARY",
                    help="a previous summary.json: balance --shard parts by its run times")
    _selection(mx)

    rp = sub.add_parser("report", help="combine reports")
    rp_sub = rp.add_subparsers(dest="report_command", required=True)
    merge = rp_sub.add_parser("merge", help="merge the summary.json and junit.xml of "
                              "several `harness matrix --shard` runs")
    merge.add_argument("dirs", nargs="+", help="each shard's --out directory (or its matrix/)")
    merge.add_argument("--out", default="harness-out/merged", help="where the merged report goes")

    pr = sub.add_parser("prove", help="run the isolation probe: certify that the MPU/MMU "
                        "enforces memory domains on a board and emulator")
    pr.add_argument("--board", action="append", help="board(s) (default: the probe's boards)")
    pr.add_argument("--emulator", help="emulator(s), comma-separated (default: qemu)")
    _common(pr)
    pr.add_argument("--timeout", type=float, help="host seconds per boot (default: board file)")
    pr.add_argument("--fresh", action="store_true", help="ignore a cached certificate")
    pr.add_argument("--json", action="store_true", help="print the certificates as JSON")
    pr.add_argument("--log", help="judge a saved probe UART log instead of booting "
                    "(needs exactly one --board)")

    st = sub.add_parser("setup", help="create the west workspace (default ~/zephyrproject)")
    st.add_argument("--workspace", default=str(workspace.DEFAULT))
    st.add_argument("--mirror", help="directory of git mirrors to use instead of the network")
    st.add_argument("--renode", action="store_true",
                    help=f"also install Renode {renode_install.VERSION} (linux-portable release) "
                    "unless one is found; a failed download is a one-line note, not an error. "
                    "A Renode run by a system mono gets its assemblies compiled ahead of time "
                    "once, for a faster start (HARNESS_RENODE_AOT=0: not)")
    st.add_argument("--renode-archive", metavar="FILE",
                    help="install Renode from this linux-portable archive (implies --renode)")
    st.add_argument("--renode-url", default=renode_install.URL, help=argparse.SUPPRESS)
    st.add_argument("--no-workspace", action="store_true",
                    help="skip the west workspace (e.g. only install Renode)")
    st.add_argument("--no-requirements", action="store_true",
                    help="do not pip install Zephyr's scripts/requirements-base.txt")

    doc = sub.add_parser("doctor", help="show what was found: west, workspace, toolchains, emulators")
    doc.add_argument("--workspace")
    return p


def _common(p) -> None:
    p.add_argument("--workspace", help="west workspace or zephyr directory")
    p.add_argument("--renode", help=f"renode launcher (default: ${config.ENV_RENODE} or PATH)")
    p.add_argument("--out", help="artifacts directory (default: the project file's out:, "
                   "else harness-out)")
    p.add_argument("--config", metavar="FILE", help="the project file (default: the nearest "
                   "harness.yaml at or above the current directory)")
    p.add_argument("--no-reuse", action="store_true",
                   help="a new emulator process for every run (Renode; QEMU always starts "
                   "one): slower, nothing but the files is shared between runs")


def _selection(p) -> None:
    p.add_argument("--repeat", type=_positive, default=1, metavar="N",
                   help="run each selection N times: pass rate, UART sameness, timing spread "
                   "and a kept Renode's memory per run; FLAKY when only some pass")
    p.add_argument("--tag", action="append", help="test suites: only scenarios with this tag")
    p.add_argument("--exclude-tag", action="append", help="test suites: leave out this tag")
    p.add_argument("--fixture", action="append",
                   help="test suites: a fixture this bench provides (harness_config.fixture)")
    p.add_argument("--scenario", action="append",
                   help="test suites: only this scenario (or its dotted children)")


def _positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of repeats")
    return n


def _selected(args) -> Selection:
    return Selection(frozenset(_split(args.tag)), frozenset(_split(args.exclude_tag)),
                     frozenset(_split(args.fixture)), tuple(_split(args.scenario)))


def _split(values) -> list[str]:
    return [v for item in values or [] for v in item.split(",") if v]


def _session(args, environ: dict):
    return config.make_session(
        environ, args.workspace, args.out, getattr(args, "timeout", None),
        getattr(args, "pristine", False), not getattr(args, "no_isolation", False),
        getattr(args, "renode", None), say=lambda msg: print(msg, file=sys.stderr, flush=True),
        reuse_emulators=not args.no_reuse, board_dirs=args.board_dirs,
        default_timeout_s=getattr(args, "project_timeout", None))


def cmd_run(args, environ) -> int:
    if args.app is None and args.project_apps:          # the project file's apps
        suites = [a for a in args.project_apps if apps.is_suite_dir(a)]
        codes = [_run_suites(args, environ, suites)] if suites else []
        for ref in (a for a in args.project_apps if a not in suites):
            codes.append(cmd_run(argparse.Namespace(**{**vars(args), "app": ref}), environ))
        return worst_code(codes)
    app_ref = args.app or apps.DEFAULT_APP
    if not args.expect and apps.is_suite_dir(app_ref):
        return _run_suites(args, environ, [app_ref])
    app = apps.load(app_ref, args.expect)
    board_names = _split(args.board) or list(app.boards)
    if not board_names:
        raise UsageError(f"no board given for app {app.name}", "pass --board NAME")
    if args.emulator:
        pairs = runner.validate(board_names, _split([args.emulator]), args.board_dirs)
    else:
        pairs = _default_pairs(board_names, environ, args.renode, args.board_dirs)
    with _session(args, environ) as session:
        rounds = [session.run_pairs(app, pairs) for _ in range(args.repeat)]
        results = [r for one in rounds for r in one]
        for r in results:
            print(report.line(r), flush=True)
        verdicts = [r.verdict for r in results]
        for found in session.agreements(app, rounds[-1]):
            print(report.agreement_line(found), flush=True)
            verdicts += [] if found["agree"] else [Verdict.DISAGREE]
        _report_repeats(session, results, args.repeat)
    return worst(verdicts).code


def _report_repeats(session, results, repeat: int) -> list[dict]:
    """--repeat N: per (app, board, emulator) pass rate, UART sameness, timings, memory."""
    if repeat < 2:
        return []
    groups: dict = {}
    for r in results:
        groups.setdefault((r.app, r.board, r.emulator), []).append(r)
    found = []
    for (app, board, emu), runs in groups.items():
        raws = [_read_raw(r.run_dir / "uart.raw") for r in runs]
        s = repeats.summarize(runs, [hashlib.sha256(b).hexdigest() for b in raws],
                              [b.decode(errors="replace").replace("\r", "") for b in raws])
        print(repeats.line(s), flush=True)
        files.write_atomic(session.out_dir / "runs" / app / f"{board}.{emu}.repeats.json",
                           json.dumps(s, indent=2) + "\n")
        found.append(s)
    return found


def _read_raw(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""


def _default_pairs(board_names, environ, renode_arg, board_dirs) -> list:
    """Without --emulator: QEMU where the board has it, and Renode too where the board has
    it and Renode is installed (one line says which runs were left out otherwise)."""
    chosen = config.renode_binary(environ, renode_arg)
    have_renode = bool(config.renode_found(environ, renode_arg))
    pairs, left_out = [], []
    for name in board_names:
        board = boards.load(name, board_dirs)
        wanted = [e for e in ("qemu", "renode") if e in board.emulators] or list(board.emulators)
        for emu in wanted:
            if emu == "renode" and "qemu" in wanted:
                why = "" if have_renode else "not found"
                if have_renode:
                    try:
                        settings = {**board.emulator("renode"), **({"binary": chosen} if chosen else {})}
                        emulators.adapter("renode")(board, settings, Path("."), None,
                                                    environ).check_version()
                    except SetupError as exc:
                        why = exc.message
                if why:
                    left_out.append(f"{name} renode ({why})")
                    continue
            pairs += runner.validate([name], [emu], board_dirs)
    if left_out:
        print(f"harness: left out: {', '.join(left_out)} (install Renode with "
              "`harness setup --renode`, or pass --renode PATH)", file=sys.stderr)
    return pairs


def cmd_matrix(args, environ) -> int:
    from harness import matrix
    if args.testsuite_root:
        if args.app or args.matrix:
            raise UsageError("-T runs test suites; it does not combine with --app or --matrix")
        return _run_suites(args, environ, args.testsuite_root, matrix_jobs=args.jobs)
    if args.matrix:
        entries = matrix.load_file(args.matrix)
    else:
        entries = matrix.entries(_split(args.app) or [apps.DEFAULT_APP], _split(args.board),
                                 _split([args.emulator]) if args.emulator else None,
                                 args.board_dirs)
    if args.jobs < 1:
        raise UsageError("-j needs a positive number of parallel runs")
    entries = _shard(args, entries)
    progress = progress_mod.for_stream(sys.stderr)
    with _session(args, environ) as session:
        try:
            rounds = [matrix.run(session, entries, args.jobs, progress, args.fail_fast,
                                 args.retry_infra) for _ in range(args.repeat)]
        finally:
            progress.stop()
        out = matrix.combine(rounds)
        _report_repeats(session, out.results, args.repeat)
    files = matrix.write_reports(session, out, session.out_dir / "matrix",
                                 getattr(args, "shard", None))
    for r in out.results:
        print(report.line(r), flush=True)
    for e in out.cancelled:
        print(f"{'CANCELLED':<14} {e.app} {e.board} {e.emulator}  (--fail-fast)")
    print(f"matrix: {len(out.results)} run(s) in {out.wall_s:.1f} s, worst verdict "
          f"{out.verdict}; junit: {files['junit']}; summary: {files['summary']}")
    return out.verdict.code


def _shard(args, entries: list) -> list:
    """--shard K/N: this machine's part of the matrix (balanced by --durations)."""
    from harness import shards
    if not getattr(args, "shard", None):
        return entries
    k, n = shards.parse(args.shard)
    mine = shards.split(entries, k, n, shards.durations(args.durations))
    print(f"shard {k}/{n}: {len(mine)} of {len(entries)} run(s)", file=sys.stderr)
    return mine


def cmd_report(args, environ) -> int:
    from harness import shards
    merged = shards.merge(args.dirs, Path(args.out))
    print(f"merged {len(args.dirs)} report(s), {len(merged['runs'])} run(s), worst verdict "
          f"{merged['verdict']}: {Path(args.out) / 'summary.json'}, {Path(args.out) / 'junit.xml'}")
    return merged["exit_code"]


def _run_suites(args, environ, roots, matrix_jobs: int | None = None) -> int:
    """Test suites: their scenarios x boards x emulators, as `harness matrix` runs them."""
    from harness import matrix, suite
    warned = set()

    def warn(msg: str) -> None:
        if msg not in warned:
            warned.add(msg)
            print(f"harness: warning: {msg}", file=sys.stderr)
    found = suite.collect(roots, warn)
    suite.validate_console(found)
    emulator_names = _split([args.emulator]) if args.emulator else None
    pairs = runner.validate(_split(args.board) or [boards.DEFAULT_BOARD], emulator_names,
                            args.board_dirs)
    jobs = matrix_jobs or os.cpu_count() or 1
    if jobs < 1:
        raise UsageError("-j needs a positive number of parallel runs")
    progress = progress_mod.for_stream(sys.stderr)
    with _session(args, environ) as session:
        planned = suite.plan(found, pairs, session.workspace.zephyr_base, _selected(args))
        try:
            selected = _shard(args, matrix.from_plan(planned))
            rounds = [matrix.run(session, selected, jobs, progress,
                                 getattr(args, "fail_fast", False), getattr(args, "retry_infra", 0))
                      for _ in range(getattr(args, "repeat", 1))]
        finally:
            progress.stop()
        out = matrix.combine(rounds)
        _report_repeats(session, out.results, getattr(args, "repeat", 1))
        verdicts = [r.verdict for r in out.results]
        agreements = session.suite_agreements(rounds[-1].results)   # within one round
        for found_pair in agreements:
            print(report.agreement_line(found_pair), flush=True)
            verdicts += [] if found_pair["agree"] else [Verdict.DISAGREE]
    files = matrix.write_reports(session, out, session.out_dir / "matrix",
                                 getattr(args, "shard", None), agreements)
    for r in out.results:
        print(report.line(r), flush=True)
    print(f"{len(found)} scenario(s), {len(out.results)} run(s) in {out.wall_s:.1f} s: "
          f"{report.counts(out.results)}; junit: {files['junit']}; summary: {files['summary']}")
    return worst(verdicts).code


def cmd_prove(args, environ) -> int:
    probe = apps.load(isolation_run.PROBE_APP)
    emulator_names = _split([args.emulator]) if args.emulator else None
    pairs = runner.validate(_split(args.board) or list(probe.boards), emulator_names,
                            args.board_dirs)
    if args.log:
        if len(pairs) != 1:
            raise UsageError("--log needs exactly one --board (its protection kind matters)")
        results = [isolation_run.certify_log(_read(args.log), *pairs[0], args.log)]
    else:
        with _session(args, environ) as session:
            results = [isolation_run.certify(session, board, emu, fresh=args.fresh)
                       for board, emu in pairs]
    for r in results:
        if args.json:
            print(json.dumps(r.certificate, indent=2))
        else:
            print(report.certificate_text(r))
    return worst(r.verdict for r in results).code


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read log {path}: {exc.strerror}") from None


def cmd_check_log(args, environ) -> int:
    from harness.frontends import checklog
    return checklog.main(args)


def cmd_setup(args, environ) -> int:
    if args.renode or args.renode_archive:
        _setup_renode(args, environ)
    if args.no_workspace:
        return 0
    top = Path(args.workspace).expanduser()
    print(f"setting up the west workspace at {top}", file=sys.stderr)
    from harness import setup
    setup.setup(top, Path(args.mirror) if args.mirror else None,
                say=lambda m: print(m, file=sys.stderr, flush=True),
                requirements=not args.no_requirements)
    ws = workspace.find(str(top), None, Path.cwd(), Path.home())
    print(f"workspace ready: {ws.topdir} (Zephyr {ws.version()} at {ws.revision()[:12]})")
    return 0


def _setup_renode(args, environ) -> None:
    say = lambda m: print(m, file=sys.stderr, flush=True)  # noqa: E731
    found = config.renode_found(environ)
    if found and not args.renode_archive:
        say(f"Renode: using {found}")
    else:
        archive = Path(args.renode_archive).expanduser() if args.renode_archive else None
        try:
            record = renode_install.install(environ, archive, args.renode_url, say=say)
        except SetupError as exc:
            if archive is not None:
                raise
            say(f"setup: Renode not installed ({exc.message}); Renode runs are left out until "
                "`harness setup --renode` can download it or gets --renode-archive FILE")
            return
        say(f"Renode {record['version']} installed: {record['renode']} (sha256 of the archive "
            f"{record['sha256'][:16]}...)")
        found = record["renode"]
    from harness import renode_aot
    from harness.process import which
    renode_aot.make(which(found, environ) or found, environ, say=say)


def cmd_doctor(args, environ) -> int:
    from harness.frontends import doctor
    return doctor.main(args.workspace, environ)


COMMANDS = {"report": cmd_report, "run": cmd_run, "matrix": cmd_matrix, "prove": cmd_prove, "check-log": cmd_check_log, "setup": cmd_setup, "doctor": cmd_doctor}


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    environ = dict(os.environ)            # read once, here at the edge; passed down from here
    return guarded(lambda: COMMANDS[args.command](_with_project(args), environ), args.debug)


def _with_project(args):
    """Defaults from the project file (harness.yaml); options given on the command line win."""
    args.board_dirs = (BOARDS_DIR,)
    args.project_apps = ()
    args.project_timeout = None
    if args.command not in ("run", "matrix", "prove"):
        return args
    proj = project.find(Path.cwd(), args.config)
    if proj is not None:
        print(f"project: {proj.path}", file=sys.stderr)
        args.board = args.board or list(proj.boards) or None
        args.emulator = args.emulator or ",".join(proj.emulators) or None
        args.out = args.out or proj.out
        args.workspace = args.workspace or proj.workspace
        args.project_timeout = proj.timeout       # below a scenario's own timeout
        args.board_dirs = (*map(Path, proj.board_dirs), BOARDS_DIR)
        if args.command == "run":
            args.project_apps = proj.apps
        elif args.command == "matrix" and not (args.app or args.testsuite_root or args.matrix):
            args.testsuite_root = [*proj.test_roots, *(a for a in proj.apps if apps.is_suite_dir(a))]
            args.app = [a for a in proj.apps if not apps.is_suite_dir(a)] or None
            if args.app and args.testsuite_root:     # a matrix runs one kind at a time
                print(f"harness: warning: {proj.path} lists apps with expect.yaml and test suites; "
                      "this matrix runs the apps; run the suites with -T", file=sys.stderr)
                args.testsuite_root = None
    args.out = args.out or "harness-out"
    return args


def guarded(action, debug: bool = False) -> int:
    """Run `action` (returning an exit code) inside the one error boundary
    (harness.boundary): an exception becomes one line 'harness: VERDICT: message' and
    its verdict's exit code; SIGTERM stops it like SIGINT. `--debug` adds the traceback
    of a harness failure."""
    try:
        with boundary.sigterm_interrupts():
            return action()
    except BaseException as exc:              # noqa: BLE001  the boundary
        if isinstance(exc, SystemExit):
            raise
        found = boundary.failure(exc)
        if debug and found.verdict is Verdict.HARNESS_ERROR:
            traceback.print_exc()
        print(f"harness: {found.line()}", file=sys.stderr)
        return found.code


__all__ = ["main", "Verdict"]
