"""Recognise and parse Zephyr fatal-error dumps. Pure: no I/O, no clock.

Feed UART lines to a FaultDump: `started` flips on the first fatal line,
`complete` once the dump's last line (thread / halting) has been seen.
`summary()` gives reason, kind, address, PC, trace and thread; symbol
resolution is done elsewhere (harness.build.symbols) because it reads the ELF.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

# Lines that start (or are) a fatal error. Literal text, escaped.
FATAL_MARKERS = [re.compile(re.escape(s)) for s in (
    ">>> ZEPHYR FATAL ERROR", "***** MPU FAULT", "***** BUS FAULT", "***** USAGE FAULT",
    "***** HARD FAULT", "***** SECURE FAULT", "***** DEBUG MONITOR", "Page fault at address",
    "ASSERTION FAIL", "Double fault (code", "General protection fault",
)]
END_MARKERS = ("Halting system", "Current thread:")

REASONS = {0: "CPU exception", 1: "Unhandled interrupt", 2: "Stack overflow",
           3: "Kernel oops", 4: "Kernel panic"}
REASON_KIND = {2: "stack_overflow", 3: "kernel_oops", 4: "kernel_panic"}

# (kind, pattern) in priority order: the first one present names the fault.
KIND_LINES = [
    ("stack_overflow", re.compile(r"Stack overflow|Stacking error")),
    ("mpu_data_access_violation", re.compile(r"Data Access Violation")),
    ("mpu_instruction_access_violation", re.compile(r"Instruction Access Violation")),
    ("bus_fault", re.compile(r"\*{5} BUS FAULT")),
    ("usage_fault", re.compile(r"\*{5} USAGE FAULT")),
    ("assertion", re.compile(r"ASSERTION FAIL")),
    ("general_protection_fault", re.compile(r"General protection fault")),
]
FIELDS = {
    "reason": re.compile(r">>> ZEPHYR FATAL ERROR (\d+): (.*?) on CPU"),
    "mmfar": re.compile(r"MMFAR Address: (0x[0-9a-fA-F]+)"),
    "bfar": re.compile(r"BFAR Address: (0x[0-9a-fA-F]+)"),
    "page_fault": re.compile(r"Page fault at address (0x[0-9a-fA-F]+) \(error code (0x[0-9a-fA-F]+)\)"),
    "pc": re.compile(r"(?:Faulting instruction address \(r15/pc\)|EIP|RIP): (0x[0-9a-fA-F]+)"),
    "lr": re.compile(r"r14/lr:\s+(0x[0-9a-fA-F]+)"),
    "thread": re.compile(r"Current thread: (0x[0-9a-fA-F]+) \((.*)\)"),
    "frame": re.compile(r"^\W*(?:E: )?\s+(0x[0-9a-fA-F]+)(?: \(0x[0-9a-fA-F]+\))?\s*$"),
    "assertion": re.compile(r"ASSERTION FAIL \[(.*)\] @ (\S+)"),
}
PF_WRITE, PF_USER, PF_EXEC = 0x2, 0x4, 0x10


def is_fatal(text: str) -> bool:
    return any(m.search(text) for m in FATAL_MARKERS)


@dataclass
class FaultDump:
    lines: list = field(default_factory=list)    # [(lineno, text)]
    started: bool = False
    complete: bool = False

    def feed(self, text: str, lineno: int) -> None:
        if not self.started and not is_fatal(text):
            return
        self.started = True
        self.lines.append((lineno, text))
        if any(marker in text for marker in END_MARKERS):
            self.complete = True

    def summary(self) -> dict:
        return parse_dump([text for _, text in self.lines])


def parse_dump(lines: list[str]) -> dict:
    """Reason, fault kind, faulting address, PC, call trace, thread."""
    out: dict = {"reason_code": None, "reason": None, "kind": None, "address": None,
                 "pc": None, "trace": [], "thread": None, "thread_name": None}
    in_trace = False
    for text in lines:
        for name, pattern in FIELDS.items():
            m = pattern.search(text)
            if m:
                _take(out, name, m, in_trace)
        if "call trace:" in text:
            in_trace = True
        elif in_trace and not FIELDS["frame"].search(text) and not FIELDS["pc"].search(text):
            in_trace = False
    if out["reason_code"] == 2 and out["kind"] != "stack_overflow":
        out["access_kind"] = out["kind"]          # e.g. the guard page's page_fault_write
        out["kind"] = "stack_overflow"
    out["kind"] = out["kind"] or _kind(lines, out)
    return out


def _take(out: dict, name: str, m: re.Match, in_trace: bool) -> None:
    if name == "reason":
        out["reason_code"], out["reason"] = int(m.group(1)), m.group(2)
    elif name in ("mmfar", "bfar"):
        out["address"] = out["address"] or m.group(1)
    elif name == "page_fault":
        code = int(m.group(2), 16)
        access = "execute" if code & PF_EXEC else "write" if code & PF_WRITE else "read"
        out.update(address=m.group(1), kind=f"page_fault_{access}",
                   error_code=m.group(2), user=bool(code & PF_USER))
    elif name == "pc":
        out["pc"] = out["pc"] or m.group(1)
        out["trace"].insert(0, m.group(1))
    elif name == "lr":
        out["lr"] = m.group(1)
    elif name == "frame" and in_trace:
        out["trace"].append(m.group(1))
    elif name == "thread":
        out["thread"], out["thread_name"] = m.group(1), m.group(2)
    elif name == "assertion":
        out["assertion"] = {"condition": m.group(1), "where": m.group(2)}


def _kind(lines: list[str], out: dict) -> str | None:
    if out["reason_code"] in (2,):
        return REASON_KIND[2]
    for kind, pattern in KIND_LINES:
        if any(pattern.search(t) for t in lines):
            return kind
    return REASON_KIND.get(out["reason_code"], "cpu_exception" if out["reason_code"] == 0 else None)
