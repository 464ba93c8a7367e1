"""Work beside a run: a function on a daemon thread whose result (or error) a
concurrent.futures.Future holds, and a cancel flag made of several events."""
from __future__ import annotations

import concurrent.futures as cf
import threading
from typing import Any, Callable


def background(fn: Callable, *args: Any) -> cf.Future:
    """`fn(*args)` on a daemon thread (a lookup still running never holds up the
    harness's exit); `.result()` waits and returns it or raises its error."""
    future: cf.Future = cf.Future()

    def run() -> None:
        try:
            future.set_result(fn(*args))
        except BaseException as exc:             # noqa: BLE001  raised by future.result()
            future.set_exception(exc)
    threading.Thread(target=run, daemon=True, name=getattr(fn, "__name__", "background")).start()
    return future


class AnyOf:
    """Set when any of `events` is (what watch() polls as its cancel flag)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)
