"""Isolation proof: judge the probe firmware's output into a certificate. Pure.

The probe (firmware/apps/isolation_probe) runs positive controls, then one
forbidden access per case from a user thread, and prints PROBE: lines around
Zephyr's own fault dumps. A case counts as enforced only when the access
faulted with the memory-protection fault its architecture raises, on the very
address it touched, and the protected values were intact afterwards.
"""
from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from harness.judging.judge import TAIL, Ending
from harness.judging.triage import parse_dump
from harness.judging.verdict import Outcome, Verdict

PROBE = re.compile(r"PROBE:(BEGIN|CASE|SURVIVED|FATAL|RESULT|END)\b(.*)")
FIELD = re.compile(r"(\w+)=(\S+)")

CERTIFIED, UNTRUSTED, INVALID = "CERTIFIED", "UNTRUSTED", "INVALID"
# The fault kinds that prove enforcement, per protection unit and access.
EXPECTED = {
    ("mpu", "read"): {"mpu_data_access_violation"},
    ("mpu", "write"): {"mpu_data_access_violation"},
    ("mpu", "exec"): {"mpu_instruction_access_violation"},
    ("mmu", "read"): {"page_fault_read"},
    ("mmu", "write"): {"page_fault_write"},
    ("mmu", "exec"): {"page_fault_execute"},
    ("mpu", "stack"): {"stack_overflow"},
    ("mmu", "stack"): {"stack_overflow"},
}
ADDRESS_CHECKED = {"read", "write", "exec"}
STACK_WINDOW = 256      # the probe's recursion stops 256 bytes below its stack (no guard)


@dataclass
class Case:
    name: str
    kind: str                   # control | forbidden
    access: str
    target: int
    survived: bool = False
    faulted: bool = False
    reason: int = -1
    intact: bool | None = None
    dump: list = field(default_factory=list)
    status: str = ""            # ok | enforced | not_enforced | invalid
    why: str = ""

    def to_json(self) -> dict:
        fault = parse_dump(self.dump) if self.dump else None
        return {"name": self.name, "kind": self.kind, "access": self.access,
                "target": f"0x{self.target:08x}", "survived": self.survived,
                "faulted": self.faulted, "reason": self.reason, "intact": self.intact,
                "status": self.status, "why": self.why,
                "fault": {k: fault[k] for k in ("kind", "address", "pc", "reason")} if fault else None}


class ProbeJudge:
    """Same interface as harness.judge.Judge; fault dumps are expected here."""

    def __init__(self, protection: str) -> None:
        self.protection = protection
        self.cases: list[Case] = []
        self.begun = False
        self.ended = False
        self.tail: deque = deque(maxlen=TAIL)
        self.stray: list = []       # fatal lines outside any case

    def feed(self, lineno: int, text: str, t: float) -> None:
        self.tail.append(f"{lineno}: {text}")
        m = PROBE.search(text)
        if not m:
            current = self.cases[-1] if self.cases and not self._closed(self.cases[-1]) else None
            if current is not None:
                current.dump.append(text)
            elif "FATAL ERROR" in text or "FAULT" in text:
                self.stray.append(text)
            return
        tag, f = m.group(1), dict(FIELD.findall(m.group(2)))
        if tag == "BEGIN":
            self.begun = True
        elif tag == "CASE":
            self.cases.append(Case(f.get("name", "?"), f.get("kind", "?"), f.get("access", "?"),
                                   int(f.get("target", "0"), 16)))
        elif tag == "END":
            self.ended = True
        elif self.cases:
            self._update(self.cases[-1], tag, f)

    @property
    def completed(self) -> bool:
        return self.ended

    def settle_like(self, emulator) -> None:
        """The probe's run ends at its own last line: no capture window to set."""

    def should_stop(self, now: float, guest_since_done: float | None = None) -> bool:
        return self.ended

    def outcome(self, ending: Ending) -> Outcome:
        cert = self.certificate()
        evidence = {"certificate": cert, "last_lines": list(self.tail), "ending": ending.__dict__}
        if cert["status"] == CERTIFIED:
            return Outcome(Verdict.PASS, cert["summary"], evidence)
        if cert["status"] == UNTRUSTED:
            return Outcome(Verdict.UNTRUSTED, cert["summary"], evidence)
        if not self.ended and ending.why in ("exited", "closed"):
            return Outcome(Verdict.EMULATOR_ERROR, f"probe cut short ({ending.why}, rc "
                           f"{ending.returncode}): {cert['summary']}", evidence)
        if not self.ended and ending.why in ("timeout", "stall"):
            verdict = Verdict.HANG if ending.why == "timeout" else Verdict.STALL
            return Outcome(verdict, f"probe did not finish: {cert['summary']}", evidence)
        return Outcome(Verdict.FAIL, cert["summary"], evidence)

    def certificate(self) -> dict:
        for case in self.cases:
            judge_case(case, self.protection)
        bad = [c for c in self.cases if c.status == "not_enforced"]
        invalid = [c for c in self.cases if c.status == "invalid"]
        problems = []
        if not self.begun or not self.ended:
            problems.append("probe output incomplete (no PROBE:BEGIN/END)")
        if self.stray:
            problems.append(f"fatal error outside any case: {self.stray[0]!r}")
        controls = [c for c in self.cases if c.kind == "control"]
        if not controls:
            problems.append("no positive control ran")
        if not any(c.kind == "forbidden" for c in self.cases):
            problems.append("no forbidden access was tried")
        if bad:
            status = UNTRUSTED
            summary = "NOT enforced: " + "; ".join(f"{c.name}: {c.why}" for c in bad)
        elif invalid or problems:
            status = INVALID
            summary = "proof invalid: " + "; ".join(problems + [f"{c.name}: {c.why}" for c in invalid])
        else:
            status = CERTIFIED
            faulted = [c.name for c in self.cases if c.status == "enforced"]
            summary = (f"{len(faulted)} forbidden access(es) faulted on their target, "
                       f"{len(controls)} control(s) ok, values intact")
        return {"status": status, "summary": summary, "protection": self.protection,
                "cases": [c.to_json() for c in self.cases]}

    @staticmethod
    def _closed(case: Case) -> bool:
        return case.intact is not None

    @staticmethod
    def _update(case: Case, tag: str, f: dict) -> None:
        if tag == "SURVIVED":
            case.survived = True
        elif tag == "FATAL":
            case.faulted = True
            case.reason = int(f.get("reason", -1))
        elif tag == "RESULT":
            case.faulted = case.faulted or f.get("faulted") == "1"
            case.reason = int(f.get("reason", case.reason))
            case.intact = f.get("intact") == "1"


def judge_case(case: Case, protection: str) -> None:
    """Set case.status and case.why from what the probe and the dump showed."""
    if case.intact is None:
        case.status, case.why = "invalid", "no PROBE:RESULT line"
        return
    if case.kind == "control":
        ok = case.survived and not case.faulted and case.intact
        case.status = "ok" if ok else "invalid"
        case.why = "" if ok else "positive control failed: the probe proves nothing"
        return
    if not case.intact:
        case.status, case.why = "not_enforced", "protected value changed"
        return
    if case.survived or not case.faulted:
        case.status, case.why = "not_enforced", f"{case.access} of 0x{case.target:08x} succeeded"
        return
    fault = parse_dump(case.dump)
    wanted = EXPECTED.get((protection, case.access), set())
    if case.access == "stack" and protection == "mpu" and _below_stack(case, fault["address"]):
        # Zephyr reports a user stack overflow only when its MPU guard check
        # recognises it. Renode 1.14 leaves MMFAR out (the PC is then checked
        # against the ELF) and Renode 1.15 faults below the stack without that
        # classification: a data access violation just below the stack counts.
        wanted = wanted | {"mpu_data_access_violation"}
    if fault["kind"] not in wanted:
        case.status = "invalid"
        case.why = f"faulted as {fault['kind']} (reason {case.reason}), expected {sorted(wanted)}"
        return
    case.status, case.why = "enforced", _address_check(case, fault)
    if case.why.startswith("wrong"):
        case.status = "invalid"


def _unreported(address: str | None) -> bool:
    return address is None or int(address, 16) == 0


def _below_stack(case: Case, address: str | None) -> bool:
    """Unreported, or within STACK_WINDOW bytes below the stack's lowest address."""
    if _unreported(address):
        return True
    return case.target - STACK_WINDOW <= int(address, 16) < case.target


def _address_check(case: Case, fault: dict) -> str:
    if case.access == "stack" and fault["kind"] != "stack_overflow" and \
            not _unreported(fault["address"]):
        below = case.target - int(fault["address"], 16)
        return (f"faulted at {fault['address']}, {below} bytes below the stack "
                "(an MPU data access violation Zephyr did not classify as a stack overflow)")
    if case.access not in ADDRESS_CHECKED:
        if fault["kind"] != "stack_overflow" and _unreported(fault["address"]):
            return f"faulted; the emulator did not report the faulting address (pc {fault['pc']})"
        return "faulted"
    seen = fault["address"] if case.access != "exec" or fault["address"] else fault["pc"]
    if _unreported(seen):
        return ("faulted; the emulator did not report the faulting address "
                f"(pc {fault['pc']})")
    if int(seen, 16) != case.target:
        return f"wrong address: faulted at {seen}, touched 0x{case.target:08x}"
    return f"faulted at 0x{case.target:08x}"
