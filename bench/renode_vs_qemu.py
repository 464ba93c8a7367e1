#!/usr/bin/env python3
"""The same prod_consumer ELF on Renode and on QEMU. Targets (issue: Renode out of
the box): warm <= 1.3x QEMU on mps2_an385; cold <= Renode's own start-and-quit
+ the warm run + 0.5 s.

warm: runs inside one harness session, as a matrix, a Robot suite or a pytest
      session makes them: firmware built, certificate cached, and for Renode
      the process kept from the previous run (each run still gets a fresh
      emulation, see harness/emulators/renode_host.py). Per board and
      emulator, the median over --repeat runs of the run's total time (build
      check to verdict and teardown), its start (UART attached, CPU running),
      its run (CPU running to verdict, including the capture window after
      SUCCESS) and the guest time when the harness saw SUCCESS (Renode); "in a
      row" is the wall time of the counted runs over their number. mps2_an385's
      QEMU and Renode runs take turns, BLOCK counted runs in a row each, every
      block after one run that is not counted (so a Renode run always waits
      for the reset the Renode run before it left, as in a suite).
cold: wall time of a whole `harness run` command (Python, and for Renode a
      new Mono process), median of --repeat.
start-quit: `renode --disable-xwt --console --plain -e quit` alone, median of --repeat:
      what any use of this Renode costs before it does anything. It is also
      timed as the harness starts Renode: with the AOT images `harness setup
      --renode` made for it (see harness/emulators/renode_aot.py), where it made any, and
      Mono's larger nursery (renode_host.MONO_NURSERY); the target is printed
      against that too. The cold
      figures are taken in turn (QEMU, Renode, start-quit, QEMU, ...), so a
      drift of the machine's speed touches them alike; the cold target is also
      printed on the pairs (each Renode run less the start-quit after it).
      HARNESS_RENODE_AOT=0 runs the whole bench without the images.
Usage: .venv/bin/python bench/renode_vs_qemu.py [--repeat N] [--out DIR]
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

from harness.emulators import renode_aot
from harness.emulators.renode_host import launch_environment  # noqa: E402
from harness.inputs import apps, boards, config, expectations  # noqa: E402

PAIRS = [("mps2_an385", "qemu"), ("mps2_an385", "renode"), ("stm32f4_disco", "renode"),
         ("nrf52840dk_nrf52840", "renode")]
BLOCK = 3       # warm runs in a row of one emulator before the other's turn


def warm(out: str, repeat: int) -> dict:
    app = apps.load("prod_consumer")
    spec = expectations.load(app.expect)
    runs: dict = {pair: [] for pair in PAIRS}
    walls: dict = {pair: 0.0 for pair in PAIRS}
    board = {name: boards.load(name) for name, _ in PAIRS}

    def passed(pair):
        result = session.run_checked(app, board[pair[0]], pair[1], spec)
        if result.verdict.name != "PASS":
            raise SystemExit(f"{pair[0]}/{pair[1]}: {result.verdict.name}: "
                             f"{result.outcome.reason} ({result.run_dir})")
        return result

    def in_a_row(pair, n: int) -> None:
        """One run not counted (the one before was another pair's), then `n` in a row."""
        passed(pair)
        t0 = time.monotonic()
        runs[pair] += [passed(pair) for _ in range(n)]
        walls[pair] += time.monotonic() - t0

    with config.make_session(dict(os.environ), out=out, say=lambda m: None) as session:
        for pair in PAIRS:
            passed(pair)                                    # build, certify, start
        # The pair the target compares, in turn (blocks of BLOCK), so a drift of the
        # machine's speed touches both alike; the other boards after it.
        for done in range(0, repeat, BLOCK):
            for pair in PAIRS[:2]:
                in_a_row(pair, min(BLOCK, repeat - done))
        for pair in PAIRS[2:]:
            in_a_row(pair, repeat)
        version = session.emulators.adapter(board["mps2_an385"], "renode",
                                            session.out_dir).version()
    figures = {}
    for (board_name, emu), done in runs.items():
        med = {k: statistics.median(r.timings[k] for r in done) for k in ("total_s", "start_s", "run_s")}
        vtimes = [r.outcome.evidence.get("virtual_time_s") for r in done]
        med["vtime"] = statistics.median(vtimes) if None not in vtimes else None
        med["in_a_row"] = walls[(board_name, emu)] / len(done)
        figures[(board_name, emu)] = med
    figures["renode_version"] = version
    return figures


def cold(board: str, emu: str, out: str) -> float:
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "harness", "run", "--board", board,
                           "--emulator", emu, "--out", out], capture_output=True,
                          stdin=subprocess.DEVNULL, cwd=ROOT)
    if proc.returncode != 0:
        raise SystemExit(f"cold {board}/{emu}: exit {proc.returncode}")
    return time.monotonic() - t0


def start_quit(binary: str, as_harness: bool) -> float:
    """`as_harness`: as the harness starts this Renode (its AOT images, where set-up made
    them, and Mono's larger nursery)."""
    home = Path(os.environ.get("TMPDIR", "/tmp")) / f"renode-bench-home-{os.getpid()}"
    home.mkdir(exist_ok=True)
    env = dict(os.environ)
    env = launch_environment(env, renode_aot.images(binary, env)) if as_harness else env
    t0 = time.monotonic()
    subprocess.run([str(binary), "--disable-xwt", "--console", "--plain", "-e", "quit"],
                   env={**env, "HOME": str(home)}, capture_output=True,
                   stdin=subprocess.DEVNULL, check=True)
    return time.monotonic() - t0


def at_least_one(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"{value!r}: give a whole number of runs, 1 or more")
    return int(value)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=at_least_one, default=5, help="runs per figure")
    ap.add_argument("--out", default=str(ROOT / "harness-out"))
    args = ap.parse_args()
    figures = warm(args.out, args.repeat)
    print(f"Renode: {figures.pop('renode_version')}")
    print(f"warm, in one session (seconds, median of {args.repeat}):")
    print(f"  {'board':<20} {'emulator':<8} {'per run':>8} {'start':>7} {'run':>7} "
          f"{'guest@SUCCESS':>14} {'in a row':>9}")
    for (board, emu), f in figures.items():
        guest = f"{f['vtime']:14.3f}" if f["vtime"] is not None else f"{'-':>14}"
        print(f"  {board:<20} {emu:<8} {f['total_s']:8.2f} {f['start_s']:7.2f} "
              f"{f['run_s']:7.2f} {guest} {f['in_a_row']:9.2f}")
    renode, qemu = figures[("mps2_an385", "renode")], figures[("mps2_an385", "qemu")]
    print(f"  mps2_an385 warm run: Renode / QEMU = {renode['total_s'] / qemu['total_s']:.2f}x per "
          f"run, {renode['in_a_row'] / qemu['in_a_row']:.2f}x in a row  (target <= 1.3x)")
    binary = config.renode_found(dict(os.environ), None)
    aot = renode_aot.images(binary, dict(os.environ))
    print(f"Renode's AOT images (harness setup --renode): {aot or 'none, Renode compiles at run time'}")
    print(f"cold, a whole `harness run` command (seconds, median of {args.repeat}, in turn):")
    walls: dict = {"qemu": [], "renode": [], "start-quit": [], "start-quit-harness": []}
    for _ in range(args.repeat):
        for emu in ("qemu", "renode"):
            walls[emu].append(cold("mps2_an385", emu, args.out))
        walls["start-quit"].append(start_quit(binary, as_harness=False))
        walls["start-quit-harness"].append(start_quit(binary, as_harness=True))
    wall = {k: statistics.median(v) for k, v in walls.items() if v}
    for emu in ("qemu", "renode"):
        print(f"  mps2_an385 {emu:<8} {wall[emu]:6.2f}")
    print(f"  mps2_an385 cold: Renode / QEMU = {wall['renode'] / wall['qemu']:.1f}x "
          "(Mono and Renode start-up included)")
    allowed = renode["total_s"] + 0.5                 # beyond Renode's own start-and-quit
    budget = wall["start-quit"] + allowed
    print(f"  Renode's own start-and-quit (plain: without the harness's AOT images and nursery) "
          f"{wall['start-quit']:.2f} s; cold target = that + warm run "
          f"+ 0.5 s = {budget:.2f} s; cold Renode run {wall['renode']:.2f} s "
          f"({wall['renode'] - budget:+.2f} s)")
    # The same target on pairs taken one right after the other: less of the machine's drift.
    beyond = statistics.median(r - q for r, q in zip(walls["renode"], walls["start-quit"]))
    print(f"  per pair, cold Renode run - start-and-quit: median {beyond:.2f} s against "
          f"warm run + 0.5 s = {allowed:.2f} s ({beyond - allowed:+.2f} s)")
    # the stricter reading: start-and-quit as the harness starts Renode
    beyond = statistics.median(r - q for r, q in zip(walls["renode"], walls["start-quit-harness"]))
    print(f"  stricter, Renode started as the harness starts it in both: start-and-quit "
          f"{wall['start-quit-harness']:.2f} s; per pair, cold run - start-and-quit: median "
          f"{beyond:.2f} s against {allowed:.2f} s ({beyond - allowed:+.2f} s)")

if __name__ == "__main__":
    main()
