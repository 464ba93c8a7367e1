"""Robot Framework keyword libraries: `Library    harness.robot.Emulation`."""
from harness.robot.emulation import Emulation

__all__ = ["Emulation"]
