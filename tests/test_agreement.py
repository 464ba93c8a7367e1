"""Cross-emulator agreement on finished runs (pure)."""
from pathlib import Path

from conftest import real_log

from harness.judging.agreement import compare
from harness.judging.replay import judge_bytes
from harness.judging.results import RunResult
from harness.judging.verdict import Verdict


def run_of(emulator, data, prod_spec, sha="a" * 64):
    return RunResult("prod_consumer", "mps2_an385", emulator, judge_bytes(data, prod_spec),
                     Path("."), provenance={"elf_sha256": sha})


def test_different_interleavings_of_the_same_story_agree(prod_spec):
    qemu = run_of("qemu", real_log("prod_consumer.mps2_an385.qemu.log"), prod_spec)
    seed_like = run_of("renode", real_log("prod_consumer.qemu_x86.qemu.log"), prod_spec)
    found = compare([qemu, seed_like], prod_spec)
    assert found["agree"], found["differences"]


def test_a_different_verdict_or_chain_is_a_disagreement(prod_spec):
    good = run_of("qemu", real_log("prod_consumer.mps2_an385.qemu.log"), prod_spec)
    cut = real_log("prod_consumer.mps2_an385.qemu.log").split(b"count=7")[0]
    bad = run_of("renode", cut, prod_spec)
    assert bad.verdict is Verdict.FAIL
    found = compare([good, bad], prod_spec)
    assert not found["agree"]
    assert any(d.startswith("verdict: qemu PASS vs renode FAIL") for d in found["differences"])
    assert any(d.startswith("got: qemu [0,1,2,3,4,5,6,7,8,9] vs renode") for d in
               found["differences"])


def test_different_elfs_never_agree(prod_spec):
    data = real_log("prod_consumer.mps2_an385.qemu.log")
    found = compare([run_of("qemu", data, prod_spec), run_of("renode", data, prod_spec, "b" * 64)],
                    prod_spec)
    assert found["differences"] == ["not the same ELF"]
