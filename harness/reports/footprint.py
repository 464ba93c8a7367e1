"""Footprint of a build: ROM and RAM used and the largest symbols, read from the ELF
with pyelftools (no hand-written ELF parser), and the footprints of a run directory.

ROM: every allocated section with contents (code, read-only data, and the initial
values of data copied to RAM at boot). RAM: every section without contents (bss,
noinit) and every section that runs from RAM with its contents loaded from flash (its
segment's load address differs); on an image that does not execute in place
(CONFIG_XIP unset, e.g. qemu_x86) every allocated section, since all of it is loaded
into RAM. This is twister's split (SizeCalculator) by section types and load addresses
instead of a list of section names, so a section a new Zephyr adds is counted too.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

from elftools.elf.constants import SH_FLAGS
from elftools.elf.elffile import ELFFile

from harness.errors import UsageError
from harness.host.files import write_atomic
from harness.judging.footprint import Footprints

log = logging.getLogger(__name__)
TOP_SYMBOLS = 10
CACHE_NAME = "footprint.json"      # beside the ELF, keyed by its sha256


def of(built) -> dict | None:
    """The footprint of a build (west_build.Built), saying which image it is: a gcov
    image (--coverage) is far larger than the plain one and never compared with it."""
    found = measure(built.elf, built.sha256)
    return found and {**found, "image": "gcov" if getattr(built, "coverage", False) else "plain"}


def measure(elf: Path, sha256: str = "") -> dict | None:
    """{"rom_bytes", "ram_bytes", "xip", "sections": {name: {size, rom, ram}},
    "largest": [{name, size, kind, memory}]}. With `sha256`, read from (and written to)
    a cache beside the ELF, so a warm run of an unchanged build does not parse it again."""
    cache = elf.with_name(CACHE_NAME)
    if sha256:
        try:
            cached = json.loads(cache.read_text())
            if cached.get("elf_sha256") == sha256:
                return cached["footprint"]
        except (OSError, ValueError, KeyError):
            pass
    try:
        with open(elf, "rb") as f:
            found = _measure(ELFFile(f))
    except Exception as exc:        # noqa: BLE001  a footprint never fails a run
        log.warning("no footprint of %s: %s", elf, exc)
        return None
    if sha256:
        try:
            write_atomic(cache, json.dumps({"elf_sha256": sha256, "footprint": found}) + "\n")
        except OSError:
            pass                        # a read-only build directory: just not cached
    return found


def _measure(elf: ELFFile) -> dict:
    symtab = elf.get_section_by_name(".symtab")
    xip = bool(symtab and symtab.get_symbol_by_name("CONFIG_XIP"))
    loads = [g for g in elf.iter_segments() if g["p_type"] == "PT_LOAD"]
    sections, in_ram = {}, set()
    for i, s in enumerate(elf.iter_sections()):
        if not s["sh_flags"] & SH_FLAGS.SHF_ALLOC or s["sh_size"] == 0:
            continue
        rom = s["sh_type"] != "SHT_NOBITS"
        ram = not rom or not xip or _copied(s["sh_addr"], loads)
        sections[s.name] = {"size": s["sh_size"], "rom": rom, "ram": ram}
        in_ram |= {i} if ram else set()
    return {"rom_bytes": sum(v["size"] for v in sections.values() if v["rom"]),
            "ram_bytes": sum(v["size"] for v in sections.values() if v["ram"]),
            "xip": xip, "sections": sections, "largest": _largest(symtab, in_ram)}


def _copied(addr: int, loads: list) -> bool:
    """Whether the section at `addr` runs from RAM with its contents loaded from flash
    (its segment's load address differs from its address)."""
    return any(g["p_vaddr"] <= addr < g["p_vaddr"] + g["p_memsz"] and g["p_vaddr"] != g["p_paddr"]
               for g in loads)


def _largest(symtab, in_ram: set) -> list[dict]:
    if symtab is None:
        return []
    symbols = [s for s in symtab.iter_symbols()
               if s["st_info"]["type"] in ("STT_FUNC", "STT_OBJECT") and s["st_size"] > 0]
    symbols.sort(key=lambda s: (-s["st_size"], s.name))
    return [{"name": s.name, "size": s["st_size"],
             "kind": "function" if s["st_info"]["type"] == "STT_FUNC" else "object",
             "memory": "ram" if s["st_shndx"] in in_ram else "rom"}
            for s in symbols[:TOP_SYMBOLS]]


def collect(path: Path) -> Footprints:
    """(app, board) -> footprint, from a run output directory (every result.json below
    it, the newest per app and board; gcov images left out) or from a footprint summary
    written by `harness report footprint --save`."""
    path = Path(path)
    if not path.exists():
        raise UsageError(f"{path} does not exist", "pass a run output directory (--out of "
                         "`harness run` or matrix) or a footprint summary")
    if path.is_file():
        return _summary(path)
    found: dict = {}
    for result_file in sorted(path.rglob("result.json")):
        try:
            r = json.loads(result_file.read_text())
        except (OSError, ValueError):
            continue
        fp = r.get("footprint")
        if not fp or "app" not in r or fp.get("image") == "gcov":
            continue
        key = (r["app"], r["board"])
        stamp = result_file.stat().st_mtime_ns
        if key not in found or found[key][0] < stamp:
            found[key] = (stamp, fp)
    return {k: v for k, (_, v) in found.items()}


def save(footprints: Footprints, path: Path) -> None:
    """A footprint summary another branch's CI can compare against."""
    write_atomic(Path(path), json.dumps(
        {"footprints": [{"app": a, "board": b, **fp} for (a, b), fp in sorted(footprints.items())]},
        indent=2) + "\n")


def _summary(path: Path) -> Footprints:
    try:
        return {(f["app"], f["board"]): f for f in json.loads(path.read_text())["footprints"]}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise UsageError(f"{path} is not a footprint summary: {exc}",
                         "pass a run output directory, or a file written by "
                         "`harness report footprint --save`") from None
