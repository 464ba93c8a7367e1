"""A running emulated board for interactive use (Robot keywords, pytest
fixtures): write to its UART, wait for prompts and lines, forbid lines, check the
expected sequence. Everything happens in the caller's thread; no reader thread
drops lines."""
from __future__ import annotations

import re
import time
from pathlib import Path

import serial

from harness.errors import HarnessError
from harness.host.deadline import Deadline
from harness.judging.judge import Ending, Judge, crash_reason
from harness.judging.triage import FaultDump
from harness.judging.verdict import Outcome, Verdict
from harness.stream.uart import Line
from harness.stream.watch import follow

BASE_TIMEOUT_S = 60.0      # pytest-twister-harness's base_timeout, for its verbs


class UartFailure(HarnessError):
    """A UART expectation of a keyword or fixture was not met."""

    verdict = Verdict.FAIL
    exit_code = Verdict.FAIL.code


class Device:
    def __init__(self, emulator, elf: Path, crash_fails: bool = True) -> None:
        self.emulator = emulator
        self.crash_fails = crash_fails     # a fatal error fails the waiting keyword at once
        self.elf = elf
        self.history: list[Line] = []
        self._cursor = 0            # history index of the next unconsumed line
        self._failing: list[re.Pattern] = []
        self._dump = FaultDump()
        self.stream = emulator.start(elf)

    @property
    def run_dir(self) -> Path:
        return self.emulator.run_dir

    def register_failing(self, text: str, regex: bool = False) -> None:
        self._failing.append(_pattern(text, regex))

    def wait_for_line(self, text: str, timeout: float, regex: bool = False) -> Line:
        """The next line containing `text` (host-time `timeout` in seconds)."""
        pattern = _pattern(text, regex)
        for line in self._lines(timeout):
            if pattern.search(line.text):
                return line
        raise self._failure(f"no line matching {text!r} within {timeout:g} s (host time)")

    def next_line(self, timeout: float) -> Line:
        """The next line not read yet, waiting up to `timeout` host seconds for it."""
        for line in self._lines(timeout):
            return line
        raise self._failure(f"no new line within {timeout:g} s (host time)")

    def wait_for_prompt(self, prompt: str, timeout: float, regex: bool = False) -> str:
        """Wait until `prompt` shows, in a line not read yet or in the unfinished last
        line (a prompt waits for input, with no line end); the lines before it are read.
        Returns the text the prompt was found in."""
        pattern = _pattern(prompt, regex)
        pending = ""
        for line in self._lines(timeout, unfinished=True):
            pending = line.text if line.lineno == 0 else ""
            if pattern.search(line.text):
                return line.text
        detail = f" (unfinished line: {pending!r})" if pending else ""
        raise self._failure(f"no prompt {prompt!r} within {timeout:g} s (host time)" + detail)

    def wait_for_shell(self, prompt: str, timeout: float, regex: bool = False,
                       line_ending: str = "\n", every: float = 0.5) -> str:
        """Press Enter every `every` host seconds until the shell answers it with a
        fresh `prompt` (twister's Shell.wait_for_prompt): a shell can show its first
        prompt just before it takes input (Zephyr's flushes its input as it starts),
        and what is typed meanwhile is lost. As twister's, the answer is a line read
        after the Enter with the prompt in it (the echoed Enter ends the prompt's
        line). Returns that line's text."""
        pattern = _pattern(prompt, regex)
        deadline = Deadline(timeout)
        while not deadline.expired():
            self.readlines()                     # what came before this Enter is read
            self.write(line_ending, 0.0)
            for line in self._lines(min(every, deadline.remaining())):
                if pattern.search(line.text):
                    return line.text
        raise self._failure(f"the shell never answered Enter with {prompt!r} within "
                            f"{timeout:g} s (host time)")

    def write(self, data: bytes | str, char_delay: float = 0.0) -> None:
        """Send `data` to the board's UART; with `char_delay`, one byte at a time that
        many host seconds apart (for a receiver without a FIFO). The UART keeps being
        read meanwhile, so nothing the board prints is lost while it is sent."""
        raw = data.encode() if isinstance(data, str) else bytes(data)
        chunks = [raw[i:i + 1] for i in range(len(raw))] if char_delay > 0 else [raw]
        for n, chunk in enumerate(chunks):
            if n:
                self._pace(char_delay)
            try:
                self.stream.write(chunk)
            except (serial.SerialException, OSError, HarnessError) as exc:
                raise self._failure(f"cannot write to the UART: {exc}") from None

    def write_line(self, text: str, line_ending: str = "\n", char_delay: float = 0.0) -> None:
        """Send `text` and the line ending (Zephyr's shell takes \\n, \\r or \\r\\n)."""
        self.write(text + line_ending, char_delay)

    # -- pytest-twister-harness's DeviceAdapter verbs, same names and shapes ----------
    def readline(self, timeout: float | None = None) -> str:
        """The next line (DeviceAdapter.readline); `timeout` host seconds, default 60."""
        return self.next_line(timeout or BASE_TIMEOUT_S).text

    def readlines_until(self, regex: str | None = None, num_of_lines: int | None = None,
                        timeout: float | None = None) -> list[str]:
        """Lines up to and including the first one `regex` is found in, or the next
        `num_of_lines` lines; with neither, the lines read so far (readlines)."""
        if not regex and not num_of_lines:
            return self.readlines()
        pattern = _pattern(regex, True) if regex else None
        out: list[str] = []
        for line in self._lines(timeout or BASE_TIMEOUT_S):
            out.append(line.text)
            if (pattern and pattern.search(line.text)) or len(out) == num_of_lines:
                return out
        want = f"a line matching {regex!r}" if regex else f"{num_of_lines} lines"
        raise self._failure(f"no {want} within {timeout or BASE_TIMEOUT_S:g} s (host time); "
                            f"{len(out)} line(s) read")

    def readlines(self) -> list[str]:
        """Every line that arrived and was not read yet; waits for none."""
        self._read(0)
        return [line.text for line in self._lines(0)]

    def clear_buffer(self) -> None:
        """Drop the lines not read yet (DeviceAdapter.clear_buffer)."""
        self.readlines()

    def should_not_see(self, text: str, timeout: float, regex: bool = False) -> None:
        pattern = _pattern(text, regex)
        for line in self._lines(timeout):
            if pattern.search(line.text):
                raise self._failure(f"forbidden line {line.text!r} (line {line.lineno})")

    def expect_sequence(self, spec, timeout: float) -> Outcome:
        """Judge every line since boot (and what follows) against an expectation spec."""
        judge = Judge(spec)
        judge.settle_like(self.emulator)
        for line in self.history:
            judge.feed(line.lineno, line.text, line.t)
        ending = Ending("stopped")
        if not judge.should_stop(time.monotonic() - self.stream.t0):
            ending = follow(self.emulator, self.stream, judge, timeout, self.history.append)
        self._cursor = len(self.history)
        return judge.outcome(ending)

    def close(self) -> dict:
        self.stream.close()
        return self.emulator.stop()

    def transcript(self, last: int | None = None) -> list[str]:
        lines = self.history[-last:] if last else self.history
        return [line.text for line in lines]

    # -- internals -----------------------------------------------------------
    def _lines(self, timeout: float, unfinished: bool = False):
        """Unconsumed lines, then new ones, until `timeout` host seconds pass; with
        `unfinished`, also the unfinished last line each time the lines run out (as a
        Line numbered 0, not consumed). Failing strings and crashes fail in stream
        order, when their line is reached."""
        deadline = Deadline(timeout)
        while True:
            while self._cursor < len(self.history):
                line = self.history[self._cursor]
                self._cursor += 1
                self._check(line)
                yield line
            if unfinished and self.stream.pending():
                yield Line(0, self.stream.pending(), time.monotonic() - self.stream.t0)
            left = deadline.remaining()
            if left <= 0:
                return
            if self.emulator.poll() is not None and self.stream.closed:
                raise self._failure(f"the emulator exited (rc {self.emulator.poll()})")
            self._read(min(left, 0.05))

    def _check(self, line: Line) -> None:
        bad = next((p for p in self._failing if p.search(line.text)), None)
        if bad:
            raise self._failure(f"failing string {bad.pattern!r} seen: {line.text!r}")
        self._dump.feed(line.text, line.lineno)
        if self.crash_fails and self._dump.complete:
            raise self._failure("the firmware crashed: " + crash_reason(self._dump.summary()))

    def _pace(self, seconds: float) -> None:
        """Let `seconds` pass (host time), reading what arrives meanwhile."""
        deadline = Deadline(seconds)
        while not deadline.expired() and not self.stream.closed:
            self._read(deadline.remaining())

    def _read(self, wait: float) -> list[Line]:
        new = self.stream.read_lines(wait)
        self.history.extend(new)
        return new

    def _failure(self, message: str) -> UartFailure:
        tail = "\n".join(f"  {t}" for t in self.transcript(10)) or "  (no output)"
        return UartFailure(f"{message}\nlast UART lines:\n{tail}",
                           f"artifacts: {self.run_dir} (uart.raw, {self.emulator.name}.log)")


def _pattern(text: str, regex: bool) -> re.Pattern:
    try:
        return re.compile(text if regex else re.escape(text))
    except re.error as exc:
        raise UartFailure(f"bad regex {text!r}: {exc}") from None
