"""--shard K/N and `harness report merge`."""
import json
import xml.etree.ElementTree as ET

import pytest

from harness.errors import UsageError
from harness.frontends.cli import main
from harness.matrix import Entry
from harness.reports import shards


def entries(n):
    return [Entry(f"app{i}", "mps2_an385", "qemu") for i in range(n)]


def test_shards_cover_every_run_once_and_are_deterministic():
    runs = entries(11)
    parts = [shards.split(runs, k, 3, {}) for k in (1, 2, 3)]
    assert sorted(e.name for p in parts for e in p) == sorted(e.name for e in runs)
    assert [len(p) for p in parts] == [4, 4, 3]
    assert parts == [shards.split(list(runs), k, 3, {}) for k in (1, 2, 3)]


def test_shards_balance_known_durations():
    runs = entries(5)
    known = {"app0.mps2_an385.qemu": 60.0, **{f"app{i}.mps2_an385.qemu": 15.0 for i in range(1, 5)}}
    first, second = shards.split(runs, 1, 2, known), shards.split(runs, 2, 2, known)
    assert [e.app for e in first] == ["app0"]            # 60 s alone, 4 x 15 s together
    assert len(second) == 4


def test_bad_shard_is_a_usage_error():
    for bad in ("3", "0/2", "3/2", "a/b"):
        with pytest.raises(UsageError):
            shards.parse(bad)


def test_durations_come_from_a_previous_summary(tmp_path):
    summary = tmp_path / "summary.json"
    summary.write_text(json.dumps({"runs": [{"app": "a", "board": "b", "emulator": "qemu",
                                             "timings": {"total_s": 2.5}}]}))
    assert shards.durations(str(summary)) == {"a.b.qemu": 2.5}


def _shard_report(d, verdict, name):
    d.mkdir(parents=True)
    (d / "summary.json").write_text(json.dumps({
        "verdict": verdict, "wall_s": 3.0, "host": {"name": d.name}, "harness_version": "0.1.0",
        "zephyr": {}, "shard": name, "cancelled": [],
        "runs": [{"app": "x", "board": "b", "emulator": "qemu", "verdict": verdict}]}))
    (d / "junit.xml").write_text(
        f'<testsuite name="harness-matrix" tests="1" failures="{int(verdict != "PASS")}" '
        f'errors="0" skipped="0" time="1.0"><testcase classname="x" name="{d.name}"/></testsuite>')


def test_report_merge_combines_shards_and_exits_with_the_worst(tmp_path, capsys):
    _shard_report(tmp_path / "s1" / "matrix", "PASS", "1/2")
    _shard_report(tmp_path / "s2", "FAIL", "2/2")
    rc = main(["report", "merge", str(tmp_path / "s1"), str(tmp_path / "s2"),
               "--out", str(tmp_path / "merged")])
    assert rc == 1
    merged = json.loads((tmp_path / "merged" / "summary.json").read_text())
    assert merged["verdict"] == "FAIL" and len(merged["runs"]) == 2
    assert [s["shard"] for s in merged["shards"]] == ["1/2", "2/2"]
    suite = ET.parse(tmp_path / "merged" / "junit.xml").getroot()
    assert suite.get("tests") == "2" and suite.get("failures") == "1"
    assert len(suite.findall("testcase")) == 2


def test_report_merge_of_a_missing_dir_is_a_usage_error(tmp_path):
    assert main(["report", "merge", str(tmp_path / "nope"), "--out", str(tmp_path / "m")]) == 2


def test_skipped_runs_with_no_time_do_not_pile_onto_one_shard():
    runs = entries(6)
    known = {e.name: 0.0 for e in runs[:4]}
    parts = [shards.split(runs, k, 3, known) for k in (1, 2, 3)]
    assert [len(p) for p in parts] == [2, 2, 2]


def test_the_emulators_of_one_app_and_board_stay_on_one_shard():
    runs = [Entry(f"app{i}", "mps2_an385", emu) for i in range(4) for emu in ("qemu", "renode")]
    for k in (1, 2):
        part = shards.split(runs, k, 2, {})
        assert {(e.app, e.emulator) for e in part} == {(e.app, emu) for e in part
                                                       for emu in ("qemu", "renode")}
