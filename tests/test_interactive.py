"""The pytest, shell and robot harnesses without an emulator: judging pytest's JUnit
file and Robot's results as twister does, the pytest command line twister would give,
robot_option, and bad input found before anything runs (BAD_INPUT with file and line)."""
import sys
from pathlib import Path

import pytest

from harness.errors import SetupError, UsageError
from harness.inputs import scenarios
from harness.interactive.pytest_harness import PytestScenario
from harness.interactive.robot_run import RobotSuites, board_script, parse_options
from harness.judging import pytest_report, robot_report
from harness.judging.verdict import Verdict

JUNIT = """<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest"
 errors="{errors}" failures="{failures}" skipped="{skipped}" tests="{tests}" time="3.5">
{cases}</testsuite></testsuites>"""


def junit(cases, errors=0, failures=0, skipped=0):
    return JUNIT.format(errors=errors, failures=failures, skipped=skipped, tests=len(cases),
                        cases="\n".join(cases))


def test_pytest_report_passes_and_names_cases_like_twister():
    j = pytest_report.judge("sample.pytest.shell", junit(
        ['<testcase classname="test_shell" name="test_shell_print_help" time="1.2"/>',
         '<testcase classname="test_shell" name="test_shell_print_version" time="0.3"/>']))
    assert j.verdict is Verdict.PASS and j.seconds == 3.5
    assert [(c["name"], c["status"]) for c in j.testcases] == [
        ("sample.pytest.shell.test_shell_print_help", "passed"),
        ("sample.pytest.shell.test_shell_print_version", "passed")]


def test_pytest_report_failures_errors_and_skips():
    failed = pytest_report.judge("s", junit(
        ['<testcase name="a"/>', '<testcase name="b"><failure message="assert 1 == 2"/></testcase>'],
        failures=1))
    assert failed.verdict is Verdict.FAIL and failed.reason == "1/2 pytest scenario(s) failed"
    assert failed.testcases[1] == {"name": "s.b", "suite": "s", "status": "failed",
                                   "duration_s": None, "line": None, "message": "assert 1 == 2"}
    errored = pytest_report.judge("s", junit(
        ['<testcase name="a"><error message="fixture dut failed"/></testcase>'], errors=1))
    assert errored.verdict is Verdict.HARNESS_ERROR and "fixture dut failed" in errored.reason
    skipped = pytest_report.judge("s", junit(
        ['<testcase name="a"><skipped message="testdata not provided"/></testcase>'], skipped=1))
    assert skipped.verdict is Verdict.SKIPPED
    assert skipped.testcases[0]["status"] == "skipped"


def test_pytest_report_missing_or_malformed_is_a_harness_error():
    assert pytest_report.judge("s", None).verdict is Verdict.HARNESS_ERROR
    assert "malformed" in pytest_report.judge("s", "<testsuites><testsuite").reason
    assert pytest_report.judge("s", "<testsuites/>").verdict is Verdict.SKIPPED


def scenario(tmp_path, harness, config, name="sample.x"):
    tmp_path.mkdir(parents=True, exist_ok=True)
    (tmp_path / "CMakeLists.txt").write_text("")
    keys = scenarios._typed({"harness": harness, "harness_config": config}, "t", print)
    return scenarios.Scenario(name, tmp_path, tmp_path / "testcase.yaml", keys)


@pytest.fixture
def zephyr(tmp_path):
    """A stand-in ZEPHYR_BASE with the two directories the pytest harnesses need."""
    base = tmp_path / "zephyr"
    (base / "scripts/pylib/pytest-twister-harness/src/twister_harness").mkdir(parents=True)
    (base / "scripts/pylib/shell-twister-harness").mkdir(parents=True)
    return base


def test_the_pytest_command_is_twisters_with_the_harness_device(tmp_path, zephyr):
    app = tmp_path / "app"
    (app / "pytest").mkdir(parents=True)
    s = scenario(app, "pytest", {"pytest_args": ["--cmdopt", "."], "pytest_dut_scope": "session"})
    argv = PytestScenario(s, zephyr, {}).command(Path("/b"), tmp_path, "mps2/an385", 60.0)
    assert argv[:6] == [sys.executable, "-m", "pytest", "--twister-harness", "-s", "-v"]
    for arg in ("--build-dir=/b", f"--junit-xml={tmp_path / 'report.xml'}",
                "--platform=mps2/an385", str(app / "pytest"), "--dut-scope=session",
                "--base-timeout=60.0", "--device-type=custom", "harness.interactive.device"):
        assert arg in argv
    assert argv[-2:] == ["--cmdopt", "."]


def test_the_shell_harness_writes_its_commands_as_twister_does(tmp_path, zephyr):
    commands = [{"command": "kernel version", "expected": "Zephyr version .*"}]
    s = scenario(tmp_path / "app", "shell", {"shell_commands": commands})
    argv = PytestScenario(s, zephyr, {}).command(Path("/b"), tmp_path, "qemu_x86", 5)
    assert str(zephyr / "scripts/pylib/shell-twister-harness") in argv
    assert f"--testdata={tmp_path / 'test_shell.yml'}" in argv
    import yaml
    assert yaml.safe_load((tmp_path / "test_shell.yml").read_text()) == commands


def test_bad_pytest_and_shell_input_is_refused_with_file_and_line(tmp_path, zephyr):
    app = tmp_path / "app"
    s = scenario(app, "pytest", {"pytest_root": ["tests/missing.py"]})
    with pytest.raises(UsageError, match="pytest_root .*missing.py does not exist"):
        PytestScenario(s, zephyr, {}).check()
    (app / "pytest").mkdir()
    (app / "pytest" / "test_x.py").write_text("def test_a():\n    pass\ndef broken(:\n")
    with pytest.raises(UsageError, match=r"test_x.py:3: syntax error"):
        PytestScenario(scenario(app, "pytest", {}), zephyr, {}).check()
    (app / "test_shell.yml").write_text("- command: version\n  expected: [unclosed\n")
    with pytest.raises(UsageError, match=r"test_shell.yml:\d+: not valid YAML"):
        PytestScenario(scenario(app, "shell", {}), zephyr, {}).check()
    (app / "test_shell.yml").write_text("command: version\n")
    with pytest.raises(UsageError, match="must be a list of"):
        PytestScenario(scenario(app, "shell", {}), zephyr, {}).check()


def test_a_workspace_without_the_pytest_plugin_is_a_setup_error(tmp_path):
    s = scenario(tmp_path / "app", "shell", {})
    with pytest.raises(SetupError, match="no pytest-twister-harness"):
        PytestScenario(s, tmp_path / "old-zephyr", {}).check()


def test_robot_option_takes_renode_tests_filters():
    assert parse_options("--exclude some_flag") == {
        "include": [], "exclude": ["some_flag"], "test": [], "variable": []}
    assert parse_options(["-i smoke", "--variable X:1"])["variable"] == ["X:1"]
    with pytest.raises(UsageError, match="'--dryrun' is not understood"):
        parse_options("--dryrun")


def test_a_robot_suite_missing_or_with_a_syntax_error_is_bad_input(tmp_path):
    with pytest.raises(UsageError, match="no Robot suite at"):
        RobotSuites([tmp_path / "none.robot"], "s").check()
    bad = tmp_path / "bad.robot"
    bad.write_text("*** Test Cases ***\nA\n    FOR    ${i}    IN RANGE    3\n        Log    ${i}\n")
    with pytest.raises(UsageError, match=r"bad.robot:3: FOR loop .*END"):
        RobotSuites([bad], "s").check()
    latin1 = tmp_path / "latin1.robot"
    latin1.write_bytes(b"*** Test Cases ***\nA\n    Log    caf\xe9\n")
    with pytest.raises(UsageError, match=r"latin1.robot: Robot cannot read it: .*utf-8"):
        RobotSuites([latin1], "s").check()
    good = tmp_path / "good.robot"
    good.write_text("*** Test Cases ***\nA\n    Log    hello\n")
    RobotSuites([good], "s").check()


def test_robot_results_give_one_case_per_test_and_name_the_failure():
    tests = [robot_report.RobotTest("Shell", "Should Read Version", "PASS", "", 1.5),
             robot_report.RobotTest("Shell", "Should Echo", "FAIL",
                                    "Terminal tester failed!\nmore", 8.0)]
    j = robot_report.judge("sample.shell.shell_module.robot", tests, 1)
    assert j.verdict is Verdict.FAIL
    assert j.reason == "1/2 Robot test(s) failed; Should Echo: Terminal tester failed!"
    assert [c["name"] for c in j.testcases] == [
        "sample.shell.shell_module.robot.Should Read Version",
        "sample.shell.shell_module.robot.Should Echo"]
    assert robot_report.judge("s", tests[:1], 0).verdict is Verdict.PASS
    assert robot_report.judge("s", None, 1).verdict is Verdict.HARNESS_ERROR
    assert robot_report.judge("s", [], 0).verdict is Verdict.SKIPPED


def test_the_board_script_loads_elf_and_shows_the_uart(tmp_path):
    from harness.inputs import boards
    board = boards.load("mps2_an385")
    path, uart = board_script(board, board.emulator("renode"), tmp_path, tmp_path)
    text = path.read_text()
    assert uart == board.emulator("renode")["uart"]
    assert f"showAnalyzer {uart}" in text and "sysbus LoadELF $elf" in text
    assert "LoadPlatformDescription @" in text


def test_required_applications_are_found_or_filter_the_scenario_as_twister_does(tmp_path):
    from types import SimpleNamespace

    from harness.judging.selection import BoardFacts
    from harness.suite import Planned, _with_required
    board = SimpleNamespace(name="mps2_an385")
    facts = {"mps2_an385": BoardFacts("mps2/an385", "arm", aliases=frozenset({"mps2_an385"}))}
    shell = scenario(tmp_path / "a", "pytest", {}, name="sample.pytest.shell")
    demo = scenario(tmp_path / "b", "pytest", {}, name="sample.pytest.required_app_demo")
    demo.keys["required_applications"] = [{"name": "sample.pytest.shell"}]
    ran, needs = Planned(shell, board, "qemu", None), Planned(demo, board, "qemu", None)
    assert _with_required(needs, [ran, needs], facts).requires == (ran,)
    filtered = Planned(shell, board, "qemu", "not selected by --scenario")
    assert _with_required(needs, [filtered, needs], facts).skip == \
        "Required app sample.pytest.shell.mps2_an385.qemu is filtered"
    assert _with_required(needs, [needs], facts).skip == \
        "Missing required application sample.pytest.shell"
    on = dict(platform="mps2/an385", name="sample.pytest.shell")
    demo.keys["required_applications"] = [on]
    assert _with_required(needs, [ran, needs], facts).requires == (ran,)


def test_the_uart_lines_renode_logged_are_read_for_triage():
    log = ("16:39:13.9099 [INFO] uart0: [host: 0.16s (+0.16s)|virt: 71.69ms (+71.69ms)] "
           "\x1b[1;31mE: ***** MPU FAULT *****\x1b[0m\n"
           "16:39:14.0073 [INFO] mps2_an385: Machine paused.\n"
           "16:39:14.1 [WARNING] nvic: Unhandled write to offset 0xD2C\n")
    assert robot_report.uart_lines(log) == ["E: ***** MPU FAULT *****"]


def test_a_robot_scenario_without_its_suite_is_bad_input(tmp_path):
    from harness.suite import driver_for
    s = scenario(tmp_path / "app", "robot", {})
    with pytest.raises(UsageError, match="robot_testsuite is required"):
        driver_for(s, tmp_path, {})
