"""Robot Framework keywords over the harness library, close to Renode's own
vocabulary but emulator-agnostic: `Library    harness.robot.Emulation`.

The keyword documentation is the class docstring and the keywords' docstrings
below (Robot's documentation format); the tests render it with libdoc to
harness-out/libdoc/Emulation.html.
"""
from __future__ import annotations

import os
from pathlib import Path

from robot.api import logger
from robot.api.deco import keyword, library

from harness import apps, boards, boundary, expectations
from harness.config import project_session
from harness.errors import HarnessError
from harness.judging.verdict import Verdict


@library(scope="SUITE", auto_keywords=False)
class Emulation:
    """Build Zephyr firmware with west, boot it on an emulated board (QEMU or
    Renode) and check what it prints on its UART.

    The keyword names follow Renode's Robot vocabulary (`Wait For Line On Uart`,
    `Should Not Be On Uart`, `Register Failing Uart String`, `Create Terminal
    Tester`, with Renode's ``treatAsRegex``), but every keyword works the same
    on each emulator a board file in ``boards/`` describes. Each keyword is a
    thin call into the harness (``harness.runner``, ``harness.device``): the
    same code the ``harness`` command, the pytest plugin and ``west harness``
    run, with the same verdicts.

    %TOC%

    = Lifecycle =

    Robot makes one library instance per suite (scope ``SUITE``). Its harness
    session (Zephyr workspace, toolchains, output directory) is made by the
    first keyword that needs it, and each app is built at most once per board
    in a suite.

    - `Start Emulation` builds an app and boots it with the UART reader
      attached before the CPU runs, so no boot line is lost. One emulation
      runs at a time: starting another stops the previous one.
    - `Wait For Line On Uart`, `Should Not Be On Uart` and `Wait For Expected
      Sequence` read that emulation's UART, in the keyword's own thread, and
      copy the new lines into Robot's log.
    - `Stop Emulation` (a ``Test Teardown``) stops it. `Stop All Emulations`
      (the ``Suite Teardown``) also stops the Renode processes kept for reuse
      between the suite's tests. When Robot closes the library at the end of
      the suite it does the same without being asked, so no emulator outlives
      the suite, teardown or not.
    - `Run Firmware` and `Isolation Should Be Enforced` are whole runs of their
      own (build, boot, judge, reports): they neither use nor stop the
      emulation of `Start Emulation`.

    = Time and clocks =

    Every timeout of this library is in *host seconds*, measured with Python's
    ``time.monotonic``: the time of the machine running Robot, unaffected by
    clock changes, and not the emulated board's time. An emulator running
    slower or faster than real time does not change what a timeout means.

    Virtual (guest) time is used only where a keyword names it: `Wait For
    Expected Sequence`, `Run Firmware` and `Isolation Should Be Enforced` end
    with the verdict STALL when the emulator's virtual time stops advancing
    while host time goes on.

    The UART keywords without their own ``timeout`` use the suite's default
    timeout: the ``timeout`` import argument (10 s), or the value last given to
    `Create Terminal Tester`. `Run Firmware` and `Isolation Should Be Enforced`
    use the ``timeout_s`` of the board file instead (``boards/<board>.yaml``,
    per emulator).

    = Matching UART text =

    A UART line matches when it *contains* the text. The text is literal by
    default: ``payload #3 (done)`` matches exactly those characters, brackets
    included. With ``treatAsRegex=True`` it is a Python regular expression
    searched in each line (``re.search``), e.g. ``payload #[0-9]+``.

    Lines are read in order and each is consumed once: `Wait For Line On Uart`
    and `Should Not Be On Uart` see only lines that no earlier UART keyword
    read (lines that arrived meanwhile are kept, not lost). `Wait For Expected
    Sequence` is the exception: it judges the whole log since boot.

    A firmware crash (a complete Zephyr fatal-error dump) or a line containing
    a string given to `Register Failing Uart String` fails the UART keyword
    that reads it, at once.

    = Failures and verdicts =

    A failing keyword says why, shows the last UART lines and names the run's
    artifact directory. The verdicts are those of the ``harness`` command:
    PASS, FAIL (an expectation rule broken), CRASH (fatal error), HANG (no
    completion in time), STALL (virtual time frozen), EMULATOR_ERROR,
    BUILD_ERROR, SETUP_ERROR and UNTRUSTED (isolation not proven). Each keyword
    says which verdict its failure means.

    = Artifacts =

    Everything is written under the ``out`` import argument (default
    ``harness-out``, relative to Robot's working directory):

    - ``runs/<app>/<board>.<emulator>/<timestamp>/``: one directory per boot,
      with ``uart.raw`` (the UART bytes), ``qemu.log`` or ``renode.log`` and
      ``renode-monitor.txt``, and for whole runs also ``result.json``,
      ``junit.xml`` and ``build.log``; ``latest`` links to the newest.
    - ``build/<app>/<board>/``: the west build directory, with the log in
      ``build/<app>/<board>.build.log``.
    - ``isolation-cache/``: isolation certificates, reused while the board,
      the emulator and the probe are unchanged.

    The UART lines read by the keywords are also in Robot's own log.

    = Example =

    | ``*** Settings ***``
    | Library           harness.robot.Emulation    out=${OUTPUT DIR}/harness
    | Suite Teardown    Stop All Emulations
    | Test Teardown     Stop Emulation
    |
    | ``*** Test Cases ***``
    | Prod Consumer On mps2_an385 Under QEMU
    |     Require Emulator    qemu    mps2_an385
    |     Start Emulation    mps2_an385    qemu
    |     Register Failing Uart String    ZEPHYR FATAL ERROR
    |     Wait For Line On Uart    Booting Zephyr OS    timeout=30
    |     Wait For Line On Uart    got data payload #[0-9]+    treatAsRegex=True
    |     Wait For Expected Sequence    prod_consumer
    |
    | mps2_an385 Enforces Memory Domains
    |     Isolation Should Be Enforced    mps2_an385    qemu
    """

    ROBOT_LIBRARY_DOC_FORMAT = "ROBOT"
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, out: str | None = None, workspace: str | None = None,
                 timeout: float = 10.0, config: str | None = None) -> None:
        """Import arguments, all optional:

        - `out`: the output directory of builds, runs and certificates (see
          `Artifacts`); a relative path is relative to Robot's working
          directory. Created when missing; it must be writable. Default: the
          project file's ``out``, else ``harness-out``.
        - `workspace`: the top directory of the Zephyr west workspace. By
          default it is found as the ``harness`` command finds it: the project
          file's ``workspace``, ``$ZEPHYR_BASE``, the west workspace around the
          working directory, or ``~/zephyrproject``.
        - `config`: the project file (default: ``harness.yaml`` at or above
          Robot's working directory, as for ``harness run``); its board
          directories, workspace, output directory and timeout apply.
        - `timeout`: the suite's default timeout of the UART keywords, in host
          seconds (``time.monotonic``); `Create Terminal Tester` changes it.

        Nothing is built or started on import; a missing workspace fails the
        first keyword that needs it (SETUP_ERROR).

        Example:
        | Library | harness.robot.Emulation | out=${OUTPUT DIR}/harness | timeout=30 |
        """
        self._settings = {"out": out, "workspace": workspace, "config": config}
        self.ROBOT_LIBRARY_LISTENER = self        # for _close, when the suite ends
        self._session = None
        self._device = None
        self._default_timeout = float(timeout)
        self._logged = 0            # UART lines already copied into Robot's log

    # -- building and starting -------------------------------------------
    @keyword
    def build_firmware(self, app: str = apps.DEFAULT_APP, board: str = boards.DEFAULT_BOARD) -> str:
        """Builds `app` for `board` with ``west build`` and returns the ELF's path.

        - `app`: an app name under ``firmware/apps/`` (``prod_consumer``,
          ``fault_demo``, ``isolation_probe``) or the path of a Zephyr app
          directory.
        - `board`: a board with a file in ``boards/`` (``mps2_an385``,
          ``qemu_x86``, ``stm32f4_disco``, ``nrf52840dk_nrf52840``).

        The build is incremental, in ``<out>/build/<app>/<board>/``, and runs
        at most once per app and board in a suite: `Start Emulation` and `Run
        Firmware` reuse it. No timeout: a build runs until west ends.

        Returns the ELF path as a string. Fails when west build fails (the
        BUILD_ERROR of a whole run), naming the full build log
        ``<out>/build/<app>/<board>.build.log``; when the workspace or the
        toolchain is missing (SETUP_ERROR); or for an unknown app or board.

        Example:
        | ${elf} = | Build Firmware | prod_consumer | mps2_an385 |
        """
        return str(self._call(lambda: self.session.builds.firmware(apps.load(app), self.session.board(board))).elf)

    @keyword
    def start_emulation(self, board: str = boards.DEFAULT_BOARD, emulator: str = "qemu",
                        app: str = apps.DEFAULT_APP) -> str:
        """Builds `app` for `board`, boots it on `emulator` with the UART reader
        attached before the CPU runs, and returns the run directory.

        - `board`: a board with a file in ``boards/`` (see `Build Firmware`).
        - `emulator`: ``qemu`` or ``renode``; the board file must describe it.
        - `app`: the app to build and boot (see `Build Firmware`).

        An emulation already running in the suite is stopped first, as by `Stop
        Emulation`, with its failing strings: one emulation runs at a time.
        This keyword takes no timeout; the emulator's start-up waits are
        bounded in host seconds by the adapters. Then read the UART with `Wait
        For Line On Uart`, `Should Not Be On Uart` and `Wait For Expected
        Sequence`.

        Returns the run directory, ``<out>/runs/<app>/<board>.<emulator>/<timestamp>``,
        where ``uart.raw`` and the emulator's log are written. Fails when the
        build fails (BUILD_ERROR), the workspace, toolchain or emulator is
        missing (SETUP_ERROR; `Require Emulator` skips instead), the emulator
        does not start (EMULATOR_ERROR), or a name is unknown.

        Example:
        | Start Emulation | mps2_an385 | qemu |
        | ${run_dir} = | Start Emulation | qemu_x86 | qemu | app=fault_demo |
        """
        self.stop_emulation()
        self._device = self._call(lambda: self.session.start_device(
            apps.load(app), self.session.board(board), emulator))
        self._logged = 0
        logger.info(f"{app} on {board} under {emulator}: artifacts in {self._device.run_dir}")
        return str(self._device.run_dir)

    @keyword
    def create_terminal_tester(self, timeout: float = 10.0) -> None:
        """Sets the suite's default timeout of the UART keywords; nothing else.

        - `timeout`: host seconds (``time.monotonic``), used by `Wait For Line
          On Uart`, `Should Not Be On Uart` and `Wait For Expected Sequence`
          when they get no ``timeout`` of their own. It replaces the
          ``timeout`` import argument for the rest of the suite, later
          emulations included.

        The name is Renode's, so suites written for Renode read the same, but
        here it does much less. Renode's keyword attaches a tester to a named
        UART; in this library the UART (the one the board file names) is
        attached by `Start Emulation`, before the CPU runs, and that keyword
        does the real work. So it takes no UART name: pass the timeout by name
        (``timeout=30``), since a positional ``sysbus.uart0`` is not a number.
        It may be called before or after `Start Emulation`.

        Returns nothing. Fails only when `timeout` is not a number.

        Example:
        | Start Emulation | mps2_an385 | renode |
        | Create Terminal Tester | timeout=30 |
        | Wait For Line On Uart | Booting Zephyr OS |
        """
        self._default_timeout = float(timeout)

    @keyword
    def require_emulator(self, emulator: str, board: str = boards.DEFAULT_BOARD) -> None:
        """Skips the current test when `emulator` is not installed, giving the
        reason and how to install it.

        - `emulator`: ``qemu`` or ``renode``.
        - `board`: the board whose file names the binary to look for, e.g.
          ``qemu-system-arm`` for ``mps2_an385`` and ``qemu-system-i386`` for
          ``qemu_x86`` (Renode: ``renode``, or ``$HARNESS_RENODE``).

        The binary is looked up on ``PATH``; nothing is built or started, and
        there is no timeout. An unknown emulator or board, or a board file
        without that emulator, skips too, with the error as reason. A missing
        Zephyr workspace is not a skip but a failure (SETUP_ERROR): no test of
        the suite could run.

        Returns nothing; a skip is Robot's SKIP status, not a failure.

        Example:
        | Require Emulator | renode | stm32f4_disco |
        | Start Emulation | stm32f4_disco | renode |
        """
        from robot.libraries.BuiltIn import BuiltIn
        try:
            emu = self.session.emulators.adapter(self.session.board(board), emulator, self.session.out_dir)
            emu.binary()
        except HarnessError as exc:
            BuiltIn().skip(f"{emulator} not available: {exc}")

    # -- UART ---------------------------------------------------------------
    @keyword
    def wait_for_line_on_uart(self, text: str, timeout: float | None = None,
                              treatAsRegex: bool = False) -> str:  # Renode's name
        """Waits for the next UART line that contains `text` and returns it.

        - `text`: the text to look for, literal unless `treatAsRegex`; a line
          matches when it contains it (see `Matching UART text`).
        - `timeout`: how long to wait, in host seconds (``time.monotonic``)
          from the call. Default: the suite's default timeout (the ``timeout``
          import argument, or `Create Terminal Tester`).
        - `treatAsRegex`: when true, `text` is a Python regular expression
          searched in each line (Renode's name and meaning).

        Reading starts after the last line an earlier UART keyword read; the
        lines up to and including the match are consumed, and copied into
        Robot's log.

        Returns the whole matching line. Fails, with the last UART lines and
        the artifact directory, when no line matches within `timeout` (a HANG
        in a whole run), when a line read on the way contains a string of
        `Register Failing Uart String`, when the firmware crashes (CRASH), when
        the emulator exits (EMULATOR_ERROR), when `text` is not a valid regex,
        or when no emulation runs (use `Start Emulation` first).

        Example:
        | Wait For Line On Uart | Booting Zephyr OS | timeout=30 |
        | ${line} = | Wait For Line On Uart | payload #[0-9]+ | treatAsRegex=True |
        """
        line = self._call(lambda: self.device.wait_for_line(text, self._timeout(timeout),
                                                            treatAsRegex))
        self._log_new()
        return line.text

    @keyword
    def should_not_be_on_uart(self, text: str, timeout: float | None = None,
                              treatAsRegex: bool = False) -> None:  # Renode's name
        """Fails if a UART line containing `text` appears within `timeout`.

        - `text`: the forbidden text, literal unless `treatAsRegex` (see
          `Matching UART text`).
        - `timeout`: how long to watch, in host seconds (``time.monotonic``)
          from the call; when the text does not appear, the keyword waits all
          of it. Default: the suite's default timeout.
        - `treatAsRegex`: when true, `text` is a Python regular expression.

        It reads the lines no earlier UART keyword read, then new lines until
        `timeout` passes, and consumes them all: a later `Wait For Line On
        Uart` does not see them (`Wait For Expected Sequence` still judges
        them). They are copied into Robot's log.

        Returns nothing. Fails naming the forbidden line and its number; also,
        like `Wait For Line On Uart`, on a registered failing string, a crash
        (CRASH), an emulator that exits before `timeout` (EMULATOR_ERROR), a bad
        regex, or when no emulation runs.

        Example:
        | Should Not Be On Uart | ZEPHYR FATAL ERROR | timeout=5 |
        | Should Not Be On Uart | payload #[0-9]+ dropped | timeout=2 | treatAsRegex=True |
        """
        self._call(lambda: self.device.should_not_see(text, self._timeout(timeout), treatAsRegex))
        self._log_new()

    @keyword
    def register_failing_uart_string(self, text: str, treatAsRegex: bool = False) -> None:  # Renode's name
        """Makes any UART line containing `text` fail the UART keyword that reads it.

        - `text`: the text, literal unless `treatAsRegex` (see `Matching UART
          text`).
        - `treatAsRegex`: when true, `text` is a Python regular expression.

        It applies to every line `Wait For Line On Uart` and `Should Not Be On
        Uart` read from now on, lines that arrived before but were not read yet
        included, until the emulation stops; each `Start Emulation` begins with
        none. It only registers, so there is no timeout. `Wait For Expected
        Sequence` does not use these strings: it judges with the app's
        expectation file, whose ``fail_on:`` rules play this role.

        Returns nothing. Fails when `text` is not a valid regex, or when no
        emulation runs (use `Start Emulation` first).

        Example:
        | Start Emulation | mps2_an385 | qemu |
        | Register Failing Uart String | ZEPHYR FATAL ERROR |
        | Register Failing Uart String | ASSERTION FAIL.* | treatAsRegex=True |
        """
        self.device.register_failing(text, treatAsRegex)

    @keyword
    def wait_for_expected_sequence(self, app: str = apps.DEFAULT_APP,
                                   timeout: float | None = None) -> str:
        """Judges the UART log against the app's expectation file; fails unless
        the verdict is PASS.

        - `app`: the app whose expectation file is used
          (``firmware/apps/<app>/expect.yaml``, or the ``expect.yaml`` of an
          app directory); normally the app given to `Start Emulation`.
        - `timeout`: host seconds (``time.monotonic``) from the call for the
          sequence to complete. Default: the suite's default timeout.

        Every line since boot is judged, lines that earlier UART keywords
        consumed included, then new lines until the expectation decides (its
        ``final:`` event and ``after_success_s``, a broken rule, a ``fail_on:``
        line, a crash), the emulator exits or closes the UART, `timeout` passes,
        or the emulator's virtual time stops advancing: the one UART keyword
        that watches virtual time. All lines read are consumed and copied into
        Robot's log; the emulation keeps running.

        Returns ``PASS``. Otherwise fails with ``<VERDICT>: <reason>`` and the
        artifact directory: FAIL (a rule broken, naming rule and lines), CRASH
        (a fatal error), HANG (`timeout` passed first), STALL (virtual time
        frozen), EMULATOR_ERROR (the emulator exited or closed the UART early).
        Strings of `Register Failing Uart String` do not apply here, and the
        board's isolation is not checked: see `Isolation Should Be Enforced`.

        Example:
        | Start Emulation | mps2_an385 | qemu |
        | Wait For Expected Sequence | prod_consumer | timeout=30 |
        """
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

    # -- teardown -------------------------------------------------------------
    @keyword
    def stop_emulation(self) -> None:
        """Stops the emulation of `Start Emulation`; does nothing when none runs.

        Takes no arguments; use it as ``Test Teardown``. The stop is bounded in
        host seconds and escalates (QEMU: ``quit`` over QMP, then SIGINT,
        SIGTERM and SIGKILL to its process group). A Renode process is kept
        for the suite's next emulation and reset in the background (stopped
        if it cannot be reset); `Stop All Emulations` stops the kept ones.
        The failing strings registered for the emulation are dropped. The run directory
        keeps ``uart.raw`` and the emulator's logs.

        Returns nothing; logs how the emulator ended. Never fails for lack of
        an emulation.

        Example:
        | Start Emulation | mps2_an385 | qemu |
        | Wait For Line On Uart | SUCCESS |
        | Stop Emulation |
        """
        if self._device:
            device, self._device = self._device, None
            logger.info(f"teardown: {device.close()}")

    @keyword
    def stop_all_emulations(self) -> None:
        """Stops everything this library started in the suite: the running
        emulation and the emulator processes kept between the suite's tests.

        Takes no arguments; use it as ``Suite Teardown``. Each stop is bounded
        in host seconds and escalates as in `Stop Emulation` (``quit``, then
        SIGINT, SIGTERM and SIGKILL to the process group); Renode's scratch
        directories are removed. Robot closing the library at the end of the
        suite does the same, so a suite without this teardown leaves nothing
        running either; the keyword makes the moment explicit and logs it.

        Returns nothing.

        Example:
        | Stop Emulation |
        | Stop All Emulations |
        """
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
            self._session = self._call(lambda: project_session(
                dict(os.environ), Path.cwd(), workspace_arg=self._settings["workspace"],
                out=self._settings["out"], config_file=self._settings["config"],
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
        """Run `fn` inside the harness's one error boundary: a failure fails the keyword
        with 'VERDICT: message' (the verdict result.json and the CLI give it)."""
        try:
            return fn()
        except AssertionError:
            raise
        except Exception as exc:               # noqa: BLE001  the boundary
            raise AssertionError(boundary.failure(exc).line()) from None
