#!/usr/bin/env python3
"""`harness robot` against Renode's own `renode-test` on the same suite and the same
ELF, in turn, round by round (a noisy machine hits all alike): renode-test, `harness
robot` starting its own Renode, and `harness robot` leasing a warm Renode from a
`harness serve` started before the rounds (its start-up is not counted: that is the
point of keeping it; it is printed).

The suite is tests/data/robot/renode_style.robot (a renode-test suite: Execute Command
makes the machine, a terminal tester, Provides/Requires); the ELF is Zephyr's shell
sample for mps2_an385, built once with `harness robot --app` (which also writes the
board's Renode script the suite includes). Both tools then get the same ELF, RESC and
UART variables and run the suite unchanged.

renode-test runs with `python3` from PATH and needs Renode's tests/requirements.txt
(robotframework, robotframework-retryfailed, psutil, pyyaml); this script puts the
venv's python first on PATH.

    bench/robot_vs_renode_test.py --workspace ~/zephyrproject-4.3 [--pairs 5]
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITE = ROOT / "tests" / "data" / "robot" / "renode_style.robot"


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workspace", default=str(Path.home() / "zephyrproject-4.3"))
    p.add_argument("--pairs", type=int, default=5, help="rounds of the three")
    p.add_argument("--out", default=tempfile.mkdtemp(prefix="robot-bench-"))
    a = p.parse_args()
    harness = str(Path(sys.executable).parent / "harness")
    renode = shutil.which("renode")
    if not renode:
        sys.exit("renode not on PATH: `harness setup --renode` installs it")
    renode_test = Path(os.path.realpath(renode)).parent / "renode-test"
    if not renode_test.is_file():
        sys.exit(f"no renode-test beside {os.path.realpath(renode)}")
    app = Path(a.workspace).expanduser() / "zephyr" / "samples" / "subsys" / "shell" / "shell_module"
    out = Path(a.out)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    first = subprocess.run([harness, "robot", str(SUITE), "--workspace", a.workspace, "--app",
                            str(app), "--board", "mps2_an385", "--out", str(out / "setup")],
                           env=env, capture_output=True, text=True)
    if first.returncode:
        sys.exit(f"the first harness robot run failed:\n{first.stdout}{first.stderr}")
    result = json.loads(next((out / "setup" / "runs").glob("*/*/latest/result.json")).read_text())
    spec = json.loads((Path(result["run_dir"]) / "robot-spec.json").read_text())
    variables = [v for v in spec["variables"] if v.split(":", 1)[0] in ("ELF", "RESC", "UART")]
    var_args = sum((["--variable", v] for v in variables), [])
    robot = [harness, "robot", str(SUITE), "--workspace", a.workspace, *var_args,
             "--out", str(out / "harness")]
    sock = out / "serve.sock"
    commands = {
        "renode-test": [str(renode_test), *var_args, str(SUITE)],
        "harness robot": robot,
        "served": [*robot, "--renode-server", str(sock)],
    }
    t0 = time.monotonic()
    server = subprocess.Popen([harness, "serve", "--socket", str(sock)], env=env,
                              stdin=subprocess.DEVNULL, stderr=open(out / "serve.err", "wb"))
    while b"ready" not in (out / "serve.err").read_bytes():
        if server.poll() is not None:
            sys.exit(f"harness serve ended:\n{(out / 'serve.err').read_text()}")
        time.sleep(0.05)
    served_start = time.monotonic() - t0
    try:
        times = rounds(commands, a.pairs, out, env)
    finally:
        server.terminate()
        server.wait(timeout=30)
    tr, hx, sx = (statistics.median(times[k]) for k in commands)
    print(f"suite {SUITE.name}, ELF {variables[0]}, {a.pairs} rounds in turn")
    for name, t in times.items():
        print(f"{name:14} median {statistics.median(t):6.2f} s   runs: "
              + " ".join(f"{x:.2f}" for x in t))
    print(f"harness serve: start-up to its first warm Renode {served_start:.2f} s (once)")
    print(f"ratio harness robot / renode-test {hx / tr:.2f} x, with harness serve "
          f"{sx / tr:.2f} x (target 0.5 x)")
    return 0


def rounds(commands: dict, count: int, out: Path, env: dict) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in commands}
    order = list(commands.items())
    for n in range(count):
        for name, argv in order[n % len(order):] + order[:n % len(order)]:
            work = out / f"{name.replace(' ', '-')}-{n}"
            work.mkdir(parents=True)
            t0 = time.monotonic()
            done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True)
            times[name].append(time.monotonic() - t0)
            if done.returncode:
                sys.exit(f"{name} failed (rc {done.returncode}):\n{done.stdout[-3000:]}"
                         f"{done.stderr[-2000:]}")
    return times


if __name__ == "__main__":
    sys.exit(main())
