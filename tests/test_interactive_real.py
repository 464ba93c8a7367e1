"""Interactive tests for real, on the Zephyr 4.3 workspace (~/zephyrproject-4.3, see
docs/zephyr-versions.md to make one): Zephyr's shell sample written to over the UART on
QEMU and Renode, twister's shell and pytest harnesses through the workspace's own
pytest-twister-harness (Renode too, which twister's pytest harness cannot drive), the
shell sample's Robot suite as twister's robot harness runs it, and a renode-test style
suite unchanged under `harness robot`. Builds are shared through one output directory."""
import json
import os
import re
import shutil
from pathlib import Path

import pytest

from harness.frontends.cli import main

WS = Path(os.environ.get("HARNESS_TEST_WS43", Path.home() / "zephyrproject-4.3"))
ZEPHYR = WS / "zephyr"
SHELL_MODULE = ZEPHYR / "samples" / "subsys" / "shell" / "shell_module"
PYTEST_SHELL = ZEPHYR / "samples" / "subsys" / "testsuite" / "pytest" / "shell"
HERE = Path(__file__).parent

pytestmark = [
    pytest.mark.skipif(not (ZEPHYR / "scripts" / "pylib" / "pytest-twister-harness").is_dir(),
                       reason=f"no Zephyr 4.3 workspace at {WS} (make one as "
                       "docs/zephyr-versions.md says, or set HARNESS_TEST_WS43)"),
    pytest.mark.skipif(not shutil.which("qemu-system-arm"),
                       reason="qemu-system-arm not on PATH (.ci/setup installs it)"),
    pytest.mark.skipif(not shutil.which("renode"),
                       reason="renode not on PATH (`harness setup --renode` installs it)"),
]


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    return tmp_path_factory.mktemp("interactive")


def results(out: Path, scenario: str) -> dict:
    """emulator -> result.json of the latest run of `scenario` on mps2_an385."""
    found = {}
    for path in sorted((out / "runs" / scenario).glob("mps2_an385.*/*/result.json")):
        r = json.loads(path.read_text())
        found[r["emulator"]] = r
    return found


def cases(r: dict) -> dict:
    return {c["name"]: c["status"] for c in r["evidence"].get("testcases", [])}


def test_twisters_shell_and_pytest_harnesses_on_qemu_and_renode(out, capsys):
    rc = main(["matrix", "--workspace", str(WS), "-T", str(PYTEST_SHELL), "--board", "mps2/an385",
               "--emulator", "qemu,renode", "--scenario", "sample.pytest.shell",
               "--scenario", "sample.harness.shell", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    pytest_runs = results(out, "sample.pytest.shell")
    assert set(pytest_runs) == {"qemu", "renode"}
    for emu, r in pytest_runs.items():
        assert r["verdict"] == "PASS" and r["isolation"]["status"] == "CERTIFIED", (emu, r)
        assert cases(r) == {"sample.pytest.shell.test_shell_print_help": "passed",
                            "sample.pytest.shell.test_shell_print_version": "passed"}
        assert r["evidence"]["pytest"]["boots"] == 2          # dut scope: one boot per test
        io = (Path(r["run_dir"]) / "uart-io.log").read_text()
        assert re.search(r"> '[\\n]*help\\n", io) and "< Available commands:" in io, io
    shell = results(out, "sample.harness.shell")
    assert set(shell) == {"qemu", "renode"}
    for r in shell.values():
        assert r["verdict"] == "PASS", r
        assert cases(r) == {"sample.harness.shell.test_shell_harness": "passed"}
    assert "AGREE" in printed


def test_the_shell_sample_answers_the_robot_keywords_on_both_emulators(out, tmp_path):
    """The Robot library's input keywords against the real shell sample, on QEMU and on
    Renode (the same suite text, only the emulator differs)."""
    from robot import run
    suite = tmp_path / "shell.robot"
    suite.write_text(f"""*** Settings ***
Library    harness.robot.Emulation    out={out}    workspace={WS}    timeout=20

*** Test Cases ***
Version On QEMU
    Start Emulation    mps2_an385    qemu    app={SHELL_MODULE}
    Wait For Shell Prompt On Uart    uart:~$
    Write Line To Uart    version
    Wait For Line On Uart    Zephyr version 4.3
    Write Line To Uart    demo ping
    ${{line}}=    Wait For Next Line On Uart
    Should Contain    ${{line}}    pong
    [Teardown]    Stop All Emulations

Version On Renode
    Start Emulation    mps2_an385    renode    app={SHELL_MODULE}
    Wait For Shell Prompt On Uart    uart:~$
    Write Char Delay    0.01
    Write Line To Uart    version
    Wait For Line On Uart    Zephyr version 4.3
    [Teardown]    Stop All Emulations
""")
    with open(os.devnull, "w") as quiet:
        rc = run(str(suite), outputdir=str(tmp_path), output="output.xml", log=None,
                 report=None, stdout=quiet)
    assert rc == 0, (tmp_path / "output.xml").read_text()[-3000:]


def test_the_shell_samples_robot_scenario_as_twisters_robot_harness(out, capsys):
    rc = main(["matrix", "--workspace", str(WS), "-T", str(SHELL_MODULE), "--board", "mps2/an385",
               "--emulator", "qemu,renode", "--scenario", "sample.shell.shell_module.robot",
               "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    r = results(out, "sample.shell.shell_module.robot")
    assert r["qemu"]["verdict"] == "SKIPPED" and "Robot suites run on Renode" in r["qemu"]["reason"]
    assert r["renode"]["verdict"] == "PASS", r["renode"]
    assert r["renode"]["isolation"]["status"] == "CERTIFIED"
    assert cases(r["renode"]) == {
        "sample.shell.shell_module.robot.Should Read Version From Shell": "passed"}
    assert "[INFO]" in Path(r["renode"]["artifacts"]["renode_log"]).read_text()


def test_a_renode_test_suite_runs_unchanged_under_harness_robot(out, capsys):
    """tests/data/robot/renode_style.robot: Execute Command creates the machine, a
    terminal tester, Provides/Requires; given the ELF of the shell sample."""
    rc = main(["robot", str(HERE / "data" / "robot" / "renode_style.robot"), "--workspace",
               str(WS), "--app", str(SHELL_MODULE), "--board", "mps2_an385", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0, printed
    run_dir = Path(printed.split("artifacts: ")[1].split()[0])
    r = json.loads((out / run_dir / "result.json").read_text()
                   if not run_dir.is_absolute() else (run_dir / "result.json").read_text())
    assert r["verdict"] == "PASS" and r["isolation"]["status"] == "CERTIFIED"
    assert list(cases(r).values()) == ["passed", "passed"]
    junit = (Path(r["run_dir"]) / "junit.xml").read_text()
    assert 'name="renode_style.Should Boot To The Shell"' in junit          # one per Robot test,
    assert 'name="renode_style.Should Answer After Boot"' in junit          # beside the run's own


def test_a_failing_robot_test_fails_the_run_with_its_name(out, tmp_path, capsys):
    suite = tmp_path / "failing.robot"
    suite.write_text((HERE / "data" / "robot" / "renode_style.robot").read_text()
                     .replace("Wait For Line On Uart     pong", "Wait For Line On Uart     ping-pong    timeout=2"))
    rc = main(["robot", str(suite), "--workspace", str(WS), "--app", str(SHELL_MODULE),
               "--board", "mps2_an385", "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 1 and "FAIL" in printed and "Should Answer After Boot" in printed, printed


def test_a_suite_that_brings_its_own_machine_needs_no_app(out, tmp_path, capsys):
    """No --app: nothing is built or certified; the suite's Execute Command lines make the
    machine from Renode's platform description and an ELF given as a variable."""
    elf = out / "build" / "shell_module" / "mps2_an385" / "zephyr" / "zephyr.elf"
    if not elf.is_file():                      # the tests above build it
        main(["robot", str(HERE / "data" / "robot" / "renode_style.robot"), "--workspace",
              str(WS), "--app", str(SHELL_MODULE), "--board", "mps2_an385", "--out", str(out)])
    repl = Path(__file__).parents[1] / "boards" / "renode" / "mps2_an385.repl"
    suite = tmp_path / "own_machine.robot"
    suite.write_text(f"""*** Test Cases ***
Shell Answers
    Execute Command           mach create
    Execute Command           machine LoadPlatformDescription @{repl}
    Execute Command           sysbus LoadELF @{elf}
    Create Terminal Tester    sysbus.uart0
    Start Emulation
    Wait For Prompt On Uart   uart:~$
    Write Line To Uart        kernel version
    Wait For Line On Uart     Zephyr version 4.3
""")
    capsys.readouterr()
    rc = main(["robot", str(suite), "--workspace", str(WS), "--out", str(out)])
    printed = capsys.readouterr().out
    assert rc == 0 and "passed   own_machine.Shell Answers" in printed, printed
    r = json.loads((Path(printed.split("artifacts: ")[1].split()[0]) / "result.json").read_text())
    assert r["isolation"] is None and r["verdict"] == "PASS"


def test_a_firmware_fault_during_a_robot_suite_is_a_crash_with_triage(out, tmp_path, capsys):
    """fault_demo faults in user mode; the Robot test only waits for a line that never
    comes, but the UART lines Renode logged give the fault, and the run is a CRASH."""
    suite = tmp_path / "waits.robot"
    suite.write_text("""*** Test Cases ***
Waits For Nothing
    Execute Command           $elf = ${ELF}
    Execute Command           include ${RESC}
    Create Terminal Tester    ${UART}
    Start Emulation
    Wait For Line On Uart     this line never comes    timeout=3
""")
    rc = main(["robot", str(suite), "--workspace", str(WS), "--app", "fault_demo",
               "--board", "mps2_an385", "--out", str(out)])
    printed = capsys.readouterr().out
    r = json.loads((Path(printed.split("artifacts: ")[1].split()[0]) / "result.json").read_text())
    assert r["verdict"] == "CRASH" and rc == r["exit_code"], printed
    assert r["evidence"]["fault"]["kind"] == "mpu_data_access_violation"
    assert r["evidence"]["fault"]["trace_resolved"][0]["function"] == "user_entry"
    assert cases(r) == {"waits.Waits For Nothing": "failed"}


@pytest.mark.parametrize("script, said", [
    ("exit 3", "Renode exited with rc 3"),
    ("exec sleep 300", "never opened its robot server")])
def test_a_renode_without_its_robot_server_is_a_setup_error(out, tmp_path, capsys, script, said):
    """A Renode that dies, or never serves its keywords: SETUP_ERROR naming it, never a
    FAIL of the suite, and nothing left running."""
    fake = tmp_path / "renode"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "renode-keywords.robot").write_text("*** Keywords ***\n")
    suite = tmp_path / "s.robot"
    suite.write_text("*** Test Cases ***\nA\n    Log    hello\n")
    env_before = set(os.listdir("/proc"))
    rc = main(["robot", str(suite), "--workspace", str(WS), "--renode", str(fake),
               "--timeout", "8", "--out", str(out)])
    printed = capsys.readouterr()
    assert rc == 8 and said in printed.out + printed.err, printed
    assert not any(p.isdigit() and "sleep" in open(f"/proc/{p}/cmdline").read()
                   for p in set(os.listdir("/proc")) - env_before
                   if os.path.exists(f"/proc/{p}/cmdline"))


def test_harness_robot_leases_a_warm_renode_from_harness_serve(out, tmp_path, capsys):
    """`harness serve` keeps a Renode; `harness robot --renode-server` runs lease it: two
    runs PASS on the same (warm) process, a run that HANGs has its lease cut off and the
    server replaces that Renode, the next run PASSes on the new one; the server's end
    (SIGTERM, exit 0) leaves nothing running."""
    import signal
    import subprocess
    import sys
    import time

    from conftest import processes_under
    sock = tmp_path / "serve.sock"
    err = tmp_path / "serve.err"
    server = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--socket", str(sock)],
                              stderr=open(err, "wb"), stdin=subprocess.DEVNULL,
                              env={**os.environ, "TMPDIR": str(tmp_path)})
    suite = str(HERE / "data" / "robot" / "renode_style.robot")

    def robot(*extra):
        capsys.readouterr()
        rc = main(["robot", *extra, "--workspace", str(WS), "--app", str(SHELL_MODULE),
                   "--board", "mps2_an385", "--out", str(out), "--renode-server", str(sock)])
        printed = capsys.readouterr().out
        r = json.loads((Path(printed.split("artifacts: ")[1].split()[0]) / "result.json")
                       .read_text())
        return rc, r

    try:
        deadline = time.monotonic() + 60
        while b"ready" not in err.read_bytes():
            assert server.poll() is None and time.monotonic() < deadline, err.read_text()
            time.sleep(0.1)
        pids = []
        for _ in range(2):
            rc, r = robot(suite)
            assert rc == 0 and r["verdict"] == "PASS", r
            assert r["evidence"]["robot"]["renode"] == f"lent by {sock}"
            assert "[INFO]" in (Path(r["run_dir"]) / "renode.log").read_text()
            pids.append(r["evidence"]["teardown"]["kept_pid"])
        assert pids[0] == pids[1]                              # one warm process, lent twice
        hang = tmp_path / "hang.robot"
        hang.write_text(Path(suite).read_text().replace(
            "Wait For Line On Uart     pong", "Sleep    120s"))        # host time: past --timeout
        rc, r = robot(str(hang), "--timeout", "15")
        assert r["verdict"] == "HANG", r
        rc, r = robot(suite)
        assert rc == 0 and r["evidence"]["teardown"]["kept_pid"] != pids[0]
        assert b"cut off: Renode replaced" in err.read_bytes()
    finally:
        server.send_signal(signal.SIGTERM)
        assert server.wait(timeout=30) == 0, err.read_text()
    assert not sock.exists() and processes_under(tmp_path) == []
