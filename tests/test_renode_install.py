"""`harness setup --renode`: Renode's linux-portable archive, downloaded from a local
server (or given as a file), installed atomically where the harness finds it."""
import functools
import http.server
import io
import json
import socket
import tarfile
import threading

import pytest

from harness.emulators import renode_install
from harness.frontends.cli import main
from harness.inputs import config

LAUNCHER = "#!/bin/sh\n[ \"$1\" = --version ] && echo 'Renode v1.15.3.1 (portable test archive)'\n"


def portable_archive(path, launcher=LAUNCHER, top="renode_1.15.3_portable"):
    """The layout of Renode's linux-portable release: one top directory, `renode` in it."""
    with tarfile.open(path, "w:gz") as tar:
        for name, text, mode in ((f"{top}/renode", launcher, 0o755),
                                 (f"{top}/bin/Renode.exe", "not really", 0o644)):
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(text), mode
            tar.addfile(info, io.BytesIO(text.encode()))
    return path


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("PATH", "/usr/bin:/bin")            # no renode on PATH
    monkeypatch.delenv("HARNESS_RENODE", raising=False)
    return {"XDG_DATA_HOME": str(tmp_path / "data"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}


@pytest.fixture
def served(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    portable_archive(site / "renode-1.15.3.linux-portable.tar.gz")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}/renode-1.15.3.linux-portable.tar.gz"
    server.shutdown()


def test_download_installs_records_and_is_found_afterwards(env, served, capsys):
    assert main(["setup", "--renode", "--no-workspace", "--renode-url", served]) == 0
    record = renode_install.installed(env)
    assert record["version"] == "1.15.3" and record["source"] == served
    assert len(record["sha256"]) == 64
    assert config.renode_binary(env) == record["renode"]            # no PATH change needed
    assert "Renode 1.15.3 installed" in capsys.readouterr().err
    assert not list((renode_install.home(env)).glob(".install-*"))   # nothing half done


def test_a_given_archive_is_installed_without_network(env, tmp_path):
    archive = portable_archive(tmp_path / "renode.tar.gz")
    assert main(["setup", "--no-workspace", "--renode-archive", str(archive)]) == 0
    assert renode_install.installed(env)["source"] == str(archive)


def test_no_network_is_a_one_line_note_not_a_failed_setup(env, capsys):
    port = socket.socket()
    port.bind(("127.0.0.1", 0))                 # bound, never listening: refused at once
    url = f"http://127.0.0.1:{port.getsockname()[1]}/renode.tar.gz"
    assert main(["setup", "--renode", "--no-workspace", "--renode-url", url]) == 0
    err = capsys.readouterr().err
    assert "Renode not installed" in err and "--renode-archive" in err
    assert renode_install.installed(env) is None


def test_a_broken_archive_is_a_clear_error_and_installs_nothing(env, tmp_path):
    bad = tmp_path / "bad.tar.gz"
    bad.write_bytes(b"not a tarball")
    assert main(["setup", "--no-workspace", "--renode-archive", str(bad)]) == 8
    no_launcher = tmp_path / "x.tar.gz"
    with tarfile.open(no_launcher, "w:gz") as tar:
        info = tarfile.TarInfo("something/bin/Renode.exe")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    assert main(["setup", "--no-workspace", "--renode-archive", str(no_launcher)]) == 8
    assert renode_install.installed(env) is None
    assert not [p for p in renode_install.home(env).iterdir() if p.name.startswith("renode-")]


@pytest.mark.integration
def test_a_real_renode_archive_installs_and_runs_prod_consumer(zephyr_workspace, harness_out,
                                                               tmp_path, monkeypatch):
    """An archive in the portable release's layout, made from the Renode found here, is
    installed by set-up and then used by `harness run` with no Renode on PATH."""
    import os
    import shutil
    from pathlib import Path
    launcher = shutil.which("renode")
    if not launcher:
        pytest.skip("Renode not found: install Renode 1.14 or newer and put `renode` on PATH")
    root = Path(os.path.realpath(launcher)).parent
    archive = tmp_path / "renode-local.linux-portable.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=1) as tar:
        tar.add(root, arcname="renode_portable")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv("PATH", os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep)
                                               if not (Path(p) / "renode").exists()))
    assert main(["setup", "--no-workspace", "--renode-archive", str(archive)]) == 0
    record = renode_install.installed(dict(os.environ))
    assert Path(record["renode"]).is_relative_to(tmp_path / "data")
    rc = main(["run", "--out", str(harness_out), "--board", "mps2_an385"])
    assert rc == 0
    result = json.loads((harness_out / "runs" / "prod_consumer" / "mps2_an385.renode" / "latest" /
                         "result.json").read_text())
    assert result["verdict"] == "PASS" and record["version"] in result["provenance"]["emulator"]
    assert json.loads((harness_out / "runs" / "prod_consumer" / "mps2_an385.agreement.json")
                      .read_text())["agree"]


@pytest.mark.parametrize("name, link", [("top/../../evil", None), ("/abs/evil", None),
                                        ("top/link", "../../outside")])
def test_an_archive_that_would_write_outside_the_install_is_refused(env, tmp_path, name, link):
    bad = tmp_path / "bad.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        info = tarfile.TarInfo(name if link is None else name)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
        else:
            info.size = 1
            tar.addfile(info, io.BytesIO(b"x"))
    assert main(["setup", "--no-workspace", "--renode-archive", str(bad)]) == 8
    assert not (tmp_path / "evil").exists() and renode_install.installed(env) is None


def test_a_chain_of_links_cannot_carry_a_file_out(env, tmp_path):
    bad = tmp_path / "chain.tar.gz"
    with tarfile.open(bad, "w:gz") as tar:
        for name, link in (("top/l1", ".."), ("top/l1/l2", "..")):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
        info = tarfile.TarInfo("top/l1/l2/ESCAPED")
        info.size = 1
        tar.addfile(info, io.BytesIO(b"x"))
    assert main(["setup", "--no-workspace", "--renode-archive", str(bad)]) == 8
    assert not list(tmp_path.rglob("ESCAPED"))


def test_a_truncated_archive_is_a_clear_setup_error(env, tmp_path):
    whole = portable_archive(tmp_path / "whole.tar.gz").read_bytes()
    cut = tmp_path / "cut.tar.gz"
    cut.write_bytes(whole[:len(whole) // 2])
    assert main(["setup", "--no-workspace", "--renode-archive", str(cut)]) == 8
