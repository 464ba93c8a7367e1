"""Test-suite files as twister reads them: merging, typing, discovery, static filters."""
import pytest
from conftest import DATA

from harness.errors import UsageError
from harness.inputs import scenarios
from harness.judging.selection import BoardFacts, Selection, not_runnable, skip_reason

APP = DATA / "suites" / "app"
MPS2 = BoardFacts("mps2_an385", "arm", supported=frozenset({"gpio", "counter"}))


@pytest.fixture
def loaded():
    warnings = []
    found = {s.name: s for s in scenarios.load(APP / "testcase.yaml", warnings.append)}
    return found, warnings


def test_common_is_merged_into_each_scenario_as_twister_merges(loaded):
    found, _ = loaded
    base, filtered = found["demo.base"], found["demo.filtered"]
    assert base.tags == {"kernel", "userspace", "base"}          # strings joined, then split
    assert filtered["filter"] == "(CONFIG_USERSPACE) and (CONFIG_ARM)"
    assert base["filter"] == "CONFIG_USERSPACE"
    assert filtered["extra_configs"] == ["CONFIG_A=y"]           # a list in both: common's
    assert base.cmake_args() == ["-DCONF_FILE=prj.conf"]
    assert base["min_ram"] == 16 and found["demo.big"]["min_ram"] == 16   # ints: common's
    assert base["timeout"] == 60 and found["demo.unknown_key"]["timeout"] == 7
    assert base.harness == "" and found["demo.fixture"].harness == "console"


def test_an_unknown_key_is_named_in_a_warning(loaded):
    _, warnings = loaded
    assert len(warnings) == 1 and "'frobnicate'" in warnings[0] and "demo.unknown_key" in warnings[0]


def test_discovery_finds_the_yaml_files_of_apps_only(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "CMakeLists.txt").write_text("")
    (tmp_path / "a" / "sample.yaml").write_text("tests: {x.y: {}}\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "testcase.yaml").write_text("tests: {z: {}}\n")     # no CMakeLists.txt
    build = tmp_path / "a" / "build"
    build.mkdir()
    (build / "CMakeCache.txt").write_text("")
    (build / "CMakeLists.txt").write_text("")
    (build / "sample.yaml").write_text("tests: {copy: {}}\n")
    assert scenarios.discover(tmp_path) == [tmp_path / "a" / "sample.yaml"]


def test_a_file_without_tests_is_a_clear_error(tmp_path):
    bad = tmp_path / "testcase.yaml"
    bad.write_text("common: {tags: x}\n")
    with pytest.raises(UsageError, match="needs a 'tests:' mapping"):
        scenarios.load(bad)
    bad.write_text("tests: {a: {timeout: soon}}\n")
    with pytest.raises(UsageError, match="timeout: expected a int"):
        scenarios.load(bad)


@pytest.mark.parametrize("name, reason", [
    ("demo.base", None),
    ("demo.filtered", None),                      # filter: judged after configuration
    ("demo.build_only", None),                    # built, then reported as build_only
    ("demo.arc_only", "Not in test case arch allow list"),
    ("demo.allowlisted", None),
    ("demo.excluded", "In test case platform exclude"),
    ("demo.big", None),
    ("demo.needs_gpio", "mps2_an385 lacks ['netif'] (depends_on)"),
    ("demo.fixture", None),                       # built, not run (below)
    ("demo.keyboard", None),
])
def test_static_filters_give_twisters_reasons(loaded, name, reason):
    assert skip_reason(loaded[0][name], MPS2) == reason


def test_what_twister_builds_but_does_not_run(loaded):
    found = loaded[0]
    assert not_runnable(found["demo.fixture"]) == "missing fixture fixture_i2c"
    assert not_runnable(found["demo.keyboard"]) == "harness keyboard is not supported"
    assert not_runnable(found["demo.fixture"], Selection(fixtures=frozenset({"fixture_i2c"}))) is None
    assert not_runnable(found["demo.base"]) is None


def test_slow_scenarios_and_fixture_parameters_as_twister_reads_them():
    """twister 4.3 TestInstance.check_runnable: slow: true is built, not run, without
    --enable-slow; testsuite_runnable: --fixture name:param provides `name`."""
    from types import SimpleNamespace
    slow = SimpleNamespace(keys={"slow": True, "harness_config": {}}, harness="console")
    assert "--enable-slow" in not_runnable(slow)
    assert not_runnable(slow, Selection(enable_slow=True)) is None
    needs = SimpleNamespace(keys={"harness_config": {"fixture": "gpio_loopback"}},
                            harness="console")
    assert not_runnable(needs, Selection(fixtures=frozenset({"gpio_loopback:P0.1"}))) is None
    assert not_runnable(needs, Selection(fixtures=frozenset({"gpio_loopback_x"}))) == \
        "missing fixture gpio_loopback"


def test_selection_by_tag_fixture_and_scenario(loaded):
    found, _ = loaded
    assert skip_reason(found["demo.base"], MPS2, Selection(tags=frozenset({"base"}))) is None
    assert "no tag" in skip_reason(found["demo.filtered"], MPS2, Selection(tags=frozenset({"base"})))
    assert "excluded" in skip_reason(found["demo.base"], MPS2,
                                     Selection(exclude_tags=frozenset({"userspace"})))
    assert skip_reason(found["demo.base"], MPS2, Selection(names=("demo",))) is None
    assert "--scenario" in skip_reason(found["demo.base"], MPS2, Selection(names=("other",)))
    small = BoardFacts("tiny", "arm", ram_kb=8, flash_kb=16)
    assert "not enough RAM" in skip_reason(found["demo.base"], small)


def test_a_root_without_any_suite_is_bad_input_never_nothing_ran(tmp_path):
    from harness.inputs.scenarios import discover
    (tmp_path / "testcase.yaml").write_text("tests:\n  a.b: {}\n")
    with pytest.raises(UsageError, match="no test suite") as info:
        discover(tmp_path)
    assert "has no CMakeLists.txt beside it" in info.value.hint
    (tmp_path / "testcase.yaml").unlink()
    with pytest.raises(UsageError, match="no test suite"):
        discover(tmp_path)


def test_extra_args_as_twister_passes_them(tmp_path):
    (tmp_path / "CMakeLists.txt").write_text("")
    (tmp_path / "testcase.yaml").write_text(
        'tests:\n  a.b:\n    extra_args:\n      - CONF_FILE="prj_minimal.conf"\n'
        '      - CONFIG_X="quoted"\n      - arch:arm:FOO=1\n      - platform:qemu_x86:BAR=2\n'
        '    required_applications:\n      - name: a.c\n        platform: mps2/an385\n')
    (s,) = scenarios.load(tmp_path / "testcase.yaml")
    assert s.cmake_args("arm", "mps2/an385") == ['-DCONF_FILE=prj_minimal.conf',
                                                 '-DCONFIG_X="quoted"', "-DFOO=1"]
    assert s["required_applications"] == [{"name": "a.c", "platform": "mps2/an385"}]
