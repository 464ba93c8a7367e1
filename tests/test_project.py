"""The project file (harness.yaml) and a user repository with its own app and board file."""
import json
import shutil

import pytest
from conftest import DATA

from harness.errors import UsageError
from harness.frontends.cli import main
from harness.inputs import boards, project

EXAMPLE = DATA / "example_repo"


def test_the_example_project_file_loads_with_paths_relative_to_it():
    proj = project.load(EXAMPLE / "harness.yaml")
    assert proj.boards == ("my_mps2",) and proj.emulators == ("qemu",)
    assert proj.board_dirs == (str((EXAMPLE / "boards").resolve()),)
    assert proj.out == str((EXAMPLE / "out").resolve()) and proj.timeout == 20.0


def test_it_is_found_by_walking_up(tmp_path):
    (tmp_path / "harness.yaml").write_text("boards: [qemu_x86]\n")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert project.find(deep).boards == ("qemu_x86",)
    with pytest.raises(UsageError, match="not found"):
        project.find(deep, str(tmp_path / "missing.yaml"))


@pytest.mark.parametrize("text, message", [
    ("bords: [x]\n", r"unknown key\(s\) \['bords'\]"),
    ("boards: qemu_x86\n", "boards must be a list"),
    ("timeout: soon\n", "timeout must be a positive number"),
    ("board_dirs: [no/such/dir]\n", "board_dirs: no such directory"),
    ("- a list\n", "a mapping of keys"),
])
def test_each_key_is_checked_with_a_clear_error(tmp_path, text, message):
    (tmp_path / "harness.yaml").write_text(text)
    with pytest.raises(UsageError, match=message):
        project.load(tmp_path / "harness.yaml")


def test_audit_domains_true_false_or_left_to_the_app_reaches_every_front_end(tmp_path,
                                                                           monkeypatch):
    from harness.inputs import config
    made = []
    monkeypatch.setattr(config, "make_session", lambda *a, **kw: made.append(kw) or kw)
    for text, expected in (("audit_domains: false\n", False), ("audit_domains: true\n", True),
                           ("timeout: 3\n", None)):
        (tmp_path / "harness.yaml").write_text(text)
        assert project.find(tmp_path, None).audit_domains is expected
        config.project_session({}, tmp_path)             # the pytest and Robot front ends
        assert made[-1]["audit_domains"] is expected
    config.project_session({}, tmp_path, audit_domains=True)   # a front end's own option wins
    assert made[-1]["audit_domains"] is True


def test_the_repositorys_own_board_file_is_found_first_and_validated(tmp_path):
    board = boards.load("my_mps2", (EXAMPLE / "boards", boards.BOARDS_DIR))
    assert board.zephyr_board == "mps2_an385" and board.path.parent == EXAMPLE / "boards"
    assert boards.zephyr_name(board, "3.0.99") == "mps2_an385"
    bad = tmp_path / "b.yaml"
    bad.write_text("name: b\narch: arm\nprotection: {kind: mpu}\nemulators:\n"
                   "  renode: {platform: missing.repl, uart: sysbus.uart0}\n")
    with pytest.raises(UsageError, match=r"b.yaml: renode platform .*missing.repl not found"):
        boards.load("b", tmp_path)
    bad.write_text("name: b\narch: arm\nprotection: {kind: mpu}\nemulators:\n"
                   "  qemu: {binary: qemu-system-arm, argz: []}\n")
    with pytest.raises(UsageError, match=r"b.yaml: qemu: unknown key\(s\) \['argz'\]"):
        boards.load("b", tmp_path)


def test_command_line_options_override_the_project_file(tmp_path, monkeypatch, capsys):
    (tmp_path / "harness.yaml").write_text("boards: [no_such_board]\n")
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--no-isolation"]) == 2                   # the file's board is used...
    assert "unknown board 'no_such_board'" in capsys.readouterr().err
    assert main(["run", "--board", "also_unknown"]) == 2           # ...unless --board is given
    assert "unknown board 'also_unknown'" in capsys.readouterr().err


@pytest.mark.integration
def test_the_example_repository_runs_its_own_app_on_its_own_board(zephyr_workspace, tmp_path,
                                                                  monkeypatch, capsys):
    repo = tmp_path / "repo"
    shutil.copytree(EXAMPLE, repo)
    monkeypatch.chdir(repo / "apps")                               # any directory inside it
    assert main(["run"]) == 0
    printed = capsys.readouterr().out
    assert "PASS           example.hello_user my_mps2 qemu" in printed
    result = json.loads((repo / "out" / "runs" / "example.hello_user" / "my_mps2.qemu" / "latest" /
                         "result.json").read_text())
    assert result["isolation"]["status"] == "CERTIFIED"
    assert main(["prove"]) == 0                                    # the project's board too
    assert "CERTIFIED" in capsys.readouterr().out
