"""The gcov data a `CONFIG_COVERAGE_DUMP` firmware prints on its UART. Pure: no I/O.

Zephyr's subsys/testsuite/coverage prints, once main() returned (or where a test suite
calls gcov_coverage_dump()):

    GCOV_COVERAGE_DUMP_START
    *<path of the .gcda file><hex bytes>          one line per object file
    GCOV_COVERAGE_DUMP_END

Zephyr 3.x writes the bytes as " 67 63 64 61 ...", 4.x as "67636461..." after a '<'.
Lines between the markers that are not records (an interrupt's log line) are the
firmware's own output and go on to the matcher. A record whose bytes do not decode, or a
dump whose end marker never came, is said to be so: never reported as low coverage.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

START = "GCOV_COVERAGE_DUMP_START"
END = "GCOV_COVERAGE_DUMP_END"
NOT_HEX = re.compile(r"\s*[^\s0-9a-fA-F]")
GCDA_MAGIC = b"adcg"          # "gcda" as a little-endian word: the first bytes of a .gcda


@dataclass
class GcovDump:
    files: dict = field(default_factory=dict)     # .gcda path -> bytes (merged when repeated)
    garbled: list = field(default_factory=list)   # .gcda paths whose record did not decode
    said: list = field(default_factory=list)      # words where bytes should be ("No memory
                                                  # available to continue dump": its heap)
    dumps: int = 0                                # start markers seen
    ended: int = 0                                # end markers seen

    @property
    def dumping(self) -> bool:
        """Between a start marker and its end marker."""
        return self.dumps > self.ended

    def feed(self, text: str) -> bool:
        """Take a UART line; True if it belonged to the dump (not to the firmware's log)."""
        if START in text:
            self.dumps += 1
            return True
        if END in text:
            self.ended += 1 if self.dumping else 0
            return True
        if not self.dumping or not text.startswith("*") or "<" not in text:
            return False
        name, _, hex_text = text[1:].partition("<")
        try:
            data = bytes.fromhex(hex_text)
        except ValueError:
            data = b""
        if not data.startswith(GCDA_MAGIC):
            self.garbled.append(name)
            if NOT_HEX.match(hex_text):
                self.said.append(hex_text.strip()[:120])
        else:
            self.files.setdefault(name, []).append(data)
        return True

    @property
    def status(self) -> str:
        """complete | cut short | garbled | absent"""
        if not self.dumps:
            return "absent"
        if self.dumping:
            return "cut short"
        return "garbled" if self.garbled else "complete"

    def summary(self) -> dict:
        return {"status": self.status, "dumps": self.dumps, "files": len(self.files),
                "bytes": sum(len(d) for ds in self.files.values() for d in ds),
                "garbled": list(self.garbled), "firmware_said": list(self.said)}

    def reason(self) -> str:
        """Why there is no coverage report, in words, for a dump that is not complete."""
        return {"absent": "the firmware printed no gcov dump (GCOV_COVERAGE_DUMP_START "
                          "never came: main() did not return, or nothing called "
                          "gcov_coverage_dump())",
                "cut short": f"the gcov dump was cut short: {len(self.files)} file(s) "
                             f"read, then the run ended before {END}",
                "garbled": f"{len(self.garbled)} gcov record(s) did not decode "
                           f"(e.g. {self.garbled[0] if self.garbled else ''}): " +
                           (f"the firmware said {self.said[0]!r}" if self.said else
                            "another line was printed into them"),
                "complete": ""}[self.status]
