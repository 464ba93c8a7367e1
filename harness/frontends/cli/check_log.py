"""`harness check-log`: judge a saved UART log against an app's expectations."""
from __future__ import annotations

import json
from pathlib import Path

from harness.errors import UsageError
from harness.inputs import apps, expectations
from harness.judging.replay import judge_bytes


def add_parser(sub) -> None:
    chk = sub.add_parser("check-log", help="judge a saved UART log without building or booting")
    chk.add_argument("log", help="the log file (raw bytes are fine)")
    chk.add_argument("--app", default=apps.DEFAULT_APP)
    chk.add_argument("--expect", help="expectation file (default: the app's)")
    chk.add_argument("--json", action="store_true", help="print the outcome as JSON")


def run(args, environ) -> int:
    app = apps.load(args.app, args.expect)
    try:
        data = Path(args.log).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read log {args.log}: {exc.strerror}") from None
    outcome = judge_bytes(data, expectations.load(app.expect))
    if args.json:
        print(json.dumps(outcome.to_json(), indent=2))
    else:
        print(f"{outcome.verdict.label}  {args.log}  {outcome.reason}")
        fault = outcome.evidence.get("fault")
        if fault:
            for key in ("reason", "kind", "address", "pc", "thread", "trace"):
                print(f"  {key}: {fault.get(key)}")
    return outcome.verdict.code
