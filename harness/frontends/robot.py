"""Robot Framework keywords over the harness library, close to Renode's own
vocabulary but emulator-agnostic. Every keyword is a thin call into
harness.runner / harness.device; timeouts are host seconds unless named.

    *** Settings ***
    Library    harness.robot.Emulation    out=${OUTPUT DIR}/harness
    Suite Teardown    Stop All Emulations
"""
from __future__ import annotations

import os

from robot.api import logger
from robot.api.deco import keyword, library

from harness import apps, boards, expectations
from harness.config import make_session
from harness.errors import HarnessError
from harness.judging.verdict import Verdict


@library(scope="SUITE", auto_keywords=False)
class Emulation:
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, out: str = "harness-out", workspace: str | None = None,
                 timeout: float = 10.0) -> None:
        self._settings = dict(out=out, workspace=workspace)
        self.ROBOT_LIBRARY_LISTENER = self        # for _close, when the suite ends
        self._session = None
        self._device = None
        self._default_timeout = float(timeout)
        self._logged = 0            # UART lines already copied into Robot's log

    # -- building and starting -------------------------------------------
    @keyword
    def build_firmware(self, app: str = apps.DEFAULT_APP, board: str = boards.DEFAULT_BOARD) -> str:
        """Build `app` for `board` with west (incremental) and return the ELF path."""
        return str(self._call(lambda: self.session.builds.firmware(apps.load(app), boards.load(board))).elf)

    @keyword
    def start_emulation(self, board: str = boards.DEFAULT_BOARD, emulator: str = "qemu",
                        app: str = apps.DEFAULT_APP) -> str:
        """Build `app` for `board`, boot it on `emulator` with the UART attached
        before the CPU runs. Returns the run directory."""
        self.stop_emulation()
        self._device = self._call(lambda: self.session.start_device(
            apps.load(app), boards.load(board), emulator))
        self._logged = 0
        logger.info(f"{app} on {board} under {emulator}: artifacts in {self._device.run_dir}")
        return str(self._device.run_dir)

    @keyword
    def create_terminal_tester(self, timeout: float = 10.0) -> None:
        """Set the default timeout (host seconds) of the UART keywords."""
        self._default_timeout = float(timeout)

    @keyword
    def require_emulator(self, emulator: str, board: str = boards.DEFAULT_BOARD) -> None:
        """Skip the test (with the reason and how to fix it) when `emulator` is not installed."""
        from robot.libraries.BuiltIn import BuiltIn
        try:
            emu = self.session.emulators.adapter(boards.load(board), emulator, self.session.out_dir)
            emu.binary()
        except HarnessError as exc:
            BuiltIn().skip(f"{emulator} not available: {exc}")

    # -- UART ---------------------------------------------------------------
    @keyword
    def wait_for_line_on_uart(self, text: str, timeout: float | None = None,
                              treatAsRegex: bool = False) -> str:  # noqa: N803 (Renode's name)
        """Wait for a line containing `text` (literal unless treatAsRegex)."""
        line = self._call(lambda: self.device.wait_for_line(text, self._timeout(timeout),
                                                            treatAsRegex))
        self._log_new()
        return line.text

    @keyword
    def should_not_be_on_uart(self, text: str, timeout: float | None = None,
                              treatAsRegex: bool = False) -> None:  # noqa: N803
        """Fail if a line containing `text` appears within `timeout` host seconds."""
        self._call(lambda: self.device.should_not_see(text, self._timeout(timeout), treatAsRegex))
        self._log_new()

    @keyword
    def register_failing_uart_string(self, text: str, treatAsRegex: bool = False) -> None:  # noqa: N803
        """Any later line containing `text` fails the UART keyword that reads it."""
        self.device.register_failing(text, treatAsRegex)

    @keyword
    def wait_for_expected_sequence(self, app: str = apps.DEFAULT_APP,
                                   timeout: float | None = None) -> str:
        """Check the whole UART log against the app's expectation file; fail unless PASS."""
        spec = self._call(lambda: expectations.load(apps.load(app).expect))
        outcome = self.device.expect_sequence(spec, self._timeout(timeout))
        self._log_new()
        if outcome.verdict is not Verdict.PASS:
            raise AssertionError(f"{outcome.verdict}: {outcome.reason}\n"
                                 f"artifacts: {self.device.run_dir}")
        return outcome.verdict.label

    # -- whole runs -----------------------------------------------------------
    @keyword
    def run_firmware(self, app: str = apps.DEFAULT_APP, board: str = boards.DEFAULT_BOARD,
                     emulator: str = "qemu", isolation: bool = True) -> str:
        """A complete harness run (build, boot, judge, reports); returns the verdict name."""
        previous, self.session.isolation = self.session.isolation, isolation
        try:
            result = self._call(lambda: self.session.run(apps.load(app), [board], [emulator]))[0]
        finally:
            self.session.isolation = previous
        logger.info(f"{result.verdict}: {result.outcome.reason}\nartifacts: {result.run_dir}")
        return result.verdict.label

    @keyword
    def isolation_should_be_enforced(self, board: str = boards.DEFAULT_BOARD, emulator: str = "qemu") -> dict:
        """Run the isolation probe; fail unless every forbidden access faulted."""
        from harness import isolation_run
        result = self._call(lambda: isolation_run.certify(self.session, boards.load(board), emulator))
        cert = result.certificate or {}
        logger.info(f"isolation certificate: {cert.get('status')}: {cert.get('summary')}")
        if cert.get("status") != "CERTIFIED":
            raise AssertionError(f"isolation not proven on {board}/{emulator}: "
                                 f"{result.outcome.reason}\nartifacts: {result.run_dir}")
        return cert

    # -- teardown -------------------------------------------------------------
    @keyword
    def stop_emulation(self) -> None:
        """Stop the running emulator (bounded, kills its whole process group)."""
        if self._device:
            device, self._device = self._device, None
            logger.info(f"teardown: {device.close()}")

    @keyword
    def stop_all_emulations(self) -> None:
        """Suite teardown: nothing this library started keeps running, including
        the emulator processes kept between the suite's tests."""
        self.stop_emulation()
        if self._session is not None:
            self._session.close()

    def _close(self) -> None:
        """Robot calls this when the library goes out of scope (also without a teardown)."""
        self.stop_all_emulations()

    # -- helpers --------------------------------------------------------------
    @property
    def session(self):
        if self._session is None:
            self._session = self._call(lambda: make_session(
                dict(os.environ), self._settings["workspace"], self._settings["out"],
                say=logger.console))
        return self._session

    @property
    def device(self):
        if not self._device:
            raise AssertionError("no emulation running: use Start Emulation first")
        return self._device

    def _timeout(self, timeout) -> float:
        return float(timeout) if timeout is not None else self._default_timeout

    def _log_new(self) -> None:
        """Log the UART transcript into Robot's log, from the keyword's (main) thread."""
        device = self._device
        if device and len(device.history) > self._logged:
            logger.info("UART:\n" + "\n".join(device.transcript()[self._logged:]))
            self._logged = len(device.history)

    @staticmethod
    def _call(fn):
        try:
            return fn()
        except HarnessError as exc:
            raise AssertionError(str(exc)) from None
