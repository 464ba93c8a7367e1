"""Cross-emulator agreement: the same ELF on two emulators must tell the same
story. Pure: compares finished runs.

Interleavings may differ (timing differs between emulators); what must agree
is the verdict and, per event, the keys that were matched in the order they
came (e.g. payloads 0..9 received in order, 1..10 processed in order). Keys
outside the required range (extra driver interrupts) may differ.
"""
from __future__ import annotations


def chains(result, spec) -> dict:
    """event name -> keys in arrival order, limited to each event's required keys."""
    out = {}
    for ev in spec.events:
        required = set(ev.required_keys())
        out[ev.name] = [e["key"] for e in result.outcome.evidence.get("events", [])
                        if e["event"] == ev.name and (e["key"] in required or not required)]
    return out


def compare(results: list, spec) -> dict:
    """{'agree': bool, 'emulators': [...], 'differences': [...]} for runs of one ELF."""
    base, differences = results[0], []
    base_chains = chains(base, spec)
    for other in results[1:]:
        if other.verdict is not base.verdict:
            differences.append(f"verdict: {base.emulator} {base.verdict} vs "
                               f"{other.emulator} {other.verdict}")
        if other.provenance.get("elf_sha256") != base.provenance.get("elf_sha256"):
            differences.append("not the same ELF")
        for name, keys in chains(other, spec).items():
            if keys != base_chains[name]:
                differences.append(f"{name}: {base.emulator} {keys_text(base_chains[name])} vs "
                                   f"{other.emulator} {keys_text(keys)}")
    return {"app": base.app, "board": base.board, "agree": not differences,
            "emulators": [r.emulator for r in results], "differences": differences,
            "verdicts": {r.emulator: r.verdict.label for r in results}}


def keys_text(keys: list) -> str:
    return "[" + ",".join(map(str, keys)) + "]"


def compare_cases(results: list) -> dict:
    """Runs of one test-suite scenario on several emulators: the same verdict and, per
    ztest test case, the same status."""
    base, differences = results[0], []
    base_cases = case_statuses(base)
    for other in results[1:]:
        if other.verdict is not base.verdict:
            differences.append(f"verdict: {base.emulator} {base.verdict} vs "
                               f"{other.emulator} {other.verdict}")
        theirs = case_statuses(other)
        for name in sorted(set(base_cases) | set(theirs)):
            if base_cases.get(name) != theirs.get(name):
                differences.append(f"{name}: {base.emulator} {base_cases.get(name, 'absent')} vs "
                                   f"{other.emulator} {theirs.get(name, 'absent')}")
    return {"app": base.app, "board": base.board, "agree": not differences,
            "emulators": [r.emulator for r in results], "differences": differences,
            "verdicts": {r.emulator: r.verdict.label for r in results},
            "same": "same verdict and test-case results"}


def case_statuses(result) -> dict:
    return {c["name"]: c["status"] for c in result.outcome.evidence.get("testcases", [])}
