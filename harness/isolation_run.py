"""Run the isolation probe for a (board, emulator) and cache its certificate.

The cache key is (board, emulator, its version and settings, probe ELF
sha256, judging code), so a warm run pays only for the probe's no-op build,
and a changed board file (emulator arguments, platform description) proves
again.
"""
from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from harness.build import symbols
from harness.host.files import write_atomic
from harness.inputs import apps, boards
from harness.judging.isolation import ProbeJudge
from harness.judging.replay import judge_log
from harness.judging.results import RunResult
from harness.judging.verdict import Outcome, Verdict

if TYPE_CHECKING:
    from harness.build.builds import Builds
    from harness.emulators import Emulators

PROBE_APP = "isolation_probe"
# The probe function that performs each access (to place a fault whose address
# the emulator did not report, e.g. Renode 1.14's MMFAR).
ACCESS_FUNCTION = {"read": "do_read", "write": "do_write", "stack": "recurse"}


class Pipeline(Protocol):
    """What the proof needs of a session: its builds, its emulators, its output
    directory (for the cache) and one judged run."""
    builds: Builds
    emulators: Emulators
    out_dir: Path

    def run_one(self, app, board, emu: str, make_judge: Callable, certificate: dict | None = None
                ) -> RunResult: ...


def certify(session: Pipeline, board, emu: str, fresh: bool = False) -> RunResult:
    """The certificate of (board, emu): from the cache, else from a run of the probe.
    On a board of the lab, of the board the run holds (or one held for the proof)."""
    with session.emulators.hold(board, emu, getattr(session, "cancel", None)), \
            session.builds.lock(("certificate", board.name, emu)):
        found = None if fresh else _cached(session, board, emu)
        return found or _prove(session, board, emu)


def cached(session: Pipeline, board, emu: str) -> RunResult | None:
    """The cached certificate for the probe as it builds now (usually a no-op build),
    or None: what a run can look up while its own firmware boots."""
    with session.builds.lock(("certificate", board.name, emu)):
        return _cached(session, board, emu)


def _cache_path(session: Pipeline, board, emu: str) -> Path:
    built = session.builds.firmware(apps.load(PROBE_APP), board)
    emulator = session.emulators.adapter(board, emu, session.out_dir)
    key = hashlib.sha256(f"{board.name}|{emu}|{emulator.version()}|"
                         f"{_settings(board, emulator.settings)}|{built.sha256}|"
                         f"{_judging_rules()}".encode()).hexdigest()[:16]
    return session.out_dir / "isolation-cache" / f"{board.name}.{emu}.{key}.json"


def _cached(session: Pipeline, board, emu: str) -> RunResult | None:
    if board.protection == boards.NO_PROTECTION:
        return _nothing_to_prove(board, emu, session.out_dir)
    cache = _cache_path(session, board, emu)
    if not cache.is_file():
        return None
    data = json.loads(cache.read_text())
    cert = {**data["certificate"], "cached": True}
    outcome = Outcome(Verdict[data["verdict"]], data["reason"], {"certificate": cert})
    return RunResult(PROBE_APP, board.name, emu, outcome, session.out_dir / data["run_dir"],
                     provenance=data["provenance"], certificate=cert)


def _prove(session: Pipeline, board, emu: str) -> RunResult:
    if board.protection == boards.NO_PROTECTION:
        return _nothing_to_prove(board, emu, session.out_dir)
    app = apps.load(PROBE_APP)
    built = session.builds.firmware(app, board)
    emulator = session.emulators.adapter(board, emu, session.out_dir)
    version = emulator.version()
    cache = _cache_path(session, board, emu)
    result = session.run_one(app, board, emu, lambda: ProbeJudge(board.protection))
    cert = result.outcome.evidence.get("certificate") or {"status": "INVALID",
                                                          "summary": result.outcome.reason}
    _place_unreported_addresses(cert, built.elf, session.builds.toolchain(board).addr2line)
    cert.update(run_dir=str(result.run_dir), elf_sha256=built.sha256, emulator=version,
                board=board.name, cached=False)
    cert.update(getattr(emulator, "identity", lambda: {"target": "emulator"})())
    result.certificate = cert
    if result.verdict in (Verdict.PASS, Verdict.UNTRUSTED, Verdict.FAIL):   # a real judgement
        write_atomic(cache, json.dumps({        # parallel runs read whole files
            "certificate": cert, "verdict": result.verdict.name, "reason": result.outcome.reason,
            "run_dir": str(result.run_dir.relative_to(session.out_dir)),
            "provenance": result.provenance}, indent=2))
    return result


def _nothing_to_prove(board, emu: str, out_dir: Path) -> RunResult:
    """A board without an MPU/MMU (protection: none): no probe, and no certificate, so
    its PASSes stay UNTRUSTED unless the user runs with --no-isolation."""
    summary = (f"{board.name} has no memory protection to prove (protection: none in "
               f"{board.path}); run with --no-isolation to accept PASSes without a proof")
    cert = {"status": "NOT_APPLICABLE", "summary": summary, "protection": board.protection,
            "board": board.name, "emulator": emu, "cached": False, "run_dir": None,
            "elf_sha256": None, "cases": []}
    return RunResult(PROBE_APP, board.name, emu, Outcome(Verdict.SKIPPED, summary,
                                                         {"certificate": cert}),
                     out_dir, certificate=cert)


def _settings(board, settings: dict) -> str:
    """The emulator settings, with the contents of the Renode files they name."""
    text = json.dumps(settings, sort_keys=True, default=str)
    for key in ("platform", "script"):       # a board file's own Renode files
        if settings.get(key) and settings[key] != boards.ZEPHYR_SCRIPT:
            described = boards.beside(board, settings[key])
            text += described.read_text() if described.is_file() else ""
    return text


@functools.lru_cache(maxsize=None)
def _judging_rules() -> str:
    """A hash of the code that judges probe output: new rules, new certificates."""
    from harness.judging import isolation, triage
    text = "".join(Path(m.__file__).read_text() for m in (isolation, triage))
    return hashlib.sha256(text.encode() + Path(__file__).read_bytes()).hexdigest()[:12]


def certify_log(data: bytes, board, emu: str, source: str) -> RunResult:
    """Judge a saved probe log (no ELF: unreported fault addresses stay unplaced)."""
    outcome = judge_log(ProbeJudge(board.protection), data)
    cert = {**outcome.evidence["certificate"], "run_dir": source, "emulator": emu,
            "board": board.name, "cached": False}
    return RunResult(PROBE_APP, board.name, emu, outcome, Path(source), certificate=cert)


def _place_unreported_addresses(cert: dict, elf, addr2line) -> None:
    """Where the emulator left the fault address out, the faulting PC must lie in
    the probe's access function; otherwise the case does not count."""
    for case in cert.get("cases", []):
        fault = case.get("fault") or {}
        if case["status"] != "enforced" or "did not report" not in case["why"]:
            continue
        where = symbols.resolve(elf, [fault["pc"]], addr2line)[0] if fault.get("pc") else {}
        wanted = ACCESS_FUNCTION.get(case["access"])
        if where.get("function") != wanted:
            case["status"] = "invalid"
            case["why"] = f"fault address not reported and pc {fault.get('pc')} is in " \
                          f"{where.get('function')}, not {wanted}"
            cert["status"] = "INVALID" if cert["status"] == "CERTIFIED" else cert["status"]
        else:
            case["why"] += f"; pc in {wanted} ({where['location']})"
