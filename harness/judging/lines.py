"""Turn raw UART bytes into clean text lines. Pure: no I/O, no clock."""
from __future__ import annotations

import re

ANSI = re.compile(rb"\x1b(?:\[[0-?]*[ -/]*[@-~]|[@-Z\\-_]|c)")
MAX_LINE = 64 * 1024
TERMINATOR = re.compile(rb"\r\n|\r|\n")


class LineSplitter:
    """Split a byte stream on LF, CRLF or lone CR; strip ANSI escapes and NULs.

    Lines longer than MAX_LINE are cut into pieces so a runaway line cannot
    exhaust memory or stall matching.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pending_cr = False

    def feed(self, data: bytes) -> list[str]:
        if self._pending_cr and data[:1] == b"\n":   # CRLF split across chunks
            data = data[1:]
        if not data:
            return []
        self._pending_cr = data.endswith(b"\r")
        *lines, rest = TERMINATOR.split(bytes(self._buf) + data)
        self._buf = bytearray(rest)
        out = [piece for line in lines for piece in _cut(line)]
        while len(self._buf) >= MAX_LINE:
            out.append(_clean(bytes(self._buf[:MAX_LINE])))
            del self._buf[:MAX_LINE]
        return out

    def pending(self) -> str:
        """The partial last line so far (a prompt waits there for input), cleaned."""
        return _clean(bytes(self._buf))

    def flush(self) -> list[str]:
        """Return the partial last line, if any."""
        return [self._take()] if self._buf else []

    def _take(self) -> str:
        line = _clean(bytes(self._buf))
        self._buf.clear()
        return line


def _cut(line: bytes) -> list[str]:
    return [_clean(line[i:i + MAX_LINE]) for i in range(0, max(len(line), 1), MAX_LINE)]


def _clean(raw: bytes) -> str:
    return ANSI.sub(b"", raw).replace(b"\x00", b"").decode("utf-8", errors="replace")


# The head of a Zephyr log line: `I: ` (minimal) or `[00:00:00.010,000] <inf> ` (full).
LOG_START = re.compile(r"(?:[EWID]: |\[\d+:\d+:\d+\.\d+,\d+\] <\w+> )")


class Splicer:
    """Reassemble a log line split by another complete line written into its middle
    (an interrupt's log line landing inside a thread's, as on real UARTs):

        I: processing payloI: sample_driver_foo_isr: param=0x20001208 count=10
        ad #6 complete

    gives the interrupt's line, then `I: processing payload #6 complete`. A log line
    holding a second log start is held back for one line: if the next line is a
    plain continuation (not a log line, not a ztest or banner line), the two halves
    are joined around the inner line; otherwise the held line goes on unchanged. A
    head whose rest never comes is therefore never an event. `notes` says what was
    reassembled, for the evidence.
    """

    def __init__(self) -> None:
        self._held: tuple[int, str, int] | None = None    # lineno, text, where the inner starts
        self.notes: list[str] = []

    def feed(self, lineno: int, text: str) -> list[tuple[int, str]]:
        """(lineno, text) to judge, in order."""
        out = []
        if self._held is not None:
            held_no, held, at = self._held
            self._held = None
            if _continues(text):
                whole = held[:at] + text
                self.notes.append(f"line {lineno}: {whole.split(': ', 1)[-1]!r} reassembled "
                                  f"around an interrupt's line (split at line {held_no})")
                return [(held_no, held[at:]), (lineno, whole)]
            out.append((held_no, held))
        at = _embedded_start(text)
        if at:
            self._held = (lineno, text, at)
        else:
            out.append((lineno, text))
        return out

    def flush(self) -> list[tuple[int, str]]:
        held, self._held = self._held, None
        return [(held[0], held[1])] if held else []


NOT_A_TAIL = re.compile(r"^\s*(?:(?:PASS|FAIL|SKIP|START) - |PROJECT EXECUTION|\*\*\*|===|Running )")


def _continues(text: str) -> bool:
    return bool(text) and not LOG_START.match(text) and not NOT_A_TAIL.match(text)


def _embedded_start(text: str) -> int:
    """Where a second log start begins inside a log line; 0 for none. Not after an
    upper-case letter or a digit: `ID: 5`, `UUID: `, `PID: ` are words, not log starts."""
    if not LOG_START.match(text):
        return 0
    for m in LOG_START.finditer(text, 3):
        before = text[m.start() - 1]
        if not (before.isupper() or before.isdigit()):
            return m.start()
    return 0
