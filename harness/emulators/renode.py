"""Renode adapter: headless Renode driven over its monitor, the UART attached
before `start`, so no boot line is lost.

The UART goes to a file backend (`uart_transport: file`, the default): Renode
appends each byte from the emulated CPU's thread and the harness follows the
file. The socket terminal (`uart_transport: socket`, read with pyserial) costs
a host core: Renode 1.14's SocketServerProvider busy-polls its queue for 60 ms
after every byte, and on a 2-core runner that thread competes with the
emulated CPU (measured here: prod_consumer on mps2_an385 ran 1.0 s with the
socket terminal and 0.65 s with the file backend, warm, at 1 MIPS). Those
threads, the monitor's as well, now run at nice 19 (see resume and renode_host),
which narrows the gap without closing it.

The Renode process is a `RenodeHost`: lent by the session's pool (a fresh
emulation in a process kept from an earlier run, see renode_host) or, without
a pool, started for this run alone and stopped after it. Either way the run
directory gets the run's part of Renode's output (renode.log) and of the
monitor transcript (renode-monitor.txt). Virtual time comes from
`machine ElapsedVirtualTime`, so a frozen core is told apart from a silent one
(STALL vs HANG).
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from harness.emulators import renode_install, resc
from harness.emulators.base import Emulator
from harness.emulators.renode_host import SPINNING_THREADS, HostPool, RenodeHost
from harness.emulators.renode_install import version_tuple  # noqa: F401  (re-exported)
from harness.errors import EmulatorError, SetupError, UsageError
from harness.host.files import tail
from harness.host.process import lower_threads, tool_version, which
from harness.inputs.boards import ZEPHYR_SCRIPT, beside, platform_file
from harness.stream.uart import free_port

VTIME = re.compile(r"(\d+):(\d+):(\d+(?:\.\d+)?)")
class Renode(Emulator):
    name = "renode"
    install_hint = renode_install.HINT

    pool_class = HostPool
    # The capture window after completion in guest time (at most settle_s host seconds):
    # half a guest second is 50 ticks of a 100 Hz kernel, and takes prod_consumer on
    # mps2_an385 about 0.07 s of host time instead of the whole 0.2 s.
    settle_guest_s = 0.5
    host: RenodeHost | None = None
    monitor = None
    _prepare: tuple[str, ...] = ()
    _stamp: tuple | None = None

    def binary(self) -> str:
        exe = which(self.settings.get("binary", "renode"), self.environ)
        if not exe:
            raise SetupError(f"{self.settings.get('binary', 'renode')} not found", self.install_hint)
        return os.path.abspath(exe)                 # Renode runs in its own directory

    def check_version(self) -> None:
        """A board file's `min_version`: refuse an older Renode before starting anything."""
        wanted = self.settings.get("min_version")
        if not wanted:
            return
        found = version_tuple(self.version())
        if found is None or found < version_tuple(str(wanted)):
            raise SetupError(f"{self.board.name} needs Renode {wanted} or newer; found "
                             f"{'.'.join(map(str, found)) if found else self.version()}",
                             self.install_hint)

    def launch(self, elf: Path) -> int | Path:
        binary = self.binary()
        self.check_version()
        self._prepare, machine, uart = self._machine(elf)
        self._uart_name = uart
        self._stamp = self._platform_stamp()
        endpoint, attach = self._uart(uart)
        self.teardown = {}
        # A pooled host may come with `_prepare` already run on it (see renode_host).
        self.host = self.pool.take(binary, self._prepare, self._stamp) if self.pool else \
            RenodeHost(binary, self.run_dir / "renode-host", self.environ)
        self.proc, self.monitor = self.host.proc, self.host.monitor
        self._log_from, self._transcript_from = self.host.begins
        self.host.runs += 1
        begin = () if self.host.prepared else self._prepare
        audit = []                         # a hook on PendSV reads the MPU for the domain audit
        if self.audit is not None:
            audit = [self.audit.hook(self._cpu, self.run_dir / self.audit.trace_file)]
        if self.coverage_trace is not None:    # --coverage: the PC of every instruction run
            audit.append(f'{self._cpu} CreateExecutionTracing "harness_coverage" '
                         f"@{self.coverage_trace} PC true")
        for command in [*begin, *machine, *attach, *audit, *self.settings.get("commands", [])]:
            self.monitor.execute(command)
        return endpoint

    def _machine(self, elf: Path) -> tuple[tuple[str, ...], list[str], str]:
        """The monitor commands that create the machine with `elf` loaded, and its UART:
        from the board's platform description, or from a Renode script (`script:`). The
        first part does not depend on `elf` (creating the machine and loading its platform
        description), so a kept Renode can run it for the next run ahead of time."""
        if "script" not in self.settings:
            platform = platform_file(self.board, self.settings)
            return ((f'mach create "{self.board.name}"',
                     f"machine LoadPlatformDescription @{platform}"),
                    [f"sysbus LoadELF @{elf}"], self.settings["uart"])
        wanted = self.settings["script"]
        script = resc.load(beside(self.board, wanted) if wanted != ZEPHYR_SCRIPT
                           else resc.zephyr_script(self.build_dir or elf.parent.parent))
        uart = self.settings.get("uart") or script.uart
        if not uart:
            raise UsageError(f"the Renode script {script.path} shows no UART (showAnalyzer)",
                             f"name the console UART with `uart:` in {self.board.path}")
        copy = self.run_dir / "board.resc"       # kept with the run: what Renode was given
        copy.write_text(script.text)
        return (), [f"$bin=@{elf}", f"include @{copy}"], uart

    def _platform_stamp(self) -> tuple | None:
        """The platform description's state (inode, mtime, ctime, size; ctime also
        changes where a copy kept the mtime): a kept Renode that loaded
        it in another state (edited between two runs of a session) loads it anew.
        Files it includes (`using`) are not followed."""
        if "script" in self.settings:
            return None
        try:
            st = platform_file(self.board, self.settings).stat()
        except OSError:
            return None                          # LoadPlatformDescription reports it
        return st.st_ino, st.st_mtime_ns, st.st_ctime_ns, st.st_size

    def _uart(self, uart: str) -> tuple[int | Path, list[str]]:
        """Where the UART goes, and the monitor commands that send it there."""
        transport = self.settings.get("uart_transport", "file")
        if transport == "socket":
            port = free_port()
            return port, [f'emulation CreateServerSocketTerminal {port} "term" false',
                          f"connector Connect {uart} term"]
        if transport != "file":
            raise UsageError(f"unknown uart_transport '{transport}' in the board's renode settings",
                             "use file (the default) or socket")
        n = 0
        while (path := self.run_dir / f"renode-uart{n or ''}.bin").exists():
            n += 1                                # a retried start: Renode wants a new file
        return path, [f"{uart} CreateFileBackend @{path} true"]

    def resume(self) -> None:
        # A socket terminal's server threads spin after every byte like the monitor's
        # (see renode_host): lowered too, before `start` and again after it, for a
        # writer thread Renode had not started yet (it does on accepting the
        # connection). Measured, prod_consumer on mps2_an385, warm, median of 10, two
        # processes each: 0.33-0.34 -> 0.31-0.32 s a run, the part after `start`
        # 0.14-0.15 -> 0.10-0.11 s.
        by_socket = self.settings.get("uart_transport", "file") == "socket"
        if by_socket:
            lower_threads(self.proc.sid, SPINNING_THREADS)
        self.monitor.execute("start")
        if by_socket:
            lower_threads(self.proc.sid, SPINNING_THREADS)

    def uart_sender(self, source):
        """The file backend only carries the board's output, so input goes through the
        monitor, as Renode's own Write To Uart with a Write Char Delay does it: each byte
        is handed to the UART model (WriteChar) on the emulation's own thread, scheduled
        `uart_input_gap_us` of virtual time after the one before (default 1000). Bytes
        fed from another thread at host speed race the guest's interrupt handler (seen
        here: Zephyr's shell on the CMSDK UART stopped reading for good when a byte came
        between its last read and its clearing of the RX interrupt), and one monitor
        command per write instead of one per byte."""
        if self.settings.get("uart_transport", "file") == "socket":
            return source.send
        uart, gap = self._uart_name, int(self.settings.get("uart_input_gap_us", 1000))

        def send(data: bytes) -> None:
            # after the bytes of an earlier write still on their way (kept per machine)
            self.monitor.execute(
                'python "from Antmicro.Renode.Time import TimeInterval as T; m = self.Machine; '
                f"u = m['{uart}']; q = globals().setdefault('_harness_uart_next', {{}}); "
                "q = {m: q.get(m, 0)}; globals()['_harness_uart_next'] = q; "
                "now = int(m.LocalTimeSource.ElapsedVirtualTime.TotalSeconds * 1000000); "
                "at = max(now, q.get(m, 0)) - now; "
                f"[m.ScheduleAction(T.FromMicroseconds(at + {gap} * (i + 1)), "
                "(lambda c: (lambda _: u.WriteChar(c)))(c)) "
                f"for i, c in enumerate({list(data)})]; "
                f'q[m] = now + at + {gap} * {len(data)}"')
        return send

    def request_quit(self) -> None:
        if self.monitor:
            self.monitor.send("quit")

    def version(self) -> str:
        return tool_version((self.binary(), "--version"))

    def virtual_time(self) -> float | None:
        if not self.monitor or self.poll() is not None:
            return None
        try:
            out = self.monitor.execute("machine ElapsedVirtualTime", timeout=5.0, check=False)
        except EmulatorError:
            return None
        m = VTIME.search(out)
        if not m:
            return None
        h, mnt, sec = m.groups()
        return int(h) * 3600 + int(mnt) * 60 + float(sec)

    def stop(self) -> dict:
        """Keep the run's logs, then give the host back to the pool (kept, and reset in
        the background for the next run) or stop it."""
        host = self.host
        if host is None or self.teardown.get("ended_by"):
            return self.teardown
        if (self.audit is not None or self.coverage_trace is not None) and host.proc.poll() is None:
            self._end_traces()
        if self.pool:                        # the run's part, before a reset adds to it
            self._keep_logs(host)
            self.teardown = self.pool.give(host, self._prepare, self._stamp)
        else:
            self.teardown = host.stop()
            self._keep_logs(host)             # with what it printed as it quit
        self.teardown["renode_runs_in_process"] = host.runs
        self.teardown["renode_aot_images"] = str(host.aot_images) if host.aot_images else None
        self.teardown["renode_mono_gc_params"] = host.mono_gc_params
        for uart_file in self.run_dir.glob("renode-uart*.bin"):
            uart_file.unlink()                    # uart.raw holds the same bytes
        if not self.pool:
            shutil.rmtree(host.scratch, ignore_errors=True)
        return self.teardown

    @property
    def _cpu(self) -> str:
        """The CPU's name in the monitor (the board file's `cpu:`)."""
        return self.settings.get("cpu", "sysbus.cpu")

    def _end_traces(self) -> None:
        """The run is over: pause the emulation (a kept Renode runs on until its reset),
        then the domain audit's last MPU table and the end of the coverage trace (its
        writer flushes and closes the file). A failure leaves the audit or the trace
        short, never the run's verdict."""
        commands = ["pause"]
        if self.audit is not None:
            commands.append(self.audit.last_table(self._cpu, self.run_dir / self.audit.trace_file))
        if self.coverage_trace is not None:
            commands.append(f"{self._cpu} DisableExecutionTracing")
        try:
            for command in commands:
                self.monitor.execute(command, timeout=30.0, check=False)
        except EmulatorError:
            pass

    def _keep_logs(self, host: RenodeHost) -> None:
        (self.run_dir / "renode.log").write_bytes(host.log_since(self._log_from))
        (self.run_dir / "renode-monitor.txt").write_text(
            "\n".join(host.monitor.transcript[self._transcript_from:]) + "\n")

    def output_tail(self, n: int = 5) -> str:
        if self.host is None:
            return ""
        return tail(self.host.log_since(self._log_from), n)
