"""`harness robot SUITE.robot...`: Robot suites written for Renode's renode-test, run
unchanged on Renode (Renode's own keywords, served by Renode), with the harness's
artifacts, JUnit (one test case per Robot test) and, with --app, a west build and the
board's isolation certificate."""
from __future__ import annotations

from pathlib import Path

from harness import runner
from harness.emulators.renode_server import SERVER_ENV
from harness.errors import UsageError
from harness.frontends.cli import options
from harness.inputs import apps, boards
from harness.interactive.robot_run import RobotSuites
from harness.judging.verdict import worst
from harness.reports import report

DEFAULT_TIMEOUT_S = 600.0


def add_parser(sub) -> None:
    p = sub.add_parser("robot", help="run Robot suites written for renode-test on Renode")
    p.add_argument("suite", nargs="+", help="Robot suite file(s) (.robot)")
    p.add_argument("--app", help="build this app with west and pass it to the suites as "
                   "${ELF}, with ${RESC} and ${UART} for the board (as Zephyr's run_renode_test)")
    p.add_argument("--board", help=f"the board for --app (default: {boards.DEFAULT_BOARD})")
    p.add_argument("--variable", action="append", default=[], metavar="NAME:VALUE",
                   help="a Robot variable, as renode-test and robot take it (repeatable)")
    p.add_argument("--include", action="append", default=[], metavar="TAG")
    p.add_argument("--exclude", action="append", default=[], metavar="TAG")
    p.add_argument("--test", action="append", default=[], metavar="NAME")
    p.add_argument("--timeout", type=float,
                   help=f"host seconds for the whole Robot run (default {DEFAULT_TIMEOUT_S:g})")
    p.add_argument("--renode-server", metavar="SOCKET",
                   help="lease a warm Renode from `harness serve` at SOCKET instead of starting "
                   f"one (default: ${SERVER_ENV}, if set)")
    p.add_argument("--no-isolation", action="store_true",
                   help="with --app: skip the board's isolation proof")
    options.common(p)


def run(args, environ) -> int:
    suites = [Path(s).resolve() for s in args.suite]
    for bad in (v for v in args.variable if ":" not in v):
        raise UsageError(f"--variable {bad!r} is not NAME:VALUE")
    name = suites[0].stem if len(suites) == 1 else "robot"
    driver = RobotSuites(suites, name, options={
        "include": args.include, "exclude": args.exclude, "test": args.test,
        "variable": args.variable})
    driver.check()                                   # BAD_INPUT before anything starts
    board = runner.validate([args.board or boards.DEFAULT_BOARD], ["renode"], args.board_dirs)[0][0]
    args.timeout = args.timeout or DEFAULT_TIMEOUT_S
    args.out = args.out or "harness-out"
    if args.renode_server:
        environ = {**environ, SERVER_ENV: args.renode_server}
    if args.no_reuse and environ.get(SERVER_ENV):       # nothing shared between runs
        environ = {k: v for k, v in environ.items() if k != SERVER_ENV}
    with options.session(args, environ) as session:
        driver.zephyr_keywords = session.workspace.zephyr_base / "tests" / "robot" / "common.robot"
        if args.app:
            result = session.run_checked(apps.load(args.app, judged=False), board, "renode", None,
                                         make_judge=lambda: driver, timeout_s=args.timeout)
        else:
            result = session.run_driven(name, board, "renode", driver, args.timeout)
        print(report.line(result), flush=True)
        for case in result.outcome.evidence.get("testcases", []):
            print(f"  {case['status']:8} {case['name']}", flush=True)
    return worst([result.verdict]).code
