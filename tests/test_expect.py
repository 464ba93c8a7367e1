import pytest

from harness.errors import UsageError
from harness.inputs import expectations
from harness.judging import expect


def test_literal_text_is_escaped_not_a_regex():
    spec = expect.parse({"events": {"x": {"literal": "a.b (c)"}}})
    assert spec.events[0].pattern.search("a.b (c)")
    assert not spec.events[0].pattern.search("axb (c)")


@pytest.mark.parametrize("data, words", [
    ({"events": {"x": {"regex": "count=(\\d+"}}}, "broken regex"),
    ({"events": {"x": {"regex": "n=(\\d+)", "index": "n"}}}, "not a named group"),
    ({"events": {"x": {"literal": "a", "regex": "b"}}}, "exactly one"),
    ({"events": {"x": {"literal": "a", "colour": 1}}}, "unknown key"),
    ({"events": {"x": "a"}, "order": ["x[0] < y[0]"]}, "bad reference"),
    ({"events": {"x": "a"}, "order": ["x[0] before x[1]"]}, "must read"),
    ({"events": []}, "events:"),
    ("just text", "events:"),
])
def test_malformed_specs_say_what_is_wrong(data, words):
    with pytest.raises(UsageError) as err:
        expect.parse(data, "f.yaml")
    assert words in str(err.value)
    assert "f.yaml" in str(err.value) or "events" in str(err.value)


def test_missing_and_unparsable_files(tmp_path):
    with pytest.raises(UsageError, match="not found"):
        expectations.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("events: {x: [unclosed\n")
    with pytest.raises(UsageError, match="not valid YAML"):
        expectations.load(bad)


def test_a_lone_variable_ranges_over_all_keys():
    spec = expect.parse({"events": {"a": "a", "b": {"regex": "b(?P<n>\\d)", "index": "n"}},
                         "order": ["a[*] < b[n]"]})
    assert spec.rules[0].after.kind == "all"


@pytest.mark.parametrize("order, named", [
    (["a[*] < b[*]", "b[*] < a[*]"], "a[*] < b[*], b[*] < a[*]"),
    (["a[n] < b[n]", "b[n] < a[n]"], "a[n] < b[n], b[n] < a[n]"),
    (["a[*] < b[*]", "b[n] < c[n]", "c[n] < a[n]"], "a[*] < b[*], b[n] < c[n], c[n] < a[n]"),
    (["a[*] < a[*]"], "a[*] < a[*]"),
    (["a[n] < a[n]"], "a[n] < a[n]"),
])
def test_order_rules_that_can_never_hold_are_a_load_error_naming_the_cycle(order, named):
    events = {e: {"regex": rf"{e} (?P<n>\d+)", "index": "n"} for e in "abc"}
    with pytest.raises(UsageError, match="can never all hold") as info:
        expect.parse({"events": events, "order": order})
    assert named in str(info.value)


@pytest.mark.parametrize("order", [
    ["a[n] < b[n]", "b[n] < a[n+1]"],          # a ping-pong: a0 < b0 < a1 < b1 ...
    ["a[n] < a[n+1]"],
    ["a[*] < b[*]", "b[*] < c[*]"],
])
def test_order_rules_that_can_hold_together_load(order):
    events = {e: {"regex": rf"{e} (?P<n>\d+)", "index": "n"} for e in "abc"}
    assert len(expect.parse({"events": events, "order": order}).rules) == len(order)


def test_a_reference_without_an_index_is_quoted_without_stray_spaces():
    with pytest.raises(UsageError) as info:
        expect.parse({"events": {"a": "x", "b": "y"}, "order": ["a < b"]})
    assert "'a'" in str(info.value) and "'a '" not in str(info.value)


def test_a_constant_between_two_others_of_the_same_event_is_no_cycle():
    events = {e: {"regex": rf"{e} (?P<n>\d+)", "index": "n"} for e in ("tick", "init")}
    spec = expect.parse({"events": events, "order": ["tick[0] < init[*]", "init[*] < tick[1]"]})
    assert len(spec.rules) == 2
