"""Footprint: the comparison against a baseline (pure), and for real: every run of
prod_consumer on mps2_an385 records ROM, RAM and the largest symbols of its ELF (checked
against the linker's own memory report), as JUnit properties too; `harness report
footprint` prints the deltas and fails a build whose ROM grew past --max-growth."""
import json
import os
import re
import shutil
import xml.etree.ElementTree as ET

import pytest

from harness.errors import UsageError
from harness.judging import footprint
from harness.judging.footprint import Delta, Growth

BASE = {("app", "b1"): {"rom_bytes": 10_000, "ram_bytes": 4_000},
        ("gone", "b1"): {"rom_bytes": 5, "ram_bytes": 5}}
NOW = {("app", "b1"): {"rom_bytes": 10_600, "ram_bytes": 3_900},
       ("new", "b1"): {"rom_bytes": 7, "ram_bytes": 7}}


def test_growth_is_bytes_or_percent_of_the_baseline():
    assert footprint.parse_growth("1024") == Growth(1024, False)
    assert footprint.parse_growth("5%") == Growth(5, True)
    assert Growth(5, True).allowed(10_000) == 500 and str(Growth(5, True)) == "5%"
    for bad in ("lots", "-3", "%"):
        with pytest.raises(UsageError):
            footprint.parse_growth(bad)


def test_rom_grown_past_the_limit_is_exceeded_and_each_side_is_named():
    deltas = footprint.compare(NOW, BASE, Growth(5, True))      # 600 > 500 bytes
    by = {(d.app, d.memory): d for d in deltas}
    assert by[("app", "rom")].exceeded and by[("app", "rom")].change == 600
    assert not by[("app", "ram")].exceeded and by[("app", "ram")].change == -100
    assert footprint.exceeded(deltas) == [by[("app", "rom")]]
    assert by[("app", "rom")].line() == "EXCEEDED  app b1 ROM: 10000 -> 10600 bytes, +600 (+6.00%)"
    assert by[("new", "rom")].line().startswith("NEW") and by[("gone", "ram")].line().startswith("GONE")
    assert not footprint.exceeded(footprint.compare(NOW, BASE, Growth(600, False)))
    assert not footprint.exceeded(footprint.compare(NOW, BASE))         # no limit: report only


def test_a_delta_without_a_baseline_never_exceeds():
    assert not Delta("a", "b", "rom", None, 5, False).exceeded
    assert footprint.compare({("a", "b"): {"rom_bytes": 9}}, {}, Growth(0, False))[0].base is None


def test_an_output_directory_gives_the_newest_plain_footprint_per_app_and_board(tmp_path):
    from harness.reports import footprint as collected
    def result(name, rom, image, mtime):
        path = tmp_path / "runs" / name / "result.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"app": "a", "board": "b", "footprint": {
            "rom_bytes": rom, "ram_bytes": 1, "image": image}}))
        os.utime(path, (mtime, mtime))
    result("old", 100, "plain", 1_000)
    result("new", 200, "plain", 2_000)
    result("newest-gcov", 900, "gcov", 3_000)            # a --coverage run: never compared
    assert collected.collect(tmp_path)[("a", "b")]["rom_bytes"] == 200
    collected.save(collected.collect(tmp_path), tmp_path / "s.json")
    assert collected.collect(tmp_path / "s.json")[("a", "b")]["rom_bytes"] == 200


# -- for real ---------------------------------------------------------------------------
def harness(*args) -> int:
    from harness.frontends.cli import main
    return main(list(args))


@pytest.fixture(scope="module")
def measured(zephyr_workspace, tmp_path_factory):
    out = tmp_path_factory.mktemp("footprint")
    code = harness("run", "--board", "mps2_an385", "--emulator", "qemu", "--out", str(out),
                   "--no-isolation")
    run = (out / "runs" / "prod_consumer" / "mps2_an385.qemu" / "latest").resolve()
    return code, out, run, json.loads((run / "result.json").read_text())


@pytest.mark.integration
def test_every_run_records_rom_ram_and_the_largest_symbols(measured):
    code, out, run, result = measured
    fp = result["footprint"]
    assert code == 0 and fp["xip"] is True                  # mps2_an385 runs from flash
    assert fp["sections"]["text"]["rom"] and not fp["sections"]["text"]["ram"]
    assert fp["sections"]["bss"] == {"size": fp["sections"]["bss"]["size"], "rom": False,
                                     "ram": True}
    assert fp["rom_bytes"] == sum(s["size"] for s in fp["sections"].values() if s["rom"])
    assert len(fp["largest"]) == 10
    sizes = [s["size"] for s in fp["largest"]]
    assert sizes == sorted(sizes, reverse=True) and sizes[0] > 1000
    assert {"app_b_stack", "app_a_stack"} & {s["name"] for s in fp["largest"]}
    props = {p.get("name"): p.get("value")
             for p in ET.parse(run / "junit.xml").getroot().iter("property")}
    assert props["rom_bytes"] == str(fp["rom_bytes"]) and props["ram_bytes"] == str(fp["ram_bytes"])


@pytest.mark.integration
def test_the_figures_agree_with_the_linkers_memory_report(measured):
    """The link step prints `FLASH: <used> B` and `SRAM: <used> B` (--print-memory-usage):
    the sections' sum is that, less the linker's alignment padding."""
    _, out, _, result = measured
    log = (out / "build" / "prod_consumer" / "mps2_an385.build.log").read_text()
    used = {m.group(1): int(m.group(2)) for m in
            re.finditer(r"^\s*(FLASH|SRAM|RAM):\s+(\d+) B", log, re.M)}
    if not used:
        pytest.skip("the build log has no memory report (the build was already up to date)")
    fp = result["footprint"]
    assert fp["rom_bytes"] == pytest.approx(used["FLASH"], rel=0.02)
    assert fp["ram_bytes"] == pytest.approx(used.get("SRAM") or used["RAM"], rel=0.05)


@pytest.mark.integration
def test_report_footprint_against_itself_and_a_smaller_baseline(measured, tmp_path, capsys):
    _, out, _, result = measured
    assert harness("report", "footprint", str(out), "--baseline", str(out),
                   "--max-growth", "0", "--save", str(tmp_path / "fp.json")) == 0
    text = capsys.readouterr().out
    assert "ok        prod_consumer mps2_an385 ROM" in text and "+0 (+0.00%)" in text
    saved = json.loads((tmp_path / "fp.json").read_text())["footprints"]
    assert [(f["app"], f["board"], f["rom_bytes"]) for f in saved] == \
        [("prod_consumer", "mps2_an385", result["footprint"]["rom_bytes"])]
    saved[0]["rom_bytes"] -= 2048                   # a baseline 2 KiB smaller in ROM
    (tmp_path / "smaller.json").write_text(json.dumps({"footprints": saved}))
    assert harness("report", "footprint", str(out), "--baseline", str(tmp_path / "smaller.json"),
                   "--max-growth", "1024") == 1
    text = capsys.readouterr().out
    assert "EXCEEDED  prod_consumer mps2_an385 ROM" in text and "+2048" in text
    assert "grew past 1024 bytes" in text
    assert harness("report", "footprint", str(out), "--baseline", str(tmp_path / "smaller.json"),
                   "--max-growth", "50%") == 0


GROW = "\nconst volatile char grown_table[6000] = {1};\n"


@pytest.mark.integration
def test_a_build_that_grew_fails_the_footprint_report(measured, zephyr_workspace, tmp_path, capsys):
    """The same sample with a 6000-byte table added: its ROM grew past 4096 bytes."""
    _, out, _, _ = measured
    src = tmp_path / "variant" / "prod_consumer"
    shutil.copytree(zephyr_workspace.zephyr_base / "samples" / "userspace" / "prod_consumer", src)
    main_c = src / "src" / "main.c"
    text = main_c.read_text().replace("\tk_thread_join(thread_a, K_FOREVER);",
                                      "\t(void)grown_table[k_cycle_get_32() % 6000];\n"
                                      "\tk_thread_join(thread_a, K_FOREVER);")
    main_c.write_text(GROW + text)           # read by main(): the linker keeps it
    from harness.host.paths import APPS_DIR
    grown = tmp_path / "grown"
    assert harness("run", "--app", str(src), "--expect",
                   str(APPS_DIR / "prod_consumer" / "expect.yaml"), "--board", "mps2_an385",
                   "--emulator", "qemu", "--out", str(grown), "--no-isolation") == 0
    capsys.readouterr()
    assert harness("report", "footprint", str(grown), "--baseline", str(out),
                   "--max-growth", "4096") == 1
    line = next(ln for ln in capsys.readouterr().out.splitlines() if " ROM:" in ln)
    assert line.startswith("EXCEEDED  prod_consumer mps2_an385 ROM")
    assert 5900 <= int(re.search(r", \+(\d+)", line).group(1)) < 6200   # file names shift it


def test_a_missing_baseline_or_an_output_without_footprints_is_bad_input(tmp_path, capsys):
    assert harness("report", "footprint", str(tmp_path), "--baseline",
                   str(tmp_path / "none")) == 2
    assert "none does not exist" in capsys.readouterr().err
    assert harness("report", "footprint", str(tmp_path)) == 2
    assert "no footprint in" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text("{}")
    assert harness("report", "footprint", str(tmp_path), "--baseline",
                   str(tmp_path / "bad.json")) == 2
    assert "is not a footprint summary" in capsys.readouterr().err
