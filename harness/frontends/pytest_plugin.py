"""pytest plugin: fixtures that build, boot and judge firmware.

Installed with the package (entry point `pytest11`) but inert unless enabled
with `--harness` or `harness = true` in the ini file, so other projects' test
runs do not change. Fixtures: harness.pytest_fixtures (harness_run for whole runs; harness_device
and harness_expect for a booted board). With the harness enabled, a run that
failed makes pytest exit with its verdict's code (docs/verdicts.md). Example:
tests/examples/example_firmware.py.
"""
from __future__ import annotations


def pytest_addoption(parser):
    group = parser.getgroup("harness", "firmware test harness")
    group.addoption("--harness", action="store_true", help="enable the harness fixtures")
    group.addoption("--harness-board", action="append", default=[],
                    help="board(s) to parametrize tests over (default: mps2_an385)")
    group.addoption("--harness-emulator", action="append", default=[],
                    help="emulator(s) to parametrize tests over (default: qemu)")
    group.addoption("--harness-workspace", help="west workspace (default: found automatically)")
    group.addoption("--harness-out", help="artifacts directory (default: the project "
                    "file's out, else harness-out)")
    group.addoption("--harness-config", help="project file (default: harness.yaml at or above "
                    "the working directory)")
    parser.addini("harness", type="bool", default=False, help="enable the harness fixtures")


def pytest_configure(config):
    config.addinivalue_line("markers", "harness_app(name): the app the harness fixtures build")
    if config.getoption("harness") or config.getini("harness"):
        from harness.frontends import pytest_fixtures
        config.pluginmanager.register(pytest_fixtures, "harness-fixtures")
