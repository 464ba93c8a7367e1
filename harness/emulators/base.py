"""The emulator interface: one small template, hooks with one-line docstrings.

start(): launch paused -> attach the UART reader -> resume, so no boot line is lost.
stop(): bounded, idempotent teardown of the whole process group; always call it.
"""
from __future__ import annotations

import abc
from pathlib import Path

import serial

from harness.errors import EmulatorError, SetupError
from harness.host.deadline import Deadline
from harness.host.files import tail
from harness.host.process import OwnedProcess
from harness.stream import uart

START_ATTEMPTS = 3      # new ports each time, when another process took ours
CONNECT_TIMEOUT_S = 10.0


class Emulator(abc.ABC):
    name = "emulator"
    install_hint = ""
    pool_class = None        # adapters whose processes a session may reuse name their pool
    build_dir: Path | None = None   # the firmware's build directory, where the caller knows it
    settle_s = 0.2           # host seconds of capture after the expected sequence completed,
                             # to catch a late fault (an expectation's after_success_s wins)
    settle_guest_s: float | None = None     # or guest seconds, for emulators that report them
    audit = None             # the domain audit's collector (harness.audit), for adapters
    coverage_trace = None    # where Renode writes its PC trace for --coverage (a Path)
                             # that feed one

    def __init__(self, board, settings: dict, run_dir: Path, pool, environ: dict) -> None:
        self.board = board
        self.settings = settings
        self.run_dir = run_dir
        self.pool = pool                        # an instance of pool_class, or None
        self.environ = environ                  # the session's: PATH lookups, Renode's base
        self.proc: OwnedProcess | None = None
        self.teardown: dict = {}

    def check_version(self) -> None:
        """Raise SetupError when the installed emulator is older than the board needs."""

    # -- hooks -------------------------------------------------------------
    @abc.abstractmethod
    def launch(self, elf: Path) -> int | Path:
        """Start the emulator paused with its UART on a TCP server or going to a file;
        return that port or file."""

    @abc.abstractmethod
    def resume(self) -> None:
        """Let the CPU run; called once the UART reader is attached."""

    @abc.abstractmethod
    def request_quit(self) -> None:
        """Ask the emulator to quit through its control channel (first teardown step)."""

    @abc.abstractmethod
    def version(self) -> str:
        """The emulator's version string, for reports and certificate caching."""

    def uart_sender(self, source):
        """How bytes get into the board's UART: a callable taking bytes, or None."""
        return getattr(source, "send", None)

    def virtual_time(self) -> float | None:
        """Guest seconds elapsed, where the emulator reports them (None otherwise)."""
        return None

    def busy_time(self) -> float | None:
        """Where the emulator reports no virtual time but cannot idle while its guest can
        still move (e.g. QEMU with -icount sleep=off): its CPU seconds so far."""
        return None

    # -- template ----------------------------------------------------------
    def start(self, elf: Path) -> uart.UartStream:
        elf = Path(elf).resolve()                  # the emulator runs in the run directory
        if not elf.is_file():
            raise EmulatorError(f"no firmware image at {elf}", "build it first (harness run does)")
        for attempt in range(1, START_ATTEMPTS + 1):
            try:
                endpoint = self.launch(elf)
                source = uart.open_source(endpoint, Deadline(CONNECT_TIMEOUT_S),
                                          alive=lambda: self.proc.poll() is None)
            except (serial.SerialException, EmulatorError) as exc:
                self.stop()
                if attempt < START_ATTEMPTS and "in use" in f"{exc} {self.output_tail()}":
                    continue                          # another process took a port: new ports
                if isinstance(exc, EmulatorError):
                    raise
                raise EmulatorError(f"{self.name} did not open its UART at {endpoint}: {exc}",
                                    f"emulator output: {self.output_tail() or '(none)'}; "
                                    f"full log: {self.proc.log_path}") from None
            stream = uart.UartStream(source, self.run_dir / "uart.raw",
                                     sender=self.uart_sender(source))
            try:
                self.resume()
            except (OSError, ValueError, EmulatorError) as exc:
                stream.close()
                rc = self.poll()
                self.stop()
                what = f"exited with rc {rc} during start-up" if rc is not None else \
                    f"could not be resumed: {exc}"
                raise EmulatorError(f"{self.name} {what}",
                                    f"emulator output: {self.output_tail()}") from None
            return stream
        raise AssertionError("unreachable")

    def spawn(self, argv: list[str], env: dict | None = None,
              keep_stdin_open: bool = False) -> OwnedProcess:
        self.teardown = {}                            # a new process: not stopped yet
        try:
            self.proc = OwnedProcess(argv, self.run_dir / f"{self.name}.log", env=env,
                                     cwd=self.run_dir, keep_stdin_open=keep_stdin_open)
        except OSError as exc:
            raise SetupError(f"cannot start {argv[0]}: {exc.strerror}", self.install_hint) from None
        return self.proc

    def poll(self) -> int | None:
        """Exit code if the emulator has exited, else None."""
        return self.proc.poll() if self.proc else None

    def stop(self) -> dict:
        if self.proc and not self.teardown.get("ended_by"):
            self.teardown = self.proc.stop(polite=self.request_quit)
        return self.teardown

    def output_tail(self, n: int = 5) -> str:
        """Last lines the emulator printed on stdout/stderr."""
        try:
            return tail((self.run_dir / f"{self.name}.log").read_bytes(), n)
        except OSError:
            return ""
