"""The record of one run: what ran, its outcome, timings, provenance, certificate and
artifacts. Every stage fills it in; report.py writes it."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from harness.judging.verdict import Outcome, Verdict


@dataclass
class RunResult:
    app: str
    board: str
    emulator: str
    outcome: Outcome
    run_dir: Path
    timings: dict = field(default_factory=dict)
    provenance: dict = field(default_factory=dict)
    certificate: dict | None = None
    artifacts: dict = field(default_factory=dict)
    footprint: dict | None = None     # ROM, RAM and the largest symbols of the image run
    coverage: dict | None = None      # --coverage: how it was measured, totals, reports

    @property
    def verdict(self) -> Verdict:
        return self.outcome.verdict

    @property
    def name(self) -> str:
        return f"{self.app}.{self.board}.{self.emulator}"

    def to_json(self) -> dict:
        return {"app": self.app, "board": self.board, "emulator": self.emulator,
                **self.outcome.to_json(), "exit_code": self.verdict.code,
                "timings": self.timings, "provenance": self.provenance,
                "isolation": self.certificate, "artifacts": self.artifacts,
                "footprint": self.footprint, "coverage": self.coverage,
                "run_dir": str(self.run_dir)}
