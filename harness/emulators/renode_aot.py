"""Renode's start-up with less JIT: Mono AOT images of Renode's assemblies.

A Renode run by a system Mono (a source build, Renode's .deb and .rpm packages:
a `renode` script that runs `mono .../Renode.exe`) compiles every method it
uses at run time; Mono spends most of Renode's start-up and of its first
platform load doing that. `harness setup --renode` compiles Renode's assemblies
and the framework assemblies it uses ahead of time once (`mono --aot`, which
needs binutils' `as` and `ld`; 61 assemblies in 9.5 s on 2 cores, 136 MB),
into the harness's cache, and each Renode the harness starts is pointed at
them (`--aot-path` in MONO_ENV_OPTIONS). Measured on Renode 1.15.3 built from
source, Mono 6.8, 12 pairs: `renode --disable-xwt --console --plain -e quit`
1.17 -> 0.96 s; a cold `harness run` of prod_consumer on mps2_an385 1.95 ->
1.62 s.

Mono checks each image against its assembly (its GUID) and its own runtime
version, and compiles at run time whatever does not match, so an image gone
stale costs time, never a wrong result; the cache is still keyed by the
Renode.exe and the mono it was made for. Renode's portable release bundles its
assemblies and Mono into one executable: there is nothing to point images at,
and this does nothing. HARNESS_RENODE_AOT=0 turns the images off for a run.

Cache: $XDG_CACHE_HOME/zephyr-isolation-harness/renode-aot/<key>/ (default
~/.cache/...), the images and `made.json` (what was compiled, what failed),
renamed into place whole. MONO_ENV_OPTIONS is split at blanks and --aot-path
at colons, so a cache whose path holds either is not used (doctor says so).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from harness.host.files import write_atomic
from harness.host.process import which

ENV_SWITCH = "HARNESS_RENODE_AOT"
# The framework assemblies a Renode run executes code of (seen in Mono's AOT log of
# a prod_consumer run on 1.15.3); Renode loads many more, whose code never runs.
FRAMEWORK = ("mscorlib", "System", "System.Core", "System.Xml", "System.Numerics",
             "System.Configuration", "System.Dynamic", "Microsoft.CSharp", "Mono.Posix")
COMPILE_TIMEOUT_S = 300.0     # one assembly; mscorlib takes ~3 s
MANIFEST = "made.json"
MAKING = ".making-"            # a set-up's work in progress
ABANDONED_S = 3600.0           # work in progress this old is a killed set-up's
UNUSABLE = re.compile(r"[\s:\"'\\]")   # what MONO_ENV_OPTIONS or --aot-path would split


def cache_root(environ: dict) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path(environ.get("HOME", "~")) / ".cache")
    return Path(base).expanduser() / "zephyr-isolation-harness" / "renode-aot"


def renode_exe(launcher: str) -> Path | None:
    """The Renode.exe a `renode` launcher script runs under mono; None for a launcher
    that is no script (the portable release: Mono and assemblies in one executable)."""
    real = Path(os.path.realpath(launcher))
    try:
        with open(real, "rb") as f:
            head = f.read(64 * 1024)
    except OSError:
        return None
    if not head.startswith(b"#!"):
        return None
    candidates = [Path(os.fsdecode(m)) for m in re.findall(rb"(/[^\s\"']*/Renode\.exe)", head)]
    candidates += [real.parent / "bin" / "Renode.exe",                 # packages, installs
                   real.parent / "output" / "bin" / "Release" / "Renode.exe"]  # a source tree
    return next((c for c in candidates if _is_assembly(c)), None)


def _is_assembly(path: Path) -> bool:
    """A PE image (what Mono runs), not merely a file of that name."""
    try:
        with open(path, "rb") as f:
            return f.read(2) == b"MZ"
    except OSError:
        return False


def images(launcher: str, environ: dict) -> Path | None:
    """The directory of AOT images made for this Renode and this mono, if made. Cheap
    (a read of the launcher script and two stats): called for each Renode started."""
    if environ.get(ENV_SWITCH, "1") == "0":
        return None
    exe, mono = renode_exe(launcher), which("mono", environ)
    found = cache_root(environ) / _key(exe, mono) if exe and mono else None
    if found is None or UNUSABLE.search(str(found)) or _record(found) is None:
        return None
    return found


def _record(images_dir: Path) -> dict | None:
    """made.json of a finished set of images; None if absent or unreadable."""
    try:
        record = json.loads((images_dir / MANIFEST).read_text())
        return record if isinstance(record, dict) and "images" in record else None
    except (OSError, ValueError):
        return None


def describe(launcher: str, environ: dict) -> tuple[bool | None, str]:
    """For `harness doctor`: (True, what is used) or (None, why none and what to do)."""
    if renode_exe(launcher) is None:
        return None, "none: this Renode is no mono-run Renode.exe (the portable release " \
                     "bundles its own Mono); it compiles at run time"
    if which("mono", environ) is None:
        return None, "none: no `mono` on PATH"
    found = images(launcher, environ)
    if found is None:
        if environ.get(ENV_SWITCH) == "0":
            return None, f"off ({ENV_SWITCH}=0)"
        if UNUSABLE.search(str(cache_root(environ))):
            return None, (f"not used: Mono cannot be pointed at {cache_root(environ)} (a blank "
                          "or colon in the path); set XDG_CACHE_HOME to a plain path")
        return None, ("not made: `harness setup --renode` compiles them once (~10 s on 2 "
                      "cores) for a cold Renode run ~0.3 s shorter")
    record = _record(found) or {"images": []}            # (removed meanwhile: none)
    failed = record.get("failed") or []
    left = f", {len(failed)} left to run time" if failed else ""
    return True, f"{len(record['images'])} assemblies{left}, in {found}"


def with_images(environ: dict, found: Path | None) -> dict:
    """`environ` with Mono pointed at the images in `found` (None: as it is)."""
    if found is None:
        return environ
    options = f"{environ.get('MONO_ENV_OPTIONS', '')} --aot-path={found}".strip()
    return {**environ, "MONO_ENV_OPTIONS": options}


def make(launcher: str, environ: dict, say=print) -> dict | None:
    """Compile this Renode's assemblies ahead of time unless done before; the record in
    made.json, or None where there is nothing to compile (a bundled Renode, no mono)."""
    exe, mono = renode_exe(launcher), which("mono", environ)
    if exe is None or mono is None or environ.get(ENV_SWITCH, "1") == "0":
        return None
    root = cache_root(environ)
    dest = root / _key(exe, mono)
    record = _record(dest)
    if record is not None:
        say(f"Renode: its ahead-of-time images are in {dest}")
        return record
    if UNUSABLE.search(str(root)):
        say(f"Renode: no ahead-of-time images: Mono cannot be pointed at {root} (a blank or "
            "colon in the path); set XDG_CACHE_HOME to a plain path")
        return None
    missing = [tool for tool in ("as", "ld") if which(tool, environ) is None]
    if missing:
        say(f"Renode: no ahead-of-time images: mono --aot needs {' and '.join(missing)} "
            "(apt-get install binutils); Renode runs as before, compiling at run time")
        return None
    wanted = [exe, *sorted(exe.parent.glob("*.dll")), *_framework(mono)]
    say(f"Renode: compiling its {len(wanted)} assemblies ahead of time for a faster start "
        f"(once, into {root})")
    try:
        return _make(exe, mono, wanted, dest, environ, say)
    except OSError as exc:             # e.g. a read-only or full cache: Renode works without
        say(f"Renode: no ahead-of-time images ({exc.strerror or exc}: "
            f"{exc.filename or root}); Renode runs as before, compiling at run time")
        return None


def _make(exe: Path, mono: str, wanted: list[Path], dest: Path, environ: dict, say) -> dict | None:
    root = dest.parent
    _prune(root)
    root.mkdir(parents=True, exist_ok=True)
    t0 = time.monotonic()
    tmp = Path(tempfile.mkdtemp(prefix=MAKING, dir=root))
    try:
        failed = _compile_all(mono, wanted, tmp, environ)
        made = [p.name for p in wanted if (tmp / f"{p.name}.so").is_file()]
        if not made:
            say(f"Renode: no assembly compiled ({failed[0]}); Renode runs as before, "
                "compiling at run time")
            return None
        record = {"renode_exe": str(exe), "mono": mono, "images": made, "failed": failed,
                  "seconds": round(time.monotonic() - t0, 1)}
        write_atomic(tmp / MANIFEST, json.dumps(record, indent=2) + "\n")
        shutil.rmtree(dest, ignore_errors=True)      # unreadable leftovers under the key
        try:
            tmp.rename(dest)                         # whole, or not at all
        except OSError:
            pass                                     # another set-up's are there: checked below
    finally:
        shutil.rmtree(tmp, ignore_errors=True)       # an interrupted one leaves nothing
    in_place = _record(dest)
    if in_place is None:
        raise OSError(f"the images vanished before they were in place at {dest}")
    say(f"Renode: {len(made)} of {len(wanted)} assemblies compiled in {record['seconds']} s"
        + (f"; left to run-time compilation: {'; '.join(failed)}" if failed else ""))
    return in_place


def _compile_all(mono: str, wanted: list[Path], out: Path, environ: dict) -> list[str]:
    """`mono --aot` for each assembly, as many at once as there are cores; the names
    (and the last line of its error) of those that failed. Progress on terminals."""
    done = 0

    def one(assembly: Path) -> str | None:
        try:
            proc = subprocess.run([mono, f"--aot=outfile={out / assembly.name}.so",
                                   str(assembly)], capture_output=True, text=True,
                                  stdin=subprocess.DEVNULL, timeout=COMPILE_TIMEOUT_S,
                                  cwd=out, env=environ)
        except (OSError, subprocess.TimeoutExpired) as exc:
            return f"{assembly.name}: {exc}"
        if proc.returncode != 0 or not (out / f"{assembly.name}.so").is_file():
            lines = (proc.stderr or proc.stdout).strip().splitlines()
            return f"{assembly.name}: {lines[-1] if lines else f'exit {proc.returncode}'}"
        return None

    failed = []
    with ThreadPoolExecutor(max_workers=len(os.sched_getaffinity(0))) as pool:
        for error in pool.map(one, wanted):
            done += 1
            if error:
                failed.append(error)
            if sys.stderr.isatty():
                print(f"\r  {done}/{len(wanted)}", end="", file=sys.stderr, flush=True)
    if sys.stderr.isatty():
        print(file=sys.stderr)
    return failed


def _framework(mono: str) -> list[Path]:
    """FRAMEWORK's assemblies of this mono's installation (prefix/lib/mono)."""
    lib = Path(os.path.realpath(mono)).parent.parent / "lib" / "mono"
    found = []
    for name in FRAMEWORK:
        hits = [lib / "4.5" / f"{name}.dll"] if name == "mscorlib" else \
            sorted((lib / "gac" / name).glob(f"4.0.0.0__*/{name}.dll"))
        found += [h for h in hits[:1] if h.is_file()]
    return found


def _key(exe: Path, mono: str) -> str:
    """Renode.exe and mono by path, size and modification time."""
    parts = []
    for path in (exe, Path(os.path.realpath(mono))):
        st = path.stat()
        parts.append(f"{path}|{st.st_size}|{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


def _prune(root: Path) -> None:
    """Images made for a Renode.exe or mono that has changed or gone since, and the work
    in progress of a set-up killed long ago (another one's current work is left alone)."""
    now = time.time()
    for entry in root.glob("*"):
        if entry.name.startswith(MAKING):
            try:
                old = now - entry.stat().st_mtime > ABANDONED_S
            except OSError:
                old = False
            if old:
                shutil.rmtree(entry, ignore_errors=True)
            continue
        record = _record(entry)
        try:
            current = _key(Path(record["renode_exe"]), record["mono"]) if record else None
        except (OSError, KeyError, TypeError):
            current = None
        if current != entry.name:
            shutil.rmtree(entry, ignore_errors=True)
