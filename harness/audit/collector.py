"""What the emulated MPU held for each user thread during the run, from QEMU's own trace
of the writes to its system registers (`-trace nvic_sysreg_write`, `-trace
nvic_acknowledge_irq`, written to a file with `-D`).

The trace is passive: nothing stops the CPU, so the firmware runs exactly as it would
unaudited (with -icount its UART output is byte-identical). Stopping it through QEMU's
gdbstub was tried and measured first: every stop let QEMU's icount clock warp to the
next timer, and the UART log diverged at byte 210 (docs/domain-audit.md).

The collector replays the writes to MPU_RNR, MPU_RBAR and MPU_RASR (and MPU_CTRL) into
the region table, and takes the table as it stands at each PendSV, the exception in
which Zephyr switches threads: that is the configuration the outgoing thread ran with
(its switch-in programmed it, and a drop to user mode reprograms it before it runs on).
A user thread is known by the stack the MPU lets it write (the ELF symbol that holds
that region's base), the one region Zephyr grants every user thread for itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.audit.elf_map import ElfMap
from harness.judging.domains import MpuRegion, ThreadView, user_map

TRACE_ARGS = ("-trace", "nvic_sysreg_write", "-trace", "nvic_acknowledge_irq")
WRITE = re.compile(r"nvic_sysreg_write .*?addr 0x([0-9a-f]+) data 0x([0-9a-f]+)")
ACK = re.compile(r"nvic_acknowledge_irq .*?IRQ: (\d+) now active")
CTRL, RNR, RBAR, RASR = 0xD94, 0xD98, 0xD9C, 0xDA0      # offsets in the System Control Space
PENDSV = 14
RBAR_VALID = 1 << 4


@dataclass
class Seen:
    stops: int = 0
    stack: tuple[int, int] | None = None
    configs: set = field(default_factory=set)      # (MPU enabled, ((n, RBAR, RASR), ...))


class MpuTrace:
    trace_args = TRACE_ARGS             # what QEMU is given (with -D <run dir>/trace_file)
    trace_file = "qemu-mpu-trace.log"   # kept with the run: the audit's evidence

    def __init__(self, elf: ElfMap) -> None:
        self.elf = elf
        self.threads: dict[str, Seen] = {}
        self.switches = 0               # PendSVs seen: configurations taken
        self.writes = 0                 # MPU region writes seen
        self.error: str | None = None

    def read(self, path: Path) -> None:
        """Replay the trace file of the run."""
        try:
            lines = path.read_text(errors="replace").splitlines()
        except OSError as exc:
            self.error = f"no MPU trace at {path}: {exc.strerror}"
            return
        self.replay(lines)

    def replay(self, lines) -> None:
        regions: dict[int, list[int]] = {}
        selected, enabled = 0, False
        for line in lines:
            if m := WRITE.search(line):
                addr, value = int(m.group(1), 16), int(m.group(2), 16)
                if addr == RNR:
                    selected = value & 0xFF
                elif addr == RBAR:
                    if value & RBAR_VALID:
                        selected = value & 0xF
                    regions.setdefault(selected, [0, 0])[0] = value
                elif addr == RASR:
                    regions.setdefault(selected, [0, 0])[1] = value
                    self.writes += 1
                elif addr == CTRL:
                    enabled = bool(value & 1)
            elif (m := ACK.search(line)) and int(m.group(1)) == PENDSV:
                self._take(enabled, regions)
        self._take(enabled, regions, last=True)       # the thread that ran last

    def _take(self, enabled: bool, regions: dict, last: bool = False) -> None:
        table = tuple((n, *regions[n]) for n in sorted(regions))
        stack = self._own_stack([MpuRegion(*r) for r in table])
        self.switches += 0 if last else 1
        if stack is None:
            return                                    # a supervisor thread: no user stack
        name = self.elf.holder(stack[0]) or f"stack@0x{stack[0]:08x}"
        seen = self.threads.setdefault(name, Seen())
        seen.stops += 1
        seen.stack = stack
        seen.configs.add((enabled, table))

    def _own_stack(self, regions: list[MpuRegion]) -> tuple[int, int] | None:
        """The region that lets unprivileged code write outside every partition: the
        running thread's stack (the highest-numbered such region wins, as in the MPU)."""
        parts = self.elf.partitions()
        own = [r for r in regions if r.enabled and "w" in r.user_access and
               not any(p.start < r.base + r.size and r.base < p.end for p in parts)]
        if not own:
            return None
        r = max(own, key=lambda r: r.number)
        return r.base, r.base + r.size

    def views(self) -> list[ThreadView]:
        return [ThreadView(name, True,
                           [s for enabled, table in sorted(seen.configs)
                            for s in user_map([MpuRegion(*r) for r in table], enabled)],
                           seen.stack, seen.stops)
                for name, seen in sorted(self.threads.items())]

    def stacks(self) -> dict[str, tuple[int, int]]:
        return {name: seen.stack for name, seen in self.threads.items() if seen.stack}
