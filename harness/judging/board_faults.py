"""How a run on a board of the lab ended, where a board differs from an emulator. Pure.

The judge speaks of emulators: a UART that closed early is EMULATOR_ERROR there, and a
run that never completed is a HANG. On a board, a closed UART is its serial port
vanishing (unplugged, re-enumerated), and a HANG without a single byte is a board that
never printed after it was flashed; a HANG names the last line seen, since a board
offers no virtual time to tell a stall from a slow guest.
"""
from __future__ import annotations

from harness.judging.verdict import Outcome, Verdict


def review(outcome: Outcome, ending: str, uart_bytes: int, port: str) -> Outcome:
    """`outcome` as the judge gave it; `ending`: why the watch loop stopped (stopped |
    timeout | closed | ...); `uart_bytes`: what the new image printed."""
    evidence = outcome.evidence
    last = _last_line(evidence)
    if outcome.verdict is Verdict.EMULATOR_ERROR and ending == "closed":
        seen = f"last line: {last!r}" if last else "nothing was printed before"
        return Outcome(Verdict.PORT_VANISHED, f"serial port {port} vanished mid-run (the board "
                       f"was unplugged or re-enumerated); {seen}", evidence)
    if outcome.verdict is Verdict.HANG and uart_bytes == 0:
        return Outcome(Verdict.NO_OUTPUT, f"the board printed nothing on {port} after it was "
                       f"flashed ({outcome.reason.split(':')[0]})", evidence)
    if outcome.verdict is Verdict.HANG and last:
        return Outcome(Verdict.HANG, f"{outcome.reason}; last line seen: {last!r}", evidence)
    return outcome


def _last_line(evidence: dict) -> str:
    lines = evidence.get("last_lines") or []
    return lines[-1].split(": ", 1)[-1] if lines else ""
