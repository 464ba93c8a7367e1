"""Robot Framework keywords over the harness library, close to Renode's own
vocabulary but emulator-agnostic: `Library    harness.robot.Emulation`.

The keyword documentation is the class docstring and the keywords' docstrings
below (Robot's documentation format); the tests render it with libdoc to
harness-out/libdoc/Emulation.html.
"""
from __future__ import annotations

from robot.api.deco import library

from harness.frontends.robot.lifecycle import LifecycleKeywords
from harness.frontends.robot.runs import RunKeywords
from harness.frontends.robot.uart import UartKeywords
from harness.frontends.robot.uart_input import UartInputKeywords


@library(scope="SUITE", auto_keywords=False)
class Emulation(LifecycleKeywords, UartKeywords, UartInputKeywords, RunKeywords):
    """Build Zephyr firmware with west, boot it on an emulated board (QEMU or
    Renode) and check what it prints on its UART.

    The keyword names follow Renode's Robot vocabulary (`Wait For Line On Uart`,
    `Should Not Be On Uart`, `Register Failing Uart String`, `Create Terminal
    Tester`, `Write Line To Uart`, `Wait For Prompt On Uart`, with Renode's
    ``treatAsRegex``), but every keyword works the same
    on each emulator a board file in ``boards/`` describes. Each keyword is a
    thin call into the harness (``harness.runner``, ``harness.stream.device``): the
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

    def _close(self) -> None:
        """Robot calls this when the library goes out of scope (also without a teardown)."""
        self.stop_all_emulations()

