"""What a new user saw on the first day: build progress that names its build and ends,
artifact paths as given, one hint for a missing Renode."""
from pathlib import Path

from harness.build import west_build
from harness.emulators import renode_install
from harness.emulators.renode import Renode
from harness.reports import report


def test_build_progress_names_the_build_and_always_shows_the_end(monkeypatch):
    said = []
    clock = iter(range(0, 1000, 1))
    monkeypatch.setattr(west_build.time, "monotonic", lambda: float(next(clock)))
    steps = west_build._Steps("prod_consumer/mps2_an385", said.append)
    for n in range(1, 183):
        steps.step(str(n), "182")
    steps.end(True, 21.3)
    assert all("prod_consumer/mps2_an385" in s for s in said)
    assert said[-1] == "  build done at step 182/182  prod_consumer/mps2_an385  (21.3 s)"
    assert len(said) < 182 // west_build.PROGRESS_EVERY_S + 2     # throttled


def test_a_failed_build_says_where_it_stopped():
    said = []
    steps = west_build._Steps("hello/qemu_x86", said.append)
    steps.step("173", "182")
    steps.end(False, 3.0)
    assert said[-1] == "  build FAILED at step 173/182  hello/qemu_x86  (3.0 s)"


def test_a_no_op_build_prints_nothing():
    said = []
    west_build._Steps("a/b", said.append).end(True, 0.2)
    assert said == []


def test_artifact_paths_are_relative_only_below_the_current_directory(tmp_path):
    here = tmp_path / "project"
    assert report.shown(here / "harness-out" / "runs" / "x", cwd=here) == "harness-out/runs/x"
    assert report.shown(Path("/tmp/z34/runs/x"), cwd=here) == "/tmp/z34/runs/x"
    assert not report.shown(tmp_path / "elsewhere", cwd=here).startswith("..")


def test_one_renode_hint_for_runs_doctor_and_setup():
    assert Renode.install_hint == renode_install.HINT
    assert "--renode-archive" in renode_install.HINT        # right for a machine offline too
    assert "harness setup --renode" in renode_install.HINT
    here = Path(__file__).parents[1] / "harness"
    texts = "".join(p.read_text() for p in here.rglob("*.py"))
    assert texts.count("harness setup --renode`, or pass --renode PATH") == 0
