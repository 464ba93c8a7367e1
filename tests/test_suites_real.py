"""Zephyr's own test suites, run as they are: real west builds, real QEMU (and Renode
where installed). The expected verdicts are those the workspace's own twister gave
on the same board (see bench/vs_twister.py for the full comparison)."""
import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from harness.frontends.cli import main

pytestmark = pytest.mark.integration
SUITES = ["samples/hello_world", "tests/kernel/mem_protect/userspace", "tests/kernel/fatal/exception"]
# twister -p mps2_an385 on this workspace (Zephyr 3.0.99)
TWISTER = {
    "sample.basic.helloworld": ("PASS", None),
    "kernel.memory_protection.userspace": ("PASS", {"passed": 39}),
    "kernel.memory_protection.userspace.gap_filling.arc": ("SKIPPED", None),
    "kernel.memory_protection.userspace.gap_filling.arm": ("SKIPPED", None),
    "kernel.common.stack_protection": ("PASS", {"passed": 1}),
    "kernel.common.stack_protection_no_userspace": ("PASS", {"passed": 1}),
    "kernel.common.stack_protection_arm_fpu_sharing": ("SKIPPED", None),
    "kernel.common.stack_protection_armv8m_mpu_stack_guard": ("SKIPPED", None),
    "kernel.common.stack_sentinel": ("PASS", {"passed": 1}),
}


@pytest.fixture(scope="module")
def suite_run(zephyr_workspace, harness_out):
    out = harness_out / "suites"
    args = ["matrix", "-j", "2", "--out", str(out), "--board", "mps2_an385"]
    for s in SUITES:
        args += ["-T", str(zephyr_workspace.zephyr_base / s)]
    rc = main(args)
    summary = json.loads((out / "matrix" / "summary.json").read_text())
    return rc, out, {r["app"]: r for r in summary["runs"]}


def test_each_scenario_gets_twisters_verdict(suite_run):
    rc, _, runs = suite_run
    assert rc == 0
    assert set(runs) == set(TWISTER)
    for name, (verdict, counts) in TWISTER.items():
        assert runs[name]["verdict"] == verdict, (name, runs[name]["reason"])
        if counts:
            got = {}
            for c in runs[name]["evidence"]["testcases"]:
                got[c["status"]] = got.get(c["status"], 0) + 1
            assert got == counts, name


def test_skips_say_why_and_a_false_filter_compiles_nothing(suite_run, zephyr_workspace):
    _, out, runs = suite_run
    assert runs["kernel.memory_protection.userspace.gap_filling.arc"]["reason"] == \
        "Not in test case arch allow list"
    assert runs["kernel.memory_protection.userspace.gap_filling.arm"]["reason"] == \
        "Not in testcase platform allow list"
    fpu = runs["kernel.common.stack_protection_arm_fpu_sharing"]
    assert fpu["reason"].startswith("filter: ")
    build = out / "build" / "kernel.common.stack_protection_arm_fpu_sharing" / "mps2_an385"
    assert (build / "zephyr" / ".config").is_file()          # configured, so judged...
    assert not (build / "zephyr" / "zephyr.elf").exists()     # ...and never compiled


def test_every_pass_is_certified_and_every_ztest_case_is_a_junit_testcase(suite_run):
    _, out, runs = suite_run
    for r in runs.values():
        if r["verdict"] == "PASS":
            assert r["isolation"]["status"] == "CERTIFIED"
    suite = ET.parse(out / "matrix" / "junit.xml").getroot()
    names = {c.get("name") for c in suite.iter("testcase")}
    assert "kernel.memory_protection.userspace.domain_add_part_drop_to_user" in names
    skipped = [c for c in suite.iter("testcase") if c.find("skipped") is not None]
    assert len(skipped) >= 4


def test_run_app_dir_runs_its_sample_yaml(suite_run, zephyr_workspace, harness_out, capsys):
    rc = main(["run", "--out", str(harness_out / "suites"), "--board", "mps2_an385",
               "--app", str(zephyr_workspace.zephyr_base / "samples" / "hello_world")])
    assert rc == 0
    assert "PASS           sample.basic.helloworld mps2_an385 qemu" in capsys.readouterr().out


def test_a_ztest_suite_on_qemu_and_renode_agrees_per_test_case(suite_run, zephyr_workspace,
                                                               harness_out, capsys):
    if not shutil.which("renode"):
        pytest.skip("Renode not found: install Renode 1.14 or newer and put `renode` on PATH")
    rc = main(["matrix", "-j", "2", "--out", str(harness_out / "suites"), "--board", "mps2_an385",
               "--emulator", "qemu,renode", "--scenario", "kernel.memory_protection.userspace",
               "-T", str(zephyr_workspace.zephyr_base / "tests" / "kernel" / "mem_protect")])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    assert ("AGREE          kernel.memory_protection.userspace mps2_an385 qemu vs renode: "
            "same verdict and test-case results") in printed
    on_renode = [line for line in printed.splitlines()
                 if line.startswith("PASS           kernel.memory_protection.userspace mps2_an385 renode")]
    assert len(on_renode) == 1 and "cases: 39 passed" in on_renode[0]
