"""Stable import path of the pytest plugin (entry point `pytest11`, `-p harness.pytest_plugin`);
the code is in harness.frontends.pytest_plugin."""
from harness.frontends.pytest_plugin import pytest_addoption, pytest_configure

__all__ = ["pytest_addoption", "pytest_configure"]
