"""Work beside a run: a function on a thread whose result (or error) is collected
later, and a cancel flag made of several events."""
from __future__ import annotations

import threading
from typing import Any, Callable


class Background:
    """`fn(*args)` on a daemon thread; `result()` waits and returns it or raises its error."""

    def __init__(self, fn: Callable, *args: Any) -> None:
        self._value: Any = None
        self._error: BaseException | None = None
        self._done = threading.Event()
        self._finished = False
        self._then: list[Callable[[], None]] = []
        self._guard = threading.Lock()
        threading.Thread(target=self._run, args=(fn, args), daemon=True,
                         name=getattr(fn, "__name__", "background")).start()

    def _run(self, fn: Callable, args: tuple) -> None:
        try:
            self._value = fn(*args)
        except BaseException as exc:             # noqa: BLE001  handed to result()
            self._error = exc
        with self._guard:
            self._finished = True
            callbacks, self._then = self._then, []
        for callback in callbacks:          # before result() returns: its waiter sees them
            callback()
        self._done.set()

    def then(self, judge: Callable[[Any, BaseException | None], bool], flag: threading.Event):
        """Once done: set `flag` if `judge(value, error)` is true."""
        def callback() -> None:
            if judge(self._value, self._error):
                flag.set()
        with self._guard:
            if not self._finished:
                self._then.append(callback)
                return
        callback()

    def result(self) -> Any:
        self._done.wait()
        if self._error is not None:
            raise self._error
        return self._value


class AnyOf:
    """Set when any of `events` is (what watch() polls as its cancel flag)."""

    def __init__(self, *events: threading.Event) -> None:
        self.events = events

    def is_set(self) -> bool:
        return any(e.is_set() for e in self.events)
