"""Repeated runs of one selection (--repeat N): pass rate, whether the UART bytes were
the same each time, the spread of timings, a kept Renode's memory, and FLAKY with
the first differing line between a passing and a failing repeat. Pure: the caller
reads the files and hands in the digests and texts."""
from __future__ import annotations

import statistics

from harness.judging.verdict import Verdict


def summarize(runs: list, uart_digests: list[str], uart_texts: list[str]) -> dict:
    """`runs`: the RunResults of one (app, board, emulator), in repeat order."""
    passed = [r.verdict in (Verdict.PASS, Verdict.SKIPPED) for r in runs]
    times = [r.timings.get("total_s", 0.0) for r in runs]
    rss = [r.outcome.evidence.get("teardown", {}).get("host_rss_kib") for r in runs]
    out = {
        "app": runs[0].app, "board": runs[0].board, "emulator": runs[0].emulator,
        "repeats": len(runs), "passed": sum(passed), "pass_rate": round(sum(passed) / len(runs), 3),
        "verdicts": [r.verdict.label for r in runs],
        "uart_identical": len(set(uart_digests)) == 1,
        "time_s": {"min": min(times), "median": round(statistics.median(times), 3), "max": max(times)},
        "host_rss_kib": rss if any(rss) else None,
        "flaky": 0 < sum(passed) < len(runs),
    }
    if out["flaky"]:
        good, bad = passed.index(True), passed.index(False)
        out["first_difference"] = first_difference(uart_texts[good], uart_texts[bad], good, bad)
    return out


def first_difference(a: str, b: str, ia: int, ib: int) -> str:
    la, lb = a.splitlines(), b.splitlines()
    for n, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            return f"line {n}: repeat {ia + 1} (passed) {x!r} vs repeat {ib + 1} {y!r}"
    n = min(len(la), len(lb)) + 1
    return f"line {n}: repeat {ia + 1} (passed) has {len(la)} lines, repeat {ib + 1} {len(lb)}"


def line(s: dict) -> str:
    label = "FLAKY" if s["flaky"] else ("STABLE" if s["passed"] == s["repeats"] else "FAILING")
    t = s["time_s"]
    mem = ""
    if s["host_rss_kib"]:
        kept = [k for k in s["host_rss_kib"] if k]
        mem = f"  renode RSS {kept[0] // 1024}->{kept[-1] // 1024} MiB"
    diff = f"  first difference: {s['first_difference']}" if s.get("first_difference") else ""
    return (f"{label:<14} {s['app']} {s['board']} {s['emulator']}: {s['passed']}/{s['repeats']} "
            f"passed, UART {'identical' if s['uart_identical'] else 'differs'} across repeats, "
            f"{t['min']:.2f}/{t['median']:.2f}/{t['max']:.2f} s min/median/max{mem}{diff}")
