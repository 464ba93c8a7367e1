"""`harness report merge`: combine the reports of several `harness matrix --shard` runs.
`harness report footprint`: ROM and RAM of each app and board against a baseline."""
from __future__ import annotations

from pathlib import Path

EXIT_GREW = 1          # as a FAIL: a build grew past --max-growth


def add_parser(sub) -> None:
    rp = sub.add_parser("report", help="combine reports")
    rp_sub = rp.add_subparsers(dest="report_command", required=True)
    merge = rp_sub.add_parser("merge", help="merge the summary.json, junit.xml and coverage "
                              "of several `harness matrix --shard` runs")
    merge.add_argument("dirs", nargs="+", help="each shard's --out directory (or its matrix/)")
    merge.add_argument("--out", default="harness-out/merged", help="where the merged report goes")
    fp = rp_sub.add_parser("footprint", help="ROM and RAM per app and board against a "
                           f"baseline; exit {EXIT_GREW} when one grew past --max-growth")
    fp.add_argument("dir", nargs="?", default="harness-out",
                    help="the run output directory to measure (default: harness-out)")
    fp.add_argument("--baseline", metavar="DIR|FILE",
                    help="a previous run's output directory, or a summary written by --save")
    fp.add_argument("--max-growth", metavar="N|N%",
                    help="largest ROM or RAM growth allowed: bytes, or percent of the baseline")
    fp.add_argument("--save", metavar="FILE", help="write this output's footprints as a "
                    "summary (a baseline for another branch's CI)")


def run(args, environ) -> int:
    if args.report_command == "footprint":
        return footprint(args)
    from harness.reports import shards
    merged = shards.merge(args.dirs, Path(args.out))
    print(f"merged {len(args.dirs)} report(s), {len(merged['runs'])} run(s), worst verdict "
          f"{merged['verdict']}: {Path(args.out) / 'summary.json'}, {Path(args.out) / 'junit.xml'}")
    cov = merged.get("coverage")
    if cov:
        print(f"merged coverage of {cov['runs']} run(s): {cov['line_percent']:.1f}% of "
              f"{cov['lines_total']} lines in {cov['files']} files: {cov['reports']['html']}")
    return merged["exit_code"]


def footprint(args) -> int:
    from harness.errors import UsageError
    from harness.judging import footprint as judge
    from harness.reports import footprint as collected
    base = collected.collect(Path(args.baseline)) if args.baseline else None
    now = collected.collect(Path(args.dir))
    if not now:
        raise UsageError(f"no footprint in {args.dir}", "run `harness run` (or matrix) with "
                         "--out there first; every build records its footprint")
    if args.save:
        collected.save(now, Path(args.save))
    limit = judge.parse_growth(args.max_growth) if args.max_growth else None
    if base is None:
        for (app, board), fp in sorted(now.items()):
            print(f"{app} {board}: ROM {fp['rom_bytes']} bytes, RAM {fp['ram_bytes']} bytes")
        return 0
    deltas = judge.compare(now, base, limit)
    for d in deltas:
        print(d.line())
    over = judge.exceeded(deltas)
    if over:
        print(f"footprint: {len(over)} figure(s) grew past {limit}")
        return EXIT_GREW
    return 0
