"""SIGINT and SIGTERM to the harness: exit 130, artifacts kept, no process left."""
import json
import signal
import subprocess
import sys
import time

import pytest
from conftest import FAKES, processes_under

from harness.judging.verdict import EXIT_INTERRUPTED


def emulators_under(path, harness_pid: int) -> list[str]:
    return [p for p in processes_under(path) if not p.startswith(f"{harness_pid}:")]


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
@pytest.mark.parametrize("phase,emulator", [("boot", "qemu"), ("matching", "qemu"),
                                            ("matching", "renode")])
def test_signal_mid_run_stops_everything_and_keeps_the_log(tmp_path, scenario, sig, phase,
                                                           emulator):
    text = "I: APP A partition: 0x1 32\r\n" if phase == "matching" else ""
    then = "hang" if phase == "boot" or emulator == "renode" else "babble"
    kernel = scenario(log=text, then=then, child=True)
    proc = subprocess.Popen([sys.executable, str(FAKES / "interruptible.py"), str(tmp_path),
                             str(kernel), emulator], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "READY"
    run_dirs = tmp_path / "runs" / "prod_consumer" / f"mps2_an385.{emulator}"
    deadline = time.monotonic() + 10
    while not (emulators_under(tmp_path, proc.pid) and list(run_dirs.glob("*/uart.raw"))):
        assert time.monotonic() < deadline, "the fake emulator never started"
        time.sleep(0.05)
    time.sleep(0.3)                    # let it get into the phase under test
    t0 = time.monotonic()
    proc.send_signal(sig)
    rc = proc.wait(timeout=10)
    assert rc == EXIT_INTERRUPTED, proc.stderr.read()
    assert time.monotonic() - t0 < 6, "teardown took too long"
    assert emulators_under(tmp_path, proc.pid) == [], "an emulator process outlived the harness"
    run_dir = (run_dirs / "latest").resolve()
    result = json.loads((run_dir / "result.json").read_text())
    assert result["verdict"] == "INTERRUPTED"
    if phase == "matching":
        assert (run_dir / "uart.raw").read_bytes().startswith(b"I: APP A partition")
    assert "Traceback" not in proc.stderr.read()


@pytest.mark.parametrize("emulator", ["qemu", "renode"])
def test_sigkill_of_the_harness_takes_its_emulators_down(tmp_path, scenario, emulator):
    """CI cancels with SIGKILL: no handler runs, yet the lifeline's watcher ends the
    emulator's session within seconds."""
    kernel = scenario(log="I: APP A partition: 0x1 32\r\n", then="hang", child=True)
    proc = subprocess.Popen([sys.executable, str(FAKES / "interruptible.py"), str(tmp_path),
                             str(kernel), emulator], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "READY"
    deadline = time.monotonic() + 10
    while not emulators_under(tmp_path, proc.pid):
        assert time.monotonic() < deadline, "the fake emulator never started"
        time.sleep(0.05)
    time.sleep(0.3)
    proc.kill()
    proc.wait(timeout=5)
    deadline = time.monotonic() + 5
    while emulators_under(tmp_path, proc.pid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert emulators_under(tmp_path, proc.pid) == [], "an emulator outlived a SIGKILLed harness"


def test_the_lifeline_watcher_reads_what_is_still_held():
    import io

    from harness.host.lifeline import watch
    assert watch(io.BytesIO(b"+10\n+11\n-10\n+12\ngarbage\n-99\n")) == {11, 12}


def test_a_full_disk_is_a_harness_error_not_a_firmware_verdict(tmp_path, scenario):
    """Seen: `harness run --out` on a 300 KiB tmpfs printed tracebacks and exited 1 (FAIL)."""
    tiny = tmp_path / "tiny"
    tiny.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=300k", "tmpfs", str(tiny)],
                      capture_output=True).returncode != 0:
        pytest.skip("mounting a 300 KiB tmpfs needs root (mount -t tmpfs)")
    try:
        kernel = scenario(log="I: APP A partition: 0x1 32\r\n" + ("x" * 100 + "\r\n") * 4000,
                          chunk=65536, then="hang")                 # 400 KB of UART output
        proc = subprocess.run([sys.executable, str(FAKES / "interruptible.py"), str(tiny),
                               str(kernel), "qemu"], capture_output=True, text=True, timeout=60)
    finally:
        subprocess.run(["umount", "-l", str(tiny)])
    assert proc.returncode == 11, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "No space left on device" in proc.stderr and "uart.raw" in proc.stderr


def test_an_internal_error_is_exit_11_with_one_line_unless_debug(capsys):
    from harness.frontends.cli import guarded

    def broken():
        raise KeyError("oops")
    assert guarded(broken) == 11
    err = capsys.readouterr().err
    assert "internal error: KeyError" in err and "--debug" in err and "Traceback" not in err
    assert guarded(broken, debug=True) == 11
    assert "Traceback" in capsys.readouterr().err
