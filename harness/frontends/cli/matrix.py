"""`harness matrix`: apps x boards x emulators (or test suites with -T) in parallel."""
from __future__ import annotations

import os
import sys

from harness.errors import UsageError
from harness.frontends import progress as progress_mod
from harness.frontends.cli import options, suites
from harness.inputs import apps
from harness.reports import report


def add_parser(sub) -> None:
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
    options.common(mx)
    mx.add_argument("--timeout", type=float, help="host seconds per boot (default: board file)")
    mx.add_argument("--no-isolation", action="store_true", help="skip the isolation proof")
    mx.add_argument("--shard", metavar="K/N", help="run only part K of N of the selected runs "
                    "(deterministic; for CI machines that split one matrix)")
    mx.add_argument("--durations", metavar="SUMMARY",
                    help="a previous summary.json: balance --shard parts by its run times")
    options.audit(mx)
    options.selection(mx)
    options.lab(mx)


def run(args, environ) -> int:
    from harness import matrix
    options.with_lab(args)                  # boards of the lab: spread over them
    if args.testsuite_root:
        if args.app or args.matrix:
            raise UsageError("-T runs test suites; it does not combine with --app or --matrix")
        return suites.run(args, environ, args.testsuite_root, matrix_jobs=args.jobs)
    if args.matrix:
        entries = matrix.load_file(args.matrix)
    else:
        entries = matrix.entries(options.split(args.app) or [apps.DEFAULT_APP],
                                 options.split(args.board),
                                 options.split([args.emulator]) if args.emulator else None,
                                 args.board_dirs)
    if args.jobs < 1:
        raise UsageError("-j needs a positive number of parallel runs")
    entries = suites.shard(args, entries)
    progress = progress_mod.for_stream(sys.stderr)
    with options.session(args, environ) as session:
        try:
            rounds = [matrix.run(session, entries, args.jobs, progress, args.fail_fast,
                                 args.retry_infra) for _ in range(args.repeat)]
        finally:
            progress.stop()
        out = matrix.combine(rounds)
        options.report_repeats(session, out.results, args.repeat)
    files = matrix.write_reports(session, out, session.out_dir / "matrix",
                                 getattr(args, "shard", None))
    for r in out.results:
        print(report.line(r), flush=True)
    for e in out.cancelled:
        print(f"{'CANCELLED':<14} {e.app} {e.board} {e.emulator}  (--fail-fast)")
    print(f"matrix: {len(out.results)} run(s) in {out.wall_s:.1f} s, worst verdict "
          f"{out.verdict}; junit: {report.shown(files['junit'])}; "
          f"summary: {report.shown(files['summary'])}")
    return out.verdict.code
