"""Keywords that build firmware, start and stop emulations."""
from __future__ import annotations

from robot.api import logger
from robot.api.deco import keyword

from harness.errors import HarnessError
from harness.frontends.robot.base import KeywordBase
from harness.inputs import apps, boards


class LifecycleKeywords(KeywordBase):
    """Build Firmware, Start Emulation, Create Terminal Tester, Require Emulator,
    Stop Emulation, Stop All Emulations."""

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
            apps.load(app, judged=False), self.session.board(board), emulator))
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

