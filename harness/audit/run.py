"""The domain audit inside a run: where it can run, and what it makes of the verdict."""
from __future__ import annotations

from pathlib import Path

from elftools.common.exceptions import ELFError

from harness.audit.collector import MpuSnapshots, MpuTrace
from harness.audit.elf_map import ElfMap
from harness.audit.x86_snapshot import PageTableSnapshot
from harness.errors import SetupError
from harness.host.files import write_atomic
from harness.isolation_run import PROBE_APP
from harness.judging import domains
from harness.judging.verdict import Outcome, Verdict
from harness.reports import domains_html

COLLECTORS = {("armv7m", "qemu"): MpuTrace, ("armv7m", "renode"): MpuSnapshots,
              ("x86", "qemu"): PageTableSnapshot}


def unit(board) -> str | None:
    """Which protection unit the audit reads on this board: armv7m, x86 or None."""
    if board.protection == "mpu" and board.arch == "arm" and "Armv7-M" in board.protection_detail:
        return "armv7m"
    if board.protection == "mmu" and board.arch == "x86" and "PAE" in board.protection_detail:
        return "x86"
    return None


def unsupported(board, emu: str) -> str | None:
    """Why the audit cannot run on this board and emulator (None: it can)."""
    kind = unit(board)
    if kind is None:
        return (f"the domain audit reads Armv7-M MPUs and IA-32 PAE page tables; "
                f"{board.name} has {board.protection} ({board.arch}: {board.protection_detail})")
    if (kind, emu) not in COLLECTORS:
        runs = " and ".join(e for k, e in COLLECTORS if k == kind)
        return f"the domain audit of {board.name} runs under {runs}, not {emu}"
    return None


GCOV_IMAGE = ("the gcov image of --coverage is not audited: Zephyr's coverage support lets "
              "every thread write all of RAM (the counters), so its domains are not the app's")


def plan(requested: bool | None, result, board, emu: str, elf: Path, intent,
         gcov_image: bool = False):
    """The audit's collector for a run, or None, and why it is not audited (or None).
    `requested`: True (--audit-domains, the project file), False (--no-audit-domains),
    None (as the app's expectation says: `audit: default:`). Where the audit cannot run,
    an explicit request is a SETUP_ERROR and a default a note. The isolation probe is
    never audited."""
    wanted = requested if requested is not None else bool(intent is not None and intent.default)
    if result.app == PROBE_APP or not wanted:
        return None, None
    why = GCOV_IMAGE if gcov_image else unsupported(board, emu)
    if why and requested and gcov_image:
        raise SetupError(why, "audit without --coverage, or with --coverage on Renode (its "
                         "trace covers the unmodified image)")
    if why and requested:
        raise SetupError(why, "audit on a board with an Armv7-M MPU under QEMU or Renode "
                         "(mps2_an385) or on qemu_x86 under QEMU, or leave out --audit-domains")
    if why:
        return None, why
    try:
        return collector(elf, unit(board), emu), None
    except SetupError as exc:
        if requested:
            raise
        return None, exc.message


def collector(elf: Path, kind: str = "armv7m", emu: str = "qemu"):
    """The collector for the unit and emulator; SETUP_ERROR where the ELF cannot be read
    or lacks what the audit needs."""
    try:
        names = ElfMap.load(elf)
    except (OSError, ELFError) as exc:
        raise SetupError(f"the domain audit cannot read {elf}: {exc}",
                         "audit a Zephyr ELF (the build's zephyr/zephyr.elf)") from None
    cls = COLLECTORS[kind, emu]
    return cls(elf, names) if cls is PageTableSnapshot else cls(names)


def conclude(outcome: Outcome, audit, intent, run_dir: Path, unit_kind: str | None = None) -> Outcome:
    """The audit's matrix and violations into the evidence; a PASS whose threads reach
    more than the app intends becomes OVERREACH."""
    audit.read(run_dir / audit.trace_file)
    found = domains.matrix(audit.views(), audit.elf.named(audit.stacks()))
    problems = domains.violations(found, intent.threads if intent else {}, unit_kind)
    report = {"method": audit.method, "switches": audit.switches, "region_writes": audit.writes,
              "trace": str(run_dir / audit.trace_file),
              "threads": found, "intent": intent.threads if intent else None,
              "violations": problems, "error": audit.error,
              "html": str(run_dir / "domains.html")}
    report.update(audit.notes())
    report["unstated_threads"] = domains.unstated(found, intent.threads if intent else {})
    report["statement"] = _statement(found, problems, intent, report["unstated_threads"])
    write_atomic(run_dir / "domains.html", domains_html.render(found, problems))
    outcome.evidence["domains"] = report
    if outcome.verdict is not Verdict.PASS:
        return outcome
    if audit.error or not audit.tables or audit.writes == 0:
        why = audit.error or ("the trace holds no MPU region write" if audit.writes == 0 else
                              "the trace holds no MPU region table")
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
