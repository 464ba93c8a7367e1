"""`west harness`: the harness as a west extension command, on a `west build`
directory. A thin adapter: it reads the build directory's board and source,
then calls the same Session as the `harness` command."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from west.commands import WestCommand

from harness import runner
from harness.build.west_build import cached_board, cached_source
from harness.errors import UsageError
from harness.frontends import cli
from harness.inputs import apps, boards, config
from harness.judging.verdict import Verdict, worst
from harness.reports import report


class HarnessCommand(WestCommand):
    def __init__(self):
        super().__init__("harness", "boot a build on an emulator and judge its UART",
                         "Run the firmware harness on a west build directory:\n"
                         "  west build -b mps2_an385 zephyr/samples/userspace/prod_consumer\n"
                         "  west harness run            (same verdicts and artifacts as `harness run`)\n"
                         "  west harness check-log FILE (any other `harness` command works too)")

    def do_add_parser(self, parser_adder):
        parser = parser_adder.add_parser(self.name, help=self.help, description=self.description)
        parser.add_argument("action", choices=["run", "check-log", "prove", "doctor"])
        parser.add_argument("-d", "--build-dir", default="build", help="west build directory")
        parser.add_argument("--board", help="the harness board file to run on (default: the "
                            "build's BOARD; a board file of your own must name it as zephyr_board)")
        parser.add_argument("--config", help="project file (default: harness.yaml at or above "
                            "the working directory)")
        parser.add_argument("--emulator", default="qemu", help="emulator(s), comma-separated")
        parser.add_argument("--expect", help="expectation file (default: from the app)")
        parser.add_argument("--out", help="artifacts directory (default: the project file's "
                            "out, else harness-out)")
        parser.add_argument("--timeout", type=float, help="host seconds per boot")
        parser.add_argument("--no-isolation", action="store_true")
        parser.add_argument("rest", nargs="*", help="arguments of other actions")
        return parser

    def do_run(self, args, unknown):
        if args.action != "run":
            sys.exit(cli.main([args.action, *args.rest, *unknown]))
        sys.exit(cli.guarded(lambda: self._run(args)))   # the CLI's boundary, SIGTERM included

    def _run(self, args) -> int:
        build_dir = Path(args.build_dir).resolve()
        zephyr_board, source = read_build_dir(build_dir)
        board_name = args.board or zephyr_board
        app = app_for(source, args.expect)
        emulators = [e for e in args.emulator.split(",") if e]
        with config.project_session(dict(os.environ), Path.cwd(),
                                    workspace_arg=str(self.topdir) if self.topdir else None,
                                    out=args.out, config_file=args.config, timeout_s=args.timeout,
                                    isolation=not args.no_isolation,
                                    say=lambda msg: print(msg, file=sys.stderr, flush=True),
                                    build_dirs={(app.name, board_name): build_dir}) as session:
            board = session.board(board_name)
            built_for = boards.zephyr_name(board, session.workspace.version())
            if built_for != zephyr_board:
                raise UsageError(f"{build_dir} was built for {zephyr_board}, board {board.name} "
                                 f"is {built_for}", f"pass --board with a board file for "
                                 f"{zephyr_board}, or build for {built_for}")
            results = session.run(app, [board_name], emulators)
            for r in results:
                print(report.line(r), flush=True)
            verdicts = [r.verdict for r in results]
            for found in runner.agreements(session, app, results):     # one ELF, several emulators
                print(report.agreement_line(found), flush=True)
                verdicts += [Verdict.DISAGREE] if found["agree"] is False else []
        return worst(verdicts).code


def read_build_dir(build_dir: Path) -> tuple[str, Path]:
    """(board, application source) of a configured west build directory."""
    cache = build_dir / "CMakeCache.txt"
    if not cache.is_file():
        raise UsageError(f"{build_dir} is not a west build directory (no CMakeCache.txt)",
                         "run `west build -b BOARD APP` first, or pass -d BUILD_DIR")
    board, source = cached_board(build_dir), cached_source(build_dir)
    if not board or not source:
        raise UsageError(f"{cache} names no BOARD or APPLICATION_SOURCE_DIR")
    return board, source


def app_for(source: Path, expect: str | None):
    """Our app whose sources (or Zephyr sample) are `source`, else `source` itself."""
    for name in apps.known():
        app = apps.load(name, expect)
        if (app.source and app.source == source) or (
                app.zephyr_sample and source.as_posix().endswith(app.zephyr_sample)):
            return app
    return apps.load(str(source), expect)


__all__ = ["HarnessCommand", "runner"]
