"""Boards of the lab, without a board: stand-in boards (tests/fakes/standin_board.py: QEMU
running the flashed ELF, its UART on a pseudo-terminal that pyserial opens like
/dev/ttyACM0) flashed by a hardware map's flash_command or by a fake `west flash`.
Real west builds and real QEMU; skips, naming what is missing, where they are absent.

Builds go to one directory kept between test sessions ($HARNESS_TEST_HW_OUT, default
$TMPDIR/harness-hardware-tests), so a second session pays only incremental builds."""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import pytest
import yaml
from conftest import FAKES, processes_under

from harness.frontends.cli import main
from harness.inputs import boards
from harness.judging.verdict import Verdict

pytestmark = pytest.mark.integration
BOARD = "mps2_an385"
NEVER = "events:\n  never: {literal: this line is never printed, final: true}\n"


@pytest.fixture(scope="module")
def out(zephyr_workspace):
    if not shutil.which("qemu-system-arm"):
        pytest.skip("qemu-system-arm missing (the stand-in board runs it): "
                    "apt-get install qemu-system-arm")
    path = Path(os.environ.get("HARNESS_TEST_HW_OUT",
                               Path(tempfile.gettempdir()) / "harness-hardware-tests"))
    path.mkdir(parents=True, exist_ok=True)
    return path


class Standin:
    """A stand-in board: its port (a symlink to a pty), its control socket, its process."""

    def __init__(self, where: Path, name: str) -> None:
        self.id = name
        self.port = where / f"tty{name}"
        self.control = where / f"{name}.control"
        qemu = boards.load(BOARD).emulators["qemu"]
        self.log = open(where / f"{name}.standin.log", "wb")
        self.proc = subprocess.Popen(
            [sys.executable, str(FAKES / "standin_board.py"), str(self.port), str(self.control),
             "--", shutil.which(qemu["binary"]), *map(str, qemu["args"])],
            stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 10
        while not (self.port.exists() and self.control.exists()):
            assert time.monotonic() < deadline and self.proc.poll() is None, "no stand-in"
            time.sleep(0.02)

    def unplug(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(10)
        self.log.close()

    def entry(self, *mode, **extra) -> dict:
        return {"connected": True, "id": self.id, "platform": BOARD, "product": "stand-in",
                "runner": "unknown", "serial": str(self.port),
                "flash_command": [sys.executable, str(FAKES / "standin_flash.py"),
                                  str(self.control), "{elf}", *mode], **extra}


@pytest.fixture
def standins(tmp_path):
    made = []

    def make(n: int = 1) -> list[Standin]:
        made.extend(Standin(tmp_path, f"standin-{chr(97 + i)}") for i in range(len(made),
                                                                              len(made) + n))
        return made[-n:]
    yield make
    for s in made:
        s.unplug()
    assert not processes_under(tmp_path), "a stand-in or its QEMU outlived the test"


def write_map(tmp_path: Path, entries: list[dict]) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(yaml.safe_dump(entries))
    return path


def latest(out: Path, app: str, emu: str = "hardware") -> dict:
    return json.loads((out / "runs" / app / f"{BOARD}.{emu}" / "latest" / "result.json")
                      .read_text())


def left_running(tmp_path: Path) -> list[str]:
    """Processes of the test left behind, other than the stand-in boards themselves."""
    return [p for p in processes_under(tmp_path)
            if "standin_board.py" not in p and "qemu-system" not in p]


def test_prod_consumer_passes_on_a_standin_board_with_a_hardware_certificate(
        out, tmp_path, standins):
    board, = standins(1)
    lab = write_map(tmp_path, [board.entry()])
    rc = main(["run", "--hardware-map", str(lab), "--out", str(out), "--repeat", "2"])
    result = latest(out, "prod_consumer")
    assert rc == 0 and result["verdict"] == "PASS", result["reason"]
    cert = result["isolation"]
    assert cert["status"] == "CERTIFIED" and cert["target"] == "hardware"
    assert cert["board_id"] == board.id and board.id in cert["emulator"]
    probe = json.loads((Path(cert["run_dir"]) / "result.json").read_text())
    assert probe["emulator"] == "hardware" and probe["verdict"] in ("PASS", "UNTRUSTED")
    run_dir = Path(result["run_dir"])
    raw = (run_dir / "uart.raw").read_bytes()
    assert raw.startswith(b"*** Booting Zephyr OS") and b"SUCCESS" in raw
    assert "standin_flash.py" in (run_dir / "hardware.log").read_text()
    assert "ok" in (run_dir / "flash.log").read_text()
    assert result["evidence"]["teardown"]["board_id"] == board.id
    repeats = json.loads((out / "runs" / "prod_consumer" / f"{BOARD}.hardware.repeats.json")
                         .read_text())
    assert repeats["repeats"] == 2 and repeats["passed"] == 2, repeats
    # the same ELF on the emulator: the same verdict and the same payload chain
    assert main(["run", "--board", BOARD, "--emulator", "qemu", "--out", str(out)]) == 0
    emulated = latest(out, "prod_consumer", "qemu")
    assert emulated["provenance"]["elf_sha256"] == result["provenance"]["elf_sha256"]
    keys = lambda r, e: [x["key"] for x in r["evidence"]["events"] if x["event"] == e]  # noqa
    assert keys(emulated, "processed") == keys(result, "processed") == list(range(1, 11))


def hello_suite(tmp_path: Path, zephyr_base: Path) -> Path:
    suite = tmp_path / "hello_suite"
    shutil.copytree(zephyr_base / "samples" / "hello_world", suite, dirs_exist_ok=True)
    (suite / "sample.yaml").write_text(
        "tests:\n"
        "  standin.hello.one: {harness: console, harness_config: {type: one_line, "
        "regex: ['Hello World! (.*)']}}\n"
        "  standin.hello.two: {harness: console, harness_config: {type: one_line, "
        "regex: ['Hello World! (.*)']}}\n")
    return suite


def test_a_test_suite_spreads_over_two_standin_boards_as_on_the_emulator(
        out, tmp_path, standins, zephyr_workspace, capsys):
    a, b = standins(2)
    lab = write_map(tmp_path, [a.entry(), b.entry()])
    suite = hello_suite(out, zephyr_workspace.zephyr_base)
    assert main(["run", "--hardware-map", str(lab), "--app", str(suite), "--out", str(out)]) == 0
    on_boards = {s: latest(out, s) for s in ("standin.hello.one", "standin.hello.two")}
    assert {r["verdict"] for r in on_boards.values()} == {"PASS"}
    assert {r["isolation"]["board_id"] for r in on_boards.values()} == {a.id, b.id}
    assert all(r["isolation"]["target"] == "hardware" for r in on_boards.values())
    assert main(["run", "--board", BOARD, "--emulator", "qemu", "--app", str(suite),
                 "--out", str(out)]) == 0
    for scenario, on_board in on_boards.items():
        emulated = latest(out, scenario, "qemu")
        assert emulated["verdict"] == on_board["verdict"]
        assert emulated["provenance"]["elf_sha256"] == on_board["provenance"]["elf_sha256"]
    # another harness process holds standin-a: the matrix runs both scenarios on standin-b
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from harness.host import board_locks as b; "
        "lock = b.try_lock(b.default_dir(), 'standin-a', 'test'); print('held', flush=True); "
        "time.sleep(120)")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        capsys.readouterr()
        assert main(["matrix", "--hardware-map", str(lab), "-T", str(suite), "-j", "2",
                     "--out", str(out)]) == 0
    finally:
        holder.kill()
        holder.wait()
    summary = json.loads((out / "matrix" / "summary.json").read_text())
    assert [r["emulator"] for r in summary["runs"]] == ["hardware", "hardware"]
    assert {r["isolation"]["board_id"] for r in summary["runs"]} == {b.id}
    assert "waiting for a free mps2_an385 board" in capsys.readouterr().err


def run_fault(out, lab_args, *extra) -> tuple[int, dict]:
    rc = main(["run", *lab_args, "--board", BOARD, "--out", str(out), "--no-isolation", *extra])
    return rc, latest(out, "prod_consumer")


def test_a_missing_port_is_port_missing(out, tmp_path):
    rc, result = run_fault(out, ["--device-serial", str(tmp_path / "ttyACM9")])
    assert rc == Verdict.PORT_MISSING.code == 13 and result["verdict"] == "PORT_MISSING"
    assert str(tmp_path / "ttyACM9") in result["reason"]


def test_a_port_held_by_another_process_is_port_busy_naming_it(out, tmp_path, standins):
    board, = standins(1)
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; f = open(sys.argv[1], "
                               "'rb', buffering=0); print('open', flush=True); time.sleep(60)",
                               str(board.port)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        rc, result = run_fault(out, ["--hardware-map", str(write_map(tmp_path, [board.entry()]))])
    finally:
        holder.kill()
        holder.wait()
    assert rc == Verdict.PORT_BUSY.code and result["verdict"] == "PORT_BUSY"
    assert f"pid {holder.pid}" in result["reason"]


def test_a_standin_unplugged_mid_run_is_port_vanished_with_its_bytes_kept(
        out, tmp_path, standins):
    board, = standins(1)
    lab = write_map(tmp_path, [board.entry()])
    expect = tmp_path / "never.yaml"
    expect.write_text(NEVER)
    found = {}
    runner = threading.Thread(target=lambda: found.update(rc=main(
        ["run", "--hardware-map", str(lab), "--board", BOARD, "--out", str(out),
         "--no-isolation", "--expect", str(expect), "--timeout", "60"])))
    started = time.monotonic()
    runner.start()
    raw = out / "runs" / "prod_consumer" / f"{BOARD}.hardware" / "latest" / "uart.raw"
    while b"SUCCESS" not in (raw.read_bytes() if raw.is_file() else b""):
        assert time.monotonic() - started < 120 and runner.is_alive()
        time.sleep(0.05)
    board.unplug()
    runner.join(30)
    result = latest(out, "prod_consumer")
    assert found["rc"] == Verdict.PORT_VANISHED.code and result["verdict"] == "PORT_VANISHED"
    assert "vanished mid-run" in result["reason"] and time.monotonic() - started < 50
    assert b"SUCCESS" in Path(result["artifacts"]["uart_raw"]).read_bytes()
    assert not left_running(tmp_path)


@pytest.mark.parametrize("mode, verdict, words", [
    ("--fail", Verdict.FLASH_FAILED, "no target connected"),
    ("--hang", Verdict.FLASH_TIMEOUT, "did not finish within 2 s"),
    ("--mute", Verdict.NO_OUTPUT, "printed nothing"),
])
def test_flashing_faults_get_their_verdicts_and_leave_nothing_running(
        out, tmp_path, standins, mode, verdict, words):
    board, = standins(1)
    lab = write_map(tmp_path, [board.entry(mode, flash_timeout=2)])
    started = time.monotonic()
    rc, result = run_fault(out, ["--hardware-map", str(lab)], "--timeout", "3")
    assert rc == verdict.code and result["verdict"] == verdict.label, result["reason"]
    assert words in result["reason"] and time.monotonic() - started < 60
    run_dir = Path(result["run_dir"])
    assert (run_dir / "flash.log").is_file() and (run_dir / "result.json").is_file()
    assert not left_running(tmp_path)


@pytest.fixture
def fake_west(tmp_path, monkeypatch):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "west").symlink_to(FAKES / "fake_west.py")
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_WEST_LOG", str(tmp_path / "west.calls"))
    return tmp_path / "west.calls"


def test_west_flash_flashes_the_board_on_device_serial(out, tmp_path, standins, fake_west,
                                                        monkeypatch):
    board, = standins(1)
    monkeypatch.setenv("FAKE_WEST_BOARD", str(board.control))
    rc, result = run_fault(out, ["--device-serial", str(board.port), "--west-runner", "nrfjprog",
                                 "--west-flash=--erase"])
    assert rc == 0 and result["verdict"] == "PASS", result["reason"]
    call = json.loads(fake_west.read_text().splitlines()[-1])
    build_dir = str(out / "build" / "prod_consumer" / BOARD)
    assert call == ["flash", "--skip-rebuild", "-d", build_dir, "--runner", "nrfjprog", "--",
                    "--erase", "--dev-id", str(board.port)]
    monkeypatch.setenv("FAKE_WEST_MODE", "fail")
    rc, result = run_fault(out, ["--device-serial", str(board.port)])
    assert rc == Verdict.FLASH_FAILED.code and "nrfjprog --program" in result["reason"]


def test_a_crash_on_the_board_is_a_crash_with_its_triage_as_on_the_emulator(
        out, tmp_path, standins):
    board, = standins(1)
    lab = write_map(tmp_path, [board.entry()])
    rc = main(["run", "--hardware-map", str(lab), "--app", "fault_demo", "--out", str(out),
               "--no-isolation"])
    result = latest(out, "fault_demo")
    assert rc == Verdict.CRASH.code and result["verdict"] == "CRASH", result["reason"]
    fault = result["evidence"]["fault"]
    assert fault["kind"] and "trace_resolved" in fault
    assert main(["run", "--board", BOARD, "--emulator", "qemu", "--app", "fault_demo",
                 "--out", str(out), "--no-isolation"]) == Verdict.CRASH.code
    emulated = latest(out, "fault_demo", "qemu")["evidence"]["fault"]
    assert (emulated["kind"], emulated["address"]) == (fault["kind"], fault["address"])
    functions = lambda f: [t["function"] for t in f["trace_resolved"]]   # noqa: E731
    assert functions(emulated) == functions(fault)


def test_a_ztest_suite_on_standin_boards_has_the_emulators_test_cases(
        out, tmp_path, standins, zephyr_workspace):
    suite = zephyr_workspace.zephyr_base / "tests" / "kernel" / "mem_protect" / "userspace"
    if not suite.is_dir():
        pytest.skip(f"{suite} missing from the workspace")
    a, b = standins(2)
    lab = write_map(tmp_path, [a.entry(), b.entry()])
    assert main(["run", "--hardware-map", str(lab), "--app", str(suite), "--out", str(out)]) == 0
    assert main(["run", "--board", BOARD, "--emulator", "qemu", "--app", str(suite),
                 "--out", str(out)]) == 0
    on_board = latest(out, "kernel.memory_protection.userspace")
    emulated = latest(out, "kernel.memory_protection.userspace", "qemu")
    cases = lambda r: [(c["name"], c["status"]) for c in r["evidence"]["testcases"]]  # noqa
    assert on_board["verdict"] == emulated["verdict"] == "PASS"
    assert cases(on_board) == cases(emulated) and len(cases(on_board)) > 10
    assert on_board["isolation"]["target"] == "hardware"
    assert on_board["isolation"]["board_id"] in (a.id, b.id)


def test_the_interactive_device_of_robot_and_pytest_runs_on_a_standin(out, tmp_path, standins):
    from harness.emulators.lab import Lab
    from harness.inputs import apps, config, hardware_map
    board, = standins(1)
    lab = Lab(tuple(hardware_map.load(write_map(tmp_path, [board.entry()]))),
              say=lambda m: None)
    with config.make_session(dict(os.environ), out=str(out), say=lambda m: None,
                             lab=lab) as session:
        device = session.start_device(apps.load("prod_consumer"), boards.load(BOARD), "hardware")
        try:
            line = device.wait_for_line("SUCCESS", timeout=30)
            assert line.text.endswith("SUCCESS")
            assert device.history[0].text.startswith("*** Booting")
            device.stream.write(b"\n")           # UART input goes the board's way in: the port
        finally:
            teardown = device.close()
    assert teardown["board_id"] == board.id
    from harness.host import board_locks
    lock = board_locks.try_lock(lab.lock_dir, board.id)      # released by close()
    assert lock is not None
    lock.release()
