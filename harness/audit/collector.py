"""What the emulated MPU held for each user thread during the run, taken at each PendSV
(the exception in which Zephyr switches threads): that is the configuration the
outgoing thread ran with (its switch-in programmed it, and a drop to user mode
reprograms it before it runs on). Neither way stops the CPU:

- QEMU (`MpuTrace`): QEMU's own trace of the writes to its system registers (`-trace
  nvic_sysreg_write`, `-trace nvic_acknowledge_irq`, written to a file with `-D`),
  replayed: the writes to MPU_RNR, MPU_RBAR, MPU_RASR and MPU_CTRL into the region
  table, taken at each PendSV acknowledged. Stopping the CPU through QEMU's gdbstub
  was tried and measured first: every stop let QEMU's icount clock warp to the next
  timer, and the UART log diverged at byte 210 (docs/domain-audit.md).
- Renode (`MpuSnapshots`): an execution hook on the first instruction of Zephyr's
  PendSV handler (`z_arm_pendsv`, from the ELF) reads the region table from the CPU
  model (the same registers the NVIC serves, region by region, the region number
  put back after) and appends it to a file. A hook costs no virtual time.

Both give the same table in the same form: RBAR as it reads back (base | region
number), disabled regions left out. A user thread is known by the stack the MPU lets
it write (the ELF symbol that holds that region's base), the one region Zephyr grants
every user thread for itself.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from harness.audit.elf_map import ElfMap
from harness.errors import SetupError
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


class MpuTable:
    """The tables seen at thread switches, per user thread (by its own stack)."""
    trace_file = "mpu-trace.log"        # kept with the run: the audit's evidence

    def __init__(self, elf: ElfMap) -> None:
        self.elf = elf
        self.threads: dict[str, Seen] = {}
        self.switches = 0               # PendSVs seen: configurations taken
        self.tables = 0                 # region tables taken (with the last one of a trace)
        self.writes: int | None = None  # MPU region writes seen (QEMU's trace only)
        self.error: str | None = None

    def read(self, path: Path) -> None:
        """Take the tables from the trace file of the run."""
        try:
            text = path.read_text(errors="replace")
        except OSError as exc:
            self.error = f"no MPU trace at {path}: {exc.strerror}"
            return
        lines = text.splitlines()
        if text and not text.endswith("\n"):
            lines.pop()                 # a line still being written when the run ended
        self.replay(lines)

    def replay(self, lines) -> None:
        raise NotImplementedError

    def _take(self, enabled: bool, regions: dict, last: bool = False) -> None:
        table = tuple((n, (rbar & 0xFFFFFFE0) | n, rasr)
                      for n, (rbar, rasr) in sorted(regions.items()) if rasr)
        stack = self._own_stack([MpuRegion(*r) for r in table])
        self.switches += 0 if last else 1
        self.tables += 1
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

    def notes(self) -> dict:
        """What the collector adds to the audit's report (nothing, for the MPU)."""
        return {}


class MpuTrace(MpuTable):
    """QEMU: the MPU register writes of the run, replayed."""
    method = ("Armv7-M MPU regions as the emulated MPU held them at each thread switch "
              "(PendSV), replayed from QEMU's trace of its system-register writes; nothing "
              "stops the CPU")
    trace_args = TRACE_ARGS             # what QEMU is given (with -D <run dir>/trace_file)
    trace_file = "qemu-mpu-trace.log"

    def replay(self, lines) -> None:
        self.writes = 0
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


SNAPSHOT = re.compile(r"^(pendsv|final) enabled=([01])((?: \d+:[0-9a-f]+:[0-9a-f]+)*)\s*$")


class MpuSnapshots(MpuTable):
    """Renode: the region table read by a hook at each PendSV, one line each."""
    method = ("Armv7-M MPU regions as the emulated MPU held them at each thread switch "
              "(PendSV), read from Renode's CPU model by a hook on the PendSV handler; "
              "nothing stops the CPU and the hook costs no virtual time")
    trace_file = "renode-mpu-trace.log"

    def hook(self, cpu: str, path: Path) -> str:
        """The monitor command that installs the hook (IronPython, one line; the region
        number register is put back as it was)."""
        try:
            entry = self.elf.address("z_arm_pendsv") & ~1      # a Thumb symbol
        except KeyError:
            raise SetupError("the ELF has no z_arm_pendsv: not a "
                             "Zephyr Arm image with thread switching by PendSV",
                             "audit Zephyr images for Armv7-M boards") from None
        return f'{cpu} AddHook 0x{entry:x} "{_table_script("pendsv", path)}"'

    def last_table(self, cpu: str, path: Path) -> str:
        """The monitor command that appends the table as the run ended (the emulation
        paused): the thread that ran last, which no PendSV showed leaving."""
        return (f'python "cpu = self.Machine[\'{cpu}\']; '
                f'{_table_script("final", path)}"')

    def replay(self, lines) -> None:
        enabled, regions = False, {}
        for line in lines:
            m = SNAPSHOT.match(line)
            if not m:
                continue
            enabled = m.group(2) == "1"
            regions = {int(n): [int(rbar, 16), int(rasr, 16)]
                       for n, rbar, rasr in (r.split(":") for r in m.group(3).split())}
            self._take(enabled, regions, last=m.group(1) == "final")


def _table_script(label: str, path: Path) -> str:
    """IronPython, one line, with `cpu` the CPU: appends `label enabled=E n:RBAR:RASR ...`
    to `path`, the region number register put back as it was."""
    return ("n = cpu.MPURegionNumber; rows = ['%d:%x:%x' % (i, (setattr(cpu, "
            "'MPURegionNumber', i), cpu.MPURegionBaseAddress)[1], "
            "cpu.MPURegionAttributeAndSize) for i in range(int(cpu.NumberOfMPURegions))]; "
            f"cpu.MPURegionNumber = n; f = open('{path}', 'a'); "
            f"f.write('{label} enabled=%d %s\\n' % (int(cpu.MPUEnabled), ' '.join(rows))); "
            "f.close()")
