"""From a firmware's gcov dump to coverage reports: .gcda files next to copies of the
build's .gcno files (a tree of the run's own, so parallel runs of one build never mix
their counters), then gcovr with the toolchain's gcov."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

from harness.errors import SetupError
from harness.host.deadline import Deadline
from harness.host.lifeline import LIFELINE
from harness.host.process import kill_session, which
from harness.judging.gcov_dump import GcovDump

REPORT_DIR = "coverage"            # in the run directory
TREE_DIR = "gcov"                  # .gcda + .gcno while gcovr reads them (then removed)
GCOVR_TIMEOUT_S = 300.0            # host seconds


def gcov_tool(addr2line: str | None, environ: dict) -> str:
    """The gcov of the toolchain that built the image (its addr2line's sibling:
    arm-none-eabi-gcov for GNU Arm Embedded)."""
    if addr2line and addr2line.endswith("-addr2line") and "llvm" not in Path(addr2line).name:
        gcov = addr2line[:-len("addr2line")] + "gcov"
        if Path(gcov).is_file() or which(gcov, environ):
            return gcov
    raise SetupError(f"no gcov found beside {addr2line or 'the toolchain'}",
                     "coverage needs the GCC toolchain's gcov (apt-get install "
                     "gcc-arm-none-eabi ships arm-none-eabi-gcov)")


def write_tree(dump: GcovDump, build_dir: Path, tree: Path) -> dict:
    """The last dump of each .gcda, with its .gcno copied beside it, under `tree` (paths
    relative to the build directory). Says what could not be placed."""
    shutil.rmtree(tree, ignore_errors=True)
    placed, outside, no_gcno = 0, [], []
    for name, dumps in dump.files.items():
        rel = _relative(name, build_dir)
        if rel is None:
            outside.append(name)
            continue
        gcno = build_dir / rel.with_suffix(".gcno")
        if not gcno.is_file():
            no_gcno.append(name)
            continue
        dest = tree / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(dumps[-1])        # counters only grow: the last dump holds them all
        shutil.copyfile(gcno, dest.with_suffix(".gcno"))
        placed += 1
    return {"placed": placed, "outside_build": outside, "without_gcno": no_gcno}


def _relative(name: str, build_dir: Path) -> Path | None:
    path = Path(name)
    for base in (build_dir, build_dir.resolve()):
        if path.is_relative_to(base):
            return path.relative_to(base)
    return None


def gcovr(tree: Path, out: Path, gcov: str, roots: list[Path], base: Path,
          log: Path) -> dict:
    """HTML (per file, per line), Cobertura XML, LCOV and gcovr JSON of the sources
    under `roots`, paths shown relative to `base`; returns the totals."""
    out.mkdir(parents=True, exist_ok=True)
    files = outputs(out)
    gcov_json = out / "gcov-tracefile.json"
    cmd = [sys.executable, "-m", "gcovr", "--root", str(base), "--gcov-executable", gcov,
           "--gcov-ignore-parse-errors=negative_hits.warn_once_per_file",
           # generated headers are named relative to the build directory (ccache's base
           # directory): gcov cannot open them; without these, gcovr drops the whole
           # object (the app's own sources, which include generated syscall headers)
           "--gcov-ignore-errors=source_not_found", "--gcov-ignore-errors=no_working_dir_found",
           "--merge-mode-functions=separate", "-j", "2", *filters(roots),
           "--json", str(gcov_json), str(tree)]
    # gcov's part first (a gcovr JSON tracefile), then the reports from it, HTML and data
    # side by side (render_tracefiles)
    try:
        _run_all([cmd], log, gcov_json)
        return render_tracefiles([sys.executable, "-m", "gcovr", "--root", str(base),
                                  "--add-tracefile", str(gcov_json), *filters(roots),
                                  "--merge-mode-functions=separate"], files, log)
    finally:
        gcov_json.unlink(missing_ok=True)          # coverage.json holds the same


def filters(roots: list[Path]) -> list[str]:
    """gcovr's --filter for the sources under `roots` (without one, gcovr keeps only
    what lies under its --root: an app outside the Zephyr tree would lose its own)."""
    return [a for r in roots for a in ("--filter", re.escape(str(r).rstrip("/")) + "/")]


def outputs(out: Path) -> dict[str, Path]:
    return {"html": out / "index.html", "cobertura": out / "coverage.xml",
            "lcov": out / "coverage.info", "json": out / "coverage.json",
            "summary": out / "summary.json"}


def _html_args(files: dict[str, Path]) -> list[str]:
    # no syntax highlighting: it took 1.1 of gcovr's 2.6 s on prod_consumer's 113 pages
    return ["--html-details", str(files["html"]), "--no-html-syntax-highlighting"]


def _data_args(files: dict[str, Path]) -> list[str]:
    return ["--cobertura", str(files["cobertura"]), "--lcov", str(files["lcov"]),
            "--json", str(files["json"]), "--json-summary", str(files["summary"])]


def render_tracefiles(base_cmd: list[str], files: dict, log: Path) -> dict:
    """The reports of gcovr tracefiles (`base_cmd` reads and filters them): the HTML
    pages and the data reports (Cobertura, LCOV, JSON) by two gcovr processes side by
    side; the totals of its JSON summary. Nothing is left to gcov here, and the HTML
    pages take most of the time (one page per source), so two cores halve the rest."""
    _run_all([base_cmd + _html_args(files), base_cmd + _data_args(files)], log, files["summary"])
    return totals(json.loads(files["summary"].read_text()))


def _run_all(cmds: list[list[str]], log: Path, made: Path) -> None:
    """Run the gcovr commands `cmds` side by side, within GCOVR_TIMEOUT_S in all, each
    in a session of its own (its gcov children end with it); their output goes to
    `log` one after the other. SetupError, naming the command, unless all succeed and
    `made` exists."""
    deadline = Deadline(GCOVR_TIMEOUT_S)
    outs = [log.with_name(f"{log.name}.{n}") for n in range(len(cmds))]
    procs: list[subprocess.Popen] = []
    try:
        for cmd, out in zip(cmds, outs):
            with open(out, "w") as f:
                procs.append(subprocess.Popen(cmd, stdout=f, stderr=subprocess.STDOUT,
                                              stdin=subprocess.DEVNULL, start_new_session=True))
            LIFELINE.hold(procs[-1].pid)
        try:
            rcs = [p.wait(timeout=deadline.remaining()) for p in procs]
        except subprocess.TimeoutExpired:
            raise SetupError(f"gcovr did not finish within {GCOVR_TIMEOUT_S:g} s",
                             f"its output: {log}") from None
    finally:
        for p in procs:
            if p.poll() is None:
                kill_session(p.pid)
                p.wait()
            LIFELINE.release(p.pid)
        with open(log, "a") as f:
            for cmd, out in zip(cmds, outs):
                f.write("$ " + " ".join(cmd) + "\n")
                try:
                    f.write(out.read_text(errors="replace"))
                    out.unlink()
                except OSError:
                    pass
    for cmd, rc in zip(cmds, rcs):
        if rc != 0:
            raise SetupError(f"gcovr failed (rc {rc}): gcovr {' '.join(cmd[3:])[:200]}",
                             f"its output: {log}")
    if not made.is_file():
        raise SetupError(f"gcovr wrote no {made.name}", f"its output: {log}")


def totals(summary: dict) -> dict:
    """Line totals of a gcovr JSON summary, and per source file."""
    return {"lines_covered": summary.get("line_covered", 0),
            "lines_total": summary.get("line_total", 0),
            "line_percent": summary.get("line_percent", 0.0),
            "files": {f["filename"]: [f.get("line_covered", 0), f.get("line_total", 0)]
                      for f in summary.get("files", [])}}
