"""The matrix scheduler and report writers, driving a fake QEMU (no build)."""
import datetime
import io
import json
import xml.etree.ElementTree as ET

import pytest
from conftest import DATA, FAKES

from harness import matrix
from harness.build.toolchain import Toolchain
from harness.build.west_build import Built
from harness.frontends import progress
from harness.inputs.workspace import Workspace
from harness.judging.verdict import Verdict
from harness.runner import Session

PASS_LOG = str(DATA / "prod_consumer.mps2_an385.qemu.log")


def fake_toolchain(arch, environ):
    return Toolchain("fake", version="fake")


@pytest.fixture
def fake_session(tmp_path, scenario):
    """A Session whose 'firmware' are fake-QEMU scenarios, already built."""
    zephyr = tmp_path / "ws" / "zephyr"
    zephyr.mkdir(parents=True)
    (zephyr / "VERSION").write_text("VERSION_MAJOR = 3\nVERSION_MINOR = 0\nPATCHLEVEL = 99\n")
    session = Session(workspace=Workspace(tmp_path / "ws", zephyr, "test"),
                      out_dir=tmp_path / "out", environ={}, timeout_s=1.5, isolation=False,
                      say=lambda m: None, find_toolchain=fake_toolchain,
                      emulator_overrides={"qemu": {"binary": str(FAKES / "fake_qemu.py")},
                                          "renode": {"binary": str(FAKES / "fake_renode.py")}})

    def firmware(app, board, **kw):
        path = scenario(**kw)
        log = tmp_path / f"{app}-{board}.build.log"
        log.write_text("fake build\n")
        session.builds.provide(app, board, Built(path, tmp_path, log, 0.0, "0" * 64))
    return session, firmware


def test_parallel_matrix_reports_every_run_and_the_worst_verdict(fake_session, tmp_path):
    session, firmware = fake_session
    firmware("prod_consumer", "mps2_an385", log=PASS_LOG, delay=0.01, chunk=256)
    firmware("prod_consumer", "qemu_x86", log="I: hello\r\n", then="exit", rc=1)
    firmware("fault_demo", "mps2_an385", log="", then="hang")
    firmware("fault_demo", "qemu_x86", log="fault_demo: done\r\n")   # done before start
    entries = matrix.entries(["prod_consumer", "fault_demo"], [], None)
    stream = io.StringIO()
    out = matrix.run(session, entries, 2, progress.PlainProgress(stream))
    verdicts = {(r.app, r.board): r.verdict for r in out.results}
    assert verdicts == {("prod_consumer", "mps2_an385"): Verdict.PASS,
                        ("prod_consumer", "qemu_x86"): Verdict.EMULATOR_ERROR,
                        ("fault_demo", "mps2_an385"): Verdict.HANG,
                        ("fault_demo", "qemu_x86"): Verdict.FAIL}
    assert out.verdict is Verdict.EMULATOR_ERROR
    assert [r.name for r in out.results] == [e.name for e in entries]
    assert out.wall_s < sum(r.timings["total_s"] for r in out.results)   # ran in parallel
    assert stream.getvalue().count("start ") == 4

    files = matrix.write_reports(session, out, tmp_path / "reports")
    suite = ET.parse(files["junit"]).getroot()
    assert suite.get("tests") == "4" and suite.get("errors") == "1" and suite.get("failures") == "2"
    hang = suite.find("testcase[@classname='fault_demo'][@name='mps2_an385.qemu']/failure")
    assert hang.get("type") == "HANG" and "no output at all" in hang.get("message")
    summary = json.loads(files["summary"].read_text())
    assert summary["verdict"] == "EMULATOR_ERROR" and summary["harness_version"]
    assert summary["runs"][0]["provenance"]["elf_sha256"] == "0" * 64


def test_renode_runs_share_a_process_while_qemu_runs_beside_them(fake_session):
    """3 Renode runs (< RUNS_PER_PROCESS) take one Renode, one run at a time, first
    in line; the QEMU runs use the other worker; closing the session stops Renode."""
    from harness.host.process import session_alive
    session, firmware = fake_session
    session.timeout_s = 10.0
    renode_boards = ["mps2_an385", "stm32f4_disco", "nrf52840dk_nrf52840"]
    for board in renode_boards + ["qemu_x86"]:
        firmware("prod_consumer", board, log=PASS_LOG)
    entries = [matrix.Entry("prod_consumer", b, "qemu") for b in ("mps2_an385", "qemu_x86")] + \
        [matrix.Entry("prod_consumer", b, "renode") for b in renode_boards]
    stream = io.StringIO()
    out = matrix.run(session, entries, 2, progress.PlainProgress(stream))
    assert [r.verdict for r in out.results] == [Verdict.PASS] * 5
    renode = [r for r in out.results if r.emulator == "renode"]
    pids = {r.outcome.evidence["teardown"]["kept_pid"] for r in renode}
    assert len(pids) == 1                                   # one Renode served all three
    started = [line.split()[-1] for line in stream.getvalue().splitlines() if " start " in line]
    assert any(name.endswith(".renode") for name in started[:2])  # the start-up-heavy chain first
    spans = sorted((datetime.datetime.strptime(r.run_dir.name.rsplit("-", 1)[0],
                                               "%Y%m%d-%H%M%S-%f").timestamp(),
                    r.timings["total_s"]) for r in renode)
    assert all(a + d <= b + 0.05 for (a, d), (b, _) in zip(spans, spans[1:]))   # one at a time
    session.close()
    assert not session_alive(pids.pop())


def test_retry_infra_reruns_emulator_errors_only(fake_session):
    session, firmware = fake_session
    firmware("prod_consumer", "mps2_an385", log="", then="die")
    firmware("prod_consumer", "qemu_x86", log="I: SUCCESS\r\n")     # FAIL: never retried
    out = matrix.run(session, matrix.entries(["prod_consumer"], [], None), 1,
                     progress.PlainProgress(io.StringIO()), retry_infra=2)
    died, failed = out.results
    assert died.verdict is Verdict.EMULATOR_ERROR
    assert len(died.outcome.evidence["retried"]) == 2
    assert failed.verdict is Verdict.FAIL and "retried" not in failed.outcome.evidence


def test_fail_fast_cancels_queued_runs(fake_session):
    session, firmware = fake_session
    firmware("prod_consumer", "mps2_an385", log="", then="die")
    firmware("prod_consumer", "qemu_x86", log=PASS_LOG)
    out = matrix.run(session, matrix.entries(["prod_consumer"], [], None), 1,
                     progress.PlainProgress(io.StringIO()), fail_fast=True)
    assert len(out.results) == 1 and [e.board for e in out.cancelled] == ["qemu_x86"]


def test_matrix_file_is_validated(tmp_path):
    from harness.errors import UsageError
    bad = tmp_path / "m.yaml"
    bad.write_text("apps: [prod_consumer]\nboardz: [x]\n")
    with pytest.raises(UsageError, match="only apps:, boards:, emulators: and runs:"):
        matrix.load_file(str(bad))
    bad.write_text("runs: [prod_consumer mps2_an385]\n")
    with pytest.raises(UsageError, match="must read 'APP BOARD EMULATOR'"):
        matrix.load_file(str(bad))


def test_matrix_file_cross_product_and_explicit_runs(tmp_path):
    f = tmp_path / "m.yaml"
    f.write_text("runs:\n  - prod_consumer mps2_an385 renode\n  - fault_demo qemu_x86 qemu\n")
    assert [e.name for e in matrix.load_file(str(f))] == [
        "prod_consumer.mps2_an385.renode", "fault_demo.qemu_x86.qemu"]
    f.write_text("apps: [prod_consumer]\nruns: [prod_consumer nrf52840dk_nrf52840 renode]\n")
    assert [e.name for e in matrix.load_file(str(f))] == [
        "prod_consumer.mps2_an385.qemu", "prod_consumer.qemu_x86.qemu",
        "prod_consumer.nrf52840dk_nrf52840.renode"]


@pytest.mark.parametrize("status", ["UNTRUSTED", "INVALID"])
def test_a_pass_on_an_uncertified_board_is_never_pass(fake_session, status):
    from harness.inputs import apps, boards, expectations
    session, firmware = fake_session
    firmware("prod_consumer", "mps2_an385", log=PASS_LOG)
    app = apps.load("prod_consumer")
    spec = expectations.load(app.expect)
    from harness.judging.judge import Judge
    result = session.run_one(app, boards.load("mps2_an385"), "qemu", lambda: Judge(spec),
                             {"status": status, "summary": "other_write succeeded"})
    assert result.verdict is Verdict.UNTRUSTED
    assert "isolation is not proven: other_write succeeded" in result.outcome.reason
    saved = json.loads((result.run_dir / "result.json").read_text())
    assert saved["verdict"] == "UNTRUSTED" and saved["isolation"]["status"] == status
    assert "UNTRUSTED" in (result.run_dir / "junit.xml").read_text()


def test_the_first_build_of_an_app_runs_beside_another_apps_not_beside_its_sibling():
    """Scenarios of one app share objects through ccache only once one of them has
    compiled: while the first compiles, a job that is free starts another app."""
    from types import SimpleNamespace
    src = lambda app, skip=None: SimpleNamespace(scenario=SimpleNamespace(source=f"/z/{app}"),  # noqa: E731
                                                 skip=skip)
    a1, a2 = (matrix.Entry(f"s.a{n}", "mps2_an385", "qemu", src("a")) for n in (1, 2))
    b1 = matrix.Entry("s.b1", "mps2_an385", "qemu", src("b"))
    skipped = matrix.Entry("s.c1", "mps2_an385", "qemu", src("c", skip="arch filter"))
    warming = {matrix._compiles(a1)}
    assert matrix._next([a2, b1], warming) is b1
    assert matrix._next([a2], warming) is a2               # never an idle job instead
    assert matrix._compiles(skipped) is None               # builds nothing: never held back
    assert matrix._next([skipped, b1], warming) is skipped
    assert matrix._compiles(matrix.Entry("prod_consumer", "qemu_x86", "qemu")) == \
        ("prod_consumer", "qemu_x86")
    assert matrix._next([], warming) is None
