#!/usr/bin/env python3
"""What the domain audit costs: warm `harness run` of prod_consumer on mps2_an385 under
QEMU with and without the audit, taking turns in one run (this machine is noisy), and
how many thread switches and MPU region writes each audited run replayed.
Target (issue #25): an audited run at most 2x a plain warm run.

    .venv/bin/python bench/audit_cost.py [--repeat N] [--out DIR]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = [sys.executable, "-m", "harness", "run", "--board", "mps2_an385", "--emulator", "qemu"]


def run(out: str, audit: bool) -> tuple[float, dict]:
    flag = "--audit-domains" if audit else "--no-audit-domains"
    t0 = time.monotonic()
    proc = subprocess.run([*HARNESS, "--out", out, flag], capture_output=True, text=True,
                          stdin=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run failed (rc {proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-500:]}")
    latest = Path(out) / "runs" / "prod_consumer" / "mps2_an385.qemu" / "latest" / "result.json"
    result = json.loads(latest.read_text())
    return wall, result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--out", default=str(ROOT / "harness-out" / "audit-cost"))
    a = ap.parse_args()
    if a.repeat < 1:
        raise SystemExit("--repeat needs 1 or more")
    run(a.out, True)                                  # build, certificate: not counted
    run(a.out, False)
    walls = {True: [], False: []}
    runs = {True: [], False: []}
    switches = writes = None
    for _ in range(a.repeat):
        for audit in (False, True):
            wall, result = run(a.out, audit)
            walls[audit].append(wall)
            runs[audit].append(result["timings"]["run_s"])
            if audit:
                dom = result["evidence"]["domains"]
                switches, writes = dom["switches"], dom["region_writes"]
                assert dom["violations"] == [], dom["violations"]
    for audit in (False, True):
        print(f"{'audited' if audit else 'plain':<8} wall {statistics.median(walls[audit]):.3f} s"
              f"   run {statistics.median(runs[audit]):.3f} s   (median of {a.repeat})")
    ratio = statistics.median(walls[True]) / statistics.median(walls[False])
    print(f"audited / plain wall: {ratio:.2f} x (target <= 2.0); thread switches replayed per "
          f"run: {switches}, MPU region writes: {writes}")
    return 0 if ratio <= 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
