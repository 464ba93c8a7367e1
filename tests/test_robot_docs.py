"""The Robot library's keyword documentation: libdoc renders it to
harness-out/libdoc/Emulation.html (the artifact CI keeps), and every keyword
documents each of its arguments, its clock and an example."""
import inspect
import json
import re
from pathlib import Path

import pytest
from robot.libdocpkg import LibraryDocumentation

from harness.frontends.robot import Emulation

LIBRARY = "harness.robot.Emulation"
ARTIFACTS = Path(__file__).parents[1] / "harness-out" / "libdoc"


def keyword_methods() -> dict[str, object]:
    """The methods decorated with @keyword (robot.api.deco sets `robot_name`), by
    the name Robot gives them."""
    found = {}
    for attr, member in inspect.getmembers(Emulation, inspect.isfunction):
        if hasattr(member, "robot_name"):
            found[member.robot_name or attr.replace("_", " ").title()] = member
    return found


@pytest.fixture(scope="module")
def libdoc():
    """Libdoc's model of the library, written as HTML and as a JSON spec."""
    doc = LibraryDocumentation(LIBRARY)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    doc.save(ARTIFACTS / "Emulation.html", "HTML")
    doc.save(ARTIFACTS / "Emulation.json", "JSON")
    return doc


def test_libdoc_writes_the_html_and_the_json_spec(libdoc):
    html = (ARTIFACTS / "Emulation.html").read_text()
    spec = json.loads((ARTIFACTS / "Emulation.json").read_text())
    assert spec["name"] == LIBRARY
    assert spec["docFormat"] == "ROBOT"
    assert {k["name"] for k in spec["keywords"]} == {k.name for k in libdoc.keywords}
    for kw in libdoc.keywords:
        assert kw.name in html


def test_every_keyword_method_is_documented_by_libdoc(libdoc):
    """A new @keyword shows up here, so it cannot go undocumented."""
    methods = keyword_methods()
    assert len(libdoc.keywords) == len(methods)
    assert {kw.name for kw in libdoc.keywords} == set(methods)


def test_the_introduction_explains_lifecycle_clocks_matching_and_artifacts(libdoc):
    intro = libdoc.doc
    for section in ("Lifecycle", "Time and clocks", "Matching UART text", "Artifacts", "Example"):
        assert f"= {section} =" in intro
    assert "time.monotonic" in intro and "treatAsRegex" in intro
    assert "| Library " in intro and "Stop All Emulations" in intro


def test_the_import_arguments_are_documented(libdoc):
    (init,) = libdoc.inits
    assert [a.name for a in init.args] == ["out", "workspace", "timeout", "config"]
    _assert_documented("Importing", init.doc, [a.name for a in init.args])
    assert "| Library | harness.robot.Emulation |" in init.doc


@pytest.mark.parametrize("name", sorted(keyword_methods()))
def test_keyword_documents_its_arguments_clock_and_an_example(libdoc, name):
    kw = next(k for k in libdoc.keywords if k.name == name)
    args = [a.name for a in kw.args]
    _assert_documented(name, kw.doc, args)
    example = kw.doc.split("Example:", 1)[1]
    assert re.search(rf"^\|( [^|]+ \|)*? {re.escape(name)} \|", example, re.MULTILINE), \
        f"{name}: the example has no table line calling the keyword"
    if "timeout" in args:
        assert "host seconds" in kw.doc, f"{name}: the doc does not say which clock `timeout` is"


def _assert_documented(name: str, doc: str, args: list[str]) -> None:
    assert doc.strip(), f"{name}: no documentation"
    for arg in args:
        assert f"`{arg}`" in doc, f"{name}: argument `{arg}` is not documented"
    assert "Example:" in doc, f"{name}: no example"
