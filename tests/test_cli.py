"""The CLI in-process: exit codes, messages without tracebacks."""
import json

import pytest
from conftest import DATA
from test_triage import ARM_MPU

from harness.frontends.cli import main
from harness.judging.verdict import EXIT_USAGE, Verdict


def run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def test_check_log_passes_real_logs(capsys):
    for name in ("prod_consumer.mps2_an385.qemu.log", "prod_consumer.qemu_x86.qemu.log"):
        rc, out, _ = run(capsys, "check-log", str(DATA / name))
        assert rc == 0 and out.startswith("PASS")


def test_check_log_fails_a_broken_variant_with_the_rule(capsys, tmp_path):
    data = (DATA / "prod_consumer.qemu_x86.qemu.log").read_bytes()
    broken = tmp_path / "broken.log"
    broken.write_bytes(data.replace(b"I: monitor thread got data payload #4\r\n", b""))
    rc, out, _ = run(capsys, "check-log", str(broken))
    assert rc == Verdict.FAIL.code
    assert "got[4]" in out and "rule:" in out


def test_check_log_crash_prints_triage_and_json(capsys, tmp_path):
    log = tmp_path / "crash.log"
    log.write_text("\r\n".join(["I: APP A partition: 0x1 2"] + ARM_MPU) + "\r\n")
    rc, out, _ = run(capsys, "check-log", str(log), "--json")
    assert rc == Verdict.CRASH.code
    assert json.loads(out)["evidence"]["fault"]["kind"] == "mpu_data_access_violation"


@pytest.mark.parametrize("argv, words", [
    (["run", "--board", "no_such_board"], "unknown board 'no_such_board'"),
    (["run", "--app", "/no/such/app"], "unknown app"),
    (["run", "--emulator", "bochs", "--board", "mps2_an385"], "unknown emulator 'bochs'"),
    (["check-log", "/no/such.log"], "cannot read log"),
    (["check-log", str(DATA / "prod_consumer.qemu_x86.qemu.log"), "--expect", "/no/x.yaml"],
     "expectation file not found"),
])
def test_bad_input_exits_2_with_a_hint(capsys, argv, words, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, *argv)
    assert rc == EXIT_USAGE
    assert words in err


def test_broken_regex_in_an_expectation_file(capsys, tmp_path):
    spec = tmp_path / "e.yaml"
    spec.write_text("events:\n  x: {regex: 'count=(\\d+'}\n")
    rc, _, err = run(capsys, "check-log", str(DATA / "prod_consumer.qemu_x86.qemu.log"),
                     "--expect", str(spec))
    assert rc == EXIT_USAGE and "broken regex" in err


def test_missing_workspace_is_a_setup_error_saying_what_to_run(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "run", "--board", "mps2_an385", "--workspace", str(tmp_path / "nope"))
    assert rc == Verdict.SETUP_ERROR.code
    assert "harness setup" in err


def test_half_set_up_workspace_is_named(capsys, tmp_path, monkeypatch):
    (tmp_path / "ws" / ".west").mkdir(parents=True)
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "run", "--board", "mps2_an385", "--workspace", str(tmp_path / "ws"))
    assert rc == Verdict.SETUP_ERROR.code and "half set up" in err


def test_unwritable_output_directory(capsys, tmp_path, monkeypatch):
    from conftest import workspace_or_skip
    workspace_or_skip()
    blocker = tmp_path / "file"
    blocker.write_text("")
    monkeypatch.chdir(tmp_path)
    rc, _, err = run(capsys, "run", "--board", "mps2_an385", "--out", str(blocker / "sub"))
    assert rc == EXIT_USAGE and "not writable" in err


def test_exit_codes_are_distinct():
    # SKIPPED (a scenario filtered out on a board) is no failure: it exits 0 like PASS
    codes = [v.code for v in Verdict if v is not Verdict.SKIPPED]
    assert len(set(codes)) == len(codes) and Verdict.BAD_INPUT.code == EXIT_USAGE
    # a failure of the harness or its host never exits like a firmware verdict (0, 1, 3)
    assert Verdict.HARNESS_ERROR.code not in (0, 1, 3) and Verdict.BAD_INPUT.code not in (0, 1, 3)
    assert Verdict.SKIPPED.code == 0 and Verdict.SKIPPED.rank < Verdict.PASS.rank


def test_check_log_passes_the_seed_sample_output(capsys, tmp_path):
    from conftest import seed_sample_output
    log = tmp_path / "seed.log"
    log.write_text("\n".join(seed_sample_output()) + "\n")
    rc, out, _ = run(capsys, "check-log", str(log))
    assert rc == 0 and out.startswith("PASS")


def test_prove_log_with_an_unfaulted_access_is_untrusted(capsys, tmp_path):
    from harness.host.paths import APPS_DIR
    text = (APPS_DIR / "isolation_probe" / "logs" / "qemu_x86.qemu.log").read_text()
    text = text.replace("PROBE:FATAL name=other_write reason=0",
                        "PROBE:SURVIVED name=other_write value=0x0").replace(
        "PROBE:RESULT name=other_write faulted=1", "PROBE:RESULT name=other_write faulted=0")
    log = tmp_path / "probe.log"
    log.write_text(text)
    rc, out, _ = run(capsys, "prove", "--board", "qemu_x86", "--log", str(log))
    assert rc == Verdict.UNTRUSTED.code
    assert out.startswith("UNTRUSTED") and "other_write: write of 0x0010d000 succeeded" in out
