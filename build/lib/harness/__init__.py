"""Firmware test harness: build Zephyr apps with west, boot them on emulated
boards whose MPU/MMU enforces memory domains, and judge their UART output."""
import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
