#!/usr/bin/env python3
"""Matrix wall time at -j1 and -j2 against the sum of the same runs done one by one
(issue: CI matrix; target: 4 runs on 2 cores in <= 0.6 x the serial sum).

The matrix: prod_consumer and fault_demo on mps2_an385 and qemu_x86 under QEMU,
warm (builds and certificates done by a first pass).
Usage: .venv/bin/python bench/matrix_parallel.py [--repeat N] [--out DIR]
"""
import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = [sys.executable, "-m", "harness"]
APPS = ["prod_consumer", "fault_demo"]
BOARDS = ["mps2_an385", "qemu_x86"]


def timed(args) -> float:
    t0 = time.monotonic()
    subprocess.run(HARNESS + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, cwd=ROOT)      # fault_demo exits 3 by design
    return time.monotonic() - t0


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "harness-out"))
    args = ap.parse_args()
    matrix = ["matrix", "--out", args.out] + [f"--app={a}" for a in APPS] + \
        [f"--board={b}" for b in BOARDS]
    timed(matrix + ["-j", "2"])                                # warm up: builds, certificates
    serial = [statistics.median(timed(["run", "--out", args.out, "--app", a, "--board", b])
                                for _ in range(args.repeat)) for a in APPS for b in BOARDS]
    j1 = statistics.median(timed(matrix + ["-j", "1"]) for _ in range(args.repeat))
    j2 = statistics.median(timed(matrix + ["-j", "2"]) for _ in range(args.repeat))
    print(f"runs: {len(serial)} ({', '.join(APPS)} x {', '.join(BOARDS)}; qemu; warm)")
    print(f"serial sum of single `harness run`s: {sum(serial):6.2f} s  "
          f"({' + '.join(f'{s:.2f}' for s in serial)})")
    print(f"harness matrix -j1:                  {j1:6.2f} s  ratio {j1 / sum(serial):.2f}")
    print(f"harness matrix -j2:                  {j2:6.2f} s  ratio {j2 / sum(serial):.2f}"
          f"  (target <= 0.60)")


if __name__ == "__main__":
    main()
