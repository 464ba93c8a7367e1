"""`harness run`: build and boot an app (or a test-suite directory), judge its UART."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness import emulators, runner
from harness.emulators import renode_install
from harness.errors import SetupError, UsageError
from harness.frontends.cli import options, suites
from harness.inputs import apps, boards, config
from harness.judging.verdict import Verdict, worst, worst_code
from harness.reports import report


def add_parser(sub) -> None:
    run = sub.add_parser("run", help="build and boot an app, judge its UART log")
    run.add_argument("--app",
                     help=f"app name ({', '.join(apps.known())}) or a Zephyr app directory "
                     "(its expect.yaml, or else the scenarios of its sample.yaml/testcase.yaml)")
    run.add_argument("--expect", help="expectation file (default: the app's expect.yaml)")
    run.add_argument("--board", action="append", help="board (repeat or comma-separate; "
                     "default: the app's boards)")
    run.add_argument("--emulator", help=f"emulator(s), comma-separated ({', '.join(emulators.ADAPTERS)})")
    options.common(run)
    run.add_argument("--timeout", type=float, help="host seconds per boot (default: board file)")
    run.add_argument("--pristine", action="store_true", help="rebuild from scratch")
    run.add_argument("--no-isolation", action="store_true",
                     help="skip the isolation proof (a run then cannot PASS: see docs/isolation.md)")
    options.audit(run)
    options.selection(run)
    options.lab(run)


def run(args, environ) -> int:
    if not hasattr(args, "lab"):
        options.with_lab(args)                          # boards of the lab, if any
    if args.app is None and args.project_apps:          # the project file's apps
        suite_dirs = [a for a in args.project_apps if apps.is_suite_dir(a)]
        codes = [suites.run(args, environ, suite_dirs)] if suite_dirs else []
        for ref in (a for a in args.project_apps if a not in suite_dirs):
            codes.append(run(argparse.Namespace(**{**vars(args), "app": ref}), environ))
        return worst_code(codes)
    app_ref = args.app or apps.DEFAULT_APP
    if not args.expect and apps.is_suite_dir(app_ref):
        return suites.run(args, environ, [app_ref])
    app = apps.load(app_ref, args.expect)
    board_names = options.split(args.board) or list(app.boards)
    if not board_names:
        raise UsageError(f"no board given for app {app.name}", "pass --board NAME")
    if args.emulator:
        pairs = runner.validate(board_names, options.split([args.emulator]), args.board_dirs)
    else:
        pairs = default_pairs(board_names, environ, args.renode, args.board_dirs)
    with options.session(args, environ) as session:
        rounds = [session.run_pairs(app, pairs) for _ in range(args.repeat)]
        results = [r for one in rounds for r in one]
        for r in results:
            print(report.line(r), flush=True)
        verdicts = [r.verdict for r in results]
        for found in runner.agreements(session, app, rounds[-1]):
            print(report.agreement_line(found), flush=True)
            verdicts += [Verdict.DISAGREE] if found["agree"] is False else []
        options.report_repeats(session, results, args.repeat)
    return worst(verdicts).code


def default_pairs(board_names, environ, renode_arg, board_dirs) -> list:
    """Without --emulator: QEMU where the board has it, and Renode too where the board has
    it and Renode is installed (one line says which runs were left out otherwise)."""
    pairs, left_out = [], []
    for name in board_names:
        board = boards.load(name, board_dirs)
        wanted = [e for e in ("qemu", "renode") if e in board.emulators] or list(board.emulators)
        for emu in wanted:
            if emu == "renode" and "qemu" in wanted:
                why = _renode_missing(board, environ, renode_arg)
                if why:
                    left_out.append(f"{name} renode ({why})")
                    continue
            pairs += runner.validate([name], [emu], board_dirs)
    if left_out:
        print(f"harness: left out: {', '.join(left_out)}; {renode_install.HINT}", file=sys.stderr)
    return pairs


def _renode_missing(board, environ, renode_arg) -> str:
    """Why this board's Renode runs cannot happen here ('' when they can)."""
    if not config.renode_found(environ, renode_arg):
        return "Renode not found"
    chosen = config.renode_binary(environ, renode_arg)
    try:
        settings = {**board.emulator("renode"), **({"binary": chosen} if chosen else {})}
        emulators.adapter("renode")(board, settings, Path("."), None, environ).check_version()
    except SetupError as exc:
        return exc.message
    return ""
