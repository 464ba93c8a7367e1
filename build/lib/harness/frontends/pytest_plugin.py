"""pytest plugin: fixtures that build, boot and judge firmware.

Installed with the package (entry point `pytest11`) but inert unless enabled
with `--harness` or `harness = true` in the ini file, so other projects' test
runs do not change. Fixtures: harness.pytest_fixtures. Example:
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
    group.addoption("--harness-out", default="harness-out", help="artifacts directory")
    parser.addini("harness", type="bool", default=False, help="enable the harness fixtures")


def pytest_configure(config):
    config.addinivalue_line("markers", "harness_app(name): the app the harness fixtures build")
    if config.getoption("harness") or config.getini("harness"):
        from harness.frontends import pytest_fixtures
        config.pluginmanager.register(pytest_fixtures, "harness-fixtures")
