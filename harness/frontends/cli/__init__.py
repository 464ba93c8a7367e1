"""The `harness` command: a thin adapter over harness.runner, one module per subcommand
(as west keeps its commands apart): each has `add_parser(subparsers)` and `run(args, environ)`.

Commands import the modules only they need (matrix, suites, set-up, doctor), so
`harness run` starts fast (bench/run_overhead.py measures it).

Exit codes: each run verdict has its own (see harness.judging.verdict and docs/verdicts.md);
bad input exits 2, an interrupt 130. Exceptions map through harness.boundary (`guarded`).
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import traceback
from pathlib import Path

from harness import __version__, boundary
from harness.frontends.cli import (
    check_log,
    doctor,
    hardware_map,
    matrix,
    prove,
    report,
    robot,
    run,
    serve,
    setup,
)
from harness.host.paths import BOARDS_DIR
from harness.inputs import apps, project
from harness.judging.verdict import Verdict

COMMANDS = {"run": run, "check-log": check_log, "matrix": matrix, "report": report,
            "prove": prove, "setup": setup, "doctor": doctor, "hardware-map": hardware_map,
            "robot": robot, "serve": serve}


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness", description=__doc__.splitlines()[0])
    p.add_argument("--version", action="version", version=f"harness {__version__}")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging on stderr")
    p.add_argument("--debug", action="store_true",
                   help="print the traceback of a harness failure (exit 11)")
    sub = p.add_subparsers(dest="command", required=True)
    for command in COMMANDS.values():
        command.add_parser(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    environ = dict(os.environ)            # read once, here at the edge; passed down from here
    return guarded(lambda: COMMANDS[args.command].run(_with_project(args), environ), args.debug)


def _with_project(args):
    """Defaults from the project file (harness.yaml); options given on the command line win."""
    args.board_dirs = (BOARDS_DIR,)
    args.project_apps = ()
    args.project_timeout = None
    args.project_hardware_map = None
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
        args.project_hardware_map = proj.hardware_map     # for --device-testing
        if getattr(args, "audit_domains", None) is None and proj.audit_domains is not None:
            args.audit_domains = proj.audit_domains
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


__all__ = ["main", "guarded", "parser", "Verdict"]
