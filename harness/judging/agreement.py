"""Cross-emulator agreement: the same ELF on two emulators must tell the same
story. Pure: compares finished runs.

Interleavings may differ (timing differs between emulators); what must agree
is the verdict and, per event, the keys that were matched in the order they
came (e.g. payloads 0..9 received in order, 1..10 processed in order). Keys
outside the required range (extra driver interrupts) may differ. Where both runs
were domain-audited, the matrices must be the same: per user thread and named region,
the access and the MPU entries that grant it, and the unnamed ranges (how many thread
switches each emulator saw may differ).
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
    """{'agree': bool, 'emulators': [...], 'differences': [...]} for runs of one ELF;
    'agree' None where the runs did not boot one image (--coverage runs a gcov image on
    QEMU and the unmodified one on Renode): nothing to compare."""
    base, differences = results[0], []
    gcov = [r.emulator for r in results if (getattr(r, "coverage", None) or {}).get("method") == "gcov"]
    if gcov and len({r.provenance.get("elf_sha256") for r in results}) > 1:
        return {"app": base.app, "board": base.board, "agree": None,
                "emulators": [r.emulator for r in results], "differences": [],
                "verdicts": {r.emulator: r.verdict.label for r in results},
                "same": f"not compared: {', '.join(gcov)} ran the gcov image of --coverage, "
                        "not the image the others ran"}
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
        differences += domain_differences(base, other)
    audited = all(domain_cells(r) is not None for r in results)
    return {"app": base.app, "board": base.board, "agree": not differences,
            "emulators": [r.emulator for r in results], "differences": differences,
            "verdicts": {r.emulator: r.verdict.label for r in results},
            "same": ("same verdict, payload chains and domain matrices" if audited else
                     "same verdict and payload chains"),
            "domains_compared": audited}


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


def domain_cells(result) -> dict | None:
    """{(thread, region): (access, granting entries)} of an audited run (None: not audited)."""
    threads = (result.outcome.evidence.get("domains") or {}).get("threads")
    if threads is None:
        return None
    cells = {}
    for thread, seen in threads.items():
        for region, cell in seen["regions"].items():
            cells[thread, region] = (cell["access"], tuple(cell["granted_by"]))
        for u in seen["unnamed"]:
            cells[thread, u["range"]] = (u["access"], ())
    return cells


def domain_differences(base, other) -> list[str]:
    mine, theirs = domain_cells(base), domain_cells(other)
    if mine is None or theirs is None:
        return []                      # audited on one emulator only: nothing to compare
    out = []
    for key in sorted(set(mine) | set(theirs)):
        a, b = mine.get(key, ("absent", ())), theirs.get(key, ("absent", ()))
        if a != b:
            how = (f"{a[0]} vs {other.emulator} {b[0]}" if a[0] != b[0] else
                   f"granted by {'; '.join(a[1])} vs {other.emulator} {'; '.join(b[1])}")
            out.append(f"domains: {key[0]} x {key[1]}: {base.emulator} {how}")
    return out
