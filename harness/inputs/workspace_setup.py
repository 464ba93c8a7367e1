"""`harness setup`: create the west workspace from firmware/west.yml.

With network: `west init -l` + `west update`. Air-gapped: `--mirror DIR`
holds git repositories (DIR/<name>, DIR/<name>.git or DIR/<owner>+<name>/repo);
each project is cloned from there at its pinned commit (a local clone: objects
hard-linked or copied, so the workspace keeps working when the mirror moves or
goes), paths whose blobs the mirror lacks are left out of the checkout, and
`west update` then finds every commit present and fetches nothing.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from harness.errors import SetupError, UsageError
from harness.host.paths import FIRMWARE_DIR


def setup(topdir: Path, mirror: Path | None, say=print, requirements: bool = True,
          manifest_source: Path = FIRMWARE_DIR, zephyr: str | None = None) -> None:
    """Make (or bring up to date) the workspace at `topdir` from our manifest, with
    Zephyr at `zephyr` (a tag, branch or SHA; default: the manifest's pinned revision).
    A west workspace made some other way is left as it is: only its own Python
    requirements are installed."""
    if _foreign(topdir):
        if zephyr:
            raise UsageError(f"{topdir} is a west workspace that `harness setup` did not make; "
                             "--zephyr applies only to the workspaces it makes",
                             "check out the Zephyr you want there with git/west, or pass "
                             "another --workspace")
        say(f"  {topdir}: an existing west workspace (not made by harness setup): left as it is")
    else:
        _make(topdir, mirror, say, manifest_source, zephyr)
    if requirements:
        req = topdir / "zephyr" / "scripts" / "requirements-base.txt"
        say(f"  pip install -r {req}  (this workspace's own Python requirements)")
        _run([sys.executable, "-m", "pip", "install", "-q", "-r", str(req)], topdir, say)
    (Path.home() / ".cache").mkdir(exist_ok=True)   # else Zephyr caches into the tree


def _foreign(topdir: Path) -> bool:
    """A west workspace with Zephyr in it, whose manifest is not ours."""
    return (topdir / ".west").is_dir() and (topdir / "zephyr" / "VERSION").is_file() \
        and not (topdir / "manifest" / "west.yml").is_file()


def _make(topdir: Path, mirror: Path | None, say, manifest_source: Path, zephyr: str | None):
    topdir.mkdir(parents=True, exist_ok=True)
    manifest_dir = topdir / "manifest"
    manifest_dir.mkdir(exist_ok=True)
    install_manifest(manifest_dir, manifest_source)
    if zephyr:
        sha = _resolve(mirror, zephyr) if mirror else zephyr
        say(f"  zephyr: {zephyr}" + (f" ({sha[:12]})" if sha != zephyr else ""))
        _pin_zephyr(manifest_dir / "west.yml", sha)
    if mirror:
        for name, revision, path, url in _projects(topdir):
            dest = topdir / path
            if (dest / ".git").exists():
                if _git_ok(dest, "cat-file", "-e", f"{revision}^{{commit}}"):
                    say(f"  {name}: already at {dest}")
                    continue
                if not _empty_repository(dest):
                    raise SetupError(f"{dest} is a git repository without {name}'s pinned "
                                     f"commit {revision[:12]}, or one git cannot read (see "
                                     f"`git -C {dest} status`)",
                                     f"fetch that commit into it, or move {dest} away and rerun "
                                     "`harness setup`")
                # an empty repository, left by a `west update` that could not fetch
                say(f"  {name}: {dest} holds no commit (an earlier fetch failed): cloning anew")
                shutil.rmtree(dest)
            say(f"  {name}: cloning from the mirror at {revision[:12]} into {dest}")
            left_out = _clone_from_mirror(_mirror_repo(mirror, name, revision), revision, dest, url)
            if left_out:
                say(f"  {name}: {len(left_out)} file(s) missing from the mirror, left out of "
                    f"the checkout: {', '.join(left_out)}")
    if not (topdir / ".west").is_dir():
        _run([sys.executable, "-m", "west", "init", "-l", "manifest"], topdir, say)
    say("  west update")
    _run([sys.executable, "-m", "west", "update"], topdir, say)


def _pin_zephyr(manifest: Path, revision: str) -> None:
    """Our manifest with zephyr at `revision` (the rest of the file as it was)."""
    text = manifest.read_text()
    pinned = yaml.safe_load(text)["manifest"]["projects"][0]["revision"]
    manifest.write_text(text.replace(f"revision: {pinned}", f"revision: {revision}", 1))


def _resolve(mirror: Path, revision: str) -> str:
    """The commit `revision` (a tag, branch or SHA) names in the mirror's zephyr."""
    for c in [mirror / "zephyr", mirror / "zephyr.git", *sorted(mirror.glob("*+zephyr"))]:
        for gitdir in (c / "repo", c):
            out = subprocess.run(["git", "-C", str(gitdir), "rev-parse", "--verify", "-q",
                                  f"{revision}^{{commit}}"], capture_output=True, text=True)
            if gitdir.is_dir() and out.returncode == 0:
                return out.stdout.strip()
    raise SetupError(f"mirror {mirror} has no zephyr repository with {revision!r}",
                     f"put a clone of Zephyr that has it at {mirror}/zephyr")


def install_manifest(manifest_dir: Path, source: Path = FIRMWARE_DIR) -> None:
    """Our manifest and the `west harness` extension, into the workspace."""
    for name in ("west.yml", "west-commands.yml", "scripts/west_harness.py"):
        (manifest_dir / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source / name, manifest_dir / name)


def _projects(topdir: Path):
    """(name, revision, path, url) for zephyr, then the modules it exports to us."""
    ours = yaml.safe_load((topdir / "manifest" / "west.yml").read_text())["manifest"]
    bases = {r["name"]: r["url-base"] for r in ours["remotes"]}
    zephyr = ours["projects"][0]
    base = bases[zephyr["remote"]]
    yield "zephyr", zephyr["revision"], "zephyr", f"{base}/zephyr"
    allow = set(zephyr["import"]["name-allowlist"])
    git_show = subprocess.run(["git", "-C", str(topdir / "zephyr"), "show",
                               f"{zephyr['revision']}:west.yml"], capture_output=True, text=True)
    if git_show.returncode != 0:
        raise SetupError(f"{topdir / 'zephyr'} has no west.yml at {zephyr['revision'][:12]}: "
                         f"{git_show.stderr.strip()[-300:]}",
                         f"move {topdir / 'zephyr'} away and rerun `harness setup`")
    theirs = yaml.safe_load(git_show.stdout)["manifest"]["projects"]
    for p in theirs:
        if p["name"] in allow:
            yield p["name"], p["revision"], p.get("path", p["name"]), f"{base}/{p['name']}"


def _mirror_repo(mirror: Path, name: str, revision: str) -> Path:
    candidates = [mirror / name, mirror / f"{name}.git", *sorted(mirror.glob(f"*+{name}"))]
    for c in candidates:
        for gitdir in (c / "repo", c):
            if gitdir.is_dir() and _git_ok(gitdir, "cat-file", "-e", f"{revision}^{{commit}}"):
                return gitdir
    raise SetupError(f"mirror {mirror} has no repository for '{name}' with commit {revision}",
                     f"put a clone at {mirror}/{name} (any of: {name}, {name}.git, OWNER+{name}/repo)")


def _clone_from_mirror(src: Path, revision: str, dest: Path, url: str) -> list[str]:
    dest.parent.mkdir(parents=True, exist_ok=True)
    _git(None, "clone", "-q", "--no-checkout", str(src), str(dest))
    missing = _missing_blobs(dest, revision)
    if missing:
        _git(dest, "sparse-checkout", "set", "--no-cone", "/*", *(f"!/{p}" for p in missing))
    _git(dest, "checkout", "-q", "--detach", revision)
    _git(dest, "remote", "set-url", "origin", url)
    return missing


def _missing_blobs(repo: Path, revision: str) -> list[str]:
    tree = subprocess.run(["git", "-C", str(repo), "ls-tree", "-r", revision],
                          capture_output=True, text=True, check=True).stdout.splitlines()
    entries = [line.split(None, 3) for line in tree]
    blobs = [(e[2], e[3]) for e in entries if e[1] == "blob"]
    check = subprocess.run(["git", "-C", str(repo), "cat-file", "--batch-check"],
                           input="\n".join(sha for sha, _ in blobs) + "\n",
                           capture_output=True, text=True).stdout.splitlines()
    return [path for (sha, path), line in zip(blobs, check) if line.endswith("missing")]


def _empty_repository(repo: Path) -> bool:
    """A repository git reads, with no ref at all and nothing beside its .git: what
    `west update` leaves when its first fetch fails. Anything else may hold work."""
    refs = subprocess.run(["git", "-C", str(repo), "for-each-ref"], capture_output=True,
                          text=True)
    return _git_ok(repo, "rev-parse", "--git-dir") and refs.returncode == 0 \
        and not refs.stdout.strip() and [p.name for p in repo.iterdir()] == [".git"]


def _git_ok(repo: Path, *args: str) -> bool:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True).returncode == 0


def _git(repo: Path | None, *args: str) -> None:
    cmd = ["git", *(["-C", str(repo)] if repo else []), *args]
    out = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if out.returncode != 0 and "invalid object" not in out.stderr:
        raise SetupError(f"`{' '.join(cmd)}` failed: {out.stderr.strip()[-500:]}")


def _run(cmd: list[str], cwd: Path, say) -> None:
    out = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, stdin=subprocess.DEVNULL)
    if out.returncode != 0:
        raise SetupError(f"`{' '.join(cmd)}` failed in {cwd}:\n{(out.stdout + out.stderr)[-2000:]}",
                         "check the network (or use --mirror DIR) and rerun `harness setup`")
