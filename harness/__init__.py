"""Firmware test harness: build Zephyr apps with west, boot them on emulated
boards whose MPU/MMU enforces memory domains, and judge their UART output.

The folders follow the data flow:
inputs/ (project, boards, apps, expectations, scenarios, workspace) -> build/ (west,
toolchain, build cache) -> emulators/ (QEMU, Renode and its installation) -> stream/
(UART socket, watch loop) -> judging/ (pure: matcher, verdicts, triage, isolation)
-> reports/ (result.json, JUnit, shards, footprint). Beside the run: audit/ (domain
audit), coverage/ (gcov, Renode's PC trace), interactive/ (pytest, shell and Robot code that drives the
board). runner.py composes them for one run;
matrix.py, suite.py and isolation_run.py are the pipelines over many runs; host/ holds
process, deadline and file plumbing; frontends/ the thin adapters (CLI, pytest, Robot,
west). errors.py and boundary.py are the one error hierarchy and its boundary.
"""
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
