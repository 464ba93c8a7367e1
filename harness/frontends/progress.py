"""Matrix progress: a live table on a terminal (rich), plain lines in CI logs."""
from __future__ import annotations

import sys
import threading
import time

from harness.reports import report


class PlainProgress:
    """One line per event, safe to interleave in CI logs."""

    def __init__(self, stream=sys.stderr) -> None:
        self.stream = stream
        self.total = 0
        self.done = 0
        self._lock = threading.Lock()

    def start(self, matrix) -> None:
        self.total = len(matrix)
        self._say(f"matrix: {self.total} run(s)")

    def started(self, entry) -> None:
        self._say(f"[{self.done}/{self.total}] start  {entry.name}")

    def retrying(self, entry, result) -> None:
        self._say(f"[{self.done}/{self.total}] retry  {entry.name}: {result.verdict} "
                  f"({result.outcome.reason})")

    def finished(self, entry, result) -> None:
        self.done += 1
        self._say(f"[{self.done}/{self.total}] {report.line(result)}")

    def stop(self) -> None:
        pass

    def _say(self, text: str) -> None:
        with self._lock:
            print(text, file=self.stream, flush=True)


class LiveProgress(PlainProgress):
    """A table that updates in place (rich.live), for interactive terminals."""

    def __init__(self, stream=sys.stderr) -> None:
        super().__init__(stream)
        from rich.console import Console
        from rich.live import Live
        self.console = Console(file=stream)
        self.live = Live(console=self.console, refresh_per_second=4, transient=False)
        self.rows: dict = {}
        self.t0 = time.monotonic()

    def start(self, matrix) -> None:
        self.total = len(matrix)
        self.rows = {e: ("queued", "") for e in matrix}
        self.live.start()
        self._refresh()

    def started(self, entry) -> None:
        self.rows[entry] = ("running", "")
        self._refresh()

    def retrying(self, entry, result) -> None:
        self.rows[entry] = ("retrying", f"after {result.verdict}")
        self._refresh()

    def finished(self, entry, result) -> None:
        self.done += 1
        self.rows[entry] = (result.verdict.label, result.outcome.reason[:80])
        self._refresh()

    def stop(self) -> None:
        self.live.stop()

    def _refresh(self) -> None:
        from rich.table import Table
        table = Table(title=f"harness matrix {self.done}/{self.total} "
                            f"({time.monotonic() - self.t0:.0f} s)")
        for col in ("app", "board", "emulator", "state", "detail"):
            table.add_column(col)
        for e, (state, detail) in self.rows.items():
            style = {"PASS": "green", "running": "cyan", "queued": "dim"}.get(state, "red")
            table.add_row(e.app, e.board, e.emulator, f"[{style}]{state}[/]", detail)
        with self._lock:
            self.live.update(table)


def for_stream(stream=sys.stderr):
    return LiveProgress(stream) if stream.isatty() else PlainProgress(stream)
