"""Keywords on the running emulation's UART."""
from __future__ import annotations

from robot.api.deco import keyword

from harness.frontends.robot.base import KeywordBase
from harness.inputs import apps, expectations
from harness.judging.verdict import Verdict


class UartKeywords(KeywordBase):
    """Wait For Line On Uart, Should Not Be On Uart, Register Failing Uart String,
    Wait For Expected Sequence."""

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

