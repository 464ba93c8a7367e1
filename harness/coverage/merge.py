"""Coverage merged across runs: the gcovr JSON tracefile of every run of a report
(scenarios, boards, shards) into one HTML, Cobertura and LCOV report."""
from __future__ import annotations

import sys
from pathlib import Path

from harness.coverage import gcov


def tracefiles(runs: list[dict], shard_root: Path) -> list[tuple[Path, str]]:
    """(tracefile, source root) of each run with a coverage report, found below
    `shard_root` (a shard's --out: its runs may have been made on another machine)."""
    found = []
    for r in runs:
        cov = r.get("coverage") or {}
        trace = (cov.get("reports") or {}).get("json")
        if cov.get("status") != "complete" or not trace:
            continue
        local = _local(Path(trace), shard_root)
        if local.is_file():
            found.append((local, cov.get("root", "")))
    return found


def _local(path: Path, shard_root: Path) -> Path:
    """`path` as written on the machine that ran it, below `shard_root` here."""
    if path.is_file():
        return path
    parts = path.parts
    at = len(parts) - 1 - parts[::-1].index("runs") if "runs" in parts else None
    return shard_root.joinpath(*parts[at:]) if at is not None else path


def merge(traces: list[tuple[Path, str]], out: Path) -> dict:
    """One report of all `traces` in `out`; the totals and report paths."""
    out.mkdir(parents=True, exist_ok=True)
    files = gcov.outputs(out)
    root = next((r for _, r in traces if r and Path(r).is_dir()), str(Path.cwd()))
    cmd = [sys.executable, "-m", "gcovr", "--root", root, "--merge-mode-functions=separate",
           *[a for t, _ in traces for a in ("--add-tracefile", str(t))],
           "--filter", ".*"]        # each run filtered its own: keep all (apps outside the root)
    found = gcov.render_tracefiles(cmd, files, out / "coverage.log")
    per_file = found.pop("files")
    return {**found, "runs": len(traces), "files": len(per_file),
            "reports": {k: str(v) for k, v in files.items()}}
