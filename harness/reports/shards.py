"""Splitting a matrix across CI machines, and merging their reports back.

`split`: part K of N of the selected runs, deterministic and balanced by the
run times of a previous summary.json (longest first onto the least-loaded part;
runs without a known time count as the median of the known ones, or 1 s).
`merge`: several shards' summary.json and junit.xml into one report, and the coverage
of their runs (where measured) into one coverage report.
"""
from __future__ import annotations

import json
import statistics
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.coverage import merge as coverage_merge
from harness.errors import UsageError
from harness.judging.verdict import Verdict, worst

MIN_WEIGHT_S = 0.1      # a skipped run's 0 s still takes a place


def parse(text: str) -> tuple[int, int]:
    """'K/N' (1-based) -> (K, N)."""
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise UsageError(f"--shard {text!r} is not K/N", "e.g. --shard 2/4") from None
    if not 1 <= k <= n:
        raise UsageError(f"--shard {text}: K must be between 1 and N")
    return k, n


def durations(summary: str | None) -> dict[str, float]:
    """run name -> seconds, from a previous summary.json (none: {})."""
    if not summary:
        return {}
    try:
        runs = json.loads(Path(summary).read_text())["runs"]
    except (OSError, ValueError, KeyError) as exc:
        raise UsageError(f"cannot read run times from {summary}: {exc}") from None
    return {f"{r['app']}.{r['board']}.{r['emulator']}": float(r["timings"].get("total_s", 0))
            for r in runs}


def split(entries: list, k: int, n: int, known: dict[str, float]) -> list:
    """The entries of part k (1-based) of n; the order within a part is the input order."""
    weights = [max(t, MIN_WEIGHT_S) for t in known.values()]
    default = statistics.median(weights) if weights else 1.0
    groups: dict = {}                     # one app and board on every emulator stay together,
    for e in entries:                     # so the agreement check can compare them
        groups.setdefault((e.app, e.board), []).append(e)
    load, count = [0.0] * n, [0] * n
    part_of = {}
    weight = {g: sum(max(known.get(e.name, default), MIN_WEIGHT_S) for e in es)
              for g, es in groups.items()}
    for g in sorted(groups, key=lambda g: (-weight[g], g)):
        i = min(range(n), key=lambda j: (load[j], count[j], j))
        load[i] += weight[g]
        count[i] += len(groups[g])
        part_of[g] = i
    return [e for e in entries if part_of[(e.app, e.board)] == k - 1]


def merge(dirs: list[str], out: Path) -> dict:
    """summary.json and junit.xml of each shard (DIR or DIR/matrix) -> `out`."""
    summaries, suites = [], []
    for d in dirs:
        base = Path(d)
        base = base / "matrix" if (base / "matrix" / "summary.json").is_file() else base
        try:
            summaries.append(json.loads((base / "summary.json").read_text()))
            suites.append(ET.parse(base / "junit.xml").getroot())
        except (OSError, ValueError, ET.ParseError) as exc:
            raise UsageError(f"{base} holds no readable summary.json and junit.xml: {exc}",
                             "pass the --out directory of each shard's `harness matrix`") from None
    runs = [r for s in summaries for r in s["runs"]]
    traces = [t for d, s in zip(dirs, summaries) for t in coverage_merge.tracefiles(
        s["runs"], Path(d).parent if Path(d).name == "matrix" else Path(d))]
    verdict = worst([Verdict.__members__.get(r["verdict"], Verdict.HARNESS_ERROR) for r in runs]
                    + [Verdict[s["verdict"]] for s in summaries if s.get("verdict") in Verdict.__members__])
    merged = {"verdict": verdict.label, "exit_code": verdict.code,
              "wall_s": max(s.get("wall_s", 0) for s in summaries),
              "shards": [{k: s.get(k) for k in ("host", "harness_version", "zephyr", "wall_s",
                                                 "shard")} for s in summaries],
              "runs": runs, "cancelled": [c for s in summaries for c in s.get("cancelled", [])]}
    out.mkdir(parents=True, exist_ok=True)
    if traces:                      # coverage of every run that measured it, as one report
        merged["coverage"] = coverage_merge.merge(traces, out / "coverage")
    (out / "summary.json").write_text(json.dumps(merged, indent=2) + "\n")
    suite = ET.Element("testsuite", name="harness-matrix")
    for attr in ("tests", "failures", "errors", "skipped"):
        suite.set(attr, str(sum(int(s.get(attr, 0)) for s in suites)))
    suite.set("time", f"{sum(float(s.get('time', 0)) for s in suites):.3f}")
    for s in suites:
        suite.extend(s.findall("testcase"))
    ET.indent(suite)
    ET.ElementTree(suite).write(out / "junit.xml", encoding="utf-8", xml_declaration=True)
    return merged
