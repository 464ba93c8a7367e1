#!/usr/bin/env python3
"""The same prod_consumer ELF on Renode and on QEMU (issue: Renode backend;
target: a warm Renode run within 2x the same ELF's run on QEMU).

For each board and emulator, warm (build and certificate done), prints the
median over --repeat runs of: wall time of `harness run`, emulator start-up
(launch to CPU running, UART attached), run (CPU running to verdict), and the
guest's virtual time when SUCCESS completed the sequence (Renode reports it).
Usage: .venv/bin/python bench/renode_vs_qemu.py [--repeat N] [--out DIR]
"""
import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HARNESS = [sys.executable, "-m", "harness"]
PAIRS = [("mps2_an385", "qemu"), ("mps2_an385", "renode"), ("stm32f4_disco", "renode"),
         ("nrf52840dk_nrf52840", "renode")]


def one(board: str, emu: str, out: str) -> dict:
    t0 = time.monotonic()
    proc = subprocess.run(HARNESS + ["run", "--board", board, "--emulator", emu, "--out", out],
                          capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=ROOT)
    wall = time.monotonic() - t0
    latest = Path(out) / "runs" / "prod_consumer" / f"{board}.{emu}" / "latest" / "result.json"
    result = json.loads(latest.read_text())
    if proc.returncode != 0:
        raise SystemExit(f"{board}/{emu}: {result['verdict']}: {result['reason']}")
    t = result["timings"]
    return {"wall": wall, "start": t["start_s"], "run": t["run_s"],
            "vtime": result["evidence"].get("virtual_time_s")}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", default=str(ROOT / "harness-out"))
    args = ap.parse_args()
    print(f"{'board':<20} {'emulator':<8} {'wall':>7} {'start':>7} {'run':>7} {'guest@SUCCESS':>14}"
          f"   (seconds, median of {args.repeat}, warm)")
    walls = {}
    for board, emu in PAIRS:
        one(board, emu, args.out)                       # warm up: build, certificate
        runs = [one(board, emu, args.out) for _ in range(args.repeat)]
        med = {k: statistics.median(r[k] for r in runs) if runs[0][k] is not None else None
               for k in runs[0]}
        walls[(board, emu)] = med["wall"]
        guest = f"{med['vtime']:14.3f}" if med["vtime"] is not None else f"{'-':>14}"
        print(f"{board:<20} {emu:<8} {med['wall']:7.2f} {med['start']:7.2f} {med['run']:7.2f} "
              f"{guest}")
    ratio = walls[("mps2_an385", "renode")] / walls[("mps2_an385", "qemu")]
    print(f"mps2_an385: Renode / QEMU wall time = {ratio:.1f}x  (target <= 2x)")


if __name__ == "__main__":
    main()
