"""Options and helpers shared by the subcommands that run firmware (run, matrix, prove)."""
from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

from harness.emulators import HARDWARE
from harness.errors import UsageError
from harness.host import files
from harness.inputs import boards, config
from harness.inputs.hardware_map import DEFAULT_BAUD
from harness.judging import repeats
from harness.judging.selection import Selection


def common(p) -> None:
    p.add_argument("--workspace", help="west workspace or zephyr directory")
    p.add_argument("--renode", help=f"renode launcher (default: ${config.ENV_RENODE} or PATH)")
    p.add_argument("--out", help="artifacts directory (default: the project file's out:, "
                   "else harness-out)")
    p.add_argument("--config", metavar="FILE", help="the project file (default: the nearest "
                   "harness.yaml at or above the current directory)")
    p.add_argument("--no-reuse", action="store_true",
                   help="a new emulator process for every run (Renode; QEMU always starts "
                   "one): slower, nothing but the files is shared between runs")


def audit(p) -> None:
    p.add_argument("--audit-domains", action="store_true", default=None,
                   help="audit the firmware's memory domains during each run: what every user "
                   "thread can reach, from the live MPU, held against the app's expectation "
                   "(audit: threads:); Armv7-M MPU boards under QEMU and Renode, qemu_x86 (see "
                   "docs/domain-audit.md)")
    p.add_argument("--no-audit-domains", dest="audit_domains", action="store_false",
                   help="no domain audit, also where the app's expectation audits by default")
    p.add_argument("--coverage", action="store_true",
                   help="measure code coverage: the gcov image on QEMU (the board must support "
                   "coverage), the unmodified image traced on Renode; HTML, Cobertura and "
                   "LCOV in each run directory (see docs/coverage-and-footprint.md)")


def selection(p) -> None:
    p.add_argument("--repeat", type=positive, default=1, metavar="N",
                   help="run each selection N times: pass rate, UART sameness, timing spread "
                   "and a kept Renode's memory per run; FLAKY when only some pass")
    p.add_argument("--tag", action="append", help="test suites: only scenarios with this tag")
    p.add_argument("--exclude-tag", action="append", help="test suites: leave out this tag")
    p.add_argument("--fixture", action="append",
                   help="test suites: a fixture this bench provides (harness_config.fixture); "
                   "name:parameter provides name, and pytest scenarios get it whole")
    p.add_argument("-S", "--enable-slow", action="store_true",
                   help="test suites: run the scenarios marked slow: true (otherwise built, "
                   "not run, as twister does)")
    p.add_argument("--scenario", action="append",
                   help="test suites: only this scenario (or its dotted children)")


def lab(p) -> None:
    g = p.add_argument_group("boards of the lab, instead of emulators (docs/real-boards.md)")
    g.add_argument("--device-serial", metavar="PORT",
                   help="run on the board on this serial port (with exactly one --board), "
                   "flashed with west flash")
    g.add_argument("--device-serial-baud", type=positive, default=DEFAULT_BAUD, metavar="N",
                   help="its baud rate (default: %(default)s)")
    g.add_argument("--hardware-map", metavar="FILE",
                   help="run on the connected boards of this twister hardware map, one run "
                   "per board at a time (`harness hardware-map --generate FILE` writes one)")
    g.add_argument("--device-testing", action="store_true",
                   help="run on the boards of the project file's hardware_map:")
    g.add_argument("--west-runner", metavar="R", help="west flash --runner R, for every board")
    g.add_argument("--west-flash", metavar="ARGS", help="arguments after `west flash ... --`, "
                   "comma-separated as twister takes them (e.g. --erase,--softreset)")


def with_lab(args) -> None:
    """args.lab: the boards of the lab (None: emulators); on boards, the emulator is
    `hardware` and the boards default to the platforms of the map."""
    map_file = args.hardware_map or \
        (getattr(args, "project_hardware_map", None) if args.device_testing else None)
    if args.device_testing and not map_file:
        raise UsageError("--device-testing needs a hardware map",
                         "pass --hardware-map FILE, or name it in harness.yaml (hardware_map:)")
    args.lab = config.make_lab(hardware_map=map_file, device_serial=args.device_serial,
                               baud=args.device_serial_baud, board_names=split(args.board),
                               west_runner=args.west_runner, west_flash=args.west_flash, say=say)
    if args.lab is None:
        return
    if args.emulator and args.emulator != HARDWARE:
        raise UsageError(f"--emulator {args.emulator} does not combine with boards of the lab",
                         "run emulators and boards as two commands")
    args.emulator = HARDWARE
    args.board = args.board or _platforms(args.lab, args.board_dirs)
    args.fixture = [*(args.fixture or []),          # scenarios needing one run where it is
                    *sorted({f for d in args.lab.devices for f in d.fixtures})]


def _platforms(lab, board_dirs) -> list[str]:
    """The board files of the lab's platforms (a platform without one is left out, said)."""
    known = set(boards.known(board_dirs))
    names = list(dict.fromkeys(boards.canonical(p) for d in lab.devices for p in d.platforms))
    missing = [n for n in names if n not in known]
    if missing:
        say(f"harness: warning: no board file for platform(s) {', '.join(missing)} of the "
            "hardware map: their boards are left out (add board files: docs/boards.md)")
    return [n for n in names if n in known]


def positive(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a positive number of repeats")
    return n


def selected(args) -> Selection:
    return Selection(frozenset(split(args.tag)), frozenset(split(args.exclude_tag)),
                     frozenset(split(args.fixture)), tuple(split(args.scenario)),
                     bool(getattr(args, "enable_slow", False)))


def split(values) -> list[str]:
    return [v for item in values or [] for v in item.split(",") if v]


def say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def session(args, environ: dict):
    made = config.make_session(
        environ, args.workspace, args.out, getattr(args, "timeout", None),
        getattr(args, "pristine", False), not getattr(args, "no_isolation", False),
        getattr(args, "renode", None), say=say,
        reuse_emulators=not args.no_reuse, board_dirs=args.board_dirs,
        audit_domains=getattr(args, "audit_domains", None),
        default_timeout_s=getattr(args, "project_timeout", None), lab=getattr(args, "lab", None))
    made.coverage = getattr(args, "coverage", False)    # gcov images (harness.coverage)
    return made


def report_repeats(session, results, repeat: int) -> list[dict]:
    """--repeat N: per (app, board, emulator) pass rate, UART sameness, timings, memory."""
    if repeat < 2:
        return []
    groups: dict = {}
    for r in results:
        groups.setdefault((r.app, r.board, r.emulator), []).append(r)
    found = []
    for (app, board, emu), runs in groups.items():
        raws = [_read_raw(r.run_dir / "uart.raw") for r in runs]
        s = repeats.summarize(runs, [hashlib.sha256(b).hexdigest() for b in raws],
                              [b.decode(errors="replace").replace("\r", "") for b in raws])
        print(repeats.line(s), flush=True)
        files.write_atomic(session.out_dir / "runs" / app / f"{board}.{emu}.repeats.json",
                           json.dumps(s, indent=2) + "\n")
        found.append(s)
    return found


def _read_raw(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        return b""
