"""What the MMU let each user thread reach on IA-32 (qemu_x86): the threads' own page
tables, read from guest memory while the firmware runs and once more when it is over.

On x86 Zephyr keeps a set of page tables per memory domain; switching to a thread
loads its `arch.ptables` into CR3, so those tables are the live configuration the MMU
walks whenever the thread runs. QEMU saves the guest's RAM on request over QMP
(`pmemsave`, the span of the ELF's loaded segments, where Zephyr's thread objects and
page tables live) without pausing the CPU: with TCG the memory is read beside the
running vCPU, and the virtual clock (-icount) does not move, so the firmware's output
is that of an unaudited run. The audit samples every `interval_s` while the firmware
runs and takes a last snapshot, with QEMU paused, when the run is over. A thread is
audited at the samples where it is a live user thread (its stack is mapped for it
only then: Zephyr takes a thread's stack out of its domain's tables when it exits);
a user thread never caught alive is audited on the last snapshot (its domain, less
its stack).

The threads are the ELF's data objects of the size of a `struct k_thread` (that of
`z_main_thread`, or `K_THREAD_SIZEOF` where the build exports it) whose `base.user_options` has K_USER and whose `stack_info`
and `arch.ptables` point into that memory; a thread is named, as on Arm, by the stack
symbol its `stack_info.start` falls in. A sample could catch a page-table entry in the
middle of an update (each entry is written at once); the snapshots that added what a
thread could reach are kept with the run as evidence.
"""
from __future__ import annotations

import threading
from pathlib import Path

from elftools.elf.elffile import ELFFile

from harness.audit.elf_map import ElfMap
from harness.errors import SetupError
from harness.judging import pagetables
from harness.judging.domains import ThreadView

K_USER = 1 << 2
THREAD_DEAD = 1 << 3
OFFSETS = ("___thread_t_base_OFFSET", "___thread_base_t_user_options_OFFSET",
           "___thread_t_arch_OFFSET", "___thread_arch_t_ptables_OFFSET",
           "___thread_t_stack_info_OFFSET")
# Exported by some Zephyr versions only (3.0 yes, 3.4 to 4.3 no); where absent, what the
# structures have held since Zephyr 1.x: thread_state is the byte after user_options,
# start the first member of _thread_stack_info, and z_main_thread (kernel/init.c) is a
# struct k_thread, so its size is sizeof(struct k_thread).
DERIVED = {"___thread_base_t_thread_state_OFFSET":
           lambda sym: sym["___thread_base_t_user_options_OFFSET"][0] + 1,
           "___thread_stack_info_t_start_OFFSET": lambda sym: 0,
           "K_THREAD_SIZEOF": lambda sym: sym["z_main_thread"][1]}


class PageTableSnapshot:
    method = ("IA-32 PAE page tables of each user thread (its arch.ptables, what CR3 holds "
              "while it runs), walked in guest memory that QEMU saved over QMP while the "
              "firmware ran (without pausing it) and once more when the run was over")
    trace_file = "qemu-ram.bin"          # the last snapshot, kept with the run
    needs_snapshot = True                # the QEMU adapter samples and takes the last one
    interval_s = 0.01

    def __init__(self, elf_path: Path, elf: ElfMap) -> None:
        self.elf = elf
        missing = [name for name in (*OFFSETS, "z_main_thread") if name not in elf.symbols]
        if missing:
            raise SetupError(f"{elf_path} lacks {', '.join(missing)}: not a Zephyr x86 image "
                             "built with CONFIG_USERSPACE", "audit userspace images")
        self.off = {name: elf.symbols[name][0] for name in OFFSETS}
        self.off |= {name: elf.symbols[name][0] if name in elf.symbols else derive(elf.symbols)
                     for name, derive in DERIVED.items()}
        self.span, self.candidates = _layout(elf_path, self.off["K_THREAD_SIZEOF"])
        self.switches = 0                # samples taken while the firmware ran
        self.tables = 0                  # thread page tables walked
        self.writes = None
        self.error: str | None = None
        self.kept: list[str] = []        # the snapshots that added something
        self.stopped: str | None = None  # why sampling ended early (QEMU gone), if it did
        self.unreadable: dict[str, str] = {}   # thread objects whose tables could not be walked
        self._live: dict[str, tuple[set, tuple[int, int], int]] = {}
        self._last: dict[str, tuple[set, tuple[int, int], int]] = {}

    # -- collection (the QEMU adapter's thread and teardown) ----------------------------

    def follow(self, qmp, run_dir: Path, done: threading.Event) -> None:
        """Sample the running guest until `done` is set (the adapter's sampler thread)."""
        tmp = run_dir / "qemu-ram.sample"
        try:
            while not done.wait(self.interval_s):
                tmp.unlink(missing_ok=True)
                self._save(qmp, tmp)
                if self._take(tmp.read_bytes(), live=True):
                    kept = run_dir / f"qemu-ram-{self.switches}.bin"
                    tmp.replace(kept)
                    self.kept.append(kept.name)
                self.switches += 1
        except Exception as exc:         # noqa: BLE001  (QEMU ending: the samples so far stand)
            if not done.is_set():
                self.stopped = f"sampling stopped after {self.switches} sample(s): {exc}"
        finally:
            tmp.unlink(missing_ok=True)

    def snapshot(self, qmp, path: Path) -> None:
        """The last snapshot, QEMU paused: the run is over."""
        qmp.execute("stop")
        self._save(qmp, path)

    def _save(self, qmp, path: Path) -> None:
        start, end = self.span
        if "return" not in qmp.execute("pmemsave", val=start, size=end - start,
                                       filename=str(path)):
            raise OSError("QMP closed before pmemsave answered")

    # -- analysis ----------------------------------------------------------------------

    def read(self, path: Path) -> None:
        """The last snapshot, for the user threads no sample caught alive."""
        try:
            data = path.read_bytes()
        except OSError as exc:
            if not self._live:           # no sample either: nothing was read
                self.error = self.error or f"no memory snapshot at {path}: {exc.strerror}"
            self.stopped = self.stopped or f"no last snapshot: {exc.strerror}"
            return
        self._take(data, live=False)

    def _take(self, data: bytes, live: bool) -> bool:
        """Walk the tables of the user threads in one snapshot; True if it added anything."""
        if len(data) != self.span[1] - self.span[0]:
            why = f"a memory snapshot is {len(data)} bytes, not {self.span[1] - self.span[0]}"
            if live:
                self.unreadable["sample"] = why     # the samples before and after stand
            else:
                self.error = why
            return False
        mem, off, added = pagetables.Memory(data, self.span[0]), self.off, False
        for name, addr in self.candidates:
            try:
                base = addr + off["___thread_t_base_OFFSET"]
                options = mem.word(base + off["___thread_base_t_user_options_OFFSET"], 1)
                state = mem.word(base + off["___thread_base_t_thread_state_OFFSET"], 1)
                start = mem.word(addr + off["___thread_t_stack_info_OFFSET"] +
                                 off["___thread_stack_info_t_start_OFFSET"])
                root = mem.word(addr + off["___thread_t_arch_OFFSET"] +
                                off["___thread_arch_t_ptables_OFFSET"])
            except ValueError:
                continue
            if not options & K_USER or not start or (live and state & THREAD_DEAD):
                continue                  # a supervisor thread, one not yet created or dead
            try:
                spans = tuple(pagetables.user_map(mem, root))
                # the stack as the thread sees it may be mapped away from its object
                # (CONFIG_THREAD_STACK_MEM_MAPPED): named where it lies
                stack_name = self.elf.holder(pagetables.physical(mem, root, start) or start)
            except ValueError as exc:     # tables not set up yet, or no thread after all
                self.unreadable[name] = str(exc)
                continue
            if stack_name is None:
                continue                  # no thread after all, or its stack is unmapped
            self.tables += 1
            lo, size = self.elf.symbols[stack_name]
            book = self._live if live else self._last
            configs, _, stops = book.get(stack_name, (set(), None, 0))
            added |= spans not in configs
            configs.add(spans)
            book[stack_name] = (configs, (lo, lo + size), stops + 1)
        return added

    def views(self) -> list[ThreadView]:
        """Each thread with every configuration seen, live and in the last snapshot (a
        partition added after the last sample shows there)."""
        out = []
        for name in sorted(set(self._live) | set(self._last)):
            configs, stack, stops = self._live.get(name, (set(), None, 0))
            last = self._last.get(name)
            if last:
                configs, stack, stops = configs | last[0], stack or last[1], stops + last[2]
            out.append(ThreadView(name, True, [s for spans in sorted(configs, key=len)
                                               for s in spans], stack, stops))
        return out

    def stacks(self) -> dict[str, tuple[int, int]]:
        return {v.name: v.stack for v in self.views() if v.stack}

    def notes(self) -> dict:
        return {"samples": self.switches, "snapshots_kept": self.kept, "sampling": self.stopped,
                "unreadable": self.unreadable,
                "threads_seen_alive": sorted(self._live),
                "threads_from_last_snapshot": sorted(set(self._last) - set(self._live))}


def _layout(path: Path, thread_size: int) -> tuple[tuple[int, int], list[tuple[str, int]]]:
    """The span of the loaded writable segments (page aligned), and the data objects the
    size of a k_thread, and the entries of arrays of them whose name says thread (e.g.
    z_idle_threads): a page pool of the same size is no array of threads."""
    with open(path, "rb") as f:
        e = ELFFile(f)
        loads = [s for s in e.iter_segments() if s["p_type"] == "PT_LOAD" and s["p_flags"] & 2]
        if not loads:
            raise SetupError(f"{path} has no writable segment", "audit a Zephyr image")
        start = min(s["p_paddr"] for s in loads) & ~0xFFF
        end = (max(s["p_paddr"] + s["p_memsz"] for s in loads) + 0xFFF) & ~0xFFF
        table = e.get_section_by_name(".symtab")
        objects = [(s.name, s["st_value"], s["st_size"]) for s in table.iter_symbols()
                   if s["st_info"]["type"] == "STT_OBJECT" and s["st_size"]
                   and s["st_size"] % thread_size == 0] if table else []
    return (start, end), [(f"{n}[{i}]" if size > thread_size else n, a + i * thread_size)
                          for n, a, size in objects for i in range(size // thread_size)
                          if size == thread_size or "thread" in n]
