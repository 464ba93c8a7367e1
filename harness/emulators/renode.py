"""Renode adapter: headless Renode driven over its monitor, the UART on a
server socket terminal connected before `start`.

Each run gets its own HOME and TMPDIR inside the run directory (Renode and
Mono write ~/.config, ~/.mono and /tmp/renode-<pid>). Virtual time comes
from `machine ElapsedVirtualTime`, so a frozen core is told apart from a
silent one (STALL vs HANG).
"""
from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

from harness.emulators.base import Emulator
from harness.emulators.monitor import Monitor
from harness.errors import EmulatorError, SetupError
from harness.paths import BOARDS_DIR
from harness.process import tool_version
from harness.uart import free_port

STARTUP_TIMEOUT_S = 60.0     # host seconds for Mono + Renode to open the monitor
VTIME = re.compile(r"(\d+):(\d+):(\d+(?:\.\d+)?)")


class Renode(Emulator):
    name = "renode"
    install_hint = ("Renode is in no package registry: build it from github.com/renode/renode "
                    "(1.14 or newer) or install a release, then put `renode` on PATH or pass "
                    "--renode PATH (or set HARNESS_RENODE)")

    def binary(self) -> str:
        exe = shutil.which(self.settings.get("binary", "renode"))
        if not exe:
            raise SetupError(f"{self.settings.get('binary', 'renode')} not found", self.install_hint)
        return exe

    def launch(self, elf: Path) -> int:
        self.monitor = None
        home, tmp = self.run_dir / "renode-home", self.run_dir / "renode-tmp"
        home.mkdir(exist_ok=True)
        tmp.mkdir(exist_ok=True)
        monitor_port, uart_port = free_port(), free_port()
        env = {**os.environ, "HOME": str(home), "TMPDIR": str(tmp)}
        self.spawn([self.binary(), "--disable-xwt", "--plain", "--port", str(monitor_port)],
                   env=env, keep_stdin_open=True)
        self.monitor = Monitor(monitor_port, time.monotonic() + STARTUP_TIMEOUT_S,
                               alive=lambda: self.proc.poll() is None)
        platform = (BOARDS_DIR / self.settings["platform"]).resolve()
        for command in [f'mach create "{self.board.name}"',
                        f"machine LoadPlatformDescription @{platform}",
                        f"sysbus LoadELF @{elf}",
                        f'emulation CreateServerSocketTerminal {uart_port} "term" false',
                        f"connector Connect {self.settings['uart']} term",
                        *self.settings.get("commands", [])]:
            self.monitor.execute(command)
        return uart_port

    def resume(self) -> None:
        self.monitor.execute("start")

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
        result = super().stop()
        if self.monitor:
            (self.run_dir / "renode-monitor.txt").write_text("\n".join(self.monitor.transcript))
            self.monitor.close()
        for scratch in ("renode-home", "renode-tmp"):      # Renode's and Mono's scratch files
            shutil.rmtree(self.run_dir / scratch, ignore_errors=True)
        return result
