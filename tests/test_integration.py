"""Real west build + real QEMU. Skips, naming what is missing, where the Zephyr
workspace, the toolchains or QEMU are absent (create them with `bash .ci/setup`)."""
import json
import shutil
from pathlib import Path

import pytest

from harness.frontends.cli import main
from harness.judging.verdict import Verdict

pytestmark = pytest.mark.integration
BOARDS = ["mps2_an385", "qemu_x86"]


@pytest.fixture(scope="session")
def ws(zephyr_workspace):
    return zephyr_workspace


@pytest.fixture(scope="session")
def out(harness_out):
    return harness_out


def results_of(out: Path, app: str, board: str) -> dict:
    return json.loads((out / "runs" / app / f"{board}.qemu" / "latest" / "result.json").read_text())


@pytest.fixture(scope="session")
def default_run(ws, out):
    rc = main(["run", "--out", str(out)])
    return rc


def test_prod_consumer_passes_on_both_qemu_boards_with_full_artifacts(default_run, out):
    assert default_run == 0
    for board in BOARDS:
        result = results_of(out, "prod_consumer", board)
        assert result["verdict"] == "PASS", result["reason"]
        run_dir = Path(result["run_dir"])
        for name in ("uart.raw", "build.log", "result.json", "junit.xml", "qemu.log"):
            assert (run_dir / name).is_file(), name
        assert b"SUCCESS" in (run_dir / "uart.raw").read_bytes()
        prov = result["provenance"]
        assert len(prov["elf_sha256"]) == 64 and prov["zephyr_version"] == "3.0.99"
        assert prov["emulator"].startswith("qemu: QEMU emulator version")
        assert [e["event"] for e in result["evidence"]["events"]][-1] == "success"
        assert result["isolation"]["status"] == "CERTIFIED"
        junit = (run_dir / "junit.xml").read_text()
        assert 'name="' + board + '.qemu"' in junit and "<failure" not in junit
        assert '<property name="isolation" value="CERTIFIED"' in junit


@pytest.mark.parametrize("board", BOARDS)
def test_prove_certifies_every_case_with_fault_evidence(default_run, out, capsys, board):
    rc = main(["prove", "--board", board, "--out", str(out), "--json"])
    cert = json.loads(capsys.readouterr().out)
    assert rc == 0 and cert["status"] == "CERTIFIED" and cert["cached"] is True
    forbidden = [c for c in cert["cases"] if c["kind"] == "forbidden"]
    assert len(forbidden) == 6 and all(c["status"] == "enforced" for c in forbidden)
    for case in forbidden:
        if case["access"] in ("read", "write", "exec"):
            assert int(case["fault"]["address"] or case["fault"]["pc"], 16) == int(case["target"], 16)
    assert all(c["intact"] for c in cert["cases"])


def test_fresh_prove_reruns_the_probe(ws, out, capsys):
    rc = main(["prove", "--board", "mps2_an385", "--out", str(out), "--json", "--fresh"])
    cert = json.loads(capsys.readouterr().out)
    assert rc == 0 and cert["cached"] is False and cert["status"] == "CERTIFIED"


def test_changed_emulator_settings_prove_again(ws, out, default_run):
    """A certificate holds for the emulator settings it was made with."""
    import os

    from harness import isolation_run
    from harness.inputs import boards, config
    session = config.make_session(dict(os.environ), out=str(out), say=lambda *_: None)
    board = boards.load("mps2_an385")
    assert isolation_run.certify(session, board, "qemu").certificate["cached"] is True
    args = board.emulator("qemu")["args"]
    session.emulators.overrides["qemu"] = {"args": [a.replace("shift=7", "shift=6") for a in args]}
    cert = isolation_run.certify(session, board, "qemu").certificate
    assert cert["cached"] is False and cert["status"] == "CERTIFIED"


def sample_copy(ws, tmp_path, name: str, edits: dict) -> Path:
    """A copy of Zephyr's prod_consumer with `edits` ({file: [(old, new)]}) applied."""
    src = ws.zephyr_base / "samples" / "userspace" / "prod_consumer"
    dest = tmp_path / name
    shutil.copytree(src, dest)
    for name, pairs in edits.items():
        path = dest / "src" / name
        text = path.read_text()
        for old, new in pairs:
            assert old in text, f"{old!r} not in {name}: the sample changed"
            text = text.replace(old, new)
        path.write_text(text)
    return dest


EXPECT = str(Path(__file__).parents[1] / "firmware" / "apps" / "prod_consumer" / "expect.yaml")


@pytest.mark.parametrize("board", BOARDS)
def test_sandboxed_app_b_touching_app_a_memory_is_a_crash_with_triage(ws, out, tmp_path, board):
    app = sample_copy(ws, tmp_path, "prod_consumer_fault", {"app_b.c": [(
        'LOG_INF("processing payload #%d complete", process_count);',
        'LOG_INF("processing payload #%d complete", process_count);\n'
        '\t\tif (process_count == 3) { extern unsigned int pending_count;'
        ' pending_count = 0xdead; }')]})
    rc = main(["run", "--app", str(app), "--expect", EXPECT, "--board", board, "--out", str(out)])
    assert rc == Verdict.CRASH.code
    result = results_of(out, "prod_consumer_fault", board)
    fault = result["evidence"]["fault"]
    assert fault["kind"] == {"mps2_an385": "mpu_data_access_violation",
                             "qemu_x86": "page_fault_write"}[board]
    frame = fault["trace_resolved"][0]
    assert frame["function"] == "processor_thread" and "app_b.c" in frame["location"]
    nm = _symbol_address(result["provenance"]["elf"], "pending_count")
    assert int(fault["address"], 16) == nm
    assert result["timings"]["run_s"] < 10


@pytest.mark.parametrize("board", BOARDS)
def test_a_missing_payload_log_line_fails_naming_the_rule(ws, out, tmp_path, board):
    app = sample_copy(ws, tmp_path, "prod_consumer_missing", {"app_a.c": [(
        'LOG_INF("monitor thread got data payload #%u", monitor_count);',
        'if (monitor_count != 6) { LOG_INF("monitor thread got data payload #%u", monitor_count); }'
    )]})
    rc = main(["run", "--app", str(app), "--expect", EXPECT, "--board", board, "--out", str(out),
               "--no-isolation"])
    assert rc == Verdict.FAIL.code
    result = results_of(out, "prod_consumer_missing", board)
    assert "got[6]" in result["reason"]


def _symbol_address(elf: str, name: str) -> int:
    import subprocess
    nm = shutil.which("arm-none-eabi-nm") or "nm"
    for line in subprocess.run([nm, elf], capture_output=True, text=True).stdout.splitlines():
        parts = line.split()
        if parts[-1] == name:
            return int(parts[0], 16)
    raise AssertionError(f"{name} not in {elf}")


def test_matrix_on_both_qemu_boards_in_parallel(default_run, out, capsys):
    rc = main(["matrix", "-j", "2", "--out", str(out)])
    printed = capsys.readouterr()
    assert rc == 0, printed.out
    assert "worst verdict PASS" in printed.out
    assert "[2/2]" in printed.err                 # plain progress lines when not a terminal
    summary = json.loads((out / "matrix" / "summary.json").read_text())
    assert [r["verdict"] for r in summary["runs"]] == ["PASS", "PASS"]
    assert all(r["isolation"]["status"] == "CERTIFIED" for r in summary["runs"])
    import xml.etree.ElementTree as ET
    assert ET.parse(out / "matrix" / "junit.xml").getroot().get("tests") == "2"
