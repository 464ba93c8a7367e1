"""Exception hierarchy. Each error carries what a user needs to fix it."""
from __future__ import annotations

from harness.judging.verdict import EXIT_USAGE, Verdict


class HarnessError(Exception):
    """Base class; `exit_code` is what the CLI exits with."""

    verdict = Verdict.BAD_INPUT
    exit_code = EXIT_USAGE

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message}\n  hint: {self.hint}" if self.hint else self.message


class UsageError(HarnessError):
    """Bad input from the user: unknown board, missing file, malformed spec."""


class SetupError(HarnessError):
    """Workspace, toolchain or emulator missing."""

    verdict = Verdict.SETUP_ERROR
    exit_code = Verdict.SETUP_ERROR.code


class BuildError(HarnessError):
    """west build failed."""

    verdict = Verdict.BUILD_ERROR
    exit_code = Verdict.BUILD_ERROR.code


class EmulatorError(HarnessError):
    """The emulator could not be started or driven."""

    verdict = Verdict.EMULATOR_ERROR
    exit_code = Verdict.EMULATOR_ERROR.code


class Interrupted(HarnessError):
    """SIGINT or SIGTERM reached the harness."""

    verdict = Verdict.INTERRUPTED
    exit_code = Verdict.INTERRUPTED.code
