pytest_plugins = ["pytester"]

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from harness.host.paths import APPS_DIR
from harness.inputs import expectations

DATA = Path(__file__).parent / "data"
FAKES = Path(__file__).parent / "fakes"


@pytest.fixture(scope="session")
def prod_spec():
    return expectations.load(APPS_DIR / "prod_consumer" / "expect.yaml")


@pytest.fixture
def scenario(tmp_path):
    """Write a fake-emulator scenario file; returns its path."""
    def make(**kw) -> Path:
        path = tmp_path / f"scenario{len(list(tmp_path.glob('scenario*')))}.json"
        path.write_text(json.dumps(kw))
        return path
    return make


def real_log(name: str) -> bytes:
    return (DATA / name).read_bytes()


def seed_sample_output() -> list[str]:
    """The 'Sample Output' block of the sample's README (its I: lines, kept in tests/data)."""
    return (DATA / "prod_consumer.seed-sample-output.log").read_text().splitlines()


def workspace_or_skip():
    """The real Zephyr workspace, toolchains and QEMU, or a skip naming what is missing."""
    from harness.build import toolchain
    from harness.errors import SetupError
    from harness.inputs import workspace
    try:
        ws = workspace.find(None, os.environ.get("ZEPHYR_BASE"), Path.cwd(), Path.home())
    except SetupError as exc:
        pytest.skip(f"no Zephyr workspace ({exc.message}); create one with `harness setup`")
    for arch in ("arm", "x86"):
        try:
            toolchain.find(arch, dict(os.environ))
        except SetupError as exc:
            pytest.skip(f"{exc.message}: {exc.hint}")
    for exe in ("qemu-system-arm", "qemu-system-i386"):
        if not shutil.which(exe):
            pytest.skip(f"{exe} missing: apt-get install qemu-system-arm qemu-system-x86")
    return ws


PYTHON = sys.executable


def processes_under(path: Path) -> list[str]:
    """Processes whose command line, working directory or HOME/TMPDIR is in `path`
    (Renode moves to its install directory, but keeps the HOME it was given)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            cwd = os.readlink(entry / "cwd")
            env = (entry / "environ").read_bytes().split(b"\0")
        except OSError:
            continue
        dirs = [cwd] + [v.split(b"=", 1)[1].decode(errors="replace") for v in env
                        if v.startswith((b"HOME=", b"TMPDIR="))]
        if str(path) in cmdline or any(d.startswith(str(path)) for d in dirs):
            found.append(f"{entry.name}: {cmdline.strip()} (in {cwd})")
    return found


@pytest.fixture(scope="session")
def zephyr_workspace():
    """The real workspace, found before any test changes HOME or the cwd."""
    return workspace_or_skip()


@pytest.fixture(scope="session")
def harness_out(tmp_path_factory):
    """One artifacts directory for the whole test session, so builds are shared."""
    return tmp_path_factory.mktemp("harness-out")
