#!/usr/bin/env python3
"""What the domain audit costs: warm `harness run` of prod_consumer with and without the
audit, on mps2_an385 under QEMU and Renode and on qemu_x86 under QEMU, taking turns in
one run (this machine is noisy), and how many thread switches (Arm) or memory samples
(x86) each audited run took.
Target (issue #25): an audited run at most 2x a plain warm run, on each emulator.

    .venv/bin/python bench/audit_cost.py [--repeat N] [--out DIR] [--pairs mps2_an385:qemu,...]
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
PAIRS = ("mps2_an385:qemu", "mps2_an385:renode", "qemu_x86:qemu")


def run(out: str, board: str, emu: str, audit: bool) -> tuple[float, dict]:
    flag = "--audit-domains" if audit else "--no-audit-domains"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "--board", board,
                           "--emulator", emu, "--out", out, flag],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL)
    wall = time.monotonic() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{board} {emu} run failed (rc {proc.returncode}): "
                         f"{proc.stdout[-500:]}{proc.stderr[-500:]}")
    latest = Path(out) / "runs" / "prod_consumer" / f"{board}.{emu}" / "latest" / "result.json"
    return wall, json.loads(latest.read_text())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=9)
    ap.add_argument("--out", default=str(ROOT / "harness-out" / "audit-cost"))
    ap.add_argument("--pairs", default=",".join(PAIRS),
                    help="board:emulator pairs (default: %(default)s)")
    a = ap.parse_args()
    if a.repeat < 1:
        raise SystemExit("--repeat needs 1 or more")
    pairs = [tuple(p.split(":", 1)) for p in a.pairs.split(",") if p]
    if any(emu == "renode" for _, emu in pairs) and not shutil.which("renode"):
        print("renode not on PATH: its pairs are left out (`harness setup --renode`)")
        pairs = [p for p in pairs if p[1] != "renode"]
    for board, emu in pairs:                      # build, certificate: not counted
        run(a.out, board, emu, True)
        run(a.out, board, emu, False)
    walls = {(p, audit): [] for p in pairs for audit in (False, True)}
    stops = {}
    for _ in range(a.repeat):
        for p in pairs:
            for audit in (False, True):
                wall, result = run(a.out, *p, audit)
                walls[p, audit].append(wall)
                if audit:
                    dom = result["evidence"]["domains"]
                    assert dom["violations"] == [], dom["violations"]
                    stops[p] = dom["switches"]
    worst = 0.0
    for p in pairs:
        plain, audited = (statistics.median(walls[p, audit]) for audit in (False, True))
        ratio = audited / plain
        worst = max(worst, ratio)
        what = "memory samples" if p[0] == "qemu_x86" else "thread switches"
        print(f"{p[0]:<11} {p[1]:<7} plain {plain:.3f} s  audited {audited:.3f} s  "
              f"{ratio:.2f} x (target <= 2.0)  {what} per audited run: {stops[p]}  "
              f"(median of {a.repeat})")
    return 0 if worst <= 2.0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
