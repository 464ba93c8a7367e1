"""Robot Framework keywords over the harness library: `Library    harness.robot.Emulation`
(one class made of keyword groups: lifecycle, uart, runs; see library.py)."""
from harness.frontends.robot.library import Emulation

__all__ = ["Emulation"]
