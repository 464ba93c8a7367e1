"""The domain audit inside a run: where it can run, and what it makes of the verdict."""
from __future__ import annotations

from pathlib import Path

from harness.audit.collector import MpuTrace
from harness.audit.elf_map import ElfMap
from harness.errors import SetupError
from harness.host.files import write_atomic
from harness.isolation_run import PROBE_APP
from harness.judging import domains
from harness.judging.verdict import Outcome, Verdict
from harness.reports import domains_html

METHOD = ("Armv7-M MPU regions as the emulated MPU held them at each thread switch (PendSV), "
          "replayed from QEMU's trace of its system-register writes; nothing stops the CPU")


def unsupported(board, emu: str) -> str | None:
    """Why the audit cannot run on this board and emulator (None: it can)."""
    if board.protection != "mpu" or board.arch != "arm" or "Armv7-M" not in board.protection_detail:
        return (f"the domain audit reads Armv7-M MPUs so far; {board.name} has "
                f"{board.protection} ({board.arch})")
    if emu != "qemu":
        return f"the domain audit runs under QEMU so far, not {emu}"
    return None


def plan(requested: bool | None, result, board, emu: str, elf: Path, intent):
    """The audit's collector for a run, or None, and why it is not audited (or None).
    `requested`: True (--audit-domains, the project file), False (--no-audit-domains),
    None (as the app's expectation says: `audit: default:`). Where the audit cannot run,
    an explicit request is a SETUP_ERROR and a default a note. The isolation probe is
    never audited."""
    wanted = requested if requested is not None else bool(intent is not None and intent.default)
    if result.app == PROBE_APP or not wanted:
        return None, None
    why = unsupported(board, emu)
    if why and requested:
        raise SetupError(why, "audit on a board with an Armv7-M MPU under QEMU "
                         "(mps2_an385), or leave out --audit-domains")
    if why:
        return None, why
    return collector(elf), None


def collector(elf: Path) -> MpuTrace:
    return MpuTrace(ElfMap.load(elf))


def conclude(outcome: Outcome, audit: MpuTrace, intent, run_dir: Path) -> Outcome:
    """The audit's matrix and violations into the evidence; a PASS whose threads reach
    more than the app intends becomes OVERREACH."""
    audit.read(run_dir / audit.trace_file)
    found = domains.matrix(audit.views(), audit.elf.named(audit.stacks()))
    problems = domains.violations(found, intent.threads if intent else {})
    report = {"method": METHOD, "switches": audit.switches, "region_writes": audit.writes,
              "trace": str(run_dir / audit.trace_file),
              "threads": found, "intent": intent.threads if intent else None,
              "violations": problems, "error": audit.error,
              "html": str(run_dir / "domains.html")}
    report["unstated_threads"] = domains.unstated(found, intent.threads if intent else {})
    report["statement"] = _statement(found, problems, intent, report["unstated_threads"])
    write_atomic(run_dir / "domains.html", domains_html.render(found, problems))
    outcome.evidence["domains"] = report
    if outcome.verdict is not Verdict.PASS:
        return outcome
    if audit.error or not audit.writes:
        why = audit.error or "the trace holds no MPU region write"
        return Outcome(Verdict.EMULATOR_ERROR, f"the domain audit failed: {why}", outcome.evidence)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return Outcome(Verdict.OVERREACH, f"domain audit: {problems[0]}{more}", outcome.evidence)
    return outcome


def _statement(found: dict, problems: list[str], intent, unstated: list[str]) -> str:
    """The audit in one sentence, to read beside the isolation certificate."""
    if problems:
        return f"the protection unit was configured so that {problems[0]}"
    if intent and intent.threads:
        rest = f"; {', '.join(unstated)} not stated in the intent (see the matrix)" if unstated else ""
        return ("the protection unit was configured so that each user thread the app states "
                f"({', '.join(sorted(intent.threads))}) could reach only what it intends{rest}")
    return f"the protection unit's configuration for {len(found)} user thread(s) is in the matrix"
