#!/usr/bin/env python3
"""Harness overhead per board (target: a warm run <= bare QEMU + 0.25 s).

Prints, for each QEMU board:
  bare      QEMU alone, from process start to the SUCCESS line (stdio console)
  warm      `harness run` wall time, build up to date, certificate cached
  warm-noiso  the same with --no-isolation (no probe build check)
  cold      `harness run --pristine --no-isolation` wall time
  west      a plain `west build -p always` of the same app and board
Usage: .venv/bin/python bench/run_overhead.py [--repeat N] [--out DIR]
"""
import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.build import toolchain
from harness.inputs import boards, workspace  # noqa: E402

HARNESS = [sys.executable, "-m", "harness"]


def timed(cmd, **kw) -> float:
    t0 = time.monotonic()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   stdin=subprocess.DEVNULL, **kw)
    return time.monotonic() - t0


def bare_qemu(board, elf: Path) -> float:
    q = board.emulator("qemu")
    cmd = [q["binary"], *map(str, q["args"]), "-nographic", "-kernel", str(elf)]
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    try:
        for line in proc.stdout:
            if b"SUCCESS" in line:
                return time.monotonic() - t0
        raise RuntimeError("QEMU ended without SUCCESS")
    finally:
        proc.kill()
        proc.wait()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", default=str(ROOT / "harness-out"))
    ap.add_argument("--board", action="append", default=None)
    args = ap.parse_args()
    ws = workspace.find(None, os.environ.get("ZEPHYR_BASE"), Path.cwd(), Path.home())
    print(f"{'board':<12} {'bare':>7} {'warm':>7} {'warm-noiso':>10} {'overhead':>8} "
          f"{'cold':>7} {'west':>7}   (seconds, median of {args.repeat})")
    for name in args.board or ["mps2_an385", "qemu_x86"]:
        board = boards.load(name)
        run = HARNESS + ["run", "--board", name, "--emulator", "qemu", "--out", args.out]
        timed(run)                                  # make sure the build and certificate exist
        elf = Path(args.out) / "build" / "prod_consumer" / name / "zephyr" / "zephyr.elf"
        bare = statistics.median(bare_qemu(board, elf) for _ in range(args.repeat))
        warm = statistics.median(timed(run) for _ in range(args.repeat))
        noiso = statistics.median(timed(run + ["--no-isolation"]) for _ in range(args.repeat))
        cold = timed(run + ["--pristine", "--no-isolation"])
        tc = toolchain.find(board.arch, dict(os.environ))
        env = {**os.environ, "ZEPHYR_TOOLCHAIN_VARIANT": tc.variant, **tc.env}
        build_dir = Path(args.out) / "bench-west" / name
        west = timed([sys.executable, "-m", "west", "build", "-p", "always", "-b", boards.zephyr_name(board, ws.version()), "-d",
                      str(build_dir), str(ws.zephyr_base / "samples/userspace/prod_consumer"),
                      "--", *tc.cmake_args], cwd=ws.topdir, env=env)
        print(f"{name:<12} {bare:7.2f} {warm:7.2f} {noiso:10.2f} {warm - bare:+8.2f} "
              f"{cold:7.2f} {west:7.2f}")


if __name__ == "__main__":
    main()
