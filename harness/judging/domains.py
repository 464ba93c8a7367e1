"""The domain audit's judging core (pure): Armv7-M MPU regions as read during the run ->
what a user thread can reach -> a matrix of user thread x named region -> the
violations of what the app intends. No I/O, no clock.

Armv7-M PMSA: a region is RBAR (base) + RASR (enable, size 2^(SIZE+1), eight
subregions SRD, access permission AP, execute-never XN); where regions overlap the
highest-numbered one wins; an unprivileged access that no enabled region allows
faults (the default memory map, PRIVDEFENA, is for privileged code only).
"""
from __future__ import annotations

from dataclasses import dataclass, field

# AP -> what unprivileged code may do (ARMv7-M ARM, table B3-15); 0b100 is reserved
USER_AP = {0: "", 1: "", 2: "r", 3: "rw", 4: "", 5: "", 6: "r", 7: "r"}
LEVELS = {"": "none", "r": "read", "rw": "read-write", "rx": "execute", "rwx": "read-write-execute"}
ALWAYS_ALLOWED_KINDS = {"code": {"none", "read", "execute"}}   # ROM: Zephyr lets users run it


@dataclass(frozen=True)
class MpuRegion:
    number: int
    rbar: int
    rasr: int

    @property
    def enabled(self) -> bool:
        return bool(self.rasr & 1)

    @property
    def size(self) -> int:
        return 1 << (((self.rasr >> 1) & 0x1F) + 1)

    @property
    def base(self) -> int:
        return self.rbar & ~(self.size - 1) & 0xFFFFFFE0

    @property
    def user_access(self) -> str:
        rights = USER_AP[(self.rasr >> 24) & 7]
        return rights + ("x" if rights and not (self.rasr >> 28) & 1 else "")

    def spans(self) -> list[tuple[int, int]]:
        """[start, end) ranges the region covers, less its disabled subregions."""
        srd = (self.rasr >> 8) & 0xFF if self.size >= 256 else 0
        sub = self.size // 8
        if not srd:
            return [(self.base, self.base + self.size)]
        return [(self.base + i * sub, self.base + (i + 1) * sub) for i in range(8)
                if not srd >> i & 1]

    def describe(self) -> str:
        return (f"MPU region {self.number}: 0x{self.base:08x}-0x{self.base + self.size - 1:08x} "
                f"RBAR=0x{self.rbar:08x} RASR=0x{self.rasr:08x} (user {LEVELS[_order(self.user_access)]})")


@dataclass(frozen=True)
class Span:
    start: int
    end: int              # exclusive
    access: str           # "", "r", "rw", "rx", "rwx"
    region: MpuRegion | None


def user_map(regions: list[MpuRegion], mpu_enabled: bool = True) -> list[Span]:
    """What unprivileged code can do, address by address, as ordered spans (gaps: none).
    With the MPU off every address is open (one span, region None)."""
    if not mpu_enabled:
        return [Span(0, 1 << 32, "rwx", None)]
    active = [r for r in regions if r.enabled]
    cuts = sorted({a for r in active for s in r.spans() for a in s})
    out: list[Span] = []
    for lo, hi in zip(cuts, cuts[1:]):
        owner = max((r for r in active if any(s <= lo < e for s, e in r.spans())),
                    key=lambda r: r.number, default=None)
        if owner is not None and owner.user_access:
            if out and out[-1].end == lo and out[-1].region is owner:
                out[-1] = Span(out[-1].start, hi, owner.user_access, owner)
            else:
                out.append(Span(lo, hi, owner.user_access, owner))
    return out


@dataclass(frozen=True)
class Named:
    name: str
    start: int
    end: int              # exclusive
    kind: str             # partition, stack, kernel data, code


@dataclass
class ThreadView:
    """One thread as the audit saw it at its switches into user mode."""
    name: str
    user: bool                          # ever ran unprivileged
    spans: list[Span] = field(default_factory=list)
    stack: tuple[int, int] | None = None
    stops: int = 0


def matrix(threads: list[ThreadView], named: list[Named]) -> dict:
    """{thread: {"user", "stops", "regions": {region: {"kind", "access", "granted_by"}},
    "unnamed": [reachable ranges that belong to no named region]}}. Access is none,
    read, read-write, execute (read and execute) or read-write-execute."""
    out = {}
    for t in threads:
        row: dict = {}
        for n in _for_thread(named, t):
            hits = [s for s in t.spans if s.start < n.end and n.start < s.end]
            cell = row.setdefault(n.name, {"kind": n.kind, "rights": "", "granted_by": set()})
            cell["rights"] = _order(cell["rights"] + "".join(s.access for s in hits))
            cell["granted_by"] |= {s.region.describe() for s in hits if s.region}
        regions = {name: {"kind": c["kind"],
                          "access": LEVELS[c["rights"]] if t.user else "supervisor (everything)",
                          "granted_by": sorted(c["granted_by"])} for name, c in row.items()}
        out[t.name] = {"user": t.user, "stops": t.stops, "regions": regions,
                       "unnamed": [{"range": f"0x{a:08x}-0x{b - 1:08x}",
                                    "access": LEVELS[_order(acc)]}
                                   for a, b, acc in dict.fromkeys(
                                       _unnamed(t.spans, named + _own_stack(t)))]}
    return out


def violations(found: dict, intent: dict, unit: str | None = None) -> list[str]:
    """What `intent` ({thread: {"may_reach": [...], "also_on": {unit: [...]}}}) forbids
    and the audit found, on a protection unit of kind `unit` (mpu, mmu). The
    pseudo-region `own stack` is the thread's own stack; code stays readable and
    executable; a writable range that belongs to nothing named is always a violation."""
    problems = []
    for thread, rule in intent.items():
        seen = found.get(thread)
        if seen is None:
            problems.append(f"the thread on {thread} never ran in user mode: it runs in "
                            "supervisor mode and can reach all memory (or never ran)")
            continue
        if not seen["user"]:
            problems.append(f"{thread}: ran in supervisor mode: it can reach all memory")
            continue
        allowed = set(rule.get("may_reach") or ()) | \
            set((rule.get("also_on") or {}).get(unit) or ())
        for name, cell in seen["regions"].items():
            ok = cell["access"] == "none" or name in allowed or \
                (cell["kind"] == "own stack" and "own stack" in allowed) or \
                cell["access"] in ALWAYS_ALLOWED_KINDS.get(cell["kind"], ())
            if not ok:
                problems.append(f"{thread} can {cell['access']} {name} ({cell['kind']}), granted "
                                f"by {'; '.join(cell['granted_by']) or 'no MPU region'}")
    for thread, seen in found.items():         # every user thread, stated in the intent or not
        problems += [f"{thread} can {u['access']} {u['range']}, which belongs to no partition, "
                     "stack or section of the ELF" for u in seen["unnamed"] if "write" in u["access"]]
    return problems


def unstated(found: dict, intent: dict) -> list[str]:
    """User threads the audit saw that the intent says nothing about."""
    return sorted(t for t, seen in found.items() if seen["user"] and t not in intent)


def _for_thread(named: list[Named], t: ThreadView) -> list[Named]:
    """The named regions as `t` sees them: its own stack is `own stack`."""
    own = _own_stack(t)
    mine = [n for n in named if not (n.kind == "stack" and own and
                                     n.start < own[0].end and own[0].start < n.end)]
    return mine + own


def _own_stack(t: ThreadView) -> list[Named]:
    return [Named("own stack", *t.stack, "own stack")] if t.stack else []


def _unnamed(spans: list[Span], named: list[Named]):
    for s in spans:
        lo = s.start
        for n in sorted((n for n in named if n.start < s.end and s.start < n.end),
                        key=lambda n: n.start):
            if n.start > lo:
                yield lo, n.start, s.access
            lo = max(lo, n.end)
        if lo < s.end:
            yield lo, s.end, s.access


def _order(rights: str) -> str:
    return "".join(c for c in "rwx" if c in rights)
