"""Stable import path of the `west harness` command for workspaces set up by an older
harness (their manifest's scripts/west_harness.py imports it from here); the code is in
harness.frontends.west_command."""
from harness.frontends.west_command import HarnessCommand

__all__ = ["HarnessCommand"]
