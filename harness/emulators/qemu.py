"""QEMU adapter: the UART on a TCP server chardev with wait=on, which holds the whole
machine until the harness has connected (so no boot line is lost, with no -S and no
QMP round trips before the first instruction); QMP is there for `quit`."""
from __future__ import annotations

import json
import socket
import threading
from pathlib import Path

from harness.emulators.base import Emulator
from harness.errors import EmulatorError, SetupError
from harness.host.deadline import Deadline, retry
from harness.host.process import cpu_seconds, tool_version, which
from harness.stream.uart import free_port

QMP_TIMEOUT_S = 5.0


class Qemu(Emulator):
    name = "qemu"
    settle_s = 0.05          # with -icount ...,sleep=off the guest runs flat out: its late
                             # fault dump would arrive within milliseconds
    install_hint = "apt-get install qemu-system-arm qemu-system-x86 (or put QEMU on PATH)"

    def binary(self) -> str:
        exe = which(self.settings["binary"], self.environ)
        if not exe:
            raise SetupError(f"{self.settings['binary']} not found on PATH", self.install_hint)
        return exe

    def launch(self, elf: Path) -> int:
        uart_port, self.qmp_port = free_port(), free_port()
        audit = []
        if getattr(self.audit, "trace_args", None):   # QEMU traces its MPU writes (audit)
            audit = [*self.audit.trace_args, "-D", str(self.run_dir / self.audit.trace_file)]
        argv = [self.binary(), *map(str, self.settings.get("args", [])), *audit,
                "-display", "none", "-monitor", "none",
                "-chardev", f"socket,id=con,host=127.0.0.1,port={uart_port},server=on,wait=on",
                "-serial", "chardev:con",
                "-qmp", f"tcp:127.0.0.1:{self.qmp_port},server=on,wait=off",
                "-kernel", str(elf)]
        self.spawn(argv)
        return uart_port

    _sampler = None            # (done, thread, its QMP connection) of the x86 domain audit

    def resume(self) -> None:
        """The CPU runs from the moment the UART reader connected; the x86 domain audit
        starts sampling guest memory over QMP (the one QMP client until the teardown)."""
        if getattr(self.audit, "needs_snapshot", False):
            try:
                qmp = Qmp(self.qmp_port, Deadline(2.0))
            except (EmulatorError, OSError, ValueError) as exc:
                self.audit.error = f"no QMP for the domain audit: {exc}"
                return
            done = threading.Event()
            sampler = threading.Thread(target=self.audit.follow, name="domain-audit",
                                       args=(qmp, self.run_dir, done), daemon=True)
            self._sampler = done, sampler, qmp
            sampler.start()

    def stop(self) -> dict:
        """The x86 domain audit's sampling ends and its last snapshot is taken here, after
        the run and before QEMU quits; a failure there is the audit's, not the run's."""
        if self._sampler is not None:
            done, thread, qmp = self._sampler
            self._sampler = None
            done.set()
            qmp.shutdown()              # a sample waiting on QEMU's answer ends now
            thread.join(5.0)
            qmp.close()                 # QMP serves one client at a time
            if thread.is_alive():
                self.audit.stopped = "the sampler did not end: no last snapshot"
            elif self.poll() is None and not self.teardown.get("ended_by"):
                last = None
                try:
                    last = Qmp(self.qmp_port, Deadline(2.0))
                    self.audit.snapshot(last, self.run_dir / self.audit.trace_file)
                except (EmulatorError, OSError, ValueError) as exc:
                    self.audit.stopped = f"the last snapshot could not be saved over QMP: {exc}"
                finally:
                    if last is not None:
                        last.close()
        return super().stop()

    def request_quit(self) -> None:
        try:
            Qmp(self.qmp_port, Deadline(1.0)).send("quit")   # the process exit is the answer
        except EmulatorError as exc:            # no QMP (yet): the teardown goes on to signals
            raise ConnectionError(str(exc)) from None

    def busy_time(self) -> float | None:
        """With -icount and sleep=off, QEMU's virtual clock jumps to the next armed timer
        as soon as the guest idles, so QEMU using no CPU at all means a guest halted with
        nothing armed to wake it (no input comes: the harness sends none)."""
        args = " ".join(map(str, self.settings.get("args", [])))
        if "-icount" not in args or "sleep=off" not in args or self.proc is None:
            return None
        if self._sampler is not None:   # the audit's memory samples keep QEMU busy: no
            return None                 # STALL from CPU use while it samples (HANG still)
        return cpu_seconds(self.proc.pid) if self.proc.poll() is None else None

    def version(self) -> str:
        return tool_version((self.binary(), "--version"))


class Qmp:
    """Just enough QMP: greeting, capabilities, commands."""

    def __init__(self, port: int, deadline: Deadline) -> None:
        try:
            self.sock = retry(lambda: socket.create_connection(("127.0.0.1", port),
                                                               timeout=QMP_TIMEOUT_S),
                              deadline, (OSError,))
        except OSError:
            raise EmulatorError(f"QMP port {port} never accepted a connection") from None
        self.file = self.sock.makefile("rwb")
        try:
            if not self._reply():           # greeting
                raise EmulatorError("QMP closed the connection before its greeting")
            self.execute("qmp_capabilities")
        except (OSError, ValueError) as exc:
            self.close()
            raise EmulatorError(f"QMP on port {port}: {exc}") from None
        except EmulatorError:
            self.close()
            raise

    def shutdown(self) -> None:
        """End the connection both ways: a read waiting on it returns."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        for part in (self.file, self.sock):
            try:
                part.close()
            except OSError:
                pass

    def execute(self, command: str, **arguments) -> dict:
        self.send(command, **arguments)
        return self._reply()

    def send(self, command: str, **arguments) -> None:
        msg = {"execute": command, **({"arguments": arguments} if arguments else {})}
        self.file.write(json.dumps(msg).encode() + b"\n")
        self.file.flush()

    def _reply(self) -> dict:
        while True:
            raw = self.file.readline()
            if not raw:                     # QEMU closed the connection (e.g. on quit)
                return {}
            msg = json.loads(raw)
            if "event" not in msg:          # skip asynchronous events
                if "error" in msg:
                    raise EmulatorError(f"QMP error: {msg['error']}")
                return msg
