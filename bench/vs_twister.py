#!/usr/bin/env python3
"""The harness against the workspace's own twister, on the same test suites and board.

Runs `scripts/twister -T ...` and `harness matrix -T ...` side by side (cold: both
build; warm: builds up to date, twister with --test-only), prints the wall times and
a table of every scenario and ztest test case whose verdict differs. Verdict classes:
passed / failed / skipped / error; a build_only scenario counts as passed, as twister
counts it. Where the harness is stricter on purpose (e.g. UNTRUSTED: a PASS on the
UART without proven isolation) the row is marked "finding", not hidden.

    .venv/bin/python bench/vs_twister.py                 # cold + warm, the default suites
    .venv/bin/python bench/vs_twister.py --warm-only     # builds already there
    .venv/bin/python bench/vs_twister.py --compare-only  # just the table from earlier runs
Exit status: 0 when nothing differs, 1 otherwise.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SUITES = ["samples/hello_world", "samples/synchronization", "samples/philosophers",
          "samples/userspace/hello_world_user", "samples/userspace/shared_mem",
          "samples/userspace/prod_consumer", "tests/kernel/mem_protect/mem_protect",
          "tests/kernel/mem_protect/userspace", "tests/kernel/common", "tests/kernel/fatal/exception"]
HARNESS_CLASS = {"PASS": "passed", "SKIPPED": "skipped", "FAIL": "failed", "CRASH": "failed",
                 "HANG": "failed", "STALL": "failed", "UNTRUSTED": "failed",
                 "BUILD_ERROR": "error", "EMULATOR_ERROR": "error", "SETUP_ERROR": "error",
                 "INTERRUPTED": "error", "HARNESS_ERROR": "error", "BAD_INPUT": "error"}
STRICTER = {"UNTRUSTED"}       # the harness's own findings where twister says passed


def main() -> int:
    a = parse_args()
    zephyr = Path(a.workspace).expanduser() / "zephyr"
    roots = [str(zephyr / s) for s in a.suite or SUITES]
    tw_out, hx_out = Path(a.out) / "twister", Path(a.out) / "harness"
    env = {**os.environ, "ZEPHYR_BASE": str(zephyr), "ZEPHYR_TOOLCHAIN_VARIANT": "gnuarmemb",
           "GNUARMEMB_TOOLCHAIN_PATH": "/usr",
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    known = twister_options(zephyr, env)
    twister = [sys.executable, str(zephyr / "scripts" / "twister"), "-N",
               "--disable-warnings-as-errors" if "--disable-warnings-as-errors" in known else "-W",
               *(["--report-filtered"] if "--report-filtered" in known else []),
               "-p", a.board, "-j", str(a.jobs), "-O", str(tw_out),
               *sum((["-T", r] for r in roots), [])]
    # Warm: builds up to date, every test run again. Zephyr 3.x's --test-only does that;
    # 4.x's reruns only configurations left "not run" (none, after a full run), so there
    # twister warm is a rebuild-if-needed run in place (-n --aggressive-no-clean).
    warm = ["-n", "--aggressive-no-clean"] if "--aggressive-no-clean" in known and \
        version_of(zephyr) >= (4, 0) else ["--test-only"]
    harness = [str(Path(sys.executable).parent / "harness"), "matrix", "-j", str(a.jobs),
               "--board", a.board, "--out", str(hx_out), *sum((["-T", r] for r in roots), [])]
    figures = {}
    if not a.compare_only:
        if not a.warm_only:
            for stale in (tw_out, hx_out, *ccache_dirs(a.out).values()):
                shutil.rmtree(stale, ignore_errors=True)     # cold: nothing built, empty caches
            figures["cold"] = side_by_side(twister, harness, env, a.out)
            keep(tw_out, Path(a.out) / "twister-cold")
        figures["warm"] = side_by_side(twister + warm, harness, env, a.out)
    print(f"ccache: {shutil.which('ccache') or 'not installed'} (each tool its own cache)")
    for mode, (tw_s, hx_s) in figures.items():
        print(f"{mode:<5} twister {tw_s:7.1f} s   harness {hx_s:7.1f} s   ratio {hx_s / tw_s:.2f} x")
    # --test-only leaves the skipped scenarios out: judge against the cold run's files
    cold = Path(a.out) / "twister-cold"
    tw_scen, tw_cases = twister_results(cold if (cold / "twister.xml").is_file() else tw_out)
    hx_scen, hx_cases, findings = harness_results(hx_out / "matrix" / "summary.json")
    rows = compare(tw_scen, hx_scen, tw_cases, hx_cases, findings)
    print(f"\nscenarios: twister {len(tw_scen)}, harness {len(hx_scen)}; "
          f"test cases compared: {len(set(tw_cases) & set(hx_cases))}")
    print(f"{'what':<72} {'twister':<9} {'harness':<9} note")
    for what, tw, hx, note in rows:
        print(f"{what:<72} {tw:<9} {hx:<9} {note}")
    differences = [r for r in rows if r[3] != "finding"]
    print(f"\n{len(differences)} difference(s), {len(rows) - len(differences)} finding(s)")
    return 1 if differences else 0


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--workspace", default="~/zephyrproject")
    p.add_argument("--board", default="mps2_an385")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.add_argument("--suite", action="append", help="a suite dir under zephyr/ (repeatable)")
    p.add_argument("--out", default=str(ROOT / "harness-out" / "vs-twister"))
    p.add_argument("--warm-only", action="store_true")
    p.add_argument("--compare-only", action="store_true")
    return p.parse_args()


def twister_options(zephyr: Path, env: dict) -> str:
    """The workspace's twister --help (its options differ between Zephyr versions)."""
    return subprocess.run([sys.executable, str(zephyr / "scripts" / "twister"), "--help"],
                          env=env, capture_output=True, text=True).stdout


def version_of(zephyr: Path) -> tuple[int, int]:
    fields = dict(map(str.strip, line.split("=", 1))
                  for line in (zephyr / "VERSION").read_text().splitlines() if "=" in line)
    return int(fields["VERSION_MAJOR"]), int(fields["VERSION_MINOR"])


def ccache_dirs(out) -> dict[str, Path]:
    """Each tool's own ccache (Zephyr compiles through ccache when it is installed), so
    neither reuses the other's objects; both start empty in a cold comparison."""
    return {name: Path(out) / f"ccache-{name}" for name in ("twister", "harness")}


def side_by_side(twister, harness, env, out) -> tuple[float, float]:
    Path(out).mkdir(parents=True, exist_ok=True)
    times = []
    caches = ccache_dirs(out)
    for name, cmd in (("twister", twister), ("harness", harness)):
        t0 = time.monotonic()
        with open(Path(out) / f"{name}.log", "w") as log:
            subprocess.run(cmd, env={**env, "CCACHE_DIR": str(caches[name])}, cwd=out,
                           stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        times.append(time.monotonic() - t0)
    return times[0], times[1]


def keep(out: Path, dest: Path) -> None:
    dest.mkdir(parents=True, exist_ok=True)
    for name in ("twister.xml", "twister_report.xml", "twister.json", "twister.csv"):
        if (out / name).is_file():
            (dest / name).write_bytes((out / name).read_bytes())


def twister_results(out: Path):
    """Per scenario from twister.xml, per test case from twister_report.xml (3.0) or
    twister.json (3.4)."""
    scen, cases = {}, {}
    if (out / "twister.json").is_file():
        for ts in json.loads((out / "twister.json").read_text()).get("testsuites", []):
            name = ts["name"].rsplit("/", 1)[-1]
            scen[name] = _norm(ts.get("status"))
            for tc in ts.get("testcases", []):       # 4.3 names cases <suite>.<test>: per scenario
                if scen[name] not in ("skipped",) and tc["identifier"] != name:
                    cases[f"{name}/{tc['identifier']}"] = _norm(tc.get("status"))
        return scen, cases
    for tc in ET.parse(out / "twister.xml").getroot().iter("testcase"):
        scen[tc.get("name").rsplit("/", 1)[-1]] = _status(tc)
    for tc in ET.parse(out / "twister_report.xml").getroot().iter("testcase"):
        owner = max((s for s in scen if tc.get("name").startswith(s + ".") or tc.get("name") == s),
                    key=len, default=None)
        if owner and scen[owner] not in ("skipped",) and tc.get("name") != owner:
            cases[f"{owner}/{tc.get('name')}"] = _status(tc)
    return scen, cases


def harness_results(summary: Path):
    data = json.loads(summary.read_text())
    scen, cases, findings = {}, {}, set()
    for run in data["runs"]:
        verdict, reason = run["verdict"], run.get("reason", "")
        cls = "passed" if verdict == "SKIPPED" and reason.startswith("build_only") \
            else HARNESS_CLASS[verdict]
        scen[run["app"]] = cls
        if verdict in STRICTER:
            findings.add(run["app"])
        for c in run.get("evidence", {}).get("testcases", []):
            cases[f"{run['app']}/{c['name']}"] = c["status"] if c["status"] != "started" else "failed"
    return scen, cases, findings


def compare(tw_scen, hx_scen, tw_cases, hx_cases, findings):
    rows = []
    for name in sorted(set(tw_scen) | set(hx_scen)):
        tw, hx = tw_scen.get(name, "absent"), hx_scen.get(name, "absent")
        if tw != hx:
            rows.append((name, tw, hx, "finding" if name in findings else ""))
    for name in sorted(set(tw_cases) | set(hx_cases)):
        tw, hx = tw_cases.get(name, "absent"), hx_cases.get(name, "absent")
        if tw != hx:
            rows.append((f"  case {name}", tw, hx, ""))
    return rows


def _status(tc) -> str:
    tags = {child.tag for child in tc}
    return "failed" if "failure" in tags else "error" if "error" in tags else \
        "skipped" if "skipped" in tags else "passed"


def _norm(status) -> str:
    s = (status or "").lower()
    return {"pass": "passed", "fail": "failed", "skip": "skipped", "filtered": "skipped",
            "not run": "passed",          # built, not run (4.x); 3.x says passed
            "blocked": "error"}.get(s, s or "passed")


if __name__ == "__main__":
    raise SystemExit(main())
