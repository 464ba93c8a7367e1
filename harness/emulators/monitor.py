"""A client for Renode's monitor over TCP (telnet-ish): refuses every telnet
option, sends one command at a time and reads up to the next prompt."""
from __future__ import annotations

import re
import socket

from harness.errors import EmulatorError
from harness.host.deadline import Deadline, retry

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
PROMPT_AT = re.compile(r"(?m)^\(([\w\-. ]+)\) ?")    # "(monitor) ", "(machine-0) "
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
# How Renode's monitor reports a failed command (seen on Renode 1.14): mostly
# "There was an error executing command '...'" then the message; some alone.
ERRORS = re.compile(r"(?im)^(?:.*\berror\b.*|could not .*|there is no .*|no such .*|"
                    r"failed .*|.*exception.*|.*not found.*|invalid .*|file does not exist.*|"
                    r"parameters did not match.*|.*already in use.*)$")


class Monitor:
    def __init__(self, port: int, deadline: Deadline, alive=lambda: True) -> None:
        # A refused connect costs microseconds; polling every 10 ms rather than 50 ms
        # takes ~20 ms on average off a cold Renode run's wait for its monitor.
        try:
            self.sock = retry(lambda: socket.create_connection(("127.0.0.1", port), timeout=1.0),
                              deadline, (OSError,), interval=0.01, alive=alive)
        except OSError:
            raise EmulatorError(f"Renode's monitor never answered on port {port}") from None
        self.transcript: list[str] = []
        self._buf = ""
        self.read_prompt(deadline)

    def execute(self, command: str, timeout: float = 30.0, check: bool = True) -> str:
        """Run a monitor command; return its output. Raises EmulatorError when
        Renode reports an error and `check` is set."""
        self.send(command)
        out = self.read_prompt(Deadline(timeout), echo=command.strip())
        if check and ERRORS.search(out):
            raise EmulatorError(f"Renode rejected `{command}`: {out.strip()}")
        return out.strip()

    def send(self, command: str) -> None:
        self.transcript.append(f">>> {command}")
        try:
            self.sock.sendall(command.encode() + b"\n")
        except OSError as exc:                 # Renode died or closed its monitor
            raise EmulatorError(f"Renode's monitor is gone ({exc.strerror or exc})") from None

    def read_prompt(self, deadline: Deadline, echo: str | None = None) -> str:
        """Output up to the next prompt; with `echo`, only a prompt that follows the
        command's echo counts, so a stray or doubled prompt cannot shift the replies."""
        while True:
            text = self._buf.replace("\r", "")
            start = 0
            if echo is not None:                       # wait for the whole echoed line
                at = text.find(echo)
                end_of_echo = text.find("\n", at) if at >= 0 else -1
                start = end_of_echo + 1 if end_of_echo >= 0 else -1
            m = PROMPT_AT.search(text, start) if start >= 0 else None
            if m:
                out, self._buf = text[start:m.start()], text[m.end():]
                self.transcript.append(out)
                return out
            self._receive(deadline, text)

    def _receive(self, deadline: Deadline, text: str) -> None:
        left = deadline.remaining()
        if left <= 0:
            raise EmulatorError(f"Renode's monitor gave no prompt in time; last output: "
                                f"{text[-300:]!r}")
        self.sock.settimeout(min(left, 1.0))
        try:
            data = self.sock.recv(4096)
        except socket.timeout:
            return
        except OSError as exc:
            raise EmulatorError(f"Renode's monitor connection failed: {exc}") from None
        if not data:
            raise EmulatorError("Renode closed its monitor connection")
        self._buf += ANSI.sub("", self._negotiate(data).decode("utf-8", "replace"))

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def _negotiate(self, data: bytes) -> bytes:
        """Strip telnet commands, refusing every option Renode proposes."""
        out, i = bytearray(), 0
        while i < len(data):
            b = data[i]
            if b == IAC and i + 1 < len(data):
                cmd = data[i + 1]
                if cmd in (DO, DONT, WILL, WONT) and i + 2 < len(data):
                    opt = data[i + 2]
                    if cmd in (DO, WILL):
                        self.sock.sendall(bytes([IAC, WONT if cmd == DO else DONT, opt]))
                    i += 3
                    continue
                if cmd == SB:
                    end = data.find(bytes([IAC, SE]), i)
                    i = len(data) if end < 0 else end + 2
                    continue
                i += 2
                continue
            out.append(b)
            i += 1
        return bytes(out)
