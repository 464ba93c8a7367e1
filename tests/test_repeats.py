"""--repeat N: pass rate, UART sameness, timing spread, memory, FLAKY with the first
differing line."""
import json
from pathlib import Path

import pytest

from harness.frontends.cli import main
from harness.judging import repeats
from harness.judging.results import RunResult
from harness.judging.verdict import Outcome, Verdict


def run(verdict, t, rss=None):
    teardown = {"host_rss_kib": rss} if rss else {}
    return RunResult("app", "b", "renode", Outcome(verdict, "", {"teardown": teardown}), Path("."),
                     timings={"total_s": t})


def test_a_run_that_passes_only_sometimes_is_flaky_with_the_first_differing_line():
    runs = [run(Verdict.PASS, 0.5, 200_000), run(Verdict.HANG, 9.0, 201_000),
            run(Verdict.PASS, 0.6, 201_500)]
    texts = ["a\nb\nSUCCESS\n", "a\nB\n", "a\nb\nSUCCESS\n"]
    s = repeats.summarize(runs, ["x", "y", "x"], texts)
    assert s["flaky"] and s["passed"] == 2 and s["pass_rate"] == 0.667
    assert not s["uart_identical"]
    assert s["first_difference"] == "line 2: repeat 1 (passed) 'b' vs repeat 2 'B'"
    assert s["time_s"] == {"min": 0.5, "median": 0.6, "max": 9.0}
    line = repeats.line(s)
    assert line.startswith("FLAKY") and "2/3 passed" in line and "195->196 MiB" in line


def test_identical_passing_repeats_are_stable():
    s = repeats.summarize([run(Verdict.PASS, 0.4)] * 3, ["x"] * 3, ["same"] * 3)
    assert not s["flaky"] and s["uart_identical"] and repeats.line(s).startswith("STABLE")
    assert s["host_rss_kib"] is None


def test_repeat_must_be_positive(capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", "--repeat", "0"])
    assert info.value.code == 2


@pytest.mark.integration
def test_repeats_on_qemu_and_renode(zephyr_workspace, harness_out, capsys):
    import shutil
    emulators = "qemu,renode" if shutil.which("renode") else "qemu"
    rc = main(["run", "--out", str(harness_out), "--board", "mps2_an385", "--emulator", emulators,
               "--repeat", "3"])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert "STABLE         prod_consumer mps2_an385 qemu: 3/3 passed, UART identical" in printed
    qemu = json.loads((harness_out / "runs" / "prod_consumer" / "mps2_an385.qemu.repeats.json")
                      .read_text())
    assert qemu["uart_identical"] and qemu["repeats"] == 3          # icount: deterministic
    if "renode" in emulators:
        renode = json.loads((harness_out / "runs" / "prod_consumer" /
                             "mps2_an385.renode.repeats.json").read_text())
        assert renode["passed"] == 3 and all(renode["host_rss_kib"])
