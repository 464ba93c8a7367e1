"""`harness setup`: the west workspace, and Renode where asked."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.emulators import renode_install
from harness.errors import SetupError
from harness.frontends.cli.options import say
from harness.inputs import config, workspace


def add_parser(sub) -> None:
    st = sub.add_parser("setup", help="create the west workspace (default ~/zephyrproject)")
    st.add_argument("--workspace", default=str(workspace.DEFAULT))
    st.add_argument("--zephyr", metavar="REV",
                    help="the Zephyr to check out: a tag, branch or SHA (default: the revision "
                    "firmware/west.yml pins, Zephyr 3.0.99 48877f8bdcd9; verified versions: "
                    f"{', '.join(workspace.VERIFIED)})")
    st.add_argument("--mirror", help="directory of git mirrors to use instead of the network "
                    "(the workspace gets its own copy of every object it needs: it keeps "
                    "working when the mirror moves or is deleted)")
    st.add_argument("--renode", action="store_true",
                    help=f"also install Renode {renode_install.VERSION} (linux-portable release) "
                    "unless one is found; a failed download is a one-line note, not an error. "
                    "A Renode run by a system mono gets its assemblies compiled ahead of time "
                    "once, for a faster start (HARNESS_RENODE_AOT=0: not)")
    st.add_argument("--renode-archive", metavar="FILE",
                    help="install Renode from this linux-portable archive (implies --renode)")
    st.add_argument("--renode-url", default=renode_install.URL, help=argparse.SUPPRESS)
    st.add_argument("--no-workspace", action="store_true",
                    help="skip the west workspace (e.g. only install Renode)")
    st.add_argument("--no-requirements", action="store_true",
                    help="do not pip install Zephyr's scripts/requirements-base.txt")


def run(args, environ) -> int:
    if args.renode or args.renode_archive:
        _setup_renode(args, environ)
    if args.no_workspace:
        return 0
    top = Path(args.workspace).expanduser()
    print(f"setting up the west workspace at {top}", file=sys.stderr)
    from harness.inputs import workspace_setup
    workspace_setup.setup(top, Path(args.mirror) if args.mirror else None, say=say,
                          requirements=not args.no_requirements, zephyr=args.zephyr)
    ws = workspace.find(str(top), None, Path.cwd(), Path.home())
    print(f"workspace ready: {ws.topdir} (Zephyr {ws.version()} at {ws.revision()[:12]})")
    return 0


def _setup_renode(args, environ) -> None:
    found = config.renode_found(environ)
    if found and not args.renode_archive:
        say(f"Renode: using {found}")
    else:
        archive = Path(args.renode_archive).expanduser() if args.renode_archive else None
        try:
            record = renode_install.install(environ, archive, args.renode_url, say=say)
        except SetupError as exc:
            if archive is not None:
                raise
            say(f"setup: Renode not installed ({exc.message}); Renode runs are left out until "
                f"there is one: {renode_install.HINT}")
            return
        say(f"Renode {record['version']} installed: {record['renode']} (sha256 of the archive "
            f"{record['sha256'][:16]}...)")
        found = record["renode"]
    from harness.emulators import renode_aot
    from harness.host.process import which
    renode_aot.make(which(found, environ) or found, environ, say=say)
