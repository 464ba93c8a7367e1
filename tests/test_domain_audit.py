"""The domain audit: MPU decoding and the matrix (pure), the trace replay on real QEMU
traces of prod_consumer and two broken-sandbox variants (Zephyr 4.3, mps2_an385), and
for real, on the workspace: the original passes with the same UART bytes as an
unaudited run, the variants are OVERREACH naming the region."""
from __future__ import annotations

import json
import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import DATA

from harness.audit.collector import MpuSnapshots, MpuTrace
from harness.audit.elf_map import ElfMap
from harness.errors import SetupError, UsageError
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
    audit = (MpuSnapshots if "renode" in trace else MpuTrace)(elf)
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


def test_renode_s_snapshots_give_the_matrix_qemu_s_trace_gives():
    """Real captures of the same ELF: Renode's hook tables and QEMU's replayed writes."""
    renode, problems = audited("zephyr-4.3.prod_consumer.mps2_an385.renode-mpu-trace.log")
    qemu, _ = audited("zephyr-4.3.prod_consumer.mps2_an385.qemu-mpu-trace.log")
    assert problems == [] and set(renode) == {"app_a_stack", "app_b_stack", "writeback_stack"}
    for m in (renode, qemu):
        for seen in m.values():
            seen.pop("stops")                           # how many switches each saw
    assert renode == qemu


def test_the_renode_hook_reads_the_table_at_the_pendsv_entry(tmp_path):
    elf = prod_consumer_elf()
    elf.symbols["z_arm_pendsv"] = (0x2905, 0x40)         # a Thumb function symbol
    command = MpuSnapshots(elf).hook("sysbus.cpu", tmp_path / "t.log")
    assert command.startswith("sysbus.cpu AddHook 0x2904 ") and str(tmp_path / "t.log") in command
    with pytest.raises(SetupError, match="z_arm_pendsv"):
        MpuSnapshots(prod_consumer_elf()).hook("sysbus.cpu", tmp_path / "t.log")
    audit = MpuSnapshots(elf)
    audit.replay(["pendsv enabled=1 0:0:602002b 1:20000001:110b002b 2:20004802:130b0015 3:3:0",
                  "garbage", ""])
    assert audit.tables == 1 and list(audit.stacks()) == ["app_b_stack"]
    assert [r[0] for c in audit.threads["app_b_stack"].configs for r in c[1]] == [0, 1, 2]


def test_the_agreement_check_compares_domain_matrices():
    from harness.judging import agreement
    from harness.judging.verdict import Verdict

    def run(emu: str, access: str):
        cell = {"access": access, "kind": "partition", "granted_by": ["MPU region 3: x"]}
        ev = {"events": [], "domains": {"threads": {"app_b_stack": {
            "regions": {"app_a_partition": cell}, "unnamed": []}}}}
        return SimpleNamespace(emulator=emu, verdict=Verdict.PASS, app="a",
                               board="b", provenance={}, outcome=SimpleNamespace(evidence=ev))
    spec = SimpleNamespace(events=[])
    same = agreement.compare([run("qemu", "none"), run("renode", "none")], spec)
    assert same["agree"] and same["domains_compared"]
    differ = agreement.compare([run("qemu", "none"), run("renode", "read-write")], spec)
    assert differ["differences"] == ["domains: app_b_stack x app_a_partition: qemu none vs "
                                     "renode read-write"]
    plain = run("renode", "none")
    plain.outcome.evidence.pop("domains")
    assert agreement.compare([run("qemu", "none"), plain], spec)["domains_compared"] is False
    gcov, traced = run("qemu", "none"), run("renode", "none")     # --coverage: two images
    gcov.coverage, gcov.provenance = {"method": "gcov"}, {"elf_sha256": "a"}
    traced.provenance = {"elf_sha256": "b"}
    found = agreement.compare([gcov, traced], spec)
    assert found["agree"] is None and "gcov image" in found["same"]
    from harness.reports import report
    assert report.agreement_line(found).startswith("NOT-COMPARED   a b qemu vs renode: ")


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
                {"thread": {}}, "yes", {"threads": {"t": {"also_on": {"tpu": []}}}},
                {"threads": {"t": {"also_on": {"mmu": "x"}}}}):
        with pytest.raises(UsageError):
            expect.parse({"events": {"s": {"literal": "S"}}, "audit": bad})


def pae_tables(entries: dict[int, int], pde_flags: int = 0x7, frames: dict | None = None) -> bytes:
    """Memory from 0x10000: a PDPT at 0x10000 -> a page directory at 0x11000 -> one page
    table at 0x12000 with `entries` {page index: flags} (identity mapped but where
    `frames` {page index: physical frame} says otherwise)."""
    from harness.judging import pagetables as pt
    mem = bytearray(0x3000)
    mem[0:8] = (0x11000 | pt.P).to_bytes(8, "little")
    mem[0x1000:0x1008] = (0x12000 | pde_flags).to_bytes(8, "little")
    for k, flags in entries.items():
        frame = (frames or {}).get(k, k)
        mem[0x2000 + 8 * k:0x2008 + 8 * k] = ((frame << 12) | flags).to_bytes(8, "little")
    return bytes(mem)


def test_pae_user_access_needs_us_at_both_levels_and_xd_stops_execution():
    from harness.judging import pagetables as pt
    user_rw_xd = pt.P | pt.RW | pt.US | pt.XD
    mem = pt.Memory(pae_tables({1: pt.P | pt.US, 2: user_rw_xd, 3: user_rw_xd,
                                4: pt.P | pt.RW, 5: 0x7FFFFFFFFFFEE5FE}), 0x10000)
    spans = pt.user_map(mem, 0x10000)
    assert [(s.start, s.end, s.access) for s in spans] == \
        [(0x1000, 0x2000, "rx"), (0x2000, 0x4000, "rw")]      # 4: kernel only; 5: not present
    assert spans[1].region.describe() == \
        "page tables at 0x00010000: 0x00002000-0x00003fff (user read-write)"
    supervisor_dir = pt.Memory(pae_tables({2: user_rw_xd}, pde_flags=pt.P | pt.RW), 0x10000)
    assert pt.user_map(supervisor_dir, 0x10000) == []
    with pytest.raises(ValueError, match="outside the memory read"):
        pt.user_map(mem, 0x90000)


def test_a_stack_mapped_elsewhere_is_named_where_it_lies():
    """CONFIG_THREAD_STACK_MEM_MAPPED (Zephyr 4.x on qemu_x86): the thread's stack is
    mapped at a virtual address of its own; its span is the stack object's memory."""
    from harness.judging import pagetables as pt
    mem = pt.Memory(pae_tables({7: pt.P | pt.RW | pt.US | pt.XD}, frames={7: 2}), 0x10000)
    (span,) = pt.user_map(mem, 0x10000)
    assert (span.start, span.end, span.region.virtual) == (0x2000, 0x3000, 0x7000)
    assert span.region.describe().endswith("0x00002000-0x00002fff mapped at 0x00007000 "
                                           "(user read-write)")
    assert pt.physical(mem, 0x10000, 0x7123) == 0x2123 and pt.physical(mem, 0x10000, 0x9000) is None


def test_what_a_thread_may_also_reach_on_one_kind_of_protection_unit():
    """prod_consumer: app A's threads share a domain; on an MMU they share its page tables
    and so each other's stacks, on an MPU not: `also_on: {mmu: [...]}` says so."""
    cell = {"access": "read-write", "kind": "stack", "granted_by": ["page tables at 0x1"]}
    found = {"app_a_stack": {"user": True, "regions": {"writeback_stack": cell}, "unnamed": []}}
    rule = expect.parse({"events": {"s": {"literal": "S"}}, "audit": {"threads": {
        "app_a_stack": {"may_reach": ["own stack"], "also_on": {"mmu": ["writeback_stack"]}}}}})
    intent = rule.audit.threads
    assert domains.violations(found, intent, "mmu") == []
    assert domains.violations(found, intent, "mpu") == [
        "app_a_stack can read-write writeback_stack (stack), granted by page tables at 0x1"]


def test_pae_large_pages_and_rights_taken_away_at_the_directory():
    from harness.judging import pagetables as pt
    mem = bytearray(0x3000)
    mem[0:8] = (0x11000 | pt.P).to_bytes(8, "little")
    big = 0x200000 | pt.P | pt.US | pt.RW | pt.PS                # PDE 1: a 2 MiB page
    mem[0x1008:0x1010] = big.to_bytes(8, "little")
    mem[0x1010:0x1018] = (0x12000 | pt.P | pt.US).to_bytes(8, "little")           # no R/W
    mem[0x1018:0x1020] = (0x12000 | pt.P | pt.US | pt.RW | pt.XD).to_bytes(8, "little")
    mem[0x2000:0x2008] = (0x5000 | pt.P | pt.US | pt.RW).to_bytes(8, "little")    # PT entry 0
    spans = pt.user_map(pt.Memory(bytes(mem), 0x10000), 0x10000)
    assert [(hex(s.start), hex(s.end), s.access, hex(s.region.virtual)) for s in spans] == [
        ("0x5000", "0x6000", "rw", "0x600000"),     # XD only in the PDE: no execution
        ("0x5000", "0x6000", "rx", "0x400000"),     # R/W only in the PTE: read and execute
        ("0x200000", "0x400000", "rwx", "0x200000")]


def test_renode_s_last_table_counts_and_a_torn_last_line_is_dropped(tmp_path):
    elf = prod_consumer_elf()
    trace = tmp_path / "t.log"
    trace.write_text("pendsv enabled=1 0:0:602002b 2:20004802:130b0015\n"
                     "final enabled=1 0:0:602002b 2:20005002:130b0015\n"
                     "pendsv enabled=1 0:0:602002b 2:2000")             # cut mid-write
    audit = MpuSnapshots(elf)
    audit.read(trace)
    assert audit.switches == 1 and audit.tables == 2
    assert sorted(audit.stacks()) == ["app_a_stack", "app_b_stack"]
    assert "python" in audit.last_table("sysbus.cpu", trace) and "final enabled" in \
        audit.last_table("sysbus.cpu", trace)


def test_the_x86_audit_reads_live_user_threads_and_names_them_by_stack():
    from harness.audit.x86_snapshot import K_USER, THREAD_DEAD, PageTableSnapshot
    from harness.judging import pagetables as pt
    audit = PageTableSnapshot.__new__(PageTableSnapshot)
    offsets = {"___thread_t_base_OFFSET": 0, "___thread_base_t_user_options_OFFSET": 0xc,
               "___thread_base_t_thread_state_OFFSET": 0xd, "___thread_t_arch_OFFSET": 0x20,
               "___thread_arch_t_ptables_OFFSET": 4, "___thread_t_stack_info_OFFSET": 0x30,
               "___thread_stack_info_t_start_OFFSET": 0, "K_THREAD_SIZEOF": 0x40}
    audit.off, audit.span = offsets, (0x10000, 0x14000)
    audit.candidates = [("b_thread", 0x13000), ("k_thread", 0x13040)]
    audit.elf = ElfMap({"b_stack": (0x2000, 0x2000)}, [])
    audit.tables, audit.error, audit._live, audit._last = 0, None, {}, {}
    audit.unreadable = {}
    mem = bytearray(pae_tables({2: pt.P | pt.RW | pt.US | pt.XD})) + bytearray(0x1000)

    def thread(at: int, options: int, state: int) -> None:
        mem[at + 0xc], mem[at + 0xd] = options, state
        mem[at + 0x24:at + 0x28] = (0x10000).to_bytes(4, "little")
        mem[at + 0x30:at + 0x34] = (0x2100).to_bytes(4, "little")
    thread(0x3000, K_USER, 0)
    thread(0x3040, 0, 0)                              # a supervisor thread: not audited
    assert audit._take(bytes(mem), live=True) and not audit._take(bytes(mem), live=True)
    (view,) = audit.views()
    assert (view.name, view.stack, view.stops) == ("b_stack", (0x2000, 0x4000), 2)
    assert [(s.start, s.end, s.access) for s in view.spans] == [(0x2000, 0x3000, "rw")]
    thread(0x3000, K_USER, THREAD_DEAD)               # dead: only the last snapshot counts
    audit._live = {}
    assert not audit._take(bytes(mem), live=True) and audit.views() == []
    audit._take(bytes(mem), live=False)
    assert [v.name for v in audit.views()] == ["b_stack"]


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


def emulators() -> list[str]:
    """QEMU always (the workspace tests need it), Renode where it is installed."""
    return ["qemu", "renode"] if shutil.which("renode") else ["qemu"]


@pytest.fixture(scope="module")
def audited_runs(zephyr_workspace, tmp_path_factory):
    from harness.frontends.cli import main
    from harness.host.paths import APPS_DIR
    out = tmp_path_factory.mktemp("audit")
    expect_file = str(APPS_DIR / "prod_consumer" / "expect.yaml")
    emus = ",".join(emulators())
    codes = {"plain": main(["run", "--board", "mps2_an385", "--emulator", emus,
                            "--out", str(out), "--no-audit-domains"])}
    plain = {emu: (out / "runs" / "prod_consumer" / f"mps2_an385.{emu}" / "latest").resolve()
             for emu in emulators()}
    codes["audited"] = main(["run", "--board", "mps2_an385", "--emulator", emus,
                             "--out", str(out), "--audit-domains"])
    plain["x86"] = (out / "runs" / "prod_consumer" / "qemu_x86.qemu" / "latest")
    codes["plain x86"] = main(["run", "--board", "qemu_x86", "--out", str(out),
                               "--no-audit-domains"])
    plain["x86"] = plain["x86"].resolve()
    codes["audited x86"] = main(["run", "--board", "qemu_x86", "--out", str(out),
                                 "--audit-domains"])
    for kind in ("supervisor_b", "b_reaches_a"):
        app = variant(zephyr_workspace.zephyr_base, out / "src", kind)
        codes[kind] = main(["run", "--app", str(app), "--expect", expect_file, "--board",
                            "mps2_an385", "--emulator", emus, "--out", str(out),
                            "--audit-domains"])
        codes[f"{kind} x86"] = main(["run", "--app", str(app), "--expect", expect_file,
                                     "--board", "qemu_x86", "--out", str(out), "--audit-domains"])
    return out, plain, codes


BOARD_EMULATORS = [("mps2_an385", e) for e in emulators()] + [("qemu_x86", "qemu")]


def latest(out: Path, app: str, emu: str = "qemu", board: str = "mps2_an385") -> dict:
    run = out / "runs" / app / f"{board}.{emu}" / "latest"
    return json.loads((run / "result.json").read_text()) | {"dir": run.resolve()}


@pytest.mark.integration
@pytest.mark.parametrize("board, emu", BOARD_EMULATORS)
def test_the_original_passes_the_audit_with_byte_identical_uart(audited_runs, board, emu):
    out, plain, codes = audited_runs
    r = latest(out, "prod_consumer", emu, board)
    key = "x86" if board == "qemu_x86" else emu
    assert codes["plain"] == codes["audited"] == codes["plain x86"] == codes["audited x86"] == 0
    assert r["verdict"] == "PASS" and r["dir"] != plain[key]
    plain_result = json.loads((plain[key] / "result.json").read_text())
    assert "domains" not in plain_result["evidence"]
    assert not list(plain[key].glob("*mpu-trace.log")) and not list(plain[key].glob("*.bin"))
    assert (r["dir"] / "uart.raw").read_bytes() == (plain[key] / "uart.raw").read_bytes()
    dom = r["evidence"]["domains"]
    assert dom["violations"] == [] and dom["switches"] > 0
    assert ("page tables" if board == "qemu_x86" else emu) in dom["method"].lower()
    b = dom["threads"]["app_b_stack"]["regions"]
    assert (b["app_a_partition"]["access"], b["app_b_partition"]["access"],
            b["own stack"]["access"], b["kernel data"]["access"]) == \
        ("none", "read-write", "read-write", "none")
    assert "<table" in (r["dir"] / "domains.html").read_text()


@pytest.mark.integration
@pytest.mark.parametrize("board, emu", BOARD_EMULATORS)
@pytest.mark.parametrize("kind, named", [
    ("supervisor_b", "the thread on app_b_stack never ran in user mode"),
    ("b_reaches_a", "app_b_stack can read-write app_a_partition (partition)")])
def test_a_broken_sandbox_is_overreach_naming_the_region(audited_runs, kind, named, board, emu):
    out, _, codes = audited_runs
    r = latest(out, kind, emu, board)
    assert r["verdict"] == "OVERREACH", r["reason"]
    assert codes[f"{kind} x86" if board == "qemu_x86" else kind] == 12
    assert named in r["reason"] and r["isolation"]["status"] == "CERTIFIED"


@pytest.mark.integration
@pytest.mark.parametrize("app", ["prod_consumer", "b_reaches_a"])
def test_qemu_and_renode_audits_give_the_same_matrix(audited_runs, app):
    if len(emulators()) < 2:
        pytest.skip("Renode not found: `harness setup --renode` installs it, or put "
                    "`renode` on PATH")
    out, _, _ = audited_runs
    found = json.loads((out / "runs" / app / "mps2_an385.agreement.json").read_text())
    assert found["agree"] and found["domains_compared"], found["differences"]
    q, r = (latest(out, app, emu)["evidence"]["domains"]["threads"] for emu in ("qemu", "renode"))
    assert {t: {n: c["access"] for n, c in v["regions"].items()} for t, v in q.items()} == \
        {t: {n: c["access"] for n, c in v["regions"].items()} for t, v in r.items()}


def test_a_user_thread_the_intent_does_not_list_is_named_and_still_checked():
    grant = MpuRegion(5, 0x9000, rasr(8, 3, xn=True))             # writable, nothing named there
    t = ThreadView("other_stack", True, domains.user_map([grant]), None, 1)
    found = domains.matrix([t], [])
    assert domains.unstated(found, INTENT) == ["other_stack"]
    assert domains.violations(found, {}) == [
        "other_stack can read-write 0x00009000-0x000090ff, which belongs to no partition, stack "
        "or section of the ELF"]
