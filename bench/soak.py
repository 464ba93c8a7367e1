#!/usr/bin/env python3
"""Soak: N prod_consumer runs on one pooled Renode and N on QEMU (harness run --repeat N),
then memory growth of the kept Renode process and timing drift (median of the first
10 runs against the last 10). Target: no growth beyond noise, no failures.

    .venv/bin/python bench/soak.py            # N = 100
    .venv/bin/python bench/soak.py -n 20 --board mps2_an385
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-n", type=int, default=100)
    p.add_argument("--board", default="mps2_an385")
    p.add_argument("--out", default=str(ROOT / "harness-out" / "soak"))
    a = p.parse_args()
    rc = 0
    for emu in ("qemu", "renode"):
        t0 = time.monotonic()
        proc = subprocess.run([sys.executable, "-m", "harness", "run", "--board", a.board,
                               "--emulator", emu, "--repeat", str(a.n), "--out", a.out],
                              capture_output=True, text=True, stdin=subprocess.DEVNULL, cwd=ROOT)
        wall = time.monotonic() - t0
        summary = Path(a.out) / "runs" / "prod_consumer" / f"{a.board}.{emu}.repeats.json"
        if not summary.is_file():
            print(f"{emu}: no summary ({proc.stderr.strip().splitlines()[-1:]})")
            rc = 1
            continue
        s = json.loads(summary.read_text())
        runs = sorted(Path(a.out, "runs", "prod_consumer", f"{a.board}.{emu}").glob("2*"))[-a.n:]
        times = [json.loads((r / "result.json").read_text())["timings"]["total_s"] for r in runs]
        first, last = statistics.median(times[1:11]), statistics.median(times[-10:])
        print(f"{emu:<7} {s['passed']}/{s['repeats']} passed, UART "
              f"{'identical' if s['uart_identical'] else 'differs'}, wall {wall:.0f} s; "
              f"run time median first 10 (after the first) {first:.3f} s, last 10 {last:.3f} s "
              f"(drift {100 * (last - first) / first:+.1f} %)")
        rss = [k for k in (s.get("host_rss_kib") or []) if k]
        if rss:
            print(f"{'':<7} Renode RSS after run 2: {rss[1] / 1024:.0f} MiB, after the last: "
                  f"{rss[-1] / 1024:.0f} MiB (growth {(rss[-1] - rss[1]) / 1024:+.0f} MiB over "
                  f"{len(rss) - 2} runs)")
        rc |= s["passed"] != s["repeats"]
    return rc


if __name__ == "__main__":
    raise SystemExit(main())
