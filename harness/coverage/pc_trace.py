"""Line coverage of the unmodified image from Renode's execution trace: the program
counter of every instruction the CPU ran (Renode's ExecutionTracer, `PC` format,
binary), mapped to source lines through the ELF's DWARF line tables (pyelftools), and
written as a gcovr JSON tracefile, so that gcovr renders the same HTML, Cobertura and
LCOV reports as for a gcov run and merges both kinds.

A line counts as executable where the line table starts a statement there; it is
covered where the instruction at such a start ran, and its count is the most any of
its statement starts ran. No Kconfig change: the image, its layout and its isolation
certificate are those of the real run.
"""
from __future__ import annotations

import json
import os
import struct
from collections import Counter
from pathlib import Path

from elftools.common.exceptions import DWARFError, ELFError
from elftools.elf.elffile import ELFFile

from harness.host.files import write_atomic

SIGNATURE = b"ReTrace"
TRACE_FILE = "renode-pc-trace.bin"


DwarfErrors = (DWARFError, ELFError)         # an ELF or DWARF pyelftools cannot read


class TraceError(Exception):
    """A trace that cannot be read (cut short, another format)."""


def executed(path: Path) -> Counter:
    """{pc: how many times it ran} of a binary PC trace (format version 4: a header,
    then per instruction the PC and an additional-data byte, 0 without extra data)."""
    data = path.read_bytes()
    if not data.startswith(SIGNATURE) or len(data) < 10:
        raise TraceError(f"{path} is no Renode execution trace (no ReTrace header)")
    version, pc_length, opcodes = data[7], data[8], data[9]
    if version != 4 or opcodes != 0 or pc_length not in (4, 8):
        raise TraceError(f"{path}: trace format version {version}, pc length {pc_length}, "
                         f"opcodes {opcodes}; the harness reads version 4 PC traces")
    size = pc_length + 1
    body = memoryview(data)[10:]
    whole = len(body) - len(body) % size           # a trace cut mid-entry: the whole ones
    fmt = "<IB" if pc_length == 4 else "<QB"
    counts = Counter(pc for pc, extra in struct.iter_unpack(fmt, body[:whole]) if extra == 0)
    if len(counts) == 0 and whole:
        raise TraceError(f"{path}: entries carry extra data the harness does not read")
    return counts


def cached_line_table(elf: Path, sha256: str, build_dir: Path) -> dict[str, dict[int, list[int]]]:
    """line_table(elf), kept in the build directory for the next run of the same image
    (reading the DWARF took 0.6 s of a 0.3 s run for prod_consumer); a warm run boots a
    copy of the ELF, so the cache is found by the image's hash, not beside the file."""
    cache = build_dir / "zephyr" / "harness-lines.json"
    try:
        kept = json.loads(cache.read_text())
        if kept.get("sha256") == sha256:
            return {f: {int(n): a for n, a in rows.items()} for f, rows in kept["lines"].items()}
    except (OSError, ValueError, KeyError, AttributeError):
        pass
    table = line_table(elf)
    try:
        write_atomic(cache, json.dumps({"sha256": sha256, "lines": table}))
    except OSError:
        pass                                   # a read-only build directory: read it again
    return table


def line_table(elf: Path) -> dict[str, dict[int, list[int]]]:
    """{source file (absolute): {line: [statement start addresses]}} of every CU."""
    table: dict[str, dict[int, list[int]]] = {}
    with open(elf, "rb") as f:
        e = ELFFile(f)
        if not e.has_dwarf_info():
            return table
        dwarf = e.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            prog = dwarf.line_program_for_CU(cu)
            if prog is None:
                continue
            comp_dir = _text(cu.get_top_DIE().attributes.get("DW_AT_comp_dir"))
            names = _file_names(prog, comp_dir)
            for entry in prog.get_entries():
                s = entry.state
                if s is None or s.end_sequence or not s.is_stmt or not s.line:
                    continue
                name = names.get(s.file)
                if name:
                    table.setdefault(name, {}).setdefault(s.line, []).append(s.address)
    return table


def _text(attr) -> str:
    if attr is None:
        return ""
    value = attr.value
    return value.decode(errors="replace") if isinstance(value, bytes) else str(value)


def _file_names(prog, comp_dir: str) -> dict[int, str]:
    """DWARF file index -> absolute path (DWARF 5 counts from 0, earlier from 1)."""
    dirs = [d.decode(errors="replace") if isinstance(d, bytes) else str(d)
            for d in prog["include_directory"]]
    v5 = prog["version"] >= 5
    out = {}
    for i, fe in enumerate(prog["file_entry"]):
        name = fe.name.decode(errors="replace") if isinstance(fe.name, bytes) else str(fe.name)
        d = fe.dir_index
        directory = (dirs[d] if d < len(dirs) else "") if v5 else \
            (dirs[d - 1] if 0 < d <= len(dirs) else comp_dir)
        path = os.path.join(comp_dir, directory, name)
        out[i if v5 else i + 1] = os.path.normpath(path)
    return out


def tracefile(counts: Counter, lines: dict[str, dict[int, list[int]]], roots: list[Path],
              out: Path) -> dict:
    """Write the gcovr JSON tracefile of the sources under `roots`; {file: [covered,
    total]} of what it holds."""
    from gcovr.data_model.version import (
        FORMAT_VERSION,  # gcovr: the project's report tool
    )
    prefixes = [str(r).rstrip("/") + "/" for r in roots]
    files, summary = [], {}
    for name in sorted(lines):
        if not any(name.startswith(p) for p in prefixes) or not os.path.isfile(name):
            continue
        rows = [{"line_number": n, "count": max(counts.get(a, 0) for a in addrs),
                 "branches": []} for n, addrs in sorted(lines[name].items())]
        files.append({"file": name, "lines": rows, "functions": []})
        summary[name] = [sum(1 for r in rows if r["count"]), len(rows)]
    out.write_text(json.dumps({"gcovr/format_version": FORMAT_VERSION, "files": files}))
    return summary


def ztest_entries(elf: Path) -> dict[int, str]:
    """{entry address: "suite.test"} of the image's ztest unit tests (the new ztest API's
    iterable section, _ztest_unit_test_list_start.._end: struct ztest_unit_test {suite
    name, name, test function, thread options, stats}); {} where there is none."""
    with open(elf, "rb") as f:
        e = ELFFile(f)
        table = e.get_section_by_name(".symtab")
        if table is None:
            return {}
        syms = {s.name: s["st_value"] for s in table.iter_symbols()
                if s.name in ("_ztest_unit_test_list_start", "_ztest_unit_test_list_end")}
        if len(syms) != 2:
            return {}
        wide = e.elfclass == 64
        size, fmt = (40, "<QQQI4xQ") if wide else (20, "<IIIII")
        start, end = syms["_ztest_unit_test_list_start"], syms["_ztest_unit_test_list_end"]
        sections = [s for s in e.iter_sections() if s["sh_flags"] & 2 and s["sh_type"] != "SHT_NOBITS"]

        def read(addr: int, n: int) -> bytes:
            for s in sections:
                if s["sh_addr"] <= addr < s["sh_addr"] + s["sh_size"]:
                    off = addr - s["sh_addr"]
                    return s.data()[off:off + n]
            return b""

        def string(addr: int) -> str:
            raw = read(addr, 256)
            return raw.split(b"\0", 1)[0].decode(errors="replace")

        out = {}
        for at in range(start, end - size + 1, size):
            record = read(at, size)
            if len(record) != size:
                break
            suite, name, test = struct.unpack(fmt, record)[:3]
            out[test & ~1] = f"{string(suite)}.{string(name)}"     # Thumb: the bit 0 off
        return out


def executed_per_test(path: Path, entries: dict[int, str]) -> dict[str, Counter]:
    """{"suite.test": {pc: count}}: each instruction counted for the test whose function
    the CPU last entered (from a test's entry to the next test's; what ztest runs
    between two tests, its before/after hooks included, goes to the earlier one)."""
    data = path.read_bytes()
    pc_length = data[8]
    size = pc_length + 1
    body = memoryview(data)[10:]
    whole = len(body) - len(body) % size
    fmt = "<IB" if pc_length == 4 else "<QB"
    out: dict[str, Counter] = {}
    current = None
    for pc, _ in struct.iter_unpack(fmt, body[:whole]):
        if pc in entries:
            current = out.setdefault(entries[pc], Counter())
        if current is not None:
            current[pc] += 1
    return out
