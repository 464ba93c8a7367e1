import pytest

from harness import expectations
from harness.errors import UsageError
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
