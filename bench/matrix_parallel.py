#!/usr/bin/env python3
"""Matrix wall time at -j1 and -j2 against the sum of the same runs done one by one
(issue: CI matrix; target: 4 runs on 2 cores in <= 0.6 x the serial sum).

Two matrices, warm (builds and certificates done by a first pass):
  qemu:  prod_consumer and fault_demo on mps2_an385 and qemu_x86 under QEMU;
  mixed: prod_consumer on every supported board and emulator pair that Renode
         allows here (mps2_an385 and qemu_x86 on QEMU, mps2_an385 and
         nrf52840dk_nrf52840 on Renode), skipped without Renode.
Usage: .venv/bin/python bench/matrix_parallel.py [--repeat N] [--out DIR]
"""
import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = [sys.executable, "-m", "harness"]
QEMU_MATRIX = [(a, b, "qemu") for a in ("prod_consumer", "fault_demo")
               for b in ("mps2_an385", "qemu_x86")]
MIXED_MATRIX = [("prod_consumer", "mps2_an385", "qemu"), ("prod_consumer", "qemu_x86", "qemu"),
                ("prod_consumer", "mps2_an385", "renode"),
                ("prod_consumer", "nrf52840dk_nrf52840", "renode")]


def timed(args) -> float:
    t0 = time.monotonic()
    subprocess.run(HARNESS + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, cwd=ROOT)      # fault_demo exits 3 by design
    return time.monotonic() - t0


def measure(name: str, entries, out: str, repeat: int) -> None:
    matrix_file = Path(out) / f"bench-{name}.matrix.yaml"
    matrix_file.parent.mkdir(parents=True, exist_ok=True)
    matrix_file.write_text("runs:\n" + "".join(f"  - {a} {b} {e}\n" for a, b, e in entries))
    matrix = ["matrix", "--out", out, "--matrix", str(matrix_file)]
    timed(matrix + ["-j", "2"])                                # warm up: builds, certificates
    serial = [statistics.median(timed(["run", "--out", out, "--app", a, "--board", b,
                                       "--emulator", e]) for _ in range(repeat))
              for a, b, e in entries]
    j1 = statistics.median(timed(matrix + ["-j", "1"]) for _ in range(repeat))
    j2 = statistics.median(timed(matrix + ["-j", "2"]) for _ in range(repeat))
    print(f"[{name}] runs: {len(entries)}: " + ", ".join("/".join(e) for e in entries))
    print(f"[{name}] serial sum of single `harness run`s: {sum(serial):6.2f} s  "
          f"({' + '.join(f'{s:.2f}' for s in serial)})")
    print(f"[{name}] harness matrix -j1: {j1:6.2f} s  ratio {j1 / sum(serial):.2f}")
    print(f"[{name}] harness matrix -j2: {j2:6.2f} s  ratio {j2 / sum(serial):.2f}"
          "  (target <= 0.60)")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "harness-out"))
    args = ap.parse_args()
    measure("qemu", QEMU_MATRIX, args.out, args.repeat)
    if shutil.which("renode") or os.environ.get("HARNESS_RENODE"):
        measure("mixed", MIXED_MATRIX, args.out, args.repeat)
    else:
        print("[mixed] skipped: Renode not found (put renode on PATH or set HARNESS_RENODE)")


if __name__ == "__main__":
    main()
