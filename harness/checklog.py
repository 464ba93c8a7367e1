"""`harness check-log`: judge a saved UART log against an app's expectations."""
from __future__ import annotations

import json
from pathlib import Path

from harness import apps, expect
from harness.errors import UsageError
from harness.judge import Ending, Judge
from harness.lines import LineSplitter
from harness.verdict import Outcome


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


def main(args) -> int:
    app = apps.load(args.app, args.expect)
    try:
        data = Path(args.log).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read log {args.log}: {exc.strerror}") from None
    outcome = judge_bytes(data, expect.load(app.expect))
    if args.json:
        print(json.dumps(outcome.to_json(), indent=2))
    else:
        print(f"{outcome.verdict.label}  {args.log}  {outcome.reason}")
        fault = outcome.evidence.get("fault")
        if fault:
            for key in ("reason", "kind", "address", "pc", "thread", "trace"):
                print(f"  {key}: {fault.get(key)}")
    return outcome.verdict.code
