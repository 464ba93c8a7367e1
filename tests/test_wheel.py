"""The harness as a user installs it: a wheel built from this checkout, installed into a
fresh virtualenv outside it, run from a temporary directory."""
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from conftest import DATA

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    base = tmp_path_factory.mktemp("wheel")
    source = base / "source"                  # setuptools writes build/ next to the sources
    anywhere = shutil.ignore_patterns(".git", ".venv", "harness-out", "*.egg-info", "__pycache__")

    def ignore(directory, names):          # build/ and out/ at the top only: harness/build/ is code
        top = {"build", "out"} & set(names) if Path(directory) == ROOT else set()
        return set(anywhere(directory, names)) | top
    shutil.copytree(ROOT, source, ignore=ignore)
    build = subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w",
                            str(base / "dist"), str(source)], capture_output=True, text=True)
    if build.returncode != 0 and "Could not" in build.stderr + build.stdout:
        pytest.skip(f"no wheel could be built (pip needs setuptools from PyPI): {build.stderr[-300:]}")
    assert build.returncode == 0, build.stderr
    wheel = next((base / "dist").glob("*.whl"))
    venv = base / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", str(wheel)],
                         capture_output=True, text=True)
    if pip.returncode != 0 and ("No matching distribution" in pip.stderr
                                or "Could not" in pip.stderr):
        pytest.skip(f"the wheel's dependencies could not be installed from PyPI: {pip.stderr[-300:]}")
    assert pip.returncode == 0, pip.stderr
    work = base / "elsewhere"
    work.mkdir()
    return wheel, venv / "bin" / "harness", work


def run(harness, work, *args, timeout=600):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    return subprocess.run([str(harness), *args], cwd=work, capture_output=True, text=True,
                          env=env, timeout=timeout, stdin=subprocess.DEVNULL)


def test_the_wheel_carries_boards_firmware_and_robot_suites(installed):
    wheel, _, _ = installed
    names = zipfile.ZipFile(wheel).namelist()
    for needed in ("harness/data/boards/mps2_an385.yaml", "harness/data/boards/renode/mps2_an385.repl",
                   "harness/data/firmware/apps/isolation_probe/src/main.c",
                   "harness/data/firmware/apps/prod_consumer/expect.yaml",
                   "harness/data/firmware/west.yml", "harness/data/firmware/scripts/west_harness.py",
                   "harness/data/robot/prod_consumer.robot"):
        assert needed in names


def test_doctor_and_check_log_work_from_any_directory(installed):
    _, harness, work = installed
    doctor = run(harness, work, "doctor")
    assert "prod_consumer" not in doctor.stderr and doctor.returncode in (0, 8), doctor.stdout
    assert "qemu for mps2_an385" in doctor.stdout
    log = run(harness, work, "check-log", str(DATA / "prod_consumer.mps2_an385.qemu.log"))
    assert log.returncode == 0 and log.stdout.startswith("PASS"), log.stdout + log.stderr


@pytest.mark.integration
def test_run_and_prove_from_an_installed_wheel(installed, zephyr_workspace, tmp_path):
    _, harness, work = installed
    out = tmp_path / "out"
    # the harness in a fresh venv first: its west builds are SETUP_ERROR, named, not a firmware error
    bare = run(harness, work, "run", "--board", "mps2_an385", "--emulator", "qemu", "--no-isolation",
               "--out", str(tmp_path / "bare"), "--workspace", str(zephyr_workspace.topdir))
    if bare.returncode == 8:
        assert "needs the Python module" in bare.stdout and "requirements-base.txt" in bare.stdout
        req = zephyr_workspace.zephyr_base / "scripts" / "requirements-base.txt"
        pip = subprocess.run([str(harness.parent / "pip"), "install", "-q", "-r", str(req)],
                             capture_output=True, text=True)
        assert pip.returncode == 0, pip.stderr[-1000:]
    ran = run(harness, work, "run", "--board", "mps2_an385", "--emulator", "qemu",
              "--out", str(out), "--workspace", str(zephyr_workspace.topdir))
    assert ran.returncode == 0, ran.stdout + ran.stderr[-2000:]
    assert "PASS           prod_consumer mps2_an385 qemu" in ran.stdout
    proved = run(harness, work, "prove", "--board", "mps2_an385", "--out", str(out),
                 "--workspace", str(zephyr_workspace.topdir))
    assert proved.returncode == 0 and proved.stdout.startswith("CERTIFIED"), proved.stdout
