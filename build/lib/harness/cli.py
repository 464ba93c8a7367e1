"""Stable import path of the `harness` command (`harness.cli:main`); the code is in
harness.frontends.cli."""
from harness.frontends.cli import main

__all__ = ["main"]
