"""Names for the audit, from the firmware's ELF (read with pyelftools): the app's memory
partitions (the linker's z_data_smem_<name>_part_start/_size symbols that
K_APPMEM_PARTITION_DEFINE makes), code (Zephyr's text and rodata regions, and every
read-only section), kernel data, the symbol that holds an address
(a thread object, a stack), and the structure offsets Zephyr's build exports as
absolute symbols (___thread_t_arch_OFFSET, ...)."""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from harness.judging.domains import Named

PART = re.compile(r"^z_data_smem_(\w+)_part_(start|size)$")
IN_FLASH = 1 << 40      # our flag: a writable section that stays where it is loaded


def _in_flash(section, segments) -> bool:
    """A writable section with contents whose load address is its run address (e.g.
    Zephyr's .last_section marker) is not copied to RAM on an XIP target: it lies in
    flash. Data that runs from RAM is loaded elsewhere (LMA != VMA); bss has no
    contents. On a target that runs from RAM (qemu_x86: no writable segment is loaded
    elsewhere) nothing lies in flash."""
    xip = any(seg["p_flags"] & 2 and seg["p_paddr"] != seg["p_vaddr"] for seg in segments)
    if not xip or not section["sh_flags"] & SH_FLAGS.SHF_WRITE or \
            section["sh_type"] == "SHT_NOBITS":
        return False
    for seg in segments:
        if seg.section_in_segment(section):
            return seg["p_paddr"] == seg["p_vaddr"]
    return False


@dataclass
class ElfMap:
    symbols: dict[str, tuple[int, int]]        # name -> (address, size)
    sections: list[tuple[str, int, int, int]]  # (name, start, end, flags) of allocated ones

    @classmethod
    def load(cls, elf: Path) -> "ElfMap":
        with open(elf, "rb") as f:
            e = ELFFile(f)
            table = e.get_section_by_name(".symtab")
            symbols = {s.name: (s["st_value"], s["st_size"]) for s in table.iter_symbols()
                       if s.name} if table else {}
            segments = [seg for seg in e.iter_segments() if seg["p_type"] == "PT_LOAD"]
            sections = [(s.name, s["sh_addr"], s["sh_addr"] + s["sh_size"],
                         s["sh_flags"] | (IN_FLASH if _in_flash(s, segments) else 0))
                        for s in e.iter_sections()
                        if s["sh_flags"] & SH_FLAGS.SHF_ALLOC and s["sh_size"]]
        return cls(symbols, sections)

    def address(self, name: str) -> int:
        return self.symbols[name][0]

    def offset(self, name: str) -> int:
        """A structure offset Zephyr exports, e.g. offset('___thread_t_arch_OFFSET')."""
        return self.symbols[name][0]

    def holder(self, addr: int) -> str | None:
        """The data symbol whose extent holds `addr` (a k_thread, a stack array)."""
        best = None
        for name, (start, size) in self.symbols.items():
            if size and start <= addr < start + size and not name.startswith("__"):
                if best is None or size < self.symbols[best][1]:
                    best = name
        return best

    def image_regions(self) -> list[tuple[int, int]]:
        return _image_regions(self.symbols)

    def partitions(self) -> list[Named]:
        found: dict[str, dict] = {}
        for name, (value, _) in self.symbols.items():
            if m := PART.match(name):
                found.setdefault(m.group(1), {})[m.group(2)] = value
        return [Named(n, v["start"], v["start"] + v["size"], "partition")
                for n, v in sorted(found.items()) if "start" in v and v.get("size")]

    def named(self, stacks: dict[str, tuple[int, int]]) -> list[Named]:
        """Partitions, thread stacks ({name: (start, end)}), code and kernel data: every
        allocated section, less the partitions and stacks, named by what it is."""
        parts = self.partitions()
        stack_ranges = [Named(n, a, b, "stack") for n, (a, b) in sorted(stacks.items())]
        image = [Named("code", lo, hi, "code") for lo, hi in self.image_regions()]
        carved = sorted((n.start, n.end) for n in parts + stack_ranges + image)
        out = list(parts) + stack_ranges + image
        for _, start, end, flags in self.sections:
            kind = "code" if not flags & SH_FLAGS.SHF_WRITE or flags & IN_FLASH else "kernel data"
            for lo, hi in _minus(start, end, carved):
                out.append(Named(kind, lo, hi, kind))
        return out


IMAGE_REGIONS = (("__text_region_start", "__text_region_end"),
                 ("__rodata_region_start", "__rodata_region_end"))


def _image_regions(symbols: dict) -> list[tuple[int, int]]:
    """Zephyr's text and read-only data regions, as its linker script bounds them (page
    aligned on MMU targets, where the kernel maps each whole region for user code: the
    padding after rodata is no kernel data)."""
    return [(symbols[a][0], symbols[b][0]) for a, b in IMAGE_REGIONS
            if a in symbols and b in symbols and symbols[a][0] < symbols[b][0]]


def _minus(start: int, end: int, holes: list[tuple[int, int]]):
    """[start, end) less the sorted `holes`."""
    lo = start
    i = bisect.bisect_left(holes, (start, start))
    for a, b in holes[max(0, i - 1):]:
        if a >= end:
            break
        if b <= lo:
            continue
        if a > lo:
            yield lo, min(a, end)
        lo = max(lo, b)
    if lo < end:
        yield lo, end
