"""Keywords that talk to the firmware: write to the running emulation's UART, wait for
a prompt, read the next line. Renode's names and arguments, on QEMU and Renode alike."""
from __future__ import annotations

from robot.api.deco import keyword

from harness.frontends.robot.base import KeywordBase

CR = "\r"        # what Renode's Write Line To Uart ends a line with (Zephyr's shell takes it)


class UartInputKeywords(KeywordBase):
    """Write To Uart, Write Line To Uart, Wait For Prompt On Uart, Wait For Next Line
    On Uart, Write Char Delay (Renode's), and Wait For Shell Prompt On Uart."""

    _char_delay = 0.0

    @keyword
    def write_to_uart(self, content: str) -> None:  # Renode's name
        """Writes `content` to the board's UART as it is, with no line ending.

        - `content`: the text to send (UTF-8). Robot's escapes work: ``\\r``,
          ``\\n``, ``\\x03`` (Ctrl-C).

        The bytes are sent at once, or one at a time `Write Char Delay` apart
        (host seconds). What was written is recorded, with the lines read, in
        ``uart-io.log`` in the run directory (``uart.raw`` stays the board's
        output). Input written before the firmware reads it waits in the
        emulator (QEMU's socket, Renode's UART queue), but a UART model with a
        small receive FIFO can drop bytes sent faster than the firmware reads
        them: wait for the prompt first, or set `Write Char Delay`.

        Returns nothing. Fails when no emulation runs or the emulator has
        closed its UART.

        Example:
        | Write To Uart | \\x03 |
        """
        self._call(lambda: self.device.write(content, self._char_delay))

    @keyword
    def write_line_to_uart(self, content: str = "", waitForEcho: bool = True,
                           lineEnding: str = CR, timeout: float | None = None) -> None:  # Renode's name
        """Writes `content` and a line ending to the UART, then (by default) waits
        for the firmware to echo `content` back, as Renode's keyword does.

        - `content`: the line to send, without its ending.
        - `waitForEcho`: when true, wait until `content` shows in the UART
          output (in a line or in the unfinished last line, as a shell echoes
          what is typed). Lines up to the echo are consumed.
        - `lineEnding`: what ends the line; ``\\r`` by default, as Renode
          sends (Zephyr's shell and console take ``\\r``, ``\\n`` or both).
        - `timeout`: host seconds (``time.monotonic``) to wait for the echo.
          Default: the suite's default timeout.

        Returns nothing. Fails when the echo does not come within `timeout`,
        the emulator exits or crashes, or no emulation runs.

        Example:
        | Wait For Prompt On Uart | uart:~$ |
        | Write Line To Uart | version |
        | Wait For Line On Uart | Zephyr version |
        """
        self._call(lambda: self.device.write_line(content, lineEnding, self._char_delay))
        if waitForEcho and content:
            self._call(lambda: self.device.wait_for_prompt(content, self._timeout(timeout)))
        self._log_new()

    @keyword
    def wait_for_prompt_on_uart(self, prompt: str, timeout: float | None = None,
                                treatAsRegex: bool = False) -> str:  # Renode's name
        """Waits until `prompt` shows on the UART, in a line or in the unfinished
        last line (a prompt waits for input with no line end).

        - `prompt`: the prompt text, literal unless `treatAsRegex`.
        - `timeout`: host seconds (``time.monotonic``) from the call. Default:
          the suite's default timeout.
        - `treatAsRegex`: when true, `prompt` is a Python regular expression.

        Lines before the prompt are consumed and copied into Robot's log.

        Returns the text the prompt was found in. Fails when it does not show
        within `timeout` (naming the unfinished line seen), on a registered
        failing string, a crash, an emulator that exits, or when no emulation
        runs.

        Example:
        | Wait For Prompt On Uart | uart:~$ | timeout=10 |
        """
        text = self._call(lambda: self.device.wait_for_prompt(prompt, self._timeout(timeout),
                                                              treatAsRegex))
        self._log_new()
        return text

    @keyword
    def wait_for_shell_prompt_on_uart(self, prompt: str, timeout: float | None = None,
                                      treatAsRegex: bool = False, lineEnding: str = "\n") -> str:
        """Presses Enter every half second until the shell answers with a fresh
        `prompt`: the harness's keyword, what twister's shell helper does
        (``Shell.wait_for_prompt``), for a shell that shows its first prompt before
        it takes input.

        Zephyr's shell flushes its input as it starts, just after it queued its
        first prompt: a line written as soon as `Wait For Prompt On Uart` saw
        that prompt can be lost (measured on QEMU, mps2_an385, Zephyr 4.3's
        shell sample: 5 of 25 boots). An Enter the shell answers proves it reads.

        - `prompt`: the prompt text, literal unless `treatAsRegex`.
        - `timeout`: host seconds from the call. Default: the suite's default timeout.
        - `lineEnding`: what is sent as Enter (``\\n`` by default).

        Returns the text the prompt was found in. Fails when the shell does not
        answer within `timeout`, on a crash, an emulator that exits, or when no
        emulation runs.

        Example:
        | Wait For Shell Prompt On Uart | uart:~$ |
        | Write Line To Uart | version |
        """
        text = self._call(lambda: self.device.wait_for_shell(
            prompt, self._timeout(timeout), treatAsRegex, lineEnding))
        self._log_new()
        return text

    @keyword
    def wait_for_next_line_on_uart(self, timeout: float | None = None) -> str:  # Renode's name
        """Returns the next UART line no earlier keyword read.

        - `timeout`: host seconds (``time.monotonic``) to wait for it. Default:
          the suite's default timeout.

        Returns the line's text. Fails when no line comes within `timeout`, on
        a registered failing string, a crash, an emulator that exits, or when
        no emulation runs.

        Example:
        | ${line} = | Wait For Next Line On Uart | timeout=2 |
        """
        line = self._call(lambda: self.device.next_line(self._timeout(timeout)))
        self._log_new()
        return line.text

    @keyword
    def write_char_delay(self, delay: float) -> None:  # Renode's name
        """Sets the pause between the bytes later UART writes send.

        - `delay`: host seconds between two bytes (0: all at once, the
          default). Zephyr's ``tests/robot/common.robot`` sets 0.01.

        It holds for the rest of the suite, across emulations. Returns nothing;
        fails when `delay` is negative.

        Example:
        | Write Char Delay | 0.01 |
        """
        if float(delay) < 0:
            raise AssertionError(f"the delay must be 0 or more seconds, not {delay}")
        self._char_delay = float(delay)
