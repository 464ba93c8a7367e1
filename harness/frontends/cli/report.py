"""`harness report merge`: combine the reports of several `harness matrix --shard` runs."""
from __future__ import annotations

from pathlib import Path


def add_parser(sub) -> None:
    rp = sub.add_parser("report", help="combine reports")
    rp_sub = rp.add_subparsers(dest="report_command", required=True)
    merge = rp_sub.add_parser("merge", help="merge the summary.json and junit.xml of "
                              "several `harness matrix --shard` runs")
    merge.add_argument("dirs", nargs="+", help="each shard's --out directory (or its matrix/)")
    merge.add_argument("--out", default="harness-out/merged", help="where the merged report goes")


def run(args, environ) -> int:
    from harness.reports import shards
    merged = shards.merge(args.dirs, Path(args.out))
    print(f"merged {len(args.dirs)} report(s), {len(merged['runs'])} run(s), worst verdict "
          f"{merged['verdict']}: {Path(args.out) / 'summary.json'}, {Path(args.out) / 'junit.xml'}")
    return merged["exit_code"]
