"""`harness setup --mirror`: a workspace from local git mirrors, no network."""
import shutil
import subprocess
import sys

import pytest

from harness.errors import SetupError
from harness.host.paths import FIRMWARE_DIR
from harness.inputs import workspace_setup as setup_mod


def git(cwd, *args) -> str:
    return subprocess.run(["git", "-C", str(cwd), "-c", "user.name=t", "-c", "user.email=t@t",
                           *args], check=True, capture_output=True, text=True).stdout.strip()


def repo(path, files: dict) -> str:
    path.mkdir(parents=True)
    git(path, "init", "-q")
    for name, text in files.items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        (path / name).write_text(text)
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "init")
    return git(path, "rev-parse", "HEAD")


@pytest.fixture
def mirror(tmp_path):
    """A mirror directory: acme+cmsis/repo (owner+name layout) and zephyr/ (plain)."""
    m = tmp_path / "mirror"
    cmsis = repo(m / "acme+cmsis" / "repo", {"README": "cmsis\n"})
    zephyr = repo(m / "zephyr", {
        "VERSION": "VERSION_MAJOR = 3\nVERSION_MINOR = 0\nPATCHLEVEL = 99\n",
        "samples/hello/README": "x\n", "cmake/x.cmake": "\n",
        "west.yml": "manifest:\n  projects:\n"
                    f"    - name: cmsis\n      url: https://example.invalid/cmsis\n"
                    f"      revision: {cmsis}\n      path: modules/hal/cmsis\n"
                    "    - name: hal_unused\n      url: https://example.invalid/u\n"
                    "      revision: 0123456789012345678901234567890123456789\n"})
    manifest = tmp_path / "manifest-src"
    shutil.copytree(FIRMWARE_DIR / "scripts", manifest / "scripts")
    shutil.copy(FIRMWARE_DIR / "west-commands.yml", manifest / "west-commands.yml")
    (manifest / "west.yml").write_text(
        (FIRMWARE_DIR / "west.yml").read_text()
        .replace("48877f8bdcd92f7e14a72ab4c830989f15f1e884", zephyr)
        .replace("[cmsis, cmsis_6, hal_stm32, hal_nordic]", "[cmsis]"))
    return m, manifest, zephyr, cmsis


def test_workspace_from_mirrors_without_network(tmp_path, mirror):
    m, manifest, zephyr, cmsis = mirror
    said = []
    top = tmp_path / "ws"
    setup_mod.setup(top, m, said.append, requirements=False, manifest_source=manifest)
    assert git(top / "zephyr", "rev-parse", "HEAD") == zephyr
    assert git(top / "modules/hal/cmsis", "rev-parse", "HEAD") == cmsis
    assert git(top / "zephyr", "remote", "get-url", "origin") == \
        "https://github.com/zephyrproject-rtos/zephyr"
    listing = subprocess.run([sys.executable, "-m", "west", "list", "-f", "{name} {path}"],
                             cwd=top, capture_output=True, text=True, check=True).stdout
    assert "cmsis modules/hal/cmsis" in listing and "hal_unused" not in listing
    assert (top / "manifest" / "west-commands.yml").is_file()
    setup_mod.setup(top, m, said.append, requirements=False, manifest_source=manifest)
    assert any("already at" in s for s in said)                 # idempotent


def test_a_mirror_without_the_commit_says_where_to_put_it(tmp_path, mirror):
    m, manifest, *_ = mirror
    shutil.rmtree(m / "acme+cmsis")
    with pytest.raises(SetupError, match="no repository for 'cmsis'"):
        setup_mod.setup(tmp_path / "ws", m, lambda s: None, requirements=False,
                        manifest_source=manifest)


def test_a_mirror_run_recovers_what_a_failed_network_fetch_left(tmp_path, mirror):
    """`west update` without network leaves zephyr/.git empty; the mirror run clones anew."""
    m, manifest, zephyr, cmsis = mirror
    top = tmp_path / "ws"
    (top / "zephyr").mkdir(parents=True)
    git(top / "zephyr", "init", "-q")
    said = []
    setup_mod.setup(top, m, said.append, requirements=False, manifest_source=manifest)
    assert git(top / "zephyr", "rev-parse", "HEAD") == zephyr
    assert any("holds no commit" in s for s in said)
    other = repo(tmp_path / "other", {"x": "y\n"})     # a repository with other history
    shutil.rmtree(top / "modules/hal/cmsis")
    shutil.copytree(tmp_path / "other", top / "modules/hal/cmsis")
    with pytest.raises(SetupError, match="without cmsis's pinned commit") as e:
        setup_mod.setup(top, m, said.append, requirements=False, manifest_source=manifest)
    assert "move" in e.value.hint and other
    # no commit yet, but work beside .git (or refs elsewhere): kept, never deleted
    shutil.rmtree(top / "modules/hal/cmsis")
    (top / "modules/hal/cmsis").mkdir()
    git(top / "modules/hal/cmsis", "init", "-q")
    (top / "modules/hal/cmsis" / "mine.c").write_text("work\n")
    with pytest.raises(SetupError, match="without cmsis's pinned commit"):
        setup_mod.setup(top, m, said.append, requirements=False, manifest_source=manifest)
    assert (top / "modules/hal/cmsis" / "mine.c").read_text() == "work\n"


def test_the_workspace_keeps_working_when_the_mirror_is_gone(tmp_path, mirror):
    m, manifest, zephyr, cmsis = mirror
    top = tmp_path / "ws"
    setup_mod.setup(top, m, lambda s: None, requirements=False, manifest_source=manifest)
    shutil.rmtree(m)                         # the mirror moved or was cleaned
    assert git(top / "zephyr", "rev-parse", "HEAD") == zephyr
    assert git(top / "zephyr", "fsck", "--connectivity-only", "--no-progress") == ""
    assert git(top / "zephyr", "show", "HEAD:VERSION").startswith("VERSION_MAJOR = 3")
    assert not (top / "zephyr" / ".git" / "objects" / "info" / "alternates").exists()


def test_zephyr_at_a_chosen_tag(tmp_path, mirror):
    m, manifest, zephyr, cmsis = mirror
    (m / "zephyr" / "VERSION").write_text("VERSION_MAJOR = 4\nVERSION_MINOR = 3\nPATCHLEVEL = 0\n")
    git(m / "zephyr", "commit", "-q", "-am", "v4.3.0")
    git(m / "zephyr", "tag", "v4.3.0")
    newer = git(m / "zephyr", "rev-parse", "HEAD")
    said = []
    top = tmp_path / "ws"
    setup_mod.setup(top, m, said.append, requirements=False, manifest_source=manifest,
                    zephyr="v4.3.0")
    assert git(top / "zephyr", "rev-parse", "HEAD") == newer != zephyr
    assert f"revision: {newer}" in (top / "manifest" / "west.yml").read_text()
    assert any("zephyr: v4.3.0" in s for s in said)
    with pytest.raises(SetupError, match="no zephyr repository with 'v9.9'"):
        setup_mod.setup(tmp_path / "ws2", m, said.append, requirements=False,
                        manifest_source=manifest, zephyr="v9.9")


def test_a_workspace_made_otherwise_is_left_alone(tmp_path, mirror, monkeypatch):
    from harness.errors import UsageError
    top = tmp_path / "theirs"
    repo(top / "zephyr", {"VERSION": "VERSION_MAJOR = 4\nVERSION_MINOR = 0\nPATCHLEVEL = 0\n",
                          "scripts/requirements-base.txt": "\n"})
    (top / ".west").mkdir()
    ran = []
    monkeypatch.setattr(setup_mod, "_run", lambda cmd, cwd, say: ran.append(cmd))
    said = []
    setup_mod.setup(top, None, said.append)
    assert [c[1:4] for c in ran] == [["-m", "pip", "install"]]        # no west init/update
    assert str(top / "zephyr" / "scripts" / "requirements-base.txt") in ran[0]
    assert any("left as it is" in s for s in said)
    assert not (top / "manifest").exists()
    with pytest.raises(UsageError, match="--zephyr applies only"):
        setup_mod.setup(top, None, said.append, zephyr="v4.3.0")
