"""Example: firmware tests with the harness pytest plugin.

    pytest --harness --harness-board mps2_an385,qemu_x86 tests/examples/example_firmware.py

Each test runs once per board (and emulator); the device fixture boots the
app with the UART attached before the CPU starts and always tears it down.
"""
import pytest

from harness.judging.verdict import Verdict


def test_prod_consumer_completes(harness_device, harness_expect):
    outcome = harness_expect(harness_device, timeout=30)
    assert outcome.verdict is Verdict.PASS, outcome.reason


def test_whole_run_passes_with_a_certificate(harness_run):
    result = harness_run()              # fails the test with 'VERDICT: reason' unless PASS
    assert result.certificate["status"] == "CERTIFIED"


def test_boot_banner_comes_first(harness_device):
    line = harness_device.wait_for_line("Booting Zephyr OS", timeout=10)
    assert line.lineno <= 3


@pytest.mark.harness_app("isolation_probe")
def test_probe_runs_to_its_end(harness_device):
    harness_device.crash_fails = False          # the probe faults on purpose
    harness_device.wait_for_line("PROBE:END", timeout=20)
