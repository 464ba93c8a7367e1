"""`harness serve`: keep Renodes warm for the Robot runs of other harness invocations
(`harness robot`, twister's `robot` scenarios in `harness run` / `harness matrix`),
which lease one through $HARNESS_RENODE_SERVER. In the foreground until SIGINT or
SIGTERM (or --idle-exit); its Renodes end with it, however it ends."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from harness.emulators import renode_install, renode_server
from harness.errors import Interrupted, SetupError
from harness.frontends.cli.options import positive
from harness.host.process import which
from harness.inputs import boards, config


def add_parser(sub) -> None:
    p = sub.add_parser("serve", help="keep Renodes warm for the Robot runs of other harness "
                       "commands (they lease one through $HARNESS_RENODE_SERVER)")
    p.add_argument("--socket", default=str(renode_server.DEFAULT_SOCKET),
                   help="the Unix socket to serve at (default: %(default)s)")
    p.add_argument("--renodes", type=positive, default=1, metavar="N",
                   help="Renodes kept (default 1; one per Robot run at a time)")
    p.add_argument("--board", default=boards.DEFAULT_BOARD,
                   help="whose platform description each new Renode loads once, to warm up "
                   "(default: %(default)s)")
    p.add_argument("--idle-exit", type=float, metavar="SECONDS",
                   help="stop after this long with no Renode lent (default: never)")
    p.add_argument("--renode", help=f"renode launcher (default: ${config.ENV_RENODE} or PATH)")


def run(args, environ) -> int:
    found = config.renode_found(environ, args.renode)
    binary = which(found, environ) if found else None
    if not binary:
        raise SetupError("Renode not found", renode_install.HINT)
    board = boards.load(args.board, args.board_dirs)
    settings = board.emulator("renode")
    warm = ()
    if "platform" in settings:                 # a board with a script: no warm-up load
        warm = ('mach create "warm-up"',
                f"machine LoadPlatformDescription @{boards.platform_file(board, settings)}")
    scratch = Path(tempfile.mkdtemp(prefix="harness-serve-"))
    server = renode_server.RenodeServer(os.path.abspath(binary), environ, scratch, warm,
                                        args.renodes, say=_say)
    try:
        renode_server.serve(server, Path(args.socket), args.idle_exit)
    except (KeyboardInterrupt, Interrupted):
        pass                                   # SIGINT, SIGTERM: the server's normal end
    finally:
        _say("harness serve: stopped; its Renodes with it")
        try:
            os.rmdir(scratch)
        except OSError:
            pass
    return 0


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
