"""Verdicts and exit codes: the one place where outcomes map to numbers."""
from __future__ import annotations

import enum
from dataclasses import dataclass, field


class Verdict(enum.Enum):
    """Outcome of one run. `code` is the process exit code, `rank` orders severity."""

    SKIPPED = ("SKIPPED", 0, -1, "not run on this board: a filter of the test suite said so")
    PASS = ("PASS", 0, 0, "the expected sequence completed under enforced isolation")
    FAIL = ("FAIL", 1, 3, "the UART log broke an expectation rule")
    CRASH = ("CRASH", 3, 4, "the firmware hit a fatal error (fault, oops, panic, assertion)")
    HANG = ("HANG", 4, 2, "no progress within the time budget (the emulator kept running)")
    STALL = ("STALL", 5, 5, "the emulator stopped advancing (virtual time frozen)")
    EMULATOR_ERROR = ("EMULATOR_ERROR", 6, 6, "the emulator failed to start, died or exited early")
    BUILD_ERROR = ("BUILD_ERROR", 7, 7, "west build failed")
    SETUP_ERROR = ("SETUP_ERROR", 8, 8, "workspace, toolchain or emulator missing or unusable")
    UNTRUSTED = ("UNTRUSTED", 9, 9, "the isolation probe showed a forbidden access succeeding")
    OVERREACH = ("OVERREACH", 12, 3.5, "the domain audit found a user thread able to reach "
                 "memory the app's stated isolation forbids")
    DISAGREE = ("DISAGREE", 10, 4.5, "two emulators told different stories for the same ELF")
    # A board of the lab misbehaving (harness run --device-serial / --hardware-map): never
    # FAIL or CRASH, since the firmware was not judged; retried like EMULATOR_ERROR.
    PORT_MISSING = ("PORT_MISSING", 13, 6.1, "the board's serial port does not exist")
    PORT_BUSY = ("PORT_BUSY", 14, 6.2, "another process holds the board's serial port")
    PORT_VANISHED = ("PORT_VANISHED", 15, 6.3, "the serial port vanished mid-run (the board "
                     "was unplugged or re-enumerated)")
    FLASH_FAILED = ("FLASH_FAILED", 16, 6.4, "flashing the board failed")
    FLASH_TIMEOUT = ("FLASH_TIMEOUT", 17, 6.5, "flashing the board did not finish in time")
    NO_OUTPUT = ("NO_OUTPUT", 18, 6.6, "the board printed nothing after it was flashed")
    INTERRUPTED = ("INTERRUPTED", 130, 10, "SIGINT or SIGTERM stopped the run")
    HARNESS_ERROR = ("HARNESS_ERROR", 11, 11, "the harness or its host failed (disk full, "
                     "unwritable output, an internal error): not a verdict on the firmware")
    BAD_INPUT = ("BAD_INPUT", 2, 12, "bad input: an unknown board, app or emulator, a malformed "
                 "file or option; nothing about the firmware")

    def __init__(self, label: str, code: int, rank: int, meaning: str) -> None:
        self.label = label
        self.code = code
        self.rank = rank
        self.meaning = meaning

    def __str__(self) -> str:
        return self.label


EXIT_USAGE = Verdict.BAD_INPUT.code     # bad input: unknown board, malformed file, bad option
EXIT_INTERRUPTED = Verdict.INTERRUPTED.code  # SIGINT / SIGTERM to the harness
BOARD_FAULTS = (Verdict.PORT_MISSING, Verdict.PORT_BUSY, Verdict.PORT_VANISHED,
                Verdict.FLASH_FAILED, Verdict.FLASH_TIMEOUT, Verdict.NO_OUTPUT)


def worst(verdicts) -> Verdict:
    """The most severe verdict of several (PASS for none)."""
    return max(verdicts, key=lambda v: v.rank, default=Verdict.PASS)


def worst_code(codes) -> int:
    """The exit code of the most severe of several exit codes (0 for none)."""
    rank = {v.code: v.rank for v in Verdict if v is not Verdict.SKIPPED}
    return max(codes, key=lambda c: rank.get(c, max(rank.values()) + 1), default=0)


@dataclass
class Outcome:
    """A verdict with its reason and the evidence behind it."""

    verdict: Verdict
    reason: str
    evidence: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        return {"verdict": self.verdict.label, "reason": self.reason, "evidence": self.evidence}
