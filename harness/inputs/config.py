"""Typed, validated configuration, made once at the edge (CLI, Robot, pytest, west).

Nothing deeper than this module reads the environment or command-line options.
"""
from __future__ import annotations

import tempfile
from pathlib import Path

from harness.emulators import flash, renode_install
from harness.emulators.lab import Lab
from harness.errors import UsageError
from harness.host.paths import BOARDS_DIR
from harness.host.process import which
from harness.inputs import hardware_map as hardware_map_mod
from harness.inputs import project, workspace
from harness.runner import Session

ENV_RENODE = "HARNESS_RENODE"     # path to the renode launcher, when not on PATH


def make_session(environ: dict, workspace_arg: str | None = None, out: str = "harness-out",
                 timeout_s: float | None = None, pristine: bool = False,
                 isolation: bool = True, renode: str | None = None, say=print,
                 audit_domains: bool | None = None,
                 reuse_emulators: bool = True, build_dirs: dict | None = None,
                 board_dirs=BOARDS_DIR, default_timeout_s: float | None = None,
                 lab=None) -> Session:
    ws = workspace.find(workspace_arg, environ.get("ZEPHYR_BASE"), Path.cwd(), Path.home())
    out_dir = writable_dir(out)
    overrides = {}
    renode = renode_binary(environ, renode)
    if renode:
        overrides["renode"] = {"binary": renode}
    say(f"workspace: {ws.topdir} (Zephyr {ws.version()}, found by {ws.found_by})")
    warning = workspace.unverified(ws.version())
    if warning:
        say(f"harness: warning: {warning}")
    return Session(workspace=ws, out_dir=out_dir, environ=environ, timeout_s=timeout_s,
                   pristine=pristine, isolation=isolation, say=say, emulator_overrides=overrides,
                   audit_domains=audit_domains,
                   build_dirs=build_dirs, reuse_emulators=reuse_emulators,
                   board_dirs=board_dirs, default_timeout_s=default_timeout_s, lab=lab)


def make_lab(*, hardware_map: str | None = None, device_serial: str | None = None,
             baud: int = hardware_map_mod.DEFAULT_BAUD, board_names=(),
             west_runner: str | None = None, west_flash: str | None = None, say=print):
    """The boards of the lab a session runs on (None: emulators only): the connected
    boards of a hardware map, or the one board on --device-serial (of the one --board)."""
    if hardware_map and device_serial:
        raise UsageError("--device-serial and --hardware-map do not combine",
                         "name the port in the hardware map, or leave the map out")
    if device_serial:
        if len(board_names) != 1:
            raise UsageError("--device-serial needs exactly one --board (the board on that port)")
        devices = (hardware_map_mod.Device(platforms=(board_names[0],), id=device_serial,
                                           serial=device_serial, baud=baud),)
    elif hardware_map:
        devices = tuple(hardware_map_mod.load(hardware_map))
        if not devices:
            raise UsageError(f"{hardware_map}: no connected board with a serial port",
                             "set connected: true and serial: on the boards plugged in, or "
                             "regenerate it with `harness hardware-map --generate`")
    else:
        return None
    return Lab(devices, west_runner=west_runner, west_flash=flash.west_flash_args(west_flash),
               say=say)


def project_session(environ: dict, cwd: Path, *, workspace_arg: str | None = None,
                    out: str | None = None, config_file: str | None = None, **kw) -> Session:
    """make_session with the defaults of the project file (harness.yaml at or above `cwd`,
    or `config_file`): its workspace, output directory, timeout, board directories and
    domain audit.
    For the front ends that have no command line of their own (pytest, Robot)."""
    proj = project.find(cwd, config_file)
    if proj is None:
        return make_session(environ, workspace_arg, out or "harness-out", **kw)
    if kw.get("audit_domains") is None:
        kw["audit_domains"] = proj.audit_domains
    return make_session(environ, workspace_arg or proj.workspace, out or proj.out or "harness-out",
                        board_dirs=(*map(Path, proj.board_dirs), BOARDS_DIR),
                        default_timeout_s=proj.timeout, **kw)


def renode_binary(environ: dict, arg: str | None = None) -> str | None:
    """Which Renode: --renode, then $HARNESS_RENODE, then `renode` on PATH, then the one
    `harness setup --renode` installed (None: the board file's default, i.e. PATH)."""
    chosen = arg or environ.get(ENV_RENODE)
    if chosen or which("renode", environ):
        return chosen
    record = renode_install.installed(environ)
    return record["renode"] if record else None


def renode_found(environ: dict, arg: str | None = None) -> str | None:
    """The Renode a run would use, PATH included (None: there is none)."""
    return renode_binary(environ, arg) or which("renode", environ)


def writable_dir(path: str) -> Path:
    out = Path(path).expanduser().resolve()
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=out, prefix=".writable-"):
            pass                                    # unique name: parallel runs share `out`
    except OSError as exc:
        raise UsageError(f"output directory {out} is not writable: {exc.strerror}",
                         "pass --out DIR somewhere you can write") from None
    return out
