"""Test suites from the command line: scenarios x boards x emulators, as `harness matrix`
runs them (shared by `harness run --app DIR` and `harness matrix -T DIR`)."""
from __future__ import annotations

import os
import sys

from harness import runner
from harness.errors import UsageError
from harness.frontends import progress as progress_mod
from harness.frontends.cli import options
from harness.inputs import boards
from harness.judging.verdict import Verdict, worst
from harness.reports import report


def run(args, environ, roots, matrix_jobs: int | None = None) -> int:
    from harness import matrix, suite
    found = suite.collect(roots, _warn_once())
    suite.validate_console(found)
    emulator_names = options.split([args.emulator]) if args.emulator else None
    pairs = runner.validate(options.split(args.board) or [boards.DEFAULT_BOARD], emulator_names,
                            args.board_dirs)
    jobs = matrix_jobs or os.cpu_count() or 1
    if jobs < 1:
        raise UsageError("-j needs a positive number of parallel runs")
    repeat = getattr(args, "repeat", 1)
    progress = progress_mod.for_stream(sys.stderr)
    with options.session(args, environ) as session:
        planned = suite.plan(found, pairs, session.workspace.zephyr_base, options.selected(args),
                             session.workspace.version())
        try:
            selected = shard(args, matrix.from_plan(planned))
            rounds = [matrix.run(session, selected, jobs, progress,
                                 getattr(args, "fail_fast", False), getattr(args, "retry_infra", 0))
                      for _ in range(repeat)]
        finally:
            progress.stop()
        out = matrix.combine(rounds)
        options.report_repeats(session, out.results, repeat)
        verdicts = [r.verdict for r in out.results]
        agreements = suite.agreements(session, rounds[-1].results)   # within one round
        for found_pair in agreements:
            print(report.agreement_line(found_pair), flush=True)
            verdicts += [Verdict.DISAGREE] if found_pair["agree"] is False else []
    files = matrix.write_reports(session, out, session.out_dir / "matrix",
                                 getattr(args, "shard", None), agreements)
    for r in out.results:
        print(report.line(r), flush=True)
    print(f"{len(found)} scenario(s), {len(out.results)} run(s) in {out.wall_s:.1f} s: "
          f"{report.counts(out.results)}; junit: {report.shown(files['junit'])}; "
          f"summary: {report.shown(files['summary'])}")
    return worst(verdicts).code


def _warn_once():
    warned = set()

    def warn(msg: str) -> None:
        if msg not in warned:
            warned.add(msg)
            print(f"harness: warning: {msg}", file=sys.stderr)
    return warn


def shard(args, entries: list) -> list:
    """--shard K/N: this machine's part of the matrix (balanced by --durations)."""
    from harness.reports import shards
    if not getattr(args, "shard", None):
        return entries
    k, n = shards.parse(args.shard)
    mine = shards.split(entries, k, n, shards.durations(args.durations))
    print(f"shard {k}/{n}: {len(mine)} of {len(entries)} run(s)", file=sys.stderr)
    return mine
