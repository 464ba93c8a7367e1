"""Robot Framework keyword libraries: `Library    harness.robot.Emulation`."""
from harness.frontends.robot import Emulation

__all__ = ["Emulation"]
