"""One type for "until when": host seconds on the monotonic clock.

Every wait in the harness (UART connect, monitor replies, QMP, teardown, the
time budget of a run) takes a `Deadline` instead of a raw float, so the clock
is named once, and the connect-and-retry loop is written once (`retry`).
"""
from __future__ import annotations

import time
from typing import Callable, TypeVar

T = TypeVar("T")


class Deadline:
    """A point in host time, `seconds` from when it was made (time.monotonic)."""

    __slots__ = ("at",)

    def __init__(self, seconds: float) -> None:
        self.at = time.monotonic() + max(seconds, 0.0)

    def remaining(self) -> float:
        """Host seconds left, never negative."""
        return max(self.at - time.monotonic(), 0.0)

    def expired(self) -> bool:
        return time.monotonic() >= self.at

    def __repr__(self) -> str:
        return f"Deadline(remaining={self.remaining():.3f}s)"


def retry(attempt: Callable[[], T], deadline: Deadline, errors: tuple, interval: float = 0.01,
          alive: Callable[[], bool] = lambda: True) -> T:
    """`attempt()` until it returns; an exception in `errors` is retried every
    `interval` seconds until `deadline` passes or `alive()` turns false, then
    re-raised. Used for connecting to a starting emulator's sockets."""
    while True:
        try:
            return attempt()
        except errors:
            if deadline.expired() or not alive():
                raise
            time.sleep(min(interval, deadline.remaining()))
