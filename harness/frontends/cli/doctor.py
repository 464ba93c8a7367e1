"""`harness doctor`: what the harness finds on this machine (see harness.frontends.doctor)."""
from __future__ import annotations


def add_parser(sub) -> None:
    doc = sub.add_parser("doctor", help="show what was found: west, workspace, toolchains, emulators")
    doc.add_argument("--workspace")


def run(args, environ) -> int:
    from harness.frontends import doctor
    return doctor.main(args.workspace, environ)
