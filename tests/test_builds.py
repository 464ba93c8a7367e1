"""Builds seen from a run: a warm run boots the image the last build left while the
build checks it, and that boot counts only when the build gives the very same bytes
(fake QEMU, fake builds); scenario builds share compiles through ccache."""
import json
import time
from pathlib import Path

import pytest
from conftest import DATA, FAKES

from harness.build.toolchain import Toolchain
from harness.build.west_build import Built, sha256, shared_compiles
from harness.errors import BuildError
from harness.inputs import apps, boards
from harness.inputs.workspace import Workspace
from harness.judging.judge import Judge
from harness.judging.verdict import Verdict
from harness.runner import Session

PASS_LOG = str(DATA / "prod_consumer.mps2_an385.qemu.log")


@pytest.fixture
def session(tmp_path):
    zephyr = tmp_path / "ws" / "zephyr"
    zephyr.mkdir(parents=True)
    (zephyr / "VERSION").write_text("VERSION_MAJOR = 3\nVERSION_MINOR = 0\nPATCHLEVEL = 99\n")
    said = []
    s = Session(workspace=Workspace(tmp_path / "ws", zephyr, "test"), out_dir=tmp_path / "out",
                environ={}, timeout_s=20, isolation=False, say=said.append,
                find_toolchain=lambda arch, env: Toolchain("fake", version="fake"),
                emulator_overrides={"qemu": {"binary": str(FAKES / "fake_qemu.py")}})
    s.said = said
    yield s
    s.close()


def last_build(session, scenario: dict):
    """What an earlier build left in the build directory: the 'ELF' (a fake-QEMU
    scenario), then its stamp, as build.build writes them."""
    build_dir = session.out_dir / "build" / "prod_consumer" / "mps2_an385"
    (build_dir / "zephyr").mkdir(parents=True)
    (build_dir / "zephyr" / "zephyr.elf").write_text(json.dumps(scenario))
    build_dir.with_name("mps2_an385.cmake-args").write_text("")
    return build_dir


def build_gives(session, monkeypatch, scenario: dict | None, seconds: float):
    """The build (after `seconds`) leaves `scenario` as the ELF, or fails (None)."""
    def build(app, board, before_compile, coverage=False):
        time.sleep(seconds)
        build_dir = session.out_dir / "build" / app.name / board.name
        log = session.builds.log_path(app.name, board.name)
        log.parent.mkdir(parents=True, exist_ok=True)
        log.write_text("fake build\n")
        if scenario is None:
            raise BuildError("west build for mps2_an385 failed (rc 1): FAILED: main.c")
        elf = build_dir / "zephyr" / "zephyr.elf"
        if elf.read_text() != json.dumps(scenario):
            elf.write_text(json.dumps(scenario))
        return Built(elf, build_dir, log, seconds, sha256(elf))
    monkeypatch.setattr(session.builds, "_build", build)


def run(session, prod_spec):
    return session.run_one(apps.load("prod_consumer"), boards.load("mps2_an385"), "qemu",
                           lambda: Judge(prod_spec))


def test_an_up_to_date_build_overlaps_the_boot(session, prod_spec, monkeypatch):
    same = {"log": PASS_LOG}
    last_build(session, same)
    build_gives(session, monkeypatch, same, 0.3)
    result = run(session, prod_spec)
    assert result.verdict is Verdict.PASS, result.outcome.reason
    assert result.timings["boot_overlapped_build"] is True
    assert result.provenance["emulator"].startswith("qemu: ")     # the boot's, kept by the build's
    assert result.provenance["elf_sha256"] == sha256(
        session.out_dir / "build/prod_consumer/mps2_an385/zephyr/zephyr.elf")
    assert not (result.run_dir / "zephyr.elf").exists()     # the copy it booted is gone
    assert (result.run_dir / "build.log").is_file()
    assert not any("booting it again" in m for m in session.said)


def test_a_build_that_changes_the_firmware_boots_the_new_image(session, prod_spec, monkeypatch):
    last_build(session, {"log": "I: old firmware\r\n", "then": "hang"})
    build_gives(session, monkeypatch, {"log": PASS_LOG}, 0.3)
    t0 = time.monotonic()
    result = run(session, prod_spec)
    assert result.verdict is Verdict.PASS, result.outcome.reason
    assert time.monotonic() - t0 < 10          # the stale boot was stopped, not timed out
    assert "boot_overlapped_build" not in result.timings
    assert any("the build changed the firmware" in m and "booting it again" in m
               for m in session.said)
    assert "old firmware" not in (result.run_dir / "uart.raw").read_text()
    assert sorted(p.name for p in result.run_dir.iterdir()) == [
        "build.log", "junit.xml", "qemu.log", "result.json", "uart-io.log", "uart.raw"]


def test_a_failed_build_is_a_build_error_even_if_the_old_image_passes(session, prod_spec,
                                                                     monkeypatch):
    last_build(session, {"log": PASS_LOG, "delay": 0.05})
    build_gives(session, monkeypatch, None, 0.2)
    result = run(session, prod_spec)
    assert result.verdict is Verdict.BUILD_ERROR and "FAILED: main.c" in result.outcome.reason
    saved = json.loads((result.run_dir / "result.json").read_text())
    assert saved["verdict"] == "BUILD_ERROR"


def test_no_overlap_without_a_finished_earlier_build_or_with_pristine(session, prod_spec,
                                                                     monkeypatch, tmp_path):
    app, board = apps.load("prod_consumer"), boards.load("mps2_an385")
    assert session.builds.earlier_image(app, board, tmp_path) is None        # never built
    build_dir = last_build(session, {"log": PASS_LOG})
    assert session.builds.earlier_image(app, board, tmp_path) is not None
    session.builds.pristine = True
    assert session.builds.earlier_image(app, board, tmp_path) is None
    session.builds.pristine = False
    stamp = build_dir.with_name("mps2_an385.cmake-args")
    stamp.unlink()                              # the last build stopped before its stamp
    assert session.builds.earlier_image(app, board, tmp_path) is None


def test_scenario_builds_share_compiles_through_ccache_where_it_is_installed(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    assert shared_compiles(tmp_path / "build", {"PATH": str(bin_dir)}) == {}
    (bin_dir / "ccache").write_text("#!/bin/sh\n")
    (bin_dir / "ccache").chmod(0o755)
    env = shared_compiles(tmp_path / "build", {"PATH": str(bin_dir)})
    # paths under the build root hash relative to each build dir; Zephyr's stay absolute
    assert env == {"CCACHE_BASEDIR": str((tmp_path / "build").resolve()), "CCACHE_NOHASHDIR": "1"}


def test_the_users_own_ccache_settings_win(session, monkeypatch, tmp_path):
    seen = {}
    monkeypatch.setattr("harness.build.west_build.build", lambda **kw: seen.update(
        kw["environ"]) or Built(Path("zephyr.elf"), Path("b"), Path("b.log"), 0.0, "0"))
    monkeypatch.setattr("harness.build.west_build.which", lambda name, env: "/usr/bin/ccache")
    session.builds.environ = {"CCACHE_BASEDIR": "/mine"}
    session.builds._build(apps.load("prod_consumer"), boards.load("mps2_an385"), None)
    assert seen["CCACHE_BASEDIR"] == "/mine" and seen["CCACHE_NOHASHDIR"] == "1"


def test_an_emulator_error_on_the_earlier_image_gives_way_to_the_new_build(session, prod_spec,
                                                                         monkeypatch):
    last_build(session, {"log": "", "then": "die"})          # the old image: emulator dies
    build_gives(session, monkeypatch, {"log": PASS_LOG}, 0.5)
    result = run(session, prod_spec)
    assert result.verdict is Verdict.PASS, result.outcome.reason
    assert any("booting it again" in m for m in session.said)


def test_an_emulator_error_on_the_same_image_is_reported(session, prod_spec, monkeypatch):
    same = {"log": "", "then": "die"}
    last_build(session, same)
    build_gives(session, monkeypatch, same, 0.2)
    assert run(session, prod_spec).verdict is Verdict.EMULATOR_ERROR
