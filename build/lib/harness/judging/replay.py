"""Judging a saved UART log: the shared entry point of `check-log`, `prove --log` and the
tests (a live run feeds the same judges line by line from the stream instead)."""
from __future__ import annotations

from harness.judging.judge import Ending, Judge
from harness.judging.lines import LineSplitter
from harness.judging.verdict import Outcome


def judge_bytes(data: bytes, spec) -> Outcome:
    """Pure: the verdict a UART log deserves on its own."""
    return judge_log(Judge(spec), data)


def judge_log(judge, data: bytes) -> Outcome:
    """Feed a saved log to any judge (Judge, ProbeJudge). After completion the rest is
    still read, so a late fault counts, as in the capture window of a live run."""
    splitter = LineSplitter()
    for lineno, text in enumerate(splitter.feed(data) + splitter.flush(), 1):
        judge.feed(lineno, text, 0.0)
        if judge.should_stop(0.0) and not judge.completed:
            break
    return judge.outcome(Ending("eof"))
