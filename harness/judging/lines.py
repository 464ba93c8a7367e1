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
