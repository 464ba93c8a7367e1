"""Keywords that run whole firmware runs and the isolation proof."""
from __future__ import annotations

from robot.api import logger
from robot.api.deco import keyword

from harness.frontends.robot.base import KeywordBase
from harness.inputs import apps, boards
from harness.judging.verdict import Verdict


class RunKeywords(KeywordBase):
    """Run Firmware, Firmware Should Pass, Isolation Should Be Enforced."""

    # -- whole runs -----------------------------------------------------------
    @keyword
    def run_firmware(self, app: str = apps.DEFAULT_APP, board: str = boards.DEFAULT_BOARD,
                     emulator: str = "qemu", isolation: bool = True) -> str:
        """One complete harness run, as ``harness run`` makes it (build,
        isolation proof, boot, judge, reports); returns the verdict's name.

        - `app`: the app to run (see `Build Firmware`).
        - `board`: a board with a file in ``boards/``.
        - `emulator`: ``qemu`` or ``renode``.
        - `isolation`: when true, the board's isolation certificate (as from
          `Isolation Should Be Enforced`, cached) backs the run: a PASS on a
          board whose isolation is not proven becomes UNTRUSTED.
          ``isolation=${False}`` runs without the proof.

        Timeout: the board file's ``timeout_s`` for that emulator, in host
        seconds (``time.monotonic``), for the whole boot; the suite's UART
        timeout does not apply. Virtual time is watched for STALL. The run
        boots its own emulator: an emulation of `Start Emulation` is neither
        used nor stopped.

        Returns the verdict, the one ``result.json`` records: ``PASS``,
        ``FAIL``, ``CRASH``, ``HANG``, ``STALL``, ``EMULATOR_ERROR``,
        ``BUILD_ERROR``, ``SETUP_ERROR``, ``UNTRUSTED``, ``BAD_INPUT`` (e.g. a
        bad setting in the board file) or ``HARNESS_ERROR`` (the host failed,
        e.g. a full disk). It does *not* fail on a bad verdict, so a test can
        expect one (compare it with ``Should Be Equal``; `Firmware Should
        Pass` fails instead); the reason and the run directory
        (``result.json``, ``junit.xml``, ``uart.raw``, ``build.log``) are in
        Robot's log. It fails only when no run can be made, with
        ``<VERDICT>: <message>``: no Zephyr workspace (SETUP_ERROR), an
        unknown app, board or emulator (BAD_INPUT), or an interrupted run.

        Example:
        | ${verdict} = | Run Firmware | prod_consumer | mps2_an385 | qemu |
        | Should Be Equal | ${verdict} | PASS |
        | ${verdict} = | Run Firmware | fault_demo | qemu_x86 | qemu | isolation=${False} |
        | Should Be Equal | ${verdict} | CRASH |
        """
        return self._run(app, board, emulator, isolation).verdict.label

    @keyword
    def firmware_should_pass(self, app: str = apps.DEFAULT_APP, board: str = boards.DEFAULT_BOARD,
                             emulator: str = "qemu", isolation: bool = True) -> None:
        """`Run Firmware`, then fails with ``<VERDICT>: <reason>`` and the run
        directory unless the verdict is PASS; a SKIPPED run (a test suite's
        filter) skips the test. The test's status, Robot's output and xUnit
        files and ``result.json`` then tell the same verdict.

        - `app`, `board`, `emulator`: the run, as for `Run Firmware`.
        - `isolation`: as for `Run Firmware` (true: a certified board backs
          the PASS).

        Timeout: as for `Run Firmware` (the board file's ``timeout_s``, in
        host seconds).

        Example:
        | Firmware Should Pass | prod_consumer | mps2_an385 | renode |
        """
        result = self._run(app, board, emulator, isolation)
        if result.verdict is Verdict.SKIPPED:
            from robot.libraries.BuiltIn import BuiltIn
            BuiltIn().skip(f"SKIPPED: {result.outcome.reason}")
        if result.verdict is not Verdict.PASS:
            raise AssertionError(f"{result.verdict}: {result.outcome.reason}\n"
                                 f"artifacts: {result.run_dir}")

    def _run(self, app: str, board: str, emulator: str, isolation: bool):
        """One whole run (the RunResult), its verdict and artifacts in Robot's log."""
        previous, self.session.isolation = self.session.isolation, isolation
        try:
            result = self._call(lambda: self.session.run(apps.load(app), [board], [emulator]))[0]
        finally:
            self.session.isolation = previous
        logger.info(f"{result.verdict}: {result.outcome.reason}\nartifacts: {result.run_dir}")
        return result

    @keyword
    def isolation_should_be_enforced(self, board: str = boards.DEFAULT_BOARD, emulator: str = "qemu") -> dict:
        """Proves that the board's MPU/MMU enforces Zephyr memory domains under
        `emulator`; returns the isolation certificate.

        - `board`: the board to prove, with a file in ``boards/``.
        - `emulator`: ``qemu`` or ``renode``.

        It builds and boots the ``isolation_probe`` app, whose user thread
        makes forbidden accesses: each must fault on its target address, and
        the control accesses must succeed. The certificate is cached in
        ``<out>/isolation-cache/``, keyed by board, emulator version and
        settings, probe ELF and judging code; while those are unchanged, a
        later proof (or `Run Firmware`) costs only the probe's no-op build.
        Timeout: the board file's ``timeout_s``, in host seconds
        (``time.monotonic``), for the probe's boot; virtual time is watched
        for STALL.

        Returns the certificate as a dictionary (``status``, ``summary``,
        ``cases``, ``run_dir``, ``elf_sha256``, ``emulator``, ``cached``, ...).
        Fails unless ``status`` is ``CERTIFIED``, with the reason and the
        probe's run directory: a forbidden access that did not fault, or a
        probe that could not prove anything. A whole run on that board is then
        UNTRUSTED.

        Example:
        | ${cert} = | Isolation Should Be Enforced | mps2_an385 | qemu |
        | Log | ${cert}[summary] |
        """
        from harness import isolation_run
        result = self._call(lambda: isolation_run.certify(self.session, self.session.board(board), emulator))
        cert = result.certificate or {}
        logger.info(f"isolation certificate: {cert.get('status')}: {cert.get('summary')}")
        if cert.get("status") != "CERTIFIED":
            raise AssertionError(f"isolation not proven on {board}/{emulator}: "
                                 f"{result.outcome.reason}\nartifacts: {result.run_dir}")
        return cert

