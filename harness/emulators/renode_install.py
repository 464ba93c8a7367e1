"""Renode out of the box: install a pinned linux-portable release where the harness
finds it (Renode is in no package registry; its own docs tell Linux users to
unpack that archive and put it on PATH, which this does for them).

Install directory: $XDG_DATA_HOME/zephyr-isolation-harness/renode (default
~/.local/share/...), one `renode-<version>/` per release and `installed.json`
naming the current one with its version and the sha256 of its archive. The
archive is downloaded (short connect timeout, progress on terminals) or given
(`--renode-archive FILE`, also for air-gapped CI); unpacking goes to a temporary
directory renamed into place, so an interrupted install leaves nothing half done.
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
import zlib
from pathlib import Path

from harness.errors import SetupError
from harness.host.files import write_atomic

VERSION = "1.15.3"
URL = (f"https://github.com/renode/renode/releases/download/v{VERSION}/"
       f"renode-{VERSION}.linux-portable.tar.gz")
SHA256 = None      # not pinned: no copy of the release could be checked from here
CONNECT_TIMEOUT_S = 5.0
MIN_VERSION = "1.14"
# The one hint for a Renode that is missing or too old (runs, doctor, set-up all print it).
HINT = (f"`harness setup --renode` installs Renode {VERSION} from its linux-portable release "
        "(github.com/renode/renode/releases); without network give it the archive "
        "(`harness setup --renode-archive FILE`); or put a Renode "
        f"{MIN_VERSION} or newer on PATH, set HARNESS_RENODE or pass --renode PATH")


VERSION_TEXT = re.compile(r"(\d+)\.(\d+)(?:\.(\d+))?")


def version_tuple(text: str) -> tuple[int, ...] | None:
    """'Renode v1.15.3.28699' or '1.14' -> (1, 15, 3) / (1, 14, 0)."""
    m = VERSION_TEXT.search(text)
    return tuple(int(g or 0) for g in m.groups()) if m else None


def home(environ: dict) -> Path:
    base = environ.get("XDG_DATA_HOME") or str(Path(environ.get("HOME", "~")) / ".local" / "share")
    return Path(base).expanduser() / "zephyr-isolation-harness" / "renode"


def installed(environ: dict) -> dict | None:
    """{'renode': launcher path, 'version', 'sha256', 'source'} of the recorded install."""
    try:
        record = json.loads((home(environ) / "installed.json").read_text())
    except (OSError, ValueError):
        return None
    return record if Path(record.get("renode", "")).is_file() else None


def install(environ: dict, archive: Path | None = None, url: str = URL, say=print) -> dict:
    """Install from `archive` or `url`; return the record written to installed.json."""
    root = home(environ)
    root.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix=".install-", dir=root) as tmp:
        if archive is None:
            archive = _download(url, Path(tmp) / "renode.tar.gz", say)
        digest = sha256(archive)
        if SHA256 and archive is not None and digest != SHA256:
            raise SetupError(f"{archive}: sha256 {digest} is not the pinned {SHA256}")
        unpacked = Path(tmp) / "unpacked"
        _unpack(archive, unpacked)
        launcher = unpacked / "renode"
        if not launcher.is_file():
            raise SetupError(f"{archive} holds no `renode` launcher at its top level",
                             "pass Renode's linux-portable archive (renode-X.Y.Z.linux-portable.tar.gz)")
        version = _version(launcher, environ)
        dest = root / f"renode-{version}"
        if dest.exists():
            shutil.rmtree(dest)
        unpacked.rename(dest)                    # atomic: same file system
    record = {"renode": str(dest / "renode"), "version": version, "sha256": digest,
              "source": str(archive) if archive.parent != Path(tmp) else url}
    write_atomic(root / "installed.json", json.dumps(record, indent=2) + "\n")
    return record


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(url: str, dest: Path, say) -> Path:
    import urllib.request  # here: every run reads the install record, few download
    say(f"downloading {url}")
    try:
        with urllib.request.urlopen(url, timeout=CONNECT_TIMEOUT_S) as resp, open(dest, "wb") as out:
            total = int(resp.headers.get("Content-Length") or 0)
            done = 0
            for block in iter(lambda: resp.read(1 << 16), b""):
                out.write(block)
                done += len(block)
                if sys.stderr.isatty():
                    pct = f"{100 * done // total}%" if total else f"{done >> 20} MiB"
                    print(f"\r  {pct} of {total >> 20} MiB", end="", file=sys.stderr, flush=True)
        if sys.stderr.isatty():
            print(file=sys.stderr)
        if total and done != total:
            raise OSError(f"the download stopped after {done} of {total} bytes")
    except (OSError, ValueError) as exc:
        raise SetupError(f"could not download Renode from {url}: {exc}",
                         "download the linux-portable archive elsewhere and pass "
                         "--renode-archive FILE") from None
    return dest


def _unpack(archive: Path, dest: Path) -> None:
    """The archive's single top directory becomes `dest` (tar --strip-components=1)."""
    import tarfile
    try:
        with tarfile.open(archive) as tar:
            members = tar.getmembers()
            tops = {m.name.split("/", 1)[0] for m in members}
            if len(tops) != 1:
                raise SetupError(f"{archive}: expected one top-level directory, found {sorted(tops)[:5]}")
            _refuse_escapes(archive, members)
            if hasattr(tarfile, "data_filter"):           # Python 3.11.4+ / 3.12
                tar.extractall(dest.parent / ".extract", filter="data")
            else:
                tar.extractall(dest.parent / ".extract")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:   # truncated, corrupt
        raise SetupError(f"{archive} is not a readable Renode archive: {exc!r}") from None
    (dest.parent / ".extract" / tops.pop()).rename(dest)


def _refuse_escapes(archive: Path, members) -> None:
    """No member may land outside the install directory (absolute, `..`, or a link out)."""
    links = {os.path.normpath(m.name) for m in members if m.issym() or m.islnk()}
    for m in members:
        parent = Path(os.path.normpath(m.name)).parent
        for ancestor in (parent, *parent.parents):     # nothing may be written through a link
            if str(ancestor) in links:
                raise SetupError(f"{archive}: member {m.name!r} lies under a link")
        paths = [m.name]
        if m.issym():
            paths.append(os.path.join(os.path.dirname(m.name), m.linkname))
        elif m.islnk():
            paths.append(m.linkname)
        for name in paths:
            norm = os.path.normpath(name)
            if os.path.isabs(name) or norm == ".." or norm.startswith(".." + os.sep):
                raise SetupError(f"{archive}: member {m.name!r} would land outside the install")


def _version(launcher: Path, environ: dict) -> str:
    try:
        out = subprocess.run([str(launcher), "--version"], capture_output=True, text=True,
                             timeout=120, stdin=subprocess.DEVNULL, cwd=launcher.parent,
                             env={**environ, "HOME": tempfile.gettempdir()})
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"the unpacked Renode does not start: {exc}") from None
    found = version_tuple(out.stdout + out.stderr)
    if out.returncode != 0 or not found:
        raise SetupError(f"the unpacked Renode does not start: {(out.stdout + out.stderr)[-300:]}")
    return ".".join(map(str, found))
