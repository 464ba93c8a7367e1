#!/usr/bin/env python3
"""What --coverage costs: warm `harness run` of prod_consumer on mps2_an385, plain and
with --coverage, under QEMU (the gcov image, its dump on the UART, gcovr's reports)
and under Renode (the unmodified image, Renode's PC trace, DWARF, gcovr), taking turns
in one run (this machine is noisy). Targets (issue #27): QEMU with gcov at most 1.5 x
a plain warm QEMU run, Renode with tracing at most 2 x a plain warm Renode run. Prints
each, and where the coverage run's time goes.

    .venv/bin/python bench/coverage_cost.py [--repeat N] [--out DIR] [--emulators qemu,renode]
    (Zephyr 4.3 workspace)
"""
import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = [sys.executable, "-m", "harness", "run", "--board", "mps2_an385"]
# Zephyr's gcov runtime writes GCC 12's .gcda format from 3.2 on: not the 3.0.99 default
WORKSPACE = Path.home() / "zephyrproject-4.3"
TARGET = {"qemu": 1.5, "renode": 2.0}


def run(out: str, coverage: bool, emu: str = "qemu",
        workspace: str = str(WORKSPACE)) -> tuple[float, dict]:
    t0 = time.monotonic()
    proc = subprocess.run([*HARNESS, "--emulator", emu, "--workspace", workspace, "--out", out,
                           *(["--coverage"] if coverage else [])],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"run failed (rc {proc.returncode}): {proc.stdout[-500:]}{proc.stderr[-500:]}")
    latest = Path(out) / "runs" / "prod_consumer" / f"mps2_an385.{emu}" / "latest" / "result.json"
    result = json.loads(latest.read_text())
    if coverage and result["coverage"]["status"] != "complete":
        raise SystemExit(f"coverage {result['coverage']['status']}: {result['coverage']}")
    return wall, result


def taking_turns(out: str, repeat: int, emus: list[str]) -> dict[tuple, list]:
    """(wall, result) of `repeat` plain and coverage runs per emulator, alternating, after
    one of each that builds the images and makes the isolation certificate (not counted)."""
    for emu in emus:
        for coverage in (True, False):
            run(out, coverage, emu)
    found: dict[tuple, list] = {(emu, c): [] for emu in emus for c in (False, True)}
    for _ in range(repeat):
        for emu, coverage in found:
            found[emu, coverage].append(run(out, coverage, emu))
    return found


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=lambda n: max(int(n), 1), default=5, help="pairs of runs")
    ap.add_argument("--out", default=str(ROOT / "harness-out" / "coverage-cost"))
    ap.add_argument("--emulators", default="qemu,renode")
    a = ap.parse_args()
    emus = [e for e in a.emulators.split(",") if e]
    if "renode" in emus and not shutil.which("renode"):
        print("renode not on PATH: left out (`harness setup --renode`)")
        emus.remove("renode")
    runs = taking_turns(a.out, a.repeat, emus)
    worst = 0.0
    for emu in emus:
        plain = statistics.median(wall for wall, _ in runs[emu, False])
        cov = statistics.median(wall for wall, _ in runs[emu, True])
        emulated = statistics.median(r["timings"]["run_s"] for _, r in runs[emu, True])
        reports = statistics.median(r["timings"]["coverage_s"] for _, r in runs[emu, True])
        last = runs[emu, True][-1][1]["coverage"]
        what = (f"dump {last['dump']['files']} files, {last['dump']['bytes']} bytes"
                if last["method"] == "gcov" else
                f"trace of {last['instructions']} instructions at {last['addresses']} addresses")
        ratio = cov / plain
        worst = max(worst, ratio / TARGET[emu])
        print(f"{emu:<7} plain wall {plain:.3f} s   coverage wall {cov:.3f} s ({last['method']}): "
              f"emulator run {emulated:.3f} s, reports {reports:.3f} s   (median of {a.repeat})")
        print(f"{emu:<7} coverage / plain wall: {ratio:.2f} x (target <= {TARGET[emu]}); {what}; "
              f"{last['line_percent']:.1f}% of {last['lines_total']} lines")
    return 0 if worst <= 1.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
