"""The domain audit: MPU decoding and the matrix (pure), the trace replay on real QEMU
traces of prod_consumer and two broken-sandbox variants (Zephyr 4.3, mps2_an385), and
for real, on the workspace: the original passes with the same UART bytes as an
unaudited run, the variants are OVERREACH naming the region."""
import json
import shutil
from pathlib import Path

import pytest
from conftest import DATA

from harness.audit.collector import MpuTrace
from harness.audit.elf_map import ElfMap
from harness.errors import UsageError
from harness.judging import domains, expect
from harness.judging.domains import MpuRegion, Named, ThreadView

TRACES = DATA / "audit"
INTENT = {"app_b_stack": {"may_reach": ["app_b_partition", "shared_partition", "own stack"]},
          "app_a_stack": {"may_reach": ["app_a_partition", "shared_partition", "own stack"]},
          "writeback_stack": {"may_reach": ["app_a_partition", "shared_partition", "own stack"]}}


def rasr(size_log2: int, ap: int, xn: bool = False, srd: int = 0) -> int:
    return 1 | ((size_log2 - 1) << 1) | (srd << 8) | (ap << 24) | (int(xn) << 28)


def test_an_armv7m_region_decodes_as_the_architecture_says():
    r = MpuRegion(4, 0x20004804, rasr(11, 3, xn=True))
    assert (r.base, r.size, r.user_access) == (0x20004800, 2048, "rw")
    assert MpuRegion(0, 0, rasr(22, 6)).user_access == "rx"          # flash: RO, executable
    assert MpuRegion(1, 0x20000000, rasr(22, 1)).user_access == ""   # privileged only
    assert MpuRegion(2, 0, rasr(10, 3, srd=0b00000010)).spans() == \
        [(0, 128)] + [(a, a + 128) for a in range(256, 1024, 128)]     # subregion 1 off


def test_the_highest_region_wins_and_gaps_fault_for_user_code():
    ram = MpuRegion(1, 0x20000000, rasr(16, 1, xn=True))          # 64 KiB, privileged only
    part = MpuRegion(3, 0x20001000, rasr(5, 3, xn=True))          # 32 bytes user RW
    spans = domains.user_map([ram, part])
    assert [(s.start, s.end, s.access) for s in spans] == [(0x20001000, 0x20001020, "rw")]
    assert domains.user_map([ram], mpu_enabled=False)[0].access == "rwx"


def test_matrix_names_the_region_and_the_mpu_entry_that_grants_it():
    parts = [Named("mine", 0x100, 0x120, "partition"), Named("theirs", 0x120, 0x140, "partition")]
    grant = MpuRegion(5, 0x100, rasr(6, 3, xn=True))              # 0x100-0x13f: both
    t = ThreadView("t_stack", True, domains.user_map([grant]), (0x400, 0x500), 2)
    found = domains.matrix([t], parts)
    assert found["t_stack"]["regions"]["theirs"]["access"] == "read-write"
    problems = domains.violations(found, {"t_stack": {"may_reach": ["mine", "own stack"]}})
    assert problems == ["t_stack can read-write theirs (partition), granted by MPU region 5: "
                        "0x00000100-0x0000013f RBAR=0x00000100 RASR=0x1300000b (user read-write)"]


def prod_consumer_elf() -> ElfMap:
    """The names the audit reads from the ELF these traces came from (symbol values of
    that build of prod_consumer, Zephyr 4.3, mps2_an385)."""
    symbols = {"app_a_stack": (0x20005000, 0x800), "app_b_stack": (0x20004800, 0x800),
               "writeback_stack": (0x20004000, 0x800), "z_main_stack": (0x20005800, 0x400),
               "z_idle_stacks": (0x20003040, 0x140)}
    for name, start, size in (("app_a_partition", 0x20001020, 0x20),
                              ("app_b_partition", 0x20001000, 0x20),
                              ("shared_partition", 0x20000000, 0x1000)):
        symbols[f"z_data_smem_{name}_part_start"] = (start, 0)
        symbols[f"z_data_smem_{name}_part_size"] = (size, 0)
    return ElfMap(symbols, [("text", 0, 0xF908, 0x6), ("bss", 0x20001040, 0x20006D00, 0x3)])


def audited(trace: str) -> tuple[dict, list[str]]:
    elf = prod_consumer_elf()
    audit = MpuTrace(elf)
    audit.read(TRACES / trace)
    found = domains.matrix(audit.views(), elf.named(audit.stacks()))
    return found, domains.violations(found, INTENT)


def test_prod_consumer_keeps_app_b_out_of_app_a():
    found, problems = audited("zephyr-4.3.prod_consumer.mps2_an385.qemu-mpu-trace.log")
    assert problems == []
    b = found["app_b_stack"]["regions"]
    assert (b["app_b_partition"]["access"], b["shared_partition"]["access"],
            b["own stack"]["access"], b["app_a_partition"]["access"],
            b["kernel data"]["access"], b["code"]["access"]) == \
        ("read-write", "read-write", "read-write", "none", "none", "execute")
    assert found["app_a_stack"]["regions"]["app_b_partition"]["access"] == "none"


def test_app_b_with_app_a_s_partition_in_its_domain_is_named():
    found, problems = audited("zephyr-4.3.b_reaches_a.mps2_an385.qemu-mpu-trace.log")
    assert found["app_b_stack"]["regions"]["app_a_partition"]["access"] == "read-write"
    assert len(problems) == 1 and problems[0].startswith(
        "app_b_stack can read-write app_a_partition (partition), granted by MPU region ")


def test_app_b_in_supervisor_mode_is_named():
    found, problems = audited("zephyr-4.3.supervisor_b.mps2_an385.qemu-mpu-trace.log")
    assert "app_b_stack" not in found
    assert problems == ["the thread on app_b_stack never ran in user mode: it runs in "
                        "supervisor mode and can reach all memory (or never ran)"]


def test_the_audit_intent_is_checked_when_the_expectation_is_read():
    spec = expect.parse({"events": {"s": {"literal": "SUCCESS", "final": True}},
                         "audit": {"default": True, "threads": INTENT}})
    assert spec.audit.default and spec.audit.threads["app_b_stack"]["may_reach"][0] == \
        "app_b_partition"
    for bad in ({"threads": {"t": {"may_reach": "x"}}}, {"threads": {"t": {"reach": []}}},
                {"thread": {}}, "yes"):
        with pytest.raises(UsageError):
            expect.parse({"events": {"s": {"literal": "S"}}, "audit": bad})


# -- for real: the workspace, the toolchain and QEMU -------------------------------------

def variant(zephyr_base: Path, out: Path, kind: str) -> Path:
    """prod_consumer of the workspace with app B's sandbox broken in one line (our own
    firmware, made at test time; nothing of Zephyr's is kept)."""
    d = out / kind
    shutil.copytree(zephyr_base / "samples" / "userspace" / "prod_consumer", d)
    c = d / "src" / "app_b.c"
    text = c.read_text()
    if kind == "supervisor_b":
        new = text.replace("k_thread_user_mode_enter(processor_thread, NULL, NULL, NULL);",
                           "processor_thread(NULL, NULL, NULL);")
    else:
        new = text.replace('#include "app_b.h"', '#include "app_b.h"\n#include "app_a.h"', 1)\
            .replace("\tk_thread_heap_assign(k_current_get(), &app_b_resource_pool);",
                     "\tk_mem_domain_add_partition(&k_mem_domain_default, &app_a_partition);\n"
                     "\tk_thread_heap_assign(k_current_get(), &app_b_resource_pool);", 1)
    assert new != text, f"{c}: the line to change was not found"
    c.write_text(new)
    return d


@pytest.fixture(scope="module")
def audited_runs(zephyr_workspace, tmp_path_factory):
    from harness.frontends.cli import main
    from harness.host.paths import APPS_DIR
    out = tmp_path_factory.mktemp("audit")
    expect_file = str(APPS_DIR / "prod_consumer" / "expect.yaml")
    codes = {"plain": main(["run", "--board", "mps2_an385", "--emulator", "qemu",
                            "--out", str(out), "--no-audit-domains"])}
    plain = (out / "runs" / "prod_consumer" / "mps2_an385.qemu" / "latest").resolve()
    codes["audited"] = main(["run", "--board", "mps2_an385", "--emulator", "qemu",
                             "--out", str(out), "--audit-domains"])
    for kind in ("supervisor_b", "b_reaches_a"):
        app = variant(zephyr_workspace.zephyr_base, out / "src", kind)
        codes[kind] = main(["run", "--app", str(app), "--expect", expect_file, "--board",
                            "mps2_an385", "--emulator", "qemu", "--out", str(out),
                            "--audit-domains"])
    return out, plain, codes


def latest(out: Path, app: str) -> dict:
    run = out / "runs" / app / "mps2_an385.qemu" / "latest"
    return json.loads((run / "result.json").read_text()) | {"dir": run.resolve()}


@pytest.mark.integration
def test_the_original_passes_the_audit_with_byte_identical_uart(audited_runs):
    out, plain, codes = audited_runs
    r = latest(out, "prod_consumer")
    assert codes["plain"] == codes["audited"] == 0 and r["verdict"] == "PASS"
    assert r["dir"] != plain
    plain_result = json.loads((plain / "result.json").read_text())
    assert "domains" not in plain_result["evidence"] and not (plain / "qemu-mpu-trace.log").exists()
    assert (r["dir"] / "uart.raw").read_bytes() == (plain / "uart.raw").read_bytes()
    dom = r["evidence"]["domains"]
    assert dom["violations"] == [] and dom["region_writes"] > 0
    assert dom["threads"]["app_b_stack"]["regions"]["app_a_partition"]["access"] == "none"
    assert "<table" in (r["dir"] / "domains.html").read_text()


@pytest.mark.integration
@pytest.mark.parametrize("kind, named", [
    ("supervisor_b", "the thread on app_b_stack never ran in user mode"),
    ("b_reaches_a", "app_b_stack can read-write app_a_partition (partition)")])
def test_a_broken_sandbox_is_overreach_naming_the_region(audited_runs, kind, named):
    out, _, codes = audited_runs
    r = latest(out, kind)
    assert r["verdict"] == "OVERREACH" and codes[kind] == 12, r["reason"]
    assert named in r["reason"] and r["isolation"]["status"] == "CERTIFIED"


def test_a_user_thread_the_intent_does_not_list_is_named_and_still_checked():
    grant = MpuRegion(5, 0x9000, rasr(8, 3, xn=True))             # writable, nothing named there
    t = ThreadView("other_stack", True, domains.user_map([grant]), None, 1)
    found = domains.matrix([t], [])
    assert domains.unstated(found, INTENT) == ["other_stack"]
    assert domains.violations(found, {}) == [
        "other_stack can read-write 0x00009000-0x000090ff, which belongs to no partition, stack "
        "or section of the ELF"]
