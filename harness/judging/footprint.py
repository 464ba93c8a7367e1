"""Footprint deltas against a baseline, and the growth limit. Pure: no I/O.

As twister's compare report (--compare-report, -m): per app and board, ROM and RAM of
this build against the baseline's; a build whose ROM or RAM grew past the limit (bytes,
or percent of the baseline) exceeds it.
"""
from __future__ import annotations

from dataclasses import dataclass

from harness.errors import UsageError

Footprints = dict   # (app, board) -> {"rom_bytes": int, "ram_bytes": int, ...}
MEMORIES = ("rom", "ram")


@dataclass(frozen=True)
class Growth:
    """The largest growth allowed: `value` bytes, or `value` percent of the baseline."""
    value: float
    percent: bool

    def allowed(self, base: int) -> float:
        return base * self.value / 100 if self.percent else self.value

    def __str__(self) -> str:
        return f"{self.value:g}%" if self.percent else f"{self.value:g} bytes"


def parse_growth(text: str) -> Growth:
    """'2048' (bytes) or '5%' (of the baseline)."""
    percent = text.strip().endswith("%")
    try:
        value = float(text.strip().rstrip("%"))
    except ValueError:
        value = -1.0
    if value < 0:
        raise UsageError(f"--max-growth {text!r} is neither bytes nor a percentage",
                         "e.g. --max-growth 1024 or --max-growth 2%")
    return Growth(value, percent)


@dataclass(frozen=True)
class Delta:
    app: str
    board: str
    memory: str                  # rom | ram
    base: int | None             # None: not in the baseline
    now: int | None              # None: not built this time
    exceeded: bool = False

    @property
    def change(self) -> int | None:
        return None if self.base is None or self.now is None else self.now - self.base

    def line(self) -> str:
        name = f"{self.app} {self.board} {self.memory.upper()}"
        if self.base is None:
            return f"{'NEW':<9} {name}: {self.now} bytes (not in the baseline)"
        if self.now is None:
            return f"{'GONE':<9} {name}: was {self.base} bytes (not in this output)"
        pct = f" ({self.change / self.base:+.2%})" if self.base else ""
        status = "EXCEEDED" if self.exceeded else "ok"
        return f"{status:<9} {name}: {self.base} -> {self.now} bytes, {self.change:+d}{pct}"


def compare(now: Footprints, base: Footprints, limit: Growth | None = None) -> list[Delta]:
    """A Delta per app, board and memory of either side, in name order; with `limit`,
    growth past it is marked exceeded."""
    deltas = []
    for app, board in sorted(set(now) | set(base)):
        for memory in MEMORIES:
            b = (base.get((app, board)) or {}).get(f"{memory}_bytes")
            n = (now.get((app, board)) or {}).get(f"{memory}_bytes")
            over = (limit is not None and b is not None and n is not None
                    and n - b > limit.allowed(b))
            deltas.append(Delta(app, board, memory, b, n, over))
    return deltas


def exceeded(deltas: list[Delta]) -> list[Delta]:
    return [d for d in deltas if d.exceeded]
