"""The domain audit's judging core for IA-32 PAE paging (pure): a thread's page tables,
as read from the guest's memory, -> what unprivileged code can do, address by address.
No I/O, no clock.

PAE (Intel SDM vol. 3A, 4.4): CR3 -> page-directory-pointer table (4 entries) -> page
directory (512 entries; PS: a 2 MiB page) -> page table (512 entries, 4 KiB pages).
An entry maps if P (bit 0); user code may use a page only if U/S (bit 2) is set at
the directory and the table level, write it only if R/W (bit 1) is set at both, and
execute it unless XD (bit 63) is set at either (Zephyr enables EFER.NXE with PAE).
The PDPT entries carry no access bits.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass

from harness.judging.domains import LEVELS, Span

P, RW, US, PS = 1, 2, 4, 0x80
XD = 1 << 63
ADDR = 0x000FFFFFFFFFF000
PAGE, BIG = 1 << 12, 1 << 21


@dataclass(frozen=True)
class PageRange:
    """The page-table entries that grant a span: the thread's tables, the physical range
    and the virtual address its first page is mapped at."""
    root: int
    start: int
    end: int
    access: str
    virtual: int

    def describe(self) -> str:
        where = "" if self.virtual == self.start else f" mapped at 0x{self.virtual:08x}"
        return (f"page tables at 0x{self.root:08x}: 0x{self.start:08x}-0x{self.end - 1:08x}"
                f"{where} (user {LEVELS[self.access]})")


class Memory:
    """A snapshot of guest memory from `base` (physical addresses, as the tables hold)."""

    def __init__(self, data: bytes, base: int) -> None:
        self.data, self.base = data, base

    def word(self, addr: int, size: int = 4) -> int:
        off = addr - self.base
        if off < 0 or off + size > len(self.data):
            raise ValueError(f"0x{addr:08x} is outside the memory read (0x{self.base:08x}-"
                             f"0x{self.base + len(self.data) - 1:08x})")
        return int.from_bytes(self.data[off:off + size], "little")

    def entries(self, table: int, count: int) -> tuple[int, ...]:
        off = table - self.base
        if off < 0 or off + 8 * count > len(self.data):
            raise ValueError(f"page table at 0x{table:08x} is outside the memory read")
        return struct.unpack_from(f"<{count}Q", self.data, off)


def _rights(*entries: int) -> str:
    if not all(e & US for e in entries):
        return ""
    return "r" + ("w" if all(e & RW for e in entries) else "") + \
        ("" if any(e & XD for e in entries) else "x")


def pages(mem: Memory, root: int):
    """(virtual address, physical address, size, user rights) of every mapped page."""
    for i, pdpte in enumerate(mem.entries(root & ~0x1F, 4)):
        if not pdpte & P:
            continue
        for j, pde in enumerate(mem.entries(pdpte & ADDR, 512)):
            if not pde & P:
                continue
            va = (i << 30) | (j << 21)
            if pde & PS:
                yield va, pde & ADDR & ~(BIG - 1), BIG, _rights(pde)
                continue
            for k, pte in enumerate(mem.entries(pde & ADDR, 512)):
                if pte & P:
                    yield va | (k << 12), pte & ADDR, PAGE, _rights(pde, pte)


def physical(mem: Memory, root: int, va: int) -> int | None:
    """Where the tables at `root` map virtual address `va` (None: not mapped)."""
    for v, pa, size, _ in pages(mem, root):
        if v <= va < v + size:
            return pa + va - v
    return None


def user_map(mem: Memory, root: int) -> list[Span]:
    """What unprivileged code can do under the PAE tables at `root` (CR3), as spans of
    physical memory (what the ELF names; a stack Zephyr maps elsewhere in the virtual
    space is still its stack), in address order; neighbouring pages of the same access
    are one span."""
    found = sorted((pa, pa + size, access, va) for va, pa, size, access in pages(mem, root)
                   if access)
    out: list[Span] = []
    for start, end, access, va in found:
        if out and out[-1].end == start and out[-1].access == access:
            first = out.pop()
            start, va = first.start, first.region.virtual
        out.append(Span(start, end, access, PageRange(root, start, end, access, va)))
    return out
