"""A log line split by another complete line (an interrupt's line written into the middle
of a thread's) is reassembled; the raw log is not touched."""
import pytest
from conftest import DATA

from harness.judging.judge import Judge
from harness.judging.lines import Splicer
from harness.judging.replay import judge_bytes, judge_log
from harness.judging.verdict import Verdict

RENODE_34 = DATA / "prod_consumer.mps2_an385.renode-1.15.3.zephyr-3.4.99.log"
QEMU_LOG = DATA / "prod_consumer.mps2_an385.qemu.log"
ISR = "I: sample_driver_foo_isr: param=0x20001208 count=42"


def test_the_captured_renode_log_passes_and_says_what_was_reassembled(prod_spec):
    raw = RENODE_34.read_bytes()
    assert b"I: processing payloI: sample_driver_foo_isr" in raw          # as it came
    outcome = judge_bytes(raw, prod_spec)
    assert outcome.verdict is Verdict.PASS, outcome.reason
    assert outcome.evidence["reassembled"] == [
        "line 33: 'processing payload #6 complete' reassembled around an interrupt's line "
        "(split at line 32)"]


def event_lines(spec, lines):
    return [i for i, line in enumerate(lines)
            if any(e.pattern.search(line) for e in spec.events) and line.startswith("I: ")]


def test_every_event_kind_split_at_every_position_still_passes(prod_spec):
    lines = QEMU_LOG.read_bytes().decode().replace("\r", "").splitlines()
    checked = 0
    for i in event_lines(prod_spec, lines):
        line = lines[i]
        for cut in range(3, len(line)):
            if line[cut - 1].isupper() or line[cut - 1].isdigit():
                continue                  # such a split reads like `ID: ` and is left alone
            split = lines[:i] + [line[:cut] + ISR, line[cut:]] + lines[i + 1:]
            outcome = judge_bytes("\r\n".join(split).encode() + b"\r\n", prod_spec)
            assert outcome.verdict is Verdict.PASS, (line, cut, outcome.reason)
            assert len(outcome.evidence["reassembled"]) == 1
            checked += 1
    assert checked > 500


def test_a_fragment_whose_rest_never_comes_is_not_an_event(prod_spec):
    lines = QEMU_LOG.read_bytes().decode().replace("\r", "").splitlines()
    i = next(n for n, line in enumerate(lines) if "processing payload #3 complete" in line)
    broken = lines[:i] + ["I: processing payload #3 comp" + ISR] + lines[i + 1:]   # rest lost
    outcome = judge_bytes("\r\n".join(broken).encode() + b"\r\n", prod_spec)
    assert outcome.verdict is Verdict.FAIL
    assert "processed" in outcome.reason and "reassembled" not in outcome.evidence


@pytest.mark.parametrize("text, then", [
    ("I: a value D: 4", "I: the next log line"),
    ("I: sensor ID: 5", "value is 7"),
    ("I: the UUID: 1234", "continued"),
    ("I: a value D: 4", " PASS - test_x in 0.1 seconds"),
    ("I: a value D: 4", "PROJECT EXECUTION SUCCESSFUL"),
    ("E: r0/a1:  0x00000000  r1/a2:  0x1", "plain text"),
    ("processing payloI: not a log line itself", "plain text")])
def test_lines_that_only_look_split_are_left_alone(text, then):
    s = Splicer()
    assert s.feed(1, text) + s.feed(2, then) + s.flush() == [(1, text), (2, then)]


def test_the_full_log_format_is_spliced_too():
    s = Splicer()
    assert s.feed(1, "[00:00:01.000,000] <inf> app: hel[00:00:01.001,000] <inf> isr: x") == []
    assert s.feed(2, "lo world") == [(1, "[00:00:01.001,000] <inf> isr: x"),
                                     (2, "[00:00:01.000,000] <inf> app: hello world")]


def test_a_held_line_at_the_end_of_the_stream_is_judged_as_it_came(prod_spec):
    judge = Judge(prod_spec)
    outcome = judge_log(judge, b"I: processing payloI: other line\r\n")
    assert "1: I: processing payloI: other line" in outcome.evidence["last_lines"]
