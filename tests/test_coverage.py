"""Coverage (--coverage): the gcov dump on the UART (pure: both Zephyr formats, garbled
and cut-short dumps), the judge waiting for the dump's end before the run stops, and for
real, prod_consumer on mps2_an385 under QEMU: the gcov image dumps, gcovr makes HTML,
Cobertura and LCOV whose contents agree with each other, with lines of the sample's own
sources covered."""
import json
import os
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from harness.judging import expect
from harness.judging.gcov_dump import GcovDump
from harness.judging.judge import DUMP_OVERTIME_S, DUMP_START_WAIT_S, Ending, Judge
from harness.reports import report

GCDA = b"adcg" + bytes(range(12))        # a .gcda starts with its magic word
SPEC = {"events": {"done": {"literal": "SUCCESS", "final": True}}}


def z3_record(name: str, data: bytes) -> str:
    """How Zephyr 3.x prints one file: '*<name><' then ' %02x' per byte."""
    return f"*{name}<" + "".join(f" {b:02x}" for b in data)


def z4_record(name: str, data: bytes) -> str:
    return f"*{name}<{data.hex()}"


def test_both_zephyr_formats_give_the_gcda_bytes():
    for record in (z3_record, z4_record):
        dump = GcovDump()
        lines = ["GCOV_COVERAGE_DUMP_START", record("/b/zephyr/kernel/sched.c.gcda", GCDA),
                 record("/b/app/main.c.gcda", GCDA[:8]), "GCOV_COVERAGE_DUMP_END"]
        assert all(dump.feed(t) for t in lines)
        assert dump.status == "complete" and dump.files["/b/app/main.c.gcda"] == [GCDA[:8]]
        assert dump.summary()["files"] == 2 and dump.summary()["bytes"] == len(GCDA) + 8


def test_a_foreign_line_inside_a_dump_goes_to_the_log_and_a_broken_record_is_garbled():
    dump = GcovDump()
    assert dump.feed("GCOV_COVERAGE_DUMP_START")
    assert not dump.feed("I: sample_driver_foo_isr: param=0x1 count=3")    # the firmware's
    assert dump.feed(z4_record("/b/a.c.gcda", GCDA)[:-3])                  # odd hex: broken
    assert dump.feed("GCOV_COVERAGE_DUMP_END")
    assert dump.status == "garbled" and dump.garbled == ["/b/a.c.gcda"]
    assert "did not decode" in dump.reason() and "printed into them" in dump.reason()
    heap = GcovDump()
    for t in ("GCOV_COVERAGE_DUMP_START", "*/b/big.c.gcda<No memory available to continue dump",
              "GCOV_COVERAGE_DUMP_END"):
        heap.feed(t)
    assert heap.status == "garbled" and "No memory available" in heap.reason()


def test_a_dump_without_its_end_is_cut_short_never_low_coverage():
    dump = GcovDump()
    for t in ("GCOV_COVERAGE_DUMP_START", z4_record("/b/a.c.gcda", GCDA)):
        dump.feed(t)
    assert dump.status == "cut short" and dump.dumping
    assert dump.reason().startswith("the gcov dump was cut short: 1 file(s) read")
    assert GcovDump().status == "absent" and not GcovDump().feed("*x<00")   # outside a dump


def judge_with_dump() -> Judge:
    judge = Judge(expect.parse(SPEC))
    judge.settle_s = 0.05
    judge.expect_gcov_dump()
    return judge


def test_the_judge_waits_for_the_end_of_the_dump_then_the_capture_window():
    judge = judge_with_dump()
    judge.feed(1, "SUCCESS", 1.0)
    assert judge.completed and not judge.should_stop(1.5)       # no dump yet: waiting
    judge.feed(2, "GCOV_COVERAGE_DUMP_START", 1.6)
    judge.feed(3, z3_record("/b/a.c.gcda", GCDA), 2.0)
    assert not judge.should_stop(100.0)                          # under way: never cut
    assert judge.overtime_s() == DUMP_OVERTIME_S and judge.overtime_s() == 0.0   # once
    judge.feed(4, "GCOV_COVERAGE_DUMP_END", 3.0)
    assert not judge.should_stop(3.01) and judge.should_stop(3.06)  # the window follows it
    out = judge.outcome(Ending("stopped"))
    assert out.verdict.label == "PASS" and out.evidence["coverage_dump"]["status"] == "complete"
    assert all("GCOV" not in line for line in out.evidence["last_lines"])   # not the log


def test_no_dump_stops_after_the_wait_and_a_cut_dump_is_said_to_be_cut():
    judge = judge_with_dump()
    judge.feed(1, "SUCCESS", 1.0)
    assert not judge.should_stop(1.0 + DUMP_START_WAIT_S - 0.1)
    assert judge.should_stop(1.0 + DUMP_START_WAIT_S)
    assert judge.outcome(Ending("stopped")).evidence["coverage_dump"]["status"] == "absent"
    cut = judge_with_dump()
    for n, t in enumerate(["SUCCESS", "GCOV_COVERAGE_DUMP_START",
                           z4_record("/b/a.c.gcda", GCDA)]):
        cut.feed(n, t, 1.0)
    out = cut.outcome(Ending("timeout", detail="30 s of host time"))
    assert out.verdict.label == "PASS"      # the firmware did its job; the dump did not end
    assert out.evidence["coverage_dump"] == {"status": "cut short", "dumps": 1, "files": 1,
                                             "bytes": 16, "garbled": [], "firmware_said": []}


def test_the_summary_line_says_coverage_or_why_not():
    assert report.coverage_note({"status": "complete", "line_percent": 41.26,
                                 "method": "gcov"}) == "  coverage=41.3% lines (gcov)"
    assert report.coverage_note({"status": "cut short"}) == "  coverage=CUT-SHORT"
    assert report.coverage_note(None) == ""


def test_the_gcda_tree_sits_beside_copies_of_the_builds_gcno(tmp_path):
    from harness.coverage import gcov
    build = tmp_path / "build"
    (build / "zephyr" / "kernel").mkdir(parents=True)
    (build / "zephyr" / "kernel" / "sched.c.gcno").write_bytes(b"oncg")
    dump = GcovDump()
    for t in ("GCOV_COVERAGE_DUMP_START", z4_record(f"{build}/zephyr/kernel/sched.c.gcda", GCDA),
              z4_record("/elsewhere/x.c.gcda", GCDA),
              z4_record(f"{build}/zephyr/nognco.c.gcda", GCDA), "GCOV_COVERAGE_DUMP_END"):
        dump.feed(t)
    placed = gcov.write_tree(dump, build, tmp_path / "tree")
    assert placed == {"placed": 1, "outside_build": ["/elsewhere/x.c.gcda"],
                      "without_gcno": [f"{build}/zephyr/nognco.c.gcda"]}
    assert (tmp_path / "tree" / "zephyr" / "kernel" / "sched.c.gcda").read_bytes() == GCDA
    assert (tmp_path / "tree" / "zephyr" / "kernel" / "sched.c.gcno").read_bytes() == b"oncg"
    assert gcov.gcov_tool("/usr/bin/arm-none-eabi-addr2line", {"PATH": "/usr/bin"}) \
        .endswith("arm-none-eabi-gcov") or not Path("/usr/bin/arm-none-eabi-gcov").exists()


def test_a_shards_tracefile_is_found_below_its_root_here(tmp_path):
    from harness.coverage import merge
    trace = tmp_path / "runs" / "app" / "b.qemu" / "1" / "coverage" / "coverage.json"
    trace.parent.mkdir(parents=True)
    trace.write_text("{}")
    elsewhere = "/ci/job/out/runs/app/b.qemu/1/coverage/coverage.json"
    runs = [{"coverage": {"status": "complete", "reports": {"json": elsewhere}, "root": "/z"}},
            {"coverage": {"status": "cut short"}}, {"coverage": None}]
    assert merge.tracefiles(runs, tmp_path) == [(trace, "/z")]


# -- for real: QEMU, mps2_an385, prod_consumer ----------------------------------------------
WS_43 = Path.home() / "zephyrproject-4.3"


@pytest.fixture(scope="module")
def coverage_run(zephyr_workspace, tmp_path_factory):
    """On Zephyr 4.3: the gcov runtime of 3.0.99 predates GCC 12's format (below)."""
    from harness.frontends.cli import main
    if not (WS_43 / "zephyr" / "VERSION").is_file():
        pytest.skip(f"no Zephyr 4.3 workspace at {WS_43} (docs/zephyr-versions.md)")
    out = tmp_path_factory.mktemp("coverage")
    code = main(["run", "--workspace", str(WS_43), "--board", "mps2_an385", "--emulator",
                 "qemu", "--out", str(out), "--no-isolation", "--coverage"])
    run = (out / "runs" / "prod_consumer" / "mps2_an385.qemu" / "latest").resolve()
    return code, run, json.loads((run / "result.json").read_text()), out


@pytest.mark.integration
def test_a_coverage_run_passes_and_reports_lines_of_the_sample(coverage_run):
    code, run, result = coverage_run[:3]
    cov = result["coverage"]
    assert code == 0 and result["verdict"] == "PASS", result["reason"]
    assert cov["status"] == "complete" and cov["method"] == "gcov"
    assert cov["dump"]["files"] > 50 and cov["gcda"]["placed"] == cov["dump"]["files"]
    assert 0 < cov["lines_covered"] < cov["lines_total"]
    sample = {Path(name).name: lines for name, lines in cov["app_sources"].items()}
    assert sample["main.c"][0] > 0 and sample["app_b.c"][0] > 0       # the sample's own code
    assert "certificate" in cov["image"] and "not the one" in cov["image"]
    assert not (run / "gcov").exists()                                 # the tree is removed
    assert "GCOV_COVERAGE_DUMP_END" in (run / "uart.raw").read_text(errors="replace")


@pytest.mark.integration
def test_the_three_reports_agree_line_for_line(coverage_run):
    _, run, result, _ = coverage_run
    cov = result["coverage"]
    reports = {k: Path(v) for k, v in cov["reports"].items()}
    # Cobertura: one class per source file, one <line> per instrumented line
    classes = ET.parse(reports["cobertura"]).getroot().iter("class")
    cobertura = {c.get("filename"): c.findall("lines/line") for c in classes}
    assert len(cobertura) == cov["files"]
    main_c = next(k for k in cobertura if k.endswith("prod_consumer/src/main.c"))
    covered, total = cov["app_sources"][main_c]
    assert len(cobertura[main_c]) == total
    assert sum(int(ln.get("hits")) > 0 for ln in cobertura[main_c]) == covered
    # LCOV: one SF: record per file, DA: per line, LH/LF totals
    lcov = reports["lcov"].read_text().split("end_of_record")
    assert sum("SF:" in rec for rec in lcov) == cov["files"]
    rec = next(r for r in lcov if "prod_consumer/src/main.c" in r)
    assert sum(ln.startswith("DA:") for ln in rec.splitlines()) == total
    assert f"LH:{covered}" in rec and f"LF:{total}" in rec
    # HTML: an index naming the file, and a page per file with its lines
    index = reports["html"].read_text()
    assert "main.c" in index and "app_b.c" in index
    pages = [p for p in reports["html"].parent.glob("index.*.html") if "main.c" in p.name]
    assert pages and "k_thread_join" in pages[0].read_text()


@pytest.mark.integration
def test_the_run_line_junit_and_result_say_coverage(coverage_run):
    _, run, result, _ = coverage_run
    props = {p.get("name"): p.get("value")
             for p in ET.parse(run / "junit.xml").getroot().iter("property")}
    assert props["coverage"] == "complete" and props["coverage_method"] == "gcov"
    assert float(props["coverage_lines_percent"]) == pytest.approx(
        result["coverage"]["line_percent"])
    assert result["timings"]["coverage_s"] > 0


@pytest.mark.integration
def test_the_coverage_image_is_built_apart_from_the_plain_one(coverage_run):
    _, run, result, _ = coverage_run
    elf = Path(result["provenance"]["elf"])
    assert elf.parts[-3].endswith(".coverage")            # build/prod_consumer/<board>.coverage
    config = (elf.parent / ".config").read_text()
    assert "CONFIG_COVERAGE=y" in config and "CONFIG_COVERAGE_DUMP=y" in config
    assert os.path.getsize(elf) > 0
    assert result["footprint"]["image"] == "gcov"       # never compared with plain builds
    assert "gcov_coverage_dump" in {s["name"] for s in result["footprint"]["largest"]} or \
        result["footprint"]["sections"].get("_GCOV_BSS_SECTION_NAME") or \
        any("gcov" in name for name in result["footprint"]["sections"])


@pytest.mark.integration
def test_a_gcov_runtime_older_than_the_toolchains_format_is_a_setup_error(zephyr_workspace,
                                                                          tmp_path, capsys):
    """Zephyr 3.0.99's runtime writes the pre-GCC-12 .gcda format: with Debian's GCC 12
    its dump would be unreadable, so the run says so before building anything."""
    from harness.coverage.run import check_runtime
    from harness.errors import SetupError
    from harness.frontends.cli import main
    if (zephyr_workspace.zephyr_base / "subsys/testsuite/coverage/coverage.h").read_text() \
            .count("GCOV_12_FORMAT"):
        pytest.skip("the default workspace's gcov runtime knows GCC 12's format")
    with pytest.raises(SetupError, match="predates GCC 12"):
        check_runtime(zephyr_workspace.zephyr_base, "arm-none-eabi-gcc (x) 12.2.1 20221205")
    check_runtime(zephyr_workspace.zephyr_base, "arm-none-eabi-gcc (x) 10.3.1 20210824")
    assert main(["run", "--board", "mps2_an385", "--emulator", "qemu", "--out", str(tmp_path),
                 "--no-isolation", "--coverage"]) == 8
    assert "predates GCC 12's .gcda format" in capsys.readouterr().out
    assert not (tmp_path / "build" / "prod_consumer" / "mps2_an385.coverage").exists()


@pytest.mark.integration
def test_shards_of_a_matrix_merge_their_coverage(coverage_run, tmp_path, capsys):
    """Two `harness matrix --coverage` outputs (prod_consumer; samples/hello_world as a
    test suite) merged by `harness report merge`: one report with both samples' sources,
    every file's covered lines at least those of either run."""
    from harness.frontends.cli import main
    shard_a, shard_b = coverage_run[3], tmp_path / "shard-b"
    common = ["--workspace", str(WS_43), "--board", "mps2_an385", "--emulator", "qemu",
              "--no-isolation", "--coverage", "-j", "1"]
    assert main(["matrix", "--app", "prod_consumer", "--out", str(shard_a), *common]) == 0
    assert main(["matrix", "-T", str(WS_43 / "zephyr" / "samples" / "hello_world"),
                 "--out", str(shard_b), *common]) == 0
    capsys.readouterr()
    merged_dir = tmp_path / "merged"
    assert main(["report", "merge", str(shard_a), str(shard_b), "--out", str(merged_dir)]) == 0
    assert "merged coverage of 2 run(s)" in capsys.readouterr().out
    merged = json.loads((merged_dir / "summary.json").read_text())["coverage"]
    parts = [json.loads(Path(r["coverage"]["reports"]["summary"]).read_text())
             for d in (shard_a, shard_b)
             for r in json.loads((d / "matrix" / "summary.json").read_text())["runs"]]
    per_run = [{f["filename"]: f["line_covered"] for f in p["files"]} for p in parts]
    total = json.loads(Path(merged["reports"]["summary"]).read_text())
    merged_files = {f["filename"]: f["line_covered"] for f in total["files"]}
    assert any(n.endswith("prod_consumer/src/app_b.c") for n in merged_files)
    assert any(n.endswith("hello_world/src/main.c") for n in merged_files)
    for run in per_run:
        assert all(merged_files[name] >= covered for name, covered in run.items())
    assert merged["lines_covered"] > max(p["line_covered"] for p in parts)
    lcov = Path(merged["reports"]["lcov"]).read_text()
    assert lcov.count("end_of_record") == merged["files"] == len(merged_files)


def test_the_isolation_probe_and_renode_runs_boot_the_plain_image():
    """Found by the benchmark: the probe run of a --coverage session was built with gcov."""
    from types import SimpleNamespace as NS

    from harness.coverage.run import wanted
    session = NS(coverage=True)             # no workspace or toolchain: never looked at
    assert not wanted(session, None, NS(app="isolation_probe", emulator="qemu"))
    assert not wanted(session, None, NS(app="prod_consumer", emulator="renode"))
    assert not wanted(NS(coverage=False), None, NS(app="prod_consumer", emulator="qemu"))


@pytest.mark.integration
def test_the_real_dump_cut_anywhere_is_said_to_be_cut_short(coverage_run, prod_spec):
    """The real run's UART, ended half-way through its dump (as an emulator stopped too
    early would): PASS, coverage_dump `cut short` with the files read so far."""
    _, run, result, _ = coverage_run
    lines = (run / "uart.raw").read_text(errors="replace").replace("\r", "").splitlines()
    start = lines.index("GCOV_COVERAGE_DUMP_START")
    judge = Judge(prod_spec)
    judge.expect_gcov_dump()
    for n, text in enumerate(lines[:start + 40]):
        judge.feed(n + 1, text, 0.0)
    out = judge.outcome(Ending("exited", 0))
    assert out.verdict.label == "PASS"
    assert out.evidence["coverage_dump"]["status"] == "cut short"
    assert out.evidence["coverage_dump"]["files"] == 39 < result["coverage"]["dump"]["files"]


# -- Renode: the unmodified image, from Renode's execution trace ---------------------------

def pc_trace_bytes(pcs: list[int]) -> bytes:
    """Renode's ExecutionTracer, binary PC format (version 4): header, then per
    instruction its PC and an empty additional-data byte."""
    return b"ReTrace\x04\x04\x00" + b"".join(pc.to_bytes(4, "little") + b"\x00" for pc in pcs)


def test_a_pc_trace_counts_each_instruction_and_a_cut_entry_is_dropped(tmp_path):
    from harness.coverage import pc_trace
    trace = tmp_path / "t.bin"
    trace.write_bytes(pc_trace_bytes([0x100, 0x102, 0x100]) + b"\x04\x01")   # cut mid-entry
    assert pc_trace.executed(trace) == {0x100: 2, 0x102: 1}
    trace.write_bytes(b"ReTrace\x03\x04\x00")
    with pytest.raises(pc_trace.TraceError, match="version 3"):
        pc_trace.executed(trace)
    trace.write_bytes(b"not a trace")
    with pytest.raises(pc_trace.TraceError, match="no Renode execution trace"):
        pc_trace.executed(trace)


def test_a_real_renode_trace_reads_as_its_first_instructions():
    """The first 2000 entries of a trace Renode 1.15.3 wrote (`CreateExecutionTracing ...
    PC true`) for prod_consumer on mps2_an385 (Zephyr 3.0.99): from the reset handler
    (0x2350 in that build), Thumb code, 35 distinct addresses (the early start-up loops)."""
    from conftest import DATA

    from harness.coverage import pc_trace
    counts = pc_trace.executed(DATA / "renode-pc-trace.prod_consumer.mps2_an385.first2000.bin")
    assert sum(counts.values()) == 2000 and len(counts) == 35
    assert all(pc % 2 == 0 and pc < 0x10000 for pc in counts) and 0x2350 in counts


def test_the_tracefile_marks_a_line_covered_where_a_statement_start_ran(tmp_path):
    from collections import Counter

    from harness.coverage import pc_trace
    src = tmp_path / "app" / "main.c"
    src.parent.mkdir()
    src.write_text("int main(void)\n{\n\treturn 0;\n}\n")
    elsewhere = tmp_path / "other.c"
    elsewhere.write_text("x\n")
    lines = {str(src): {1: [0x100], 3: [0x104, 0x110], 4: [0x108]}, str(elsewhere): {1: [0x200]}}
    out = tmp_path / "t.json"
    summary = pc_trace.tracefile(Counter({0x100: 1, 0x110: 5}), lines, [tmp_path / "app"], out)
    assert summary == {str(src): [2, 3]}                      # other.c is outside the roots
    data = json.loads(out.read_text())
    assert [(r["line_number"], r["count"]) for r in data["files"][0]["lines"]] == \
        [(1, 1), (3, 5), (4, 0)]
    from gcovr.data_model.version import FORMAT_VERSION
    assert data["gcovr/format_version"] == FORMAT_VERSION


def test_reports_keep_an_app_outside_the_zephyr_tree_and_name_a_failing_gcovr(tmp_path):
    """gcovr (real, two processes side by side) renders a tracefile whose app lies
    outside the --root (Zephyr's tree): the app's own sources stay in every report;
    a gcovr that fails is a SetupError naming it, with both commands in the log."""
    import sys
    from collections import Counter

    from harness.coverage import gcov, pc_trace
    from harness.errors import SetupError
    base, app = tmp_path / "zephyr", tmp_path / "app"
    for d, name in ((base / "kernel", "sched.c"), (app / "src", "main.c")):
        d.mkdir(parents=True)
        (d / name).write_text("int f(void)\n{\n\treturn 0;\n}\n")
    lines = {str(base / "kernel" / "sched.c"): {1: [0x10], 3: [0x14]},
             str(app / "src" / "main.c"): {1: [0x20], 3: [0x24]}}
    trace = tmp_path / "trace.json"
    pc_trace.tracefile(Counter({0x10: 1, 0x20: 2, 0x24: 2}), lines, [base, app], trace)
    files = gcov.outputs(tmp_path / "out")
    (tmp_path / "out").mkdir()
    cmd = [sys.executable, "-m", "gcovr", "--root", str(base), "--add-tracefile", str(trace),
           *gcov.filters([base, app]), "--merge-mode-functions=separate"]
    found = gcov.render_tracefiles(cmd, files, tmp_path / "coverage.log")
    assert found["files"] == {"kernel/sched.c": [1, 2], str(app / "src" / "main.c"): [2, 2]}
    assert "main.c" in files["cobertura"].read_text() and "main.c" in files["lcov"].read_text()
    assert any("main.c" in p.name for p in (tmp_path / "out").glob("index.*.html"))
    log = (tmp_path / "coverage.log").read_text()
    assert log.count("$ ") == 2 and not list(tmp_path.glob("coverage.log.*"))
    with pytest.raises(SetupError, match=r"gcovr failed \(rc [1-9]"):
        gcov.render_tracefiles(cmd[:-1] + ["--no-such-option"], files, tmp_path / "bad.log")
    assert (tmp_path / "bad.log").read_text().count("--no-such-option") >= 2


def test_dwarf_file_numbers_count_from_1_before_version_5_and_from_0_after():
    from types import SimpleNamespace as NS

    from harness.coverage import pc_trace
    entries = [NS(name=b"main.c", dir_index=1), NS(name=b"k.h", dir_index=0)]
    v4 = {"version": 4, "include_directory": [b"src"], "file_entry": entries}
    assert pc_trace._file_names(v4, "/app") == {1: "/app/src/main.c", 2: "/app/k.h"}
    v5 = {"version": 5, "include_directory": [b"/app", b"src"], "file_entry": entries}
    assert pc_trace._file_names(v5, "/app") == {0: "/app/src/main.c", 1: "/app/k.h"}


@pytest.fixture(scope="module")
def renode_coverage_run(zephyr_workspace, tmp_path_factory):
    """prod_consumer on mps2_an385 under Renode with --coverage, on Zephyr 4.3: the plain
    image, its certificate and its domain audit, with the trace's reports."""
    from harness.frontends.cli import main
    if not (WS_43 / "zephyr" / "VERSION").is_file():
        pytest.skip(f"no Zephyr 4.3 workspace at {WS_43} (docs/zephyr-versions.md)")
    if not shutil.which("renode"):
        pytest.skip("Renode not found: `harness setup --renode` installs it, or put `renode` "
                    "on PATH")
    out = tmp_path_factory.mktemp("renode-coverage")
    code = main(["run", "--workspace", str(WS_43), "--board", "mps2_an385", "--emulator",
                 "renode", "--out", str(out), "--coverage"])
    run = (out / "runs" / "prod_consumer" / "mps2_an385.renode" / "latest").resolve()
    return code, run, json.loads((run / "result.json").read_text()), out


@pytest.mark.integration
def test_renode_coverage_is_of_the_certified_unmodified_image(renode_coverage_run):
    code, run, result, out = renode_coverage_run
    cov = result["coverage"]
    assert code == 0 and result["verdict"] == "PASS", result["reason"]
    assert result["isolation"]["status"] == "CERTIFIED"
    assert result["evidence"]["domains"]["violations"] == []
    assert cov["status"] == "complete" and cov["method"] == "renode-trace"
    assert "unmodified image" in cov["image"]
    assert Path(result["provenance"]["elf"]).parent.parent == \
        out / "build" / "prod_consumer" / "mps2_an385"            # not the gcov build
    assert "GCOV_COVERAGE_DUMP" not in (run / "uart.raw").read_text(errors="replace")
    assert not (run / "renode-pc-trace.bin").exists() and cov["instructions"] > 100_000
    sample = {Path(n).name: lines for n, lines in cov["app_sources"].items()}
    assert sample["main.c"][0] > 0 and sample["app_b.c"][0] > 0
    assert 0 < cov["lines_covered"] < cov["lines_total"]
    reports = {k: Path(v) for k, v in cov["reports"].items()}
    classes = {c.get("filename"): c.findall("lines/line")
               for c in ET.parse(reports["cobertura"]).getroot().iter("class")}
    main_c = next(k for k in classes if k.endswith("prod_consumer/src/main.c"))
    assert len(classes) == cov["files"] and len(classes[main_c]) == cov["app_sources"][main_c][1]
    rec = next(r for r in reports["lcov"].read_text().split("end_of_record")
               if "prod_consumer/src/main.c" in r)
    assert f"LH:{cov['app_sources'][main_c][0]}" in rec
    assert "app_b.c" in reports["html"].read_text()


@pytest.mark.integration
def test_gcov_and_the_renode_trace_cover_much_the_same_lines(coverage_run, renode_coverage_run):
    """The two methods on the same sources: they place a line on a function's opening
    differently (gcov: the signature; DWARF: the first statement) and gcov counts lines
    the optimiser folded, so the sets are not equal; per source of the sample, at least
    60% of the smaller covered set is covered by both."""
    def covered(result) -> dict:
        data = json.loads(Path(result["coverage"]["reports"]["json"]).read_text())
        return {Path(f["file"]).name: {ln["line_number"] for ln in f["lines"] if ln["count"]}
                for f in data["files"] if "prod_consumer/src/" in f["file"]}
    gcov, trace = covered(coverage_run[2]), covered(renode_coverage_run[2])
    assert set(gcov) == set(trace) and {"main.c", "app_a.c", "app_b.c"} <= set(gcov)
    for name in gcov:
        both = len(gcov[name] & trace[name])
        assert both >= 0.6 * min(len(gcov[name]), len(trace[name])), (name, gcov[name], trace[name])


@pytest.mark.integration
def test_two_boards_traced_by_renode_merge_with_a_gcov_shard(coverage_run, renode_coverage_run,
                                                             tmp_path, capsys):
    """A Renode matrix over two boards (the unmodified images, traced) and a QEMU shard
    (the gcov image) merged by `harness report merge`: one report over both methods, each
    file's covered lines at least those of every run."""
    from harness.frontends.cli import main
    qemu_out, renode_out = coverage_run[3], renode_coverage_run[3]
    common = ["--workspace", str(WS_43), "--app", "prod_consumer", "--coverage", "-j", "1"]
    assert main(["matrix", "--board", "mps2_an385", "--emulator", "qemu", "--no-isolation",
                 "--out", str(qemu_out), *common]) == 0
    assert main(["matrix", "--board", "mps2_an385,stm32f4_disco", "--emulator", "renode",
                 "--out", str(renode_out), *common]) == 0
    runs = json.loads((renode_out / "matrix" / "summary.json").read_text())["runs"]
    assert sorted(r["board"] for r in runs) == ["mps2_an385", "stm32f4_disco"]
    assert all(r["coverage"]["method"] == "renode-trace" and r["coverage"]["status"] == "complete"
               for r in runs)
    capsys.readouterr()
    merged_dir = tmp_path / "merged"
    assert main(["report", "merge", str(qemu_out), str(renode_out), "--out", str(merged_dir)]) == 0
    assert "merged coverage of 3 run(s)" in capsys.readouterr().out
    merged = json.loads((merged_dir / "summary.json").read_text())["coverage"]
    total = json.loads(Path(merged["reports"]["summary"]).read_text())
    merged_files = {f["filename"]: f["line_covered"] for f in total["files"]}
    for d in (qemu_out, renode_out):
        for r in json.loads((d / "matrix" / "summary.json").read_text())["runs"]:
            part = json.loads(Path(r["coverage"]["reports"]["summary"]).read_text())
            assert all(merged_files[f["filename"]] >= f["line_covered"] for f in part["files"])
    assert any(n.endswith("soc/arm/st_stm32/stm32f4/soc.c") or "stm32" in n for n in merged_files)


@pytest.mark.integration
def test_a_traced_ztest_suite_has_coverage_per_test_case(renode_coverage_run, capsys):
    """tests/kernel/mem_protect/userspace on Renode with --coverage (Zephyr 4.3): one
    tracefile per ztest test case, named as the run's test cases, each covering some of
    the suite's own source; merged with gcovr they cover what the whole run covered."""
    from harness.frontends.cli import main
    out = renode_coverage_run[3]
    suite = WS_43 / "zephyr" / "tests" / "kernel" / "mem_protect" / "userspace"
    main(["run", "--workspace", str(WS_43), "--app", str(suite), "--board", "mps2_an385",
          "--emulator", "renode", "--coverage", "--no-isolation", "--out", str(out)])
    capsys.readouterr()
    run = out / "runs" / "kernel.memory_protection.userspace" / "mps2_an385.renode" / "latest"
    result = json.loads((run / "result.json").read_text())
    assert result["verdict"] == "PASS", result["reason"]
    per_test = result["coverage"]["testcases"]
    judged = {c["name"] for c in result["evidence"]["testcases"]}
    assert len(judged) > 30 and judged <= set(per_test)
    assert all(t["app_lines_covered"] > 0 and Path(t["tracefile"]).is_file()
               for t in per_test.values())
    assert per_test["userspace.bad_syscall"]["app_lines_covered"] != \
        per_test["userspace.is_usermode"]["app_lines_covered"]
