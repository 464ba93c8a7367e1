"""`harness prove`: run the isolation probe and print its certificates."""
from __future__ import annotations

import json
from pathlib import Path

from harness import isolation_run, runner
from harness.errors import UsageError
from harness.frontends.cli import options
from harness.inputs import apps
from harness.judging.verdict import worst
from harness.reports import report


def add_parser(sub) -> None:
    pr = sub.add_parser("prove", help="run the isolation probe: certify that the MPU/MMU "
                        "enforces memory domains on a board and emulator")
    pr.add_argument("--board", action="append", help="board(s) (default: the probe's boards)")
    pr.add_argument("--emulator", help="emulator(s), comma-separated (default: qemu)")
    options.common(pr)
    pr.add_argument("--timeout", type=float, help="host seconds per boot (default: board file)")
    pr.add_argument("--fresh", action="store_true", help="ignore a cached certificate")
    pr.add_argument("--json", action="store_true", help="print the certificates as JSON")
    pr.add_argument("--log", help="judge a saved probe UART log instead of booting "
                    "(needs exactly one --board)")


def run(args, environ) -> int:
    probe = apps.load(isolation_run.PROBE_APP)
    emulator_names = options.split([args.emulator]) if args.emulator else None
    pairs = runner.validate(options.split(args.board) or list(probe.boards), emulator_names,
                            args.board_dirs)
    if args.log:
        if len(pairs) != 1:
            raise UsageError("--log needs exactly one --board (its protection kind matters)")
        results = [isolation_run.certify_log(_read(args.log), *pairs[0], args.log)]
    else:
        with options.session(args, environ) as session:
            results = [isolation_run.certify(session, board, emu, fresh=args.fresh)
                       for board, emu in pairs]
    for r in results:
        if args.json:
            print(json.dumps(r.certificate, indent=2))
        else:
            print(report.certificate_text(r))
    return worst(r.verdict for r in results).code


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read log {path}: {exc.strerror}") from None
