#!/usr/bin/env python3
"""What --coverage costs: warm `harness run` of prod_consumer on mps2_an385 under QEMU,
plain and with --coverage (the gcov image, its dump on the UART, gcovr's reports),
taking turns in one run (this machine is noisy). Target (issue #27): a coverage run at
most 1.5 x a plain warm run. Prints both, and where the coverage run's time goes.

    .venv/bin/python bench/coverage_cost.py [--repeat N] [--out DIR]   (Zephyr 4.3 workspace)
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
# Zephyr's gcov runtime writes GCC 12's .gcda format from 3.2 on: not the 3.0.99 default
WORKSPACE = Path.home() / "zephyrproject-4.3"
TARGET = 1.5


def run(out: str, coverage: bool, workspace: str = str(WORKSPACE)) -> tuple[float, dict]:
    t0 = time.monotonic()
    proc = subprocess.run([*HARNESS, "--workspace", workspace, "--out", out,
                           *(["--coverage"] if coverage else [])],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run failed (rc {proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-500:]}")
    latest = Path(out) / "runs" / "prod_consumer" / "mps2_an385.qemu" / "latest" / "result.json"
    result = json.loads(latest.read_text())
    if coverage and result["coverage"]["status"] != "complete":
        raise SystemExit(f"coverage {result['coverage']['status']}: {result['coverage']}")
    return wall, result


def taking_turns(out: str, repeat: int) -> dict[bool, list]:
    """(wall, result) of `repeat` plain and coverage runs, alternating, after one of each
    that builds the images and makes the isolation certificate (not counted)."""
    for coverage in (True, False):
        run(out, coverage)
    found: dict[bool, list] = {False: [], True: []}
    for _ in range(repeat):
        for coverage in found:
            found[coverage].append(run(out, coverage))
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=lambda n: max(int(n), 1), default=5, help="pairs of runs")
    ap.add_argument("--out", default=str(ROOT / "harness-out" / "coverage-cost"))
    a = ap.parse_args()
    runs = taking_turns(a.out, a.repeat)
    plain = statistics.median(wall for wall, _ in runs[False])
    cov = statistics.median(wall for wall, _ in runs[True])
    emulated = statistics.median(r["timings"]["run_s"] for _, r in runs[True])
    gcovr = statistics.median(r["timings"]["coverage_s"] for _, r in runs[True])
    last = runs[True][-1][1]["coverage"]
    print(f"plain     wall {plain:.3f} s   (median of {a.repeat})")
    print(f"coverage  wall {cov:.3f} s   of which emulator run {emulated:.3f} s (dump included), "
          f"gcovr {gcovr:.3f} s")
    print(f"coverage / plain wall: {cov / plain:.2f} x (target <= {TARGET}); dump "
          f"{last['dump']['files']} files, {last['dump']['bytes']} bytes; "
          f"{last['line_percent']:.1f}% of {last['lines_total']} lines")
    return 0 if cov / plain <= TARGET else 1

if __name__ == "__main__":
    raise SystemExit(main())
