"""The pytest plugin, through pytester: inert by default, real when enabled."""
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).parent / "examples" / "example_firmware.py"


def test_plugin_is_inert_unless_enabled(pytester):
    pytester.makepyfile(test_plain="def test_ok():\n    assert 1 + 1 == 2\n",
                        test_uses="def test_dev(harness_device):\n    pass\n")
    result = pytester.runpytest()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*fixture 'harness_device' not found*"])


def test_options_are_registered(pytester):
    result = pytester.runpytest("--help")
    result.stdout.fnmatch_lines(["*--harness-board*"])


@pytest.mark.integration
def test_example_runs_parametrized_against_real_qemu(zephyr_workspace, harness_out, pytester):
    (Path.home() / ".cache").mkdir(exist_ok=True)     # pytester's HOME; else Zephyr caches in-tree
    pytester.makepyfile(test_example=EXAMPLE.read_text())
    result = pytester.runpytest("--harness", "--harness-workspace", str(zephyr_workspace.topdir),
                                "--harness-board", "mps2_an385,qemu_x86",
                                "--harness-out", str(harness_out), "-v")
    result.assert_outcomes(passed=8)
    result.stdout.fnmatch_lines(["*test_prod_consumer_completes?qemu_x86-qemu? PASSED*"])
