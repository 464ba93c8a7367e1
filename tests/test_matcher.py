"""The happens-before matcher on real logs, the seed, and generated interleavings."""
import random

import pytest
from conftest import real_log, seed_sample_output

from harness.judging.lines import LineSplitter
from harness.judging.matcher import Matcher
from harness.judging.replay import judge_bytes
from harness.judging.verdict import Verdict

REAL_LOGS = ["prod_consumer.mps2_an385.qemu.log", "prod_consumer.qemu_x86.qemu.log",
             "prod_consumer.mps2_an385.qemu.harness.raw", "prod_consumer.qemu_x86.qemu.harness.raw",
             "prod_consumer.mps2_an385.renode.raw", "prod_consumer.stm32f4_disco.renode.raw",
             "prod_consumer.nrf52840dk_nrf52840.renode.raw"]


def feed(spec, lines):
    m = Matcher(spec)
    for i, text in enumerate(lines, 1):
        if m.feed(text, i):
            break
    return m


# -- a model of the sample: its causal order, from which legal logs are drawn --
def nodes(wording="3.0"):
    blob = "blob " if wording == "seed" else ""
    sep = "" if wording == "seed" else " "
    out = {"pa": f"I:{sep}APP A partition: 0x20001020 32",
           "ps": f"I:{sep}Shared partition: 0x20000000 4096",
           "success": f"I:{sep}SUCCESS"}
    if wording != "seed":
        out["pb"] = "I: APP B partition: 0x20001000 32"
    for n in range(10):
        out[f"isr{n}"] = f"I:{sep}sample_driver_foo_isr: param=0x20001208 count={n}"
        out[f"got{n}"] = f"I:{sep}monitor thread got data payload #{n}"
        out[f"proc{n + 1}"] = f"I:{sep}processing payload #{n + 1} complete"
        out[f"wr{n + 1}"] = f"I:{sep}writing processed data {blob}back to the sample device"
    return out


def edges(names):
    e = [(p, "isr0") for p in ("pa", "pb", "ps") if p in names]
    for n in range(10):
        e += [(f"isr{n}", f"got{n}"), (f"got{n}", f"proc{n + 1}"), (f"proc{n + 1}", f"wr{n + 1}")]
        if n < 9:
            e += [(f"isr{n}", f"isr{n + 1}"), (f"got{n}", f"got{n + 1}"),
                  (f"proc{n + 1}", f"proc{n + 2}"), (f"wr{n + 1}", f"wr{n + 2}")]
    e += [(x, "success") for x in names if x != "success"]
    return e


def random_legal_order(rng, names):
    preds = {n: set() for n in names}
    for a, b in edges(names):
        preds[b].add(a)
    done, order = set(), []
    while len(order) < len(names):
        ready = [n for n in names if n not in done and preds[n] <= done]
        pick = rng.choice(ready)
        done.add(pick)
        order.append(pick)
    return order


@pytest.mark.parametrize("name", REAL_LOGS)
def test_real_captured_logs_pass(prod_spec, name):
    outcome = judge_bytes(real_log(name), prod_spec)
    assert outcome.verdict is Verdict.PASS, outcome.reason
    assert len(outcome.evidence["events"]) >= 44      # + extra driver interrupts (count 10, 11)


def test_seed_sample_output_passes(prod_spec):
    m = feed(prod_spec, seed_sample_output())
    assert m.violation is None and m.done, m.missing()


@pytest.mark.parametrize("wording", ["seed", "3.0"])
@pytest.mark.parametrize("seed", range(40))
def test_every_generated_legal_interleaving_passes(prod_spec, wording, seed):
    text = nodes(wording)
    order = random_legal_order(random.Random(seed), list(text))
    m = feed(prod_spec, [text[n] for n in order])
    assert m.violation is None, (m.violation, order)
    assert m.done


@pytest.mark.parametrize("seed", range(40))
def test_every_single_causal_inversion_is_rejected(prod_spec, seed):
    rng = random.Random(1000 + seed)
    text = nodes()
    order = random_legal_order(rng, list(text))
    a, b = rng.choice([e for e in edges(list(text)) if not e[0].startswith("wr")])
    order.remove(a)
    order.insert(order.index(b) + 1, a)        # a now comes right after b: edge a<b broken
    m = feed(prod_spec, [text[n] for n in order])
    assert m.violation is not None, (a, b, order)


def test_missing_payload_is_named(prod_spec):
    lines = [line for line in real_lines() if "payload #6" not in line]
    m = feed(prod_spec, lines)
    assert m.violation is not None
    assert "got[6]" in str(m.violation)


def test_duplicate_step_is_rejected_with_both_lines(prod_spec):
    lines = real_lines()
    i = next(i for i, t in enumerate(lines) if "got data payload #3" in t)
    lines.insert(i + 1, lines[i])
    m = feed(prod_spec, lines)
    assert "got[3] duplicated" in str(m.violation)
    assert len(m.violation.lines) == 2


def test_success_before_the_work_is_done_fails(prod_spec):
    lines = real_lines()
    i = next(i for i, t in enumerate(lines) if "payload #9" in t)
    lines.insert(i, "I: SUCCESS")
    m = feed(prod_spec, lines)
    assert "success before the work was done; missing" in str(m.violation)
    assert "got[9]" in str(m.violation)
    assert not m.done


def test_an_eleventh_writeback_is_rejected(prod_spec):
    lines = real_lines()
    lines.insert(-1, "I: writing processed data back to the sample device")
    m = feed(prod_spec, lines)
    assert "written occurred more than 10" in str(m.violation)


def test_processing_before_its_payload_arrived_is_out_of_order(prod_spec):
    lines = real_lines()
    got = next(i for i, t in enumerate(lines) if "got data payload #2" in t)
    proc = lines.pop(next(i for i, t in enumerate(lines) if "processing payload #3 " in t))
    lines.insert(got, proc)
    m = feed(prod_spec, lines)
    assert m.violation.rule == "got[n] < processed[n+1]"
    assert "processed[3] came before got[2]" in str(m.violation)


def test_extra_isr_counts_past_nine_are_legal_but_not_repeats(prod_spec):
    lines = real_lines()
    assert any("count=11" in t for t in lines)     # the real log has them
    lines.insert(-1, lines[-2] if "count=" in lines[-2] else
                 next(t for t in lines if "count=11" in t))
    m = feed(prod_spec, lines)
    assert m.violation is not None and "duplicated" in str(m.violation)


def real_lines():
    s = LineSplitter()
    data = real_log("prod_consumer.mps2_an385.qemu.log")
    return s.feed(data) + s.flush()
