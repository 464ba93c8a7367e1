"""Expectation specs: parsed data -> validated, typed objects (pure; files are read by
harness.inputs.expectations).

An expectation file names *events* (a line pattern, literal unless `regex:` is
used) and *order rules* between them (`got[n] < processed[n+1]`). See
firmware/apps/prod_consumer/expect.yaml for a commented example.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.errors import UsageError

EVENT_KEYS = {"literal", "regex", "index", "require", "count", "extra", "final"}
TOP_KEYS = {"events", "order", "fail_on", "after_success_s", "audit"}
AUDIT_KEYS = {"default", "threads"}
THREAD_KEYS = {"may_reach", "also_on"}
UNIT_KINDS = {"mpu", "mmu"}
REF = re.compile(r"^\s*(\w+)\[\s*(\*|-?\d+|[a-z]\w*(?:\s*[+-]\s*\d+)?)\s*\]\s*$")


@dataclass(frozen=True)
class EventSpec:
    name: str
    pattern: re.Pattern
    index: str | None = None          # regex group holding the key; None: occurrence number
    require: tuple[int, int] | None = None  # inclusive key range that must each occur once
    count: tuple[int, int] = (1, 1)   # occurrences allowed when not indexed
    extra: bool = False               # keys outside `require` allowed
    final: bool = False               # completes the run; everything else must be done first

    def required_keys(self) -> range:
        if self.index is not None:
            return range(self.require[0], self.require[1] + 1) if self.require else range(0)
        return range(1, self.count[0] + 1)

    def max_keys(self) -> float:
        return float("inf") if self.index is not None else self.count[1]


@dataclass(frozen=True)
class Ref:
    event: str
    kind: str        # "all" | "const" | "var"
    value: int = 0   # constant, or offset added to the variable
    var: str = ""

    def key_for(self, n: int) -> int:
        return n + self.value


@dataclass(frozen=True)
class Rule:
    text: str
    before: Ref
    after: Ref


@dataclass
class Expectation:
    path: str
    events: list[EventSpec]
    rules: list[Rule]
    fail_on: list[re.Pattern] = field(default_factory=list)
    after_success_s: float | None = None    # None: the emulator's own window (Judge.settle_s)
    audit: "AuditIntent | None" = None      # the isolation the app intends (domain audit)

    def event(self, name: str) -> EventSpec:
        return next(e for e in self.events if e.name == name)


def parse(data, where: str = "<spec>") -> Expectation:
    if not isinstance(data, dict) or not isinstance(data.get("events"), dict):
        raise UsageError(f"{where}: needs a mapping with an 'events:' mapping")
    _no_unknown(data, TOP_KEYS, where)
    events = [_event(name, body, where) for name, body in data["events"].items()]
    names = {e.name for e in events}
    rules = [_rule(text, names, where) for text in data.get("order") or []]
    _no_impossible_cycle(rules, where)
    fail_on = [_pattern(item, f"{where}: fail_on") for item in data.get("fail_on") or []]
    window = data.get("after_success_s")
    return Expectation(where, events, rules, fail_on, None if window is None else float(window),
                       _audit(data.get("audit"), f"{where}: audit"))


@dataclass(frozen=True)
class AuditIntent:
    """`audit:` of an expectation: what each named user thread may reach (partition
    names, `own stack`), and whether runs of the app audit by default."""
    threads: dict                   # thread symbol -> {"may_reach": [...]}
    default: bool = False


def _audit(body, where: str) -> AuditIntent | None:
    if body is None:
        return None
    if not isinstance(body, dict) or not isinstance(body.get("threads", {}), dict):
        raise UsageError(f"{where}: needs a mapping with a 'threads:' mapping",
                         "e.g. audit: {threads: {app_b_thread: {may_reach: [app_b_partition]}}}")
    _no_unknown(body, AUDIT_KEYS, where)
    threads = {}
    for name, rule in (body.get("threads") or {}).items():
        if not isinstance(rule, dict) or not isinstance(rule.get("may_reach", []), list):
            raise UsageError(f"{where}: threads: {name}: needs may_reach: [region, ...]")
        _no_unknown(rule, THREAD_KEYS, f"{where}: threads: {name}")
        also = rule.get("also_on") or {}
        if not isinstance(also, dict) or set(also) - UNIT_KINDS or \
                not all(isinstance(v, list) for v in also.values()):
            raise UsageError(f"{where}: threads: {name}: also_on maps mpu or mmu to a list of "
                             "regions", "e.g. also_on: {mmu: [writeback_stack]}")
        threads[str(name)] = {"may_reach": [str(r) for r in rule.get("may_reach") or []],
                              "also_on": {k: [str(r) for r in v] for k, v in also.items()}}
    return AuditIntent(threads, bool(body.get("default", False)))


def _no_unknown(body: dict, allowed: set, where: str) -> None:
    unknown = set(body) - allowed
    if unknown:
        raise UsageError(f"{where}: unknown key(s) {sorted(unknown)}",
                         f"allowed keys: {sorted(allowed)}")


def _pattern(body, where: str) -> re.Pattern:
    if isinstance(body, str):
        body = {"literal": body}
    if not isinstance(body, dict) or ("literal" in body) == ("regex" in body):
        raise UsageError(f"{where}: give exactly one of 'literal:' or 'regex:'")
    if "literal" in body:
        return re.compile(re.escape(str(body["literal"])))
    try:
        return re.compile(str(body["regex"]))
    except re.error as exc:
        raise UsageError(f"{where}: broken regex {body['regex']!r}: {exc}") from None


def _event(name: str, body, where: str) -> EventSpec:
    here = f"{where}: event '{name}'"
    if not isinstance(body, dict):
        body = {"literal": body}
    _no_unknown(body, EVENT_KEYS, here)
    pattern = _pattern(body, here)
    index = body.get("index")
    if index is not None and index not in pattern.groupindex:
        raise UsageError(f"{here}: index group '{index}' is not a named group of its regex",
                         "write the regex with (?P<n>\\d+) and index: n")
    count = body.get("count", 1)
    count = (count, count) if isinstance(count, int) else tuple(count)
    require = tuple(body["require"]) if "require" in body else None
    if require is not None and (len(require) != 2 or index is None):
        raise UsageError(f"{here}: require: [first, last] needs an index group")
    if len(count) != 2 or count[0] > count[1]:
        raise UsageError(f"{here}: count must be N or [min, max]")
    return EventSpec(name, pattern, index, require, count, bool(body.get("extra", False)),
                     bool(body.get("final", False)))


def _no_impossible_cycle(rules: list[Rule], where: str) -> None:
    """Order rules that can never all hold are a load error naming them: a chain of
    rules from an event back to itself that contains an every-key rule (X[*] < Y[*]),
    or whose per-key rules (X[n] < Y[n+1]) come back to the same key."""
    edges: dict[str, list[Rule]] = {}
    for rule in rules:
        edges.setdefault(rule.before.event, []).append(rule)

    def shift(rule: Rule) -> int | None:        # key of `after` minus key of `before`
        if rule.before.kind == rule.after.kind == "var":
            return rule.after.value - rule.before.value
        return None

    def walk(event: str, start: str, path: list[Rule]) -> None:
        for rule in edges.get(event, []):
            if rule in path:
                continue
            chain = [*path, rule]
            if rule.after.event == start:
                every_key = any(r.before.kind == r.after.kind == "all" for r in chain)
                shifts = [shift(r) for r in chain]
                if every_key or (None not in shifts and sum(shifts) <= 0):
                    raise UsageError(f"{where}: order rules can never all hold: "
                                     + ", ".join(r.text for r in chain)
                                     + f" order {start} before itself",
                                     "remove or correct one of these rules")
            elif rule.after.event not in {r.before.event for r in chain}:
                walk(rule.after.event, start, chain)

    for event in edges:
        walk(event, event, [])


def _ref(text: str, names: set, where: str) -> Ref:
    text = text.strip()
    m = REF.match(text)
    if not m or m.group(1) not in names:
        raise UsageError(f"{where}: bad reference {text!r} in an order rule",
                         f"write EVENT[*], EVENT[3] or EVENT[n+1]; events: {sorted(names)}")
    event, idx = m.group(1), m.group(2).replace(" ", "")
    if idx == "*":
        return Ref(event, "all")
    if re.fullmatch(r"-?\d+", idx):
        return Ref(event, "const", int(idx))
    var, offset = re.match(r"([a-z]\w*)(.*)", idx).group(1, 2)
    return Ref(event, "var", int(offset or 0), var)


def _rule(text: str, names: set, where: str) -> Rule:
    parts = str(text).split("<")
    if len(parts) != 2:
        raise UsageError(f"{where}: order rule {text!r} must read 'A[..] < B[..]'")
    before, after = (_ref(p, names, where) for p in parts)
    if "var" == before.kind == after.kind and before.var != after.var:
        raise UsageError(f"{where}: order rule {text!r} uses two different variables")
    if (before.kind == "var") != (after.kind == "var"):   # a lone variable ranges over all keys
        before, after = (Ref(r.event, "all") if r.kind == "var" else r for r in (before, after))
    return Rule(str(text).strip(), before, after)
