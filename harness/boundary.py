"""The one error boundary: how an exception becomes a verdict, a message and an exit code.

A run records it in result.json (runner), and every front end (the CLI, `west
harness`, the pytest plugin, the Robot library) reports it through `failure`, so
the verdict in result.json, the JUnit file, the printed line and the exit code
agree. A failure of the harness or its host is HARNESS_ERROR, never a verdict on
the firmware.
"""
from __future__ import annotations

import errno
import signal
from contextlib import contextmanager
from dataclasses import dataclass

from harness.errors import HarnessError, Interrupted
from harness.judging.verdict import Outcome, Verdict


@dataclass(frozen=True)
class Failure:
    verdict: Verdict
    message: str                    # one line (plus a hint line for HarnessErrors)

    @property
    def code(self) -> int:
        return self.verdict.code

    def line(self) -> str:
        """What a front end prints or fails with: 'VERDICT: message'."""
        return f"{self.verdict.label}: {self.message}"


def host_error(exc: OSError) -> str:
    """One line naming what failed and where, e.g. 'No space left on device: /out/x.log'."""
    where = f": {exc.filename}" if exc.filename else ""
    full = " (the disk is full: nothing more could be written)" if exc.errno == errno.ENOSPC else ""
    return f"host error {exc.strerror or exc}{where}{full}"


def failure(exc: BaseException) -> Failure:
    """The verdict and message of an exception (anything unexpected is HARNESS_ERROR)."""
    if isinstance(exc, (Interrupted, KeyboardInterrupt)):
        return Failure(Verdict.INTERRUPTED, str(exc) or "interrupted (SIGINT)")
    if isinstance(exc, HarnessError):
        return Failure(exc.verdict, str(exc))
    if isinstance(exc, OSError):
        return Failure(Verdict.HARNESS_ERROR, host_error(exc))
    return Failure(Verdict.HARNESS_ERROR,
                   f"internal error: {type(exc).__name__}: {exc} (rerun with --debug for the "
                   "traceback, and please report it)")


def outcome(exc: BaseException) -> Outcome:
    found = failure(exc)
    return Outcome(found.verdict, found.message)


def _raise_interrupted(signum, frame):
    raise Interrupted(f"stopped by {signal.Signals(signum).name}")


@contextmanager
def sigterm_interrupts():
    """SIGTERM raises Interrupted (like SIGINT's KeyboardInterrupt), so sessions close
    and emulators stop; only in the main thread, where Python delivers signals."""
    try:
        previous = signal.signal(signal.SIGTERM, _raise_interrupted)
    except ValueError:              # not the main thread: leave signals alone
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
