"""Renode's AOT images (harness/emulators/renode_aot.py): made once by `harness setup --renode`,
handed to every Renode the harness starts. A fake `mono` at the process boundary for
the bookkeeping; the real mono and Renode where they are installed."""
import json
import os
import shutil
import stat
from pathlib import Path

import pytest

from harness.emulators import renode_aot
from harness.emulators.renode_host import RenodeHost, mono_tuned
from harness.frontends import doctor
from harness.frontends.cli import main
from harness.host.process import session_members
from harness.inputs import config

FAKES = Path(__file__).parent / "fakes"


def _executable(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return path


@pytest.fixture
def renode(tmp_path):
    """A mono-run Renode as its packages lay it out (a `renode` script, bin/Renode.exe and
    its assemblies), a mono installation with two framework assemblies, and the
    environment that finds them. The script, run, records MONO_ENV_OPTIONS and
    MONO_GC_PARAMS and becomes the fake Renode."""
    tree = tmp_path / "renode"
    for name in ("Renode.exe", "Emulator.dll", "Broken.dll"):
        (tree / "bin").mkdir(parents=True, exist_ok=True)
        (tree / "bin" / name).write_bytes(b"MZ a PE image")
    launcher = _executable(tree / "renode", f"#!/bin/sh\n"
                           f"# mono $MONO_OPTIONS {tree}/bin/Renode.exe \"$@\"\n"
                           f"echo \"$MONO_ENV_OPTIONS\" > {tmp_path}/seen\n"
                           f"echo \"$MONO_GC_PARAMS\" > {tmp_path}/seen_gc\n"
                           f"exec {FAKES / 'fake_renode.py'} \"$@\"\n")
    prefix = tmp_path / "mono"
    (prefix / "bin").mkdir(parents=True)
    shutil.copy(FAKES / "fake_mono.py", prefix / "bin" / "mono")      # with its mode
    for rel in ("4.5/mscorlib.dll", "gac/System/4.0.0.0__b77a5c561934e089/System.dll"):
        (prefix / "lib" / "mono" / rel).parent.mkdir(parents=True, exist_ok=True)
        (prefix / "lib" / "mono" / rel).write_bytes(b"MZ framework")
    env = {"PATH": f"{prefix / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path),
           "XDG_CACHE_HOME": str(tmp_path / "cache"), "FAKE_MONO_LOG": str(tmp_path / "mono.log")}
    return launcher, env


def _environment(launcher: str, env: dict) -> dict:
    """What RenodeHost hands Mono for this Renode, the nursery aside."""
    return renode_aot.with_images(env, renode_aot.images(launcher, env))


def _mono_calls(env) -> list[str]:
    log = Path(env["FAKE_MONO_LOG"])
    return log.read_text().splitlines() if log.exists() else []


def test_made_once_and_every_renode_is_pointed_at_them(renode):
    launcher, env = renode
    said = []
    record = renode_aot.make(str(launcher), env, say=said.append)
    assert sorted(record["images"]) == ["Emulator.dll", "Renode.exe", "System.dll", "mscorlib.dll"]
    assert len(record["failed"]) == 1 and record["failed"][0].startswith("Broken.dll: AOT of image")
    assert "4 of 5 assemblies compiled" in said[-1] and "Broken.dll" in said[-1]
    images = renode_aot.images(str(launcher), env)
    assert sorted(p.name for p in images.iterdir()) == [
        "Emulator.dll.so", "Renode.exe.so", "System.dll.so", "made.json", "mscorlib.dll.so"]
    assert _environment(str(launcher), env)["MONO_ENV_OPTIONS"] == f"--aot-path={images}"
    kept = _environment(str(launcher), {**env, "MONO_ENV_OPTIONS": "--debug"})
    assert kept["MONO_ENV_OPTIONS"] == f"--debug --aot-path={images}"
    calls = len(_mono_calls(env))
    assert calls == 5
    assert renode_aot.make(str(launcher), env, say=said.append) == record   # once
    assert len(_mono_calls(env)) == calls
    assert [p.name for p in images.parent.iterdir()] == [images.name]       # nothing half made


def test_the_renode_the_harness_starts_gets_the_images(renode, tmp_path):
    launcher, env = renode
    renode_aot.make(str(launcher), env, say=lambda m: None)
    host = RenodeHost(str(launcher), tmp_path / "host", env)
    try:
        assert (tmp_path / "seen").read_text().strip() == f"--aot-path={host.aot_images}"
        assert host.aot_images == renode_aot.images(str(launcher), env) is not None
    finally:
        host.stop(hard=True)
    host = RenodeHost(str(launcher), tmp_path / "host2", {**env, "HARNESS_RENODE_AOT": "0"})
    try:
        assert (tmp_path / "seen").read_text().strip() == "" and host.aot_images is None
    finally:
        host.stop(hard=True)


def test_the_renode_the_harness_starts_gets_a_larger_nursery_unless_the_user_set_one(
        renode, tmp_path):
    launcher, env = renode
    for n, (given, wanted) in enumerate([
            (None, "nursery-size=64m"),
            ("major=marksweep-conc", "nursery-size=64m,major=marksweep-conc"),
            ("nursery-size=8m,major=marksweep", "nursery-size=8m,major=marksweep")]):
        mine = {**env, "MONO_GC_PARAMS": given} if given else env
        assert mono_tuned(mine)["MONO_GC_PARAMS"] == wanted
        host = RenodeHost(str(launcher), tmp_path / f"host{n}", mine)
        try:
            assert (tmp_path / "seen_gc").read_text().strip() == host.mono_gc_params == wanted
        finally:
            host.stop(hard=True)


def test_switched_off_nothing_is_made_or_used(renode):
    launcher, env = renode
    env = {**env, "HARNESS_RENODE_AOT": "0"}
    assert renode_aot.make(str(launcher), env, say=lambda m: None) is None
    assert _mono_calls(env) == []
    assert _environment(str(launcher), env) == env
    assert renode_aot.describe(str(launcher), env) == (None, "off (HARNESS_RENODE_AOT=0)")


def test_a_bundled_renode_has_nothing_to_compile(renode, tmp_path):
    _, env = renode
    bundled = tmp_path / "portable" / "renode"
    bundled.parent.mkdir()
    bundled.write_bytes(b"\x7fELF\x02\x01\x01 Mono and Renode in one executable")
    named_only = _executable(tmp_path / "other" / "renode", "#!/bin/sh\nexec mono bin/Renode.exe\n")
    (named_only.parent / "bin").mkdir()
    (named_only.parent / "bin" / "Renode.exe").write_text("not a PE image")
    for launcher in (bundled, named_only):
        assert renode_aot.make(str(launcher), env, say=lambda m: None) is None
        assert _environment(str(launcher), env) == env
        ok, detail = renode_aot.describe(str(launcher), env)
        assert ok is None and "bundles its own Mono" in detail
    assert _mono_calls(env) == []


def test_a_changed_renode_gets_new_images_and_the_stale_ones_go(renode):
    launcher, env = renode
    renode_aot.make(str(launcher), env, say=lambda m: None)
    old = renode_aot.images(str(launcher), env)
    exe = launcher.parent / "bin" / "Renode.exe"
    exe.write_bytes(b"MZ a rebuilt PE image, longer")
    assert renode_aot.images(str(launcher), env) is None          # not the stale ones
    renode_aot.make(str(launcher), env, say=lambda m: None)
    new = renode_aot.images(str(launcher), env)
    assert new is not None and new != old and not old.exists()


def test_an_interrupted_make_leaves_nothing(renode, monkeypatch):
    launcher, env = renode

    def interrupted(mono, wanted, out, environ):
        (out / "Renode.exe.so").write_bytes(b"half")
        raise KeyboardInterrupt
    monkeypatch.setattr(renode_aot, "_compile_all", interrupted)
    with pytest.raises(KeyboardInterrupt):
        renode_aot.make(str(launcher), env, say=lambda m: None)
    assert list(renode_aot.cache_root(env).iterdir()) == []
    assert renode_aot.images(str(launcher), env) is None


def test_nothing_compiled_is_one_line_and_no_images(renode):
    launcher, env = renode
    env = {**env, "FAKE_MONO_FAIL": "1"}
    said = []
    assert renode_aot.make(str(launcher), env, say=said.append) is None
    assert said[-1].startswith("Renode: no assembly compiled (Renode.exe: ")
    assert "compiling at run time" in said[-1]
    assert list(renode_aot.cache_root(env).iterdir()) == []


def test_a_cache_that_cannot_be_written_is_one_line_not_a_failed_setup(renode, tmp_path,
                                                                      monkeypatch, capsys):
    launcher, env = renode
    (tmp_path / "a-file").write_text("")
    env = {**env, "XDG_CACHE_HOME": str(tmp_path / "a-file")}     # mkdir fails: not a directory
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HARNESS_RENODE", str(launcher))
    assert main(["setup", "--renode", "--no-workspace"]) == 0
    last = capsys.readouterr().err.strip().splitlines()[-1]
    assert last.startswith("Renode: no ahead-of-time images (Not a directory") and \
        "compiling at run time" in last
    assert _environment(str(launcher), env) == env


def test_a_cache_path_mono_would_split_is_not_used(renode, tmp_path):
    launcher, env = renode
    for bad in ("with space", "with:colon"):
        spaced = {**env, "XDG_CACHE_HOME": str(tmp_path / bad)}
        said = []
        assert renode_aot.make(str(launcher), spaced, say=said.append) is None
        assert "Mono cannot be pointed at" in said[-1] and "XDG_CACHE_HOME" in said[-1]
        assert _environment(str(launcher), spaced) == spaced
        ok, detail = renode_aot.describe(str(launcher), spaced)
        assert ok is None and "blank or colon" in detail
    assert _mono_calls(env) == []


def test_without_an_assembler_nothing_is_compiled(renode, tmp_path):
    launcher, env = renode
    no_binutils = {**env, "PATH": str(tmp_path / "mono" / "bin")}      # mono, no as or ld
    said = []
    assert renode_aot.make(str(launcher), no_binutils, say=said.append) is None
    assert "needs as and ld (apt-get install binutils)" in said[-1]
    assert _mono_calls(env) == []


def test_an_unreadable_record_is_made_again(renode):
    launcher, env = renode
    renode_aot.make(str(launcher), env, say=lambda m: None)
    images = renode_aot.images(str(launcher), env)
    (images / "made.json").write_text("{not json")
    assert renode_aot.images(str(launcher), env) is None
    assert renode_aot.describe(str(launcher), env)[0] is None
    assert renode_aot.make(str(launcher), env, say=lambda m: None)["images"]
    assert renode_aot.images(str(launcher), env) == images


def test_pruning_keeps_other_renodes_and_a_running_set_up(renode, tmp_path):
    launcher, env = renode
    other = tmp_path / "other-renode"
    shutil.copytree(launcher.parent, other)
    (other / "renode").write_text(launcher.read_text().replace(str(launcher.parent), str(other)))
    renode_aot.make(str(launcher), env, say=lambda m: None)
    renode_aot.make(str(other / "renode"), env, say=lambda m: None)
    mine, theirs = (renode_aot.images(str(p), env) for p in (launcher, other / "renode"))
    root = renode_aot.cache_root(env)
    killed, running = root / ".making-killed", root / ".making-running"
    killed.mkdir(), running.mkdir()
    os.utime(killed, (0, 0))                                    # a set-up killed long ago
    (launcher.parent / "bin" / "Renode.exe").write_bytes(b"MZ rebuilt, so the old ones go")
    renode_aot.make(str(launcher), env, say=lambda m: None)
    assert not mine.exists() and theirs.exists() and renode_aot.images(str(launcher), env)
    assert not killed.exists() and running.exists()


def test_setup_makes_them_and_doctor_reports_them(renode, monkeypatch, capsys):
    launcher, env = renode
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    monkeypatch.setenv("HARNESS_RENODE", str(launcher))
    assert main(["setup", "--renode", "--no-workspace"]) == 0
    err = capsys.readouterr().err
    assert f"Renode: using {launcher}" in err and "4 of 5 assemblies compiled" in err
    rows = {what: (ok, detail) for ok, what, detail in doctor.checks(None, dict(os.environ))}
    ok, detail = rows["renode AOT images"]
    assert ok is True and detail.startswith("4 assemblies, 1 left to run time, in ")


# --- the real mono and Renode -------------------------------------------------------

def _real_renode():
    launcher = shutil.which("renode")
    if not launcher:
        pytest.skip("Renode not found: install Renode 1.14 or newer and put `renode` on PATH")
    if renode_aot.renode_exe(launcher) is None or not shutil.which("mono"):
        pytest.skip(f"{launcher} is no mono-run Renode.exe (the portable release bundles "
                    "Mono): no AOT images to make")
    return launcher


def test_real_mono_compiles_a_renode_assembly(tmp_path):
    launcher = _real_renode()
    small = renode_aot.renode_exe(launcher).parent / "OptionsParser.dll"
    assert renode_aot._compile_all(shutil.which("mono"), [small], tmp_path, dict(os.environ)) == []
    assert (tmp_path / "OptionsParser.dll.so").read_bytes()[:4] == b"\x7fELF"


@pytest.mark.integration
def test_real_renode_started_by_the_harness_runs_with_the_larger_nursery(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "MONO_GC_PARAMS"}
    launcher = config.renode_found(env)
    if not launcher:
        pytest.skip("Renode not found: `harness setup --renode` installs it, or put "
                    "`renode` on PATH")
    host = RenodeHost(os.path.abspath(launcher), tmp_path / "host", env)
    try:
        environs = [Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
                    for pid in session_members(host.proc.sid)]
        assert any(b"MONO_GC_PARAMS=nursery-size=64m" in e for e in environs)
    finally:
        host.stop(hard=True)


@pytest.mark.integration
def test_real_renode_started_by_the_harness_maps_the_images(tmp_path):
    launcher = _real_renode()
    images = renode_aot.images(launcher, dict(os.environ))
    if images is None:
        pytest.skip("no AOT images for this Renode: `harness setup --renode` makes them")

    def mapped(env) -> set[str]:
        host = RenodeHost(launcher, tmp_path / f"host{len(env)}", env)
        try:
            maps = set()
            for pid in session_members(host.proc.sid):
                with open(f"/proc/{pid}/maps") as f:
                    maps |= {line.split()[-1] for line in f if str(images) in line}
            return {Path(m).name for m in maps}
        finally:
            host.stop(hard=True)
    made = json.loads((images / "made.json").read_text())["images"]
    seen = mapped(dict(os.environ))
    # (mscorlib may come from Mono's own aot-cache, which it searches first)
    assert {"Renode.exe.so", "Emulator.dll.so", "cores-arm-m.dll.so"} <= seen <= {f"{n}.so" for n in made}
    assert mapped({**os.environ, "HARNESS_RENODE_AOT": "0"}) == set()
