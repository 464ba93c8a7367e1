"""Reports: result.json, junit.xml and the one-line summary. Writers only."""
from __future__ import annotations

import errno
import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.host.files import write_atomic
from harness.judging.results import RunResult
from harness.judging.verdict import Verdict


def line(r: RunResult) -> str:
    total = r.timings.get("total_s", 0.0)
    cert = ""
    if r.certificate and r.verdict is not Verdict.SKIPPED:
        cert = f"  isolation={r.certificate.get('status', '?')}"
    reason = "" if r.verdict is Verdict.PASS else f"  reason: {r.outcome.reason}"
    dom = r.outcome.evidence.get("domains") or {}
    if "violations" in dom:
        cert += f"  domains={'OVERREACH' if dom['violations'] else 'AS-INTENDED'}"
    elif "not_audited" in dom:
        cert += "  domains=NOT-AUDITED"
    cert += coverage_note(r.coverage)
    cases = r.outcome.evidence.get("testcases")
    tally = "  cases: " + _tally(c["status"] for c in cases) if cases else ""
    return (f"{r.verdict.label:<14} {r.app} {r.board} {r.emulator}  {total:.2f}s{cert}{tally}"
            f"  artifacts: {shown(r.run_dir)}{reason}")


def coverage_note(cov: dict | None) -> str:
    """e.g. '  coverage=41.3% lines (gcov)', '  coverage=CUT-SHORT'."""
    if not cov:
        return ""
    if cov.get("status") == "complete" and "line_percent" in cov:
        return f"  coverage={cov['line_percent']:.1f}% lines ({cov['method']})"
    return f"  coverage={cov.get('status', '?').upper().replace(' ', '-')}"


def counts(results: list[RunResult]) -> str:
    """e.g. '21 PASS, 8 SKIPPED, 1 HANG'"""
    return _tally(r.verdict.label for r in results) or "nothing ran"


def _tally(labels) -> str:
    seen: dict = {}
    for label in labels:
        seen[label] = seen.get(label, 0) + 1
    return ", ".join(f"{n} {label}" for label, n in seen.items())


def write_run(r: RunResult) -> None:
    """result.json and junit.xml in the run directory. A run directory that vanished
    during the run took the run's evidence with it: a host error, not a report."""
    if not r.run_dir.is_dir():
        raise FileNotFoundError(errno.ENOENT, "the run directory vanished during the run "
                                "(its UART log with it)", str(r.run_dir))
    write_atomic(r.run_dir / "result.json", json.dumps(r.to_json(), indent=2, default=str) + "\n")
    write_junit([r], r.run_dir / "junit.xml")


def write_junit(results: list[RunResult], path: Path, suite: str = "harness") -> None:
    """One testcase per run (its verdict and isolation as properties), and for a test suite
    one more per ztest test case (classname: the run's name)."""
    failures = sum(1 for r in results if r.verdict not in (Verdict.PASS, Verdict.SKIPPED)
                   and not _is_error(r))
    errors = sum(1 for r in results if _is_error(r))
    skipped = sum(1 for r in results if r.verdict is Verdict.SKIPPED)
    total_time = sum(r.timings.get("run_s", 0) for r in results)
    ts = ET.Element("testsuite", name=suite, tests=str(len(results)), failures=str(failures),
                    errors=str(errors), skipped=str(skipped), time=f"{total_time:.3f}")
    for r in results:
        case = ET.SubElement(ts, "testcase", classname=f"{r.app}", name=f"{r.board}.{r.emulator}",
                             time=f"{r.timings.get('run_s', 0):.3f}")
        props = ET.SubElement(case, "properties")
        for name, value in (("verdict", r.verdict.label),
                            ("isolation", (r.certificate or {}).get("status", "not checked")),
                            ("isolation_summary", (r.certificate or {}).get("summary", "")),
                            ("elf_sha256", r.provenance.get("elf_sha256", "")),
                            ("emulator_version", r.provenance.get("emulator", "")),
                            *_measured(r)):
            ET.SubElement(props, "property", name=name, value=str(value or ""))
        if r.verdict is Verdict.SKIPPED:
            ET.SubElement(case, "skipped", message=r.outcome.reason)
        elif r.verdict is not Verdict.PASS:
            tag = "error" if _is_error(r) else "failure"
            body = "\n".join(r.outcome.evidence.get("last_lines", []))
            ET.SubElement(case, tag, type=r.verdict.label,
                          message=r.outcome.reason).text = f"{r.outcome.reason}\n\n{body}"
        ET.SubElement(case, "system-out").text = "\n".join(
            f"[[ATTACHMENT|{p}]]" for p in r.artifacts.values())
        for c in r.outcome.evidence.get("testcases", []):
            _test_case(ts, r, c)
    cases = ts.findall("testcase")           # the counts are those of the elements
    ts.set("tests", str(len(cases)))
    for attr, tag in (("failures", "failure"), ("errors", "error"), ("skipped", "skipped")):
        ts.set(attr, str(sum(c.find(tag) is not None for c in cases)))
    ET.indent(ts)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(ts).write(path, encoding="utf-8", xml_declaration=True)


def _measured(r: RunResult) -> list[tuple[str, object]]:
    """Footprint and coverage as JUnit properties, where the run has them."""
    fp, cov = r.footprint or {}, r.coverage or {}
    found = [(f"{m}_bytes", fp.get(f"{m}_bytes")) for m in ("rom", "ram") if fp]
    if cov:
        found += [("coverage", cov.get("status")), ("coverage_method", cov.get("method")),
                  ("coverage_lines_percent", cov.get("line_percent"))]
    return found


def _test_case(ts, r: RunResult, c: dict) -> None:
    case = ET.SubElement(ts, "testcase", classname=r.name, name=c["name"],
                         time=f"{c.get('duration_s') or 0:.3f}")
    if c["status"] == "skipped":
        ET.SubElement(case, "skipped")
    elif c["status"] == "failed":
        ET.SubElement(case, "failure", type="FAIL",
                      message=c.get("message") or "test case failed").text = \
            f"line {c['line']}: {c.get('message') or 'FAIL'}"
    elif c["status"] != "passed":
        ET.SubElement(case, "error", type=r.verdict.label,
                      message=f"no result: the run ended {r.verdict.label}: {r.outcome.reason}")


def _is_error(r: RunResult) -> bool:
    """Infrastructure trouble is a JUnit error; firmware misbehaviour a failure."""
    return r.verdict in (Verdict.EMULATOR_ERROR, Verdict.SETUP_ERROR, Verdict.BUILD_ERROR,
                         Verdict.STALL)


def shown(path, cwd: Path | None = None) -> str:
    """A path as a user reads it: relative below the current directory (where the
    default harness-out/ lives), absolute elsewhere (never `../../tmp/...`)."""
    path = Path(os.path.abspath(path))
    here = Path(os.path.abspath(cwd or Path.cwd()))
    return str(path.relative_to(here)) if path.is_relative_to(here) else str(path)


def certificate_text(r: RunResult) -> str:
    """The isolation certificate of a probe run, one line per case."""
    cert = r.certificate or {}
    cached = " (cached)" if cert.get("cached") else ""
    out = [f"{cert.get('status', r.verdict.label)}{cached}  isolation of {r.board} under "
           f"{r.emulator}: {cert.get('summary', r.outcome.reason)}",
           f"  emulator: {cert.get('emulator')}  probe ELF sha256: {cert.get('elf_sha256')}",
           f"  artifacts: {shown(Path(cert.get('run_dir') or r.run_dir))}"]
    for case in cert.get("cases", []):
        fault = case.get("fault") or {}
        out.append(f"  {case['status']:<13} {case['name']:<14} {case['access']:<7} "
                   f"{case['target']}  {fault.get('kind') or '-'}  {case['why']}")
    return "\n".join(out)


def agreement_line(found: dict) -> str:
    emus = " vs ".join(found["emulators"])
    if found["agree"] is None:
        return f"{'NOT-COMPARED':<14} {found['app']} {found['board']} {emus}: {found['same']}"
    if found["agree"]:
        same = found.get("same", "same verdict and payload chains")
        return f"{'AGREE':<14} {found['app']} {found['board']} {emus}: {same}"
    return (f"{'DISAGREE':<14} {found['app']} {found['board']} {emus}: "
            + "; ".join(found["differences"]))
