"""Coverage in a run: which runs measure it, and the reports once the run ended."""
from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path

from harness import isolation_run
from harness.build import west_build
from harness.coverage import gcov, pc_trace
from harness.errors import HarnessError, SetupError

METHOD = "gcov"
TRACE_METHOD = "renode-trace"
TRACE_EMULATORS = ("renode",)      # where the unmodified image is traced instead
TRACE_NOTE = ("the unmodified image the isolation certificate covers: Renode traced the "
              "program counter of every instruction it ran, mapped to lines with the ELF's "
              "DWARF line tables")
GCC_MAJOR = re.compile(r"\) (\d+)\.\d+\.\d+")      # gcc --version: "... (Debian ...) 12.2.1 ..."
EMULATORS = ("qemu",)               # where the gcov image runs (Renode: not yet)
IMAGE_NOTE = ("the gcov-instrumented image, not the one the isolation certificate covers "
              "(its code and layout differ; every thread may write the counters)")


def wanted(session, board, result) -> bool:
    """Whether the run `result` (of its app on `board`) boots the gcov image: never the
    isolation probe's, whose certificate is about the plain probe. SetupError where the
    workspace's gcov runtime cannot write the toolchain's format."""
    if not (session.coverage and result.emulator in EMULATORS
            and result.app != isolation_run.PROBE_APP):
        return False
    check_runtime(session.workspace.zephyr_base, session.builds.toolchain(board).version)
    return True


def check_runtime(zephyr_base: Path, toolchain_version: str) -> None:
    """GCC 12 changed the .gcda format (an object checksum, longer function records);
    Zephyr's gcov runtime (subsys/testsuite/coverage) writes it from 3.2 on. An older
    runtime built by GCC 12 or later would dump data no gcov reads."""
    gcc = GCC_MAJOR.search(toolchain_version)
    header = zephyr_base / "subsys" / "testsuite" / "coverage" / "coverage.h"
    try:
        knows_12 = "GCOV_12_FORMAT" in header.read_text()
    except OSError:
        raise SetupError(f"the workspace has no gcov runtime ({header})",
                         "--coverage needs Zephyr's subsys/testsuite/coverage") from None
    if gcc and int(gcc.group(1)) >= 12 and not knows_12:
        raise SetupError(f"--coverage: the gcov runtime of the Zephyr at {zephyr_base} predates "
                         f"GCC 12's .gcda format, and the toolchain is GCC {gcc.group(1)} "
                         f"({toolchain_version})", "use a Zephyr 3.2 or later workspace "
                         "(--workspace), or a GCC 11 or older toolchain")


def trace_path(coverage: bool, emu: str, result, built) -> Path | None:
    """Where Renode traces the program counter for --coverage (None: no trace)."""
    if coverage and emu in TRACE_EMULATORS and not built.coverage \
            and result.app != isolation_run.PROBE_APP:
        return result.run_dir / pc_trace.TRACE_FILE
    return None


def expect_dump(judge, built) -> None:
    """A gcov image: the judge waits for its dump and keeps it out of the log."""
    if built.coverage:
        judge.expect_gcov_dump()


def conclude(coverage: bool, result, judge, built, toolchain, workspace,
             environ: dict) -> dict | None:
    """result.coverage: the reports and totals of a gcov run, or why there are none."""
    if not coverage:
        return None
    if not built.coverage:
        if result.emulator in TRACE_EMULATORS:
            return _traced(result, built, workspace)
        return {"status": "not collected", "method": None,
                "reason": f"--coverage runs on {', '.join(EMULATORS + TRACE_EMULATORS)}; "
                          f"{result.emulator} runs the unmodified image untraced"}
    dump = judge.gcov
    found = {"status": dump.status, "method": METHOD, "image": IMAGE_NOTE,
             "dump": dump.summary()}
    if dump.status != "complete":
        found["reason"] = dump.reason()
        return found
    t0 = time.monotonic()
    try:
        found.update(_reports(dump, built, result.run_dir, toolchain, workspace, environ))
    except (HarnessError, OSError) as exc:
        found.update(status="report failed", reason=str(exc))
    result.timings["coverage_s"] = round(time.monotonic() - t0, 3)
    return found


def _reports(dump, built, run_dir: Path, toolchain, workspace, environ: dict) -> dict:
    tree = run_dir / gcov.TREE_DIR
    placed = gcov.write_tree(dump, built.build_dir, tree)
    base = workspace.zephyr_base
    app_dir = west_build.cached_source(built.build_dir)
    roots = [base] + ([app_dir] if app_dir and not app_dir.is_relative_to(base) else [])
    out = run_dir / gcov.REPORT_DIR
    try:
        found = gcov.gcovr(tree, out, gcov.gcov_tool(toolchain.addr2line, environ), roots,
                           base, run_dir / "coverage.log")
    finally:
        shutil.rmtree(tree, ignore_errors=True)
    files = gcov.outputs(out)
    per_file = found.pop("files")
    found["app_sources"] = _app_lines(per_file, app_dir, base)
    found["files"] = len(per_file)
    found["gcda"] = placed
    found["reports"] = {k: str(v) for k, v in files.items()}
    found["root"] = str(base)                 # gcovr's names are relative to it
    return found


def _app_lines(per_file: dict, app_dir: Path | None, base: Path) -> dict:
    """[covered, total] lines of each source of the app itself (gcovr's names)."""
    if app_dir is None:
        return {}
    prefix = str(app_dir.relative_to(base)) if app_dir.is_relative_to(base) else str(app_dir)
    return {name: lines for name, lines in per_file.items()
            if name.startswith(prefix.rstrip("/") + "/")}


def _traced(result, built, workspace) -> dict:
    """Coverage from Renode's PC trace: a gcovr tracefile of the app's and Zephyr's
    sources, rendered by gcovr like a gcov run's."""
    found = {"method": TRACE_METHOD, "image": TRACE_NOTE}
    trace = result.run_dir / pc_trace.TRACE_FILE
    t0 = time.monotonic()
    try:
        counts = pc_trace.executed(trace)
    except (OSError, pc_trace.TraceError) as exc:
        return {**found, "status": "no trace", "reason": f"Renode's execution trace: {exc}"}
    if not counts:
        return {**found, "status": "no trace", "reason": f"{trace} holds no instruction"}
    verdict = result.outcome.verdict.label
    if verdict not in ("PASS", "FAIL", "OVERREACH"):
        found["note"] = f"the run ended {verdict}: the trace covers what ran until then"
    base = workspace.zephyr_base
    app_dir = west_build.cached_source(built.build_dir)
    roots = [base] + ([app_dir] if app_dir and not app_dir.is_relative_to(base) else [])
    out = result.run_dir / gcov.REPORT_DIR
    out.mkdir(parents=True, exist_ok=True)
    tracefile = out / "renode-trace.json"
    try:
        lines = pc_trace.cached_line_table(built.elf, built.sha256, built.build_dir)
        per_file = pc_trace.tracefile(counts, lines, roots, tracefile)
        if not per_file:
            return {**found, "status": "report failed",
                    "reason": f"no line of the sources under {', '.join(map(str, roots))} in "
                              f"the DWARF of {built.elf} (built without debug information?)"}
        files = gcov.outputs(out)
        cmd = [sys.executable, "-m", "gcovr", "--root", str(base), "--add-tracefile",
               str(tracefile), *gcov.filters(roots), "--merge-mode-functions=separate"]
        found.update(gcov.render_tracefiles(cmd, files, result.run_dir / "coverage.log"))
        tests = _per_test(trace, built.elf, lines, roots, out / "tests", app_dir,
                          [c["name"] for c in result.outcome.evidence.get("testcases", [])])
    except (HarnessError, OSError, ImportError, pc_trace.DwarfErrors) as exc:
        return {**found, "status": "report failed", "reason": f"{type(exc).__name__}: {exc}"}
    if tests:
        found["testcases"] = tests
    named = found.pop("files")                # gcovr's names, relative to the root
    found.update(status="complete", instructions=sum(counts.values()), addresses=len(counts),
                 app_sources=_app_lines(named, app_dir, base), files=len(named),
                 reports={k: str(v) for k, v in files.items()}, root=str(base))
    trace.unlink()        # tens of MB; the tracefile keeps what it said, line by line
    result.timings["coverage_s"] = round(time.monotonic() - t0, 3)
    return found


def _per_test(trace: Path, elf: Path, lines: dict, roots: list[Path], out: Path,
              app_dir: Path | None, judged: list[str]) -> dict:
    """Coverage per ztest test case of a traced run: a gcovr tracefile each (merge them
    with `gcovr --add-tracefile`), and its covered lines, in all and in the app's own
    sources, named as the run's test cases are (`suite.test`, or without the `test_`
    prefix where the run's names drop it, as twister's do on Zephyr 4.x). {} where the
    image has no ztest unit tests (the new ztest API)."""
    entries = pc_trace.ztest_entries(elf)
    if not entries:
        return {}
    known = set(judged)
    for addr, case in entries.items():
        suite, _, name = case.partition(".")
        short = f"{suite}.{name.removeprefix('test_')}"
        if case not in known and short in known:
            entries[addr] = short
    out.mkdir(parents=True, exist_ok=True)
    app = str(app_dir).rstrip("/") + "/" if app_dir else None
    found = {}
    for case, counts in sorted(pc_trace.executed_per_test(trace, entries).items()):
        path = out / f"{re.sub(r'[^A-Za-z0-9_.-]', '_', case)}.json"
        per_file = pc_trace.tracefile(counts, lines, roots, path)
        found[case] = {"lines_covered": sum(c for c, _ in per_file.values()),
                       "app_lines_covered": sum(c for f, (c, _) in per_file.items()
                                                if app and f.startswith(app)),
                       "tracefile": str(path)}
    return found
