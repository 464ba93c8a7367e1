"""`harness doctor`: what the harness finds on this machine, and how to fix what it lacks."""
from __future__ import annotations

import sys
from pathlib import Path

from harness.build import toolchain
from harness.emulators import adapter
from harness.errors import SetupError
from harness.host.process import tool_version, which
from harness.inputs import boards, workspace
from harness.inputs.config import renode_binary

APT = "apt-get install -y"


def checks(ws_arg: str | None, environ: dict):
    """Yield (ok, what, detail) rows; ok is None for something optional that is missing."""
    west = which("west", environ)
    yield True, "python", f"{sys.executable} ({sys.version.split()[0]})"
    try:
        import west.version as wv
        yield True, "west", f"{wv.__version__} ({west or 'module'})"
    except ImportError:
        yield False, "west", "missing: pip install west"
    try:
        ws = workspace.find(ws_arg, environ.get("ZEPHYR_BASE"), Path.cwd(), Path.home())
        yield True, "workspace", f"{ws.topdir} (Zephyr {ws.version()} at {ws.revision()[:12]}, " \
                                 f"found by {ws.found_by})"
        note = workspace.unverified(ws.version())
        yield (None if note else True), "zephyr version", \
            note or f"{ws.version()}: verified here ({', '.join(workspace.VERIFIED)})"
    except SetupError as exc:
        yield False, "workspace", str(exc)
    for arch in sorted({boards.load(b).arch for b in boards.known()}):
        try:
            yield True, f"toolchain {arch}", toolchain.find(arch, environ).describe()
        except SetupError as exc:
            yield False, f"toolchain {arch}", str(exc)
    for name in boards.known():
        board = boards.load(name)
        for emu, settings in board.emulators.items():
            yield _emulator_row(emu, settings, board, environ)
    renode = which(renode_binary(environ) or "renode", environ)
    if renode:
        from harness.emulators import renode_aot
        ok, detail = renode_aot.describe(renode, environ)
        yield ok, "renode AOT images", detail


def _emulator_row(emu: str, settings: dict, board, environ: dict):
    binary = settings.get("binary") or emu
    if emu == "renode":
        binary = renode_binary(environ) or binary
    exe = which(binary, environ)
    if not exe:
        pkg = {"qemu-system-arm": "qemu-system-arm", "qemu-system-i386": "qemu-system-x86"}
        fix = f"{APT} {pkg[binary]}" if binary in pkg else adapter(emu).install_hint
        # Only what the default job needs (QEMU) is required; Renode is optional.
        return (False if emu == "qemu" else None), f"{emu} for {board.name}", \
            f"{binary} not found: {fix}"
    version = tool_version((exe, "--version"))
    try:             # the same gate a run applies (a board file's min_version)
        adapter(emu)(board, {**settings, "binary": exe}, Path("."), None, environ).check_version()
    except SetupError as exc:
        return (None if emu == "renode" else False), f"{emu} for {board.name}", \
            f"{exc.message} ({exe})"
    return True, f"{emu} for {board.name}", f"{exe}: {version}"


def main(ws_arg: str | None, environ: dict) -> int:
    ok_all = True
    for ok, what, detail in checks(ws_arg, environ):
        ok_all &= ok is not False
        label = {True: "ok", False: "MISSING", None: "optional"}[ok]
        print(f"{label:<8} {what:<30} {detail}")
    return 0 if ok_all else SetupError.exit_code
