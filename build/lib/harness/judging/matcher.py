"""Streaming matcher with happens-before semantics. Pure: no I/O, no clock.

Feed it lines one by one; it reports the first broken rule at once, and knows
when the final event completed the expected sequence.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from harness.judging.expect import EventSpec, Expectation, Ref


@dataclass(frozen=True)
class Seen:
    event: str
    key: int
    lineno: int
    text: str
    t: float            # host seconds since the run started (given by the caller)

    def to_json(self) -> dict:
        return {"event": self.event, "key": self.key, "line": self.lineno,
                "text": self.text, "t": round(self.t, 4)}


@dataclass
class Violation:
    rule: str
    message: str
    lines: list = field(default_factory=list)   # [(lineno, text)]

    def __str__(self) -> str:
        where = "; ".join(f"line {n}: {t!r}" for n, t in self.lines)
        return f"{self.message} [rule: {self.rule}]" + (f" ({where})" if where else "")


class Matcher:
    def __init__(self, spec: Expectation) -> None:
        self.spec = spec
        self.seen: dict[str, dict[int, Seen]] = {e.name: {} for e in spec.events}
        self.events: list[Seen] = []
        self.violation: Violation | None = None
        self.done = False

    def feed(self, text: str, lineno: int, t: float = 0.0) -> Violation | None:
        """Match one line; return the first violation it causes, if any."""
        if self.done or self.violation:
            return None
        for spec in self.spec.events:
            m = spec.pattern.search(text)
            if m:
                key = int(m.group(spec.index)) if spec.index else len(self.seen[spec.name]) + 1
                self.violation = self._arrive(spec, Seen(spec.name, key, lineno, text, t))
                return self.violation
        return None

    def missing(self) -> list[str]:
        """Human summary of required events not seen yet, e.g. ['got[7..9]']."""
        out = []
        for spec in self.spec.events:
            keys = [k for k in spec.required_keys() if k not in self.seen[spec.name]]
            if keys:
                out.append(f"{spec.name}[{_span(keys)}]")
        return out

    # -- internals -------------------------------------------------------
    def _arrive(self, spec: EventSpec, seen: Seen) -> Violation | None:
        have = self.seen[spec.name]
        line = [(seen.lineno, seen.text)]
        if spec.index and seen.key in have:
            first = have[seen.key]
            return Violation(f"{spec.name} once per key", f"{spec.name}[{seen.key}] duplicated",
                             [(first.lineno, first.text)] + line)
        if spec.index and not spec.extra and seen.key not in spec.required_keys():
            return Violation(f"{spec.name} keys {_span(spec.required_keys())}",
                             f"unexpected {spec.name}[{seen.key}]", line)
        if not spec.index and seen.key > spec.max_keys():
            return Violation(f"{spec.name} count {spec.count}",
                             f"{spec.name} occurred more than {spec.count[1]} time(s)", line)
        for rule in self.spec.rules:
            broken = (self._check_after(rule, seen) if rule.after.event == spec.name else None) \
                or (self._check_before(rule, seen) if rule.before.event == spec.name else None)
            if broken:
                return broken
        if spec.final:
            missing = [m for m in self.missing() if not m.startswith(spec.name + "[")]
            if missing:
                return Violation(f"everything < {spec.name}",
                                 f"{spec.name} before the work was done; missing {', '.join(missing)}",
                                 line)
            self.done = True
        have[seen.key] = seen
        self.events.append(seen)
        return None

    def _check_after(self, rule, seen: Seen) -> Violation | None:
        """`seen` is the later side of `rule`: the earlier side must be there."""
        n = _bind(rule.after, seen.key)
        if n is None:
            return None
        before, have = rule.before, self.seen[rule.before.event]
        spec = self.spec.event(before.event)
        if before.kind == "all":
            needed = [k for k in spec.required_keys() if k not in have]
        else:
            key = before.value if before.kind == "const" else before.key_for(n)
            needed = [key] if key not in have and (before.kind == "const"
                                                    or key in spec.required_keys()) else []
        if not needed:
            return None
        return Violation(rule.text, f"{seen.event}[{seen.key}] came before "
                         f"{before.event}[{_span(needed)}]", [(seen.lineno, seen.text)])

    def _check_before(self, rule, seen: Seen) -> Violation | None:
        """`seen` is the earlier side of `rule`: the later side must not be there yet."""
        n = _bind(rule.before, seen.key)
        if n is None:
            return None
        after, have = rule.after, self.seen[rule.after.event]
        if after.kind == "all":
            early = list(have.values())[:1]
        else:
            key = after.value if after.kind == "const" else after.key_for(n)
            early = [have[key]] if key in have else []
        if not early:
            return None
        return Violation(rule.text, f"{seen.event}[{seen.key}] came after "
                         f"{early[0].event}[{early[0].key}]",
                         [(early[0].lineno, early[0].text), (seen.lineno, seen.text)])


def _bind(ref: Ref, key: int) -> int | None:
    """The variable value under which `key` matches `ref` (0 when no variable)."""
    if ref.kind == "all":
        return 0
    if ref.kind == "const":
        return 0 if key == ref.value else None
    return key - ref.value


def _span(keys) -> str:
    keys = list(keys)
    if not keys:
        return ""
    if keys == list(range(keys[0], keys[-1] + 1)) and len(keys) > 1:
        return f"{keys[0]}..{keys[-1]}"
    return ",".join(map(str, keys))
