"""Test-suite rules of Zephyr 4.x twister: board metadata of the hardware model v2
(names, aliases, RAM, simulators), `platform_key`, and the 4.x scenario keys that
change the build."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness import suite
from harness.build import west_build
from harness.inputs import boards, scenarios, zephyr_boards
from harness.judging.selection import BoardFacts, platform_key_reason, skip_reason

WS43 = Path.home() / "zephyrproject-4.3" / "zephyr"


def scenario(name="s", **keys):
    return scenarios.Scenario(name, Path("."), Path("testcase.yaml"),
                              scenarios._typed(keys, name, lambda m: None))


@pytest.fixture
def hwmv2_tree(tmp_path):
    """A workspace's boards/ in the v2 layout: a single-SoC board whose yaml names only
    the board (qemu_x86), and a multi-SoC board (mps2/an385)."""
    zb = tmp_path / "zephyr"
    x86 = zb / "boards" / "qemu" / "x86"
    x86.mkdir(parents=True)
    (x86 / "board.yml").write_text("board:\n  name: qemu_x86\n  socs:\n    - name: atom\n")
    (x86 / "qemu_x86.yaml").write_text("identifier: qemu_x86\narch: x86\nram: 3000\n"
                                      "simulation:\n  - name: qemu\n")
    mps2 = zb / "boards" / "arm" / "mps2"
    mps2.mkdir(parents=True)
    (mps2 / "board.yml").write_text("board:\n  name: mps2\n  socs:\n    - name: an385\n"
                                    "    - name: an521\n")
    (mps2 / "mps2_an385.yaml").write_text("identifier: mps2/an385\narch: arm\nram: 4096\n")
    return zb


def test_hwmv2_board_names_and_aliases_as_twister_4_gives_them(hwmv2_tree):
    x86 = suite.board_facts(hwmv2_tree, boards.load("qemu_x86"), "4.3.0")
    assert x86.name == "qemu_x86/atom" and x86.aliases == {"qemu_x86", "qemu_x86/atom"}
    assert x86.ram_kb == 3000 and x86.simulation == "qemu"
    mps2 = suite.board_facts(hwmv2_tree, boards.load("mps2_an385"), "4.3.0")
    assert mps2.name == "mps2/an385" and mps2.aliases == {"mps2/an385"}     # two SoCs: no alias
    assert mps2.ram_kb == 4096 and mps2.simulation == "na"
    zephyr_boards._index.cache_clear()


def test_platform_allow_matches_a_boards_alias():
    x86 = BoardFacts("qemu_x86/atom", "x86", aliases=frozenset({"qemu_x86", "qemu_x86/atom"}))
    assert skip_reason(scenario(platform_allow=["qemu_x86"]), x86) is None
    assert skip_reason(scenario(platform_allow=["mps2/an385"]), x86) == \
        "Not in testcase platform allow list"
    assert skip_reason(scenario(platform_exclude=["qemu_x86"]), x86) == "In test case platform exclude"


def test_platform_key_runs_a_scenario_once_per_key():
    s = scenario(platform_key=["arch", "simulation"])
    a = BoardFacts("mps2/an385", "arm", simulation="qemu")
    b = BoardFacts("other/arm", "arm", simulation="qemu")
    c = BoardFacts("nrf52840dk/nrf52840", "arm")                      # simulation: na
    keyed: dict = {}
    assert platform_key_reason(s, a, keyed) is None
    assert platform_key_reason(s, a, keyed) is None                    # same board, 2nd emulator
    assert platform_key_reason(s, b, keyed) == \
        "Already covered for key ['arm', 'qemu'] by platform mps2/an385"
    assert platform_key_reason(s, c, keyed) == \
        "Excluded platform missing key fields demanded by test ['arch', 'simulation']"
    assert platform_key_reason(scenario(), c, {}) is None


def test_4x_keys_that_change_the_build_reach_cmake(tmp_path):
    s = scenario(extra_args=["FOO=1"], extra_conf_files=["a.conf", "b.conf"],
                 extra_dtc_overlay_files=["x.overlay"], required_snippets=["cdc-acm-console"],
                 extra_overlay_confs=["over.conf"], extra_configs=["CONFIG_X=y"])
    assert s.cmake_args() == ["-DFOO=1", "-DCONF_FILE=a.conf;b.conf",
                              "-DDTC_OVERLAY_FILE=x.overlay", "-DSNIPPET=cdc-acm-console"]
    app = suite.app_of(s)
    assert app.overlay_confs == ("over.conf",)
    args = west_build._overlay(tmp_path / "b", app.extra_configs, app.overlay_confs)
    assert args == [f"-DOVERLAY_CONFIG=over.conf {tmp_path / 'b.extra.conf'}"]
    assert (tmp_path / "b.extra.conf").read_text() == "CONFIG_X=y\n"


TWISTERLIB = """
import json, os, sys
from pathlib import Path
zb = Path(sys.argv[1]); wanted = sys.argv[2:]
os.environ["ZEPHYR_BASE"] = str(zb)
sys.path[:0] = [str(zb / "scripts"), str(zb / "scripts" / "pylib" / "twister")]
from twisterlib.platform import generate_platforms
out = {}
for p in generate_platforms([zb], [zb], [zb]):
    for w in wanted:
        if w == p.name or w in p.aliases:
            out[w] = [p.name, sorted(p.aliases), p.arch, p.ram, p.flash, sorted(p.supported),
                      p.simulation]
print(json.dumps(out))
"""


@pytest.mark.integration
def test_board_facts_equal_the_workspaces_own_twisterlib():
    """On Zephyr 4.3 the workspace's twisterlib (generate_platforms) is the oracle."""
    if not (WS43 / "scripts" / "pylib" / "twister" / "twisterlib" / "platform.py").is_file():
        pytest.skip(f"no Zephyr 4.3 workspace at {WS43.parent}: see docs/zephyr-versions.md")
    ours = {b: suite.board_facts(WS43, boards.load(b), "4.3.0") for b in boards.known()}
    names = [boards.zephyr_name(boards.load(b), "4.3.0") for b in ours]
    proc = subprocess.run([sys.executable, "-c", TWISTERLIB, str(WS43), *names],
                          capture_output=True, text=True, env={**os.environ})
    assert proc.returncode == 0, proc.stderr[-2000:]
    theirs = json.loads(proc.stdout)
    for b, facts in ours.items():
        name = boards.zephyr_name(boards.load(b), "4.3.0")
        if name not in theirs:
            continue                                  # e.g. a board this Zephyr lacks
        t_name, t_aliases, t_arch, t_ram, t_flash, t_supported, t_sim = theirs[name]
        assert (facts.name, sorted(facts.aliases), facts.arch, facts.ram_kb, facts.flash_kb,
                sorted(facts.supported), facts.simulation) == \
            (t_name, t_aliases, t_arch, t_ram, t_flash, t_supported, t_sim), b
    assert len(theirs) >= 4


def test_zephyr_4_3_case_names_are_twisters_suite_dot_test():
    """A real Zephyr 4.3 log (mps2/an385, QEMU): as its twister names and counts them
    (twister.json of the same run: 55 cases, 53 passed, 2 skipped)."""
    from conftest import DATA

    from harness.judging.replay import judge_log
    from harness.judging.verdict import Verdict
    log = (DATA / "ztest" / "zephyr-4.3.kernel.memory_protection.log").read_bytes()
    s = scenario("kernel.memory_protection")
    outcome = judge_log(suite.judge_for(s, "suite")(), log)
    cases = {c["name"]: c["status"] for c in outcome.evidence["testcases"]}
    assert outcome.verdict is Verdict.PASS and len(cases) == 55
    assert sorted(cases.values()).count("skipped") == 2
    assert cases["mem_protect_domain.mem_domain_api_supervisor_only"] == "passed"
    old = judge_log(suite.judge_for(s)(), log)                  # Zephyr 3.x-4.0 naming
    assert "kernel.memory_protection.mem_domain_api_supervisor_only" in \
        {c["name"] for c in old.evidence["testcases"]}


def test_the_workspace_tells_how_its_twister_names_cases(tmp_path):
    lib = tmp_path / "scripts" / "pylib" / "twister" / "twisterlib"
    lib.mkdir(parents=True)
    (lib / "testsuite.py").write_text("def compose_case_name(self, tc_name): ...\n")
    assert suite.case_ids(tmp_path) == "suite"
    (lib / "testsuite.py").write_text("class TestSuite: ...\n")
    assert suite.case_ids(tmp_path) == "scenario"
    assert suite.case_ids(tmp_path / "nowhere") == "scenario"
