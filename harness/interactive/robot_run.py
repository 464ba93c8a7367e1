"""Robot suites written for Renode's renode-test, run by the harness: twister's `robot`
harness (robot_testsuite, robot_option, the variables Zephyr's run_renode_test passes:
ELF, RESC, UART, KEYWORDS) and `harness robot SUITE.robot`.

Renode's keywords are Renode's own: the harness starts Renode with
--robot-server-port (its remote library) and the suites import Renode's
renode-keywords.robot, as renode-test does (robot_child.py). What the harness adds:
Renode and the Robot run are owned processes (lifeline, bounded teardown, nothing
outlives the run), Renode's log (with the UART analyzer's lines) and Robot's output
are kept in the run directory, one JUnit test case per Robot test, and the run goes
through the same pipeline as any other (build, isolation certificate, reports).
"""
from __future__ import annotations

import json
import os
import shlex
import sys
import time
from pathlib import Path

from harness.emulators import renode_aot, renode_lease
from harness.emulators.renode_host import launch_environment
from harness.errors import Interrupted, SetupError, UsageError
from harness.host.deadline import Deadline
from harness.host.files import tail
from harness.host.process import OwnedProcess
from harness.inputs.boards import ZEPHYR_SCRIPT, beside, platform_file
from harness.interactive import robot_child
from harness.judging import robot_report
from harness.judging.judge import crash_reason
from harness.judging.triage import FaultDump
from harness.judging.verdict import Outcome, Verdict
from harness.stream.uart import free_port

POLL_S = 0.05
OPTIONS = {"--include": "include", "-i": "include", "--exclude": "exclude", "-e": "exclude",
           "--test": "test", "-t": "test", "--variable": "variable", "-v": "variable"}


def parse_options(option) -> dict:
    """renode-test's options a scenario's `robot_option` may give (a string or a list)."""
    words = [w for item in ([option] if isinstance(option, str) else option or [])
             for w in shlex.split(str(item))]
    out: dict = {"include": [], "exclude": [], "test": [], "variable": []}
    while words:
        flag = words.pop(0)
        if flag not in OPTIONS or not words:
            raise UsageError(f"robot_option {flag!r} is not understood (or lacks its value)",
                             "the harness takes --include, --exclude, --test and --variable")
        out[OPTIONS[flag]].append(words.pop(0))
    return out


class RobotSuites:
    """The judge of a Robot run: it drives Renode itself (drive())."""

    def __init__(self, suites: list[Path], name: str, variables: dict | None = None,
                 options: dict | None = None, keywords: Path | None = None) -> None:
        self.suites = [Path(s) for s in suites]
        self.name = name                        # test cases are <name>.<Robot test>
        self.variables = dict(variables or {})  # NAME -> value, beside the board's own
        self.options = options or parse_options(None)
        self.zephyr_keywords = keywords         # KEYWORDS: a workspace's tests/robot/common.robot

    def check(self) -> None:
        """Missing suites and Robot syntax errors as BAD_INPUT, with the file and line."""
        from robot.api import get_model
        from robot.errors import DataError
        for suite in self.suites:
            if not suite.is_file():
                raise UsageError(f"no Robot suite at {suite}", "check the path (robot_testsuite "
                                 "is relative to the scenario's directory)")
            try:
                model = get_model(suite)
            except DataError as exc:             # e.g. not UTF-8, which Robot requires
                raise UsageError(f"{suite}: Robot cannot read it: {exc.message}",
                                 "save the suite as UTF-8; nothing was run") from None
            errors = [(stmt.lineno, err) for section in model.sections
                      for stmt in _statements(section) for err in getattr(stmt, "errors", ())]
            if errors:
                line, err = errors[0]
                raise UsageError(f"{suite}:{line}: {err}", "fix the Robot suite; nothing was run")

    def drive(self, new_emulator, built, run_dir: Path, platform: str, timeout: float,
              cancel) -> tuple[Outcome, dict]:
        adapter = new_emulator(run_dir)          # a Renode adapter: its binary and board
        if adapter.name != "renode":
            raise UsageError("Robot suites run on Renode (its keywords are Renode's own)",
                             "run this scenario with --emulator renode")
        binary = adapter.binary()
        keywords = renode_keywords(binary)
        variables = {**self.board_variables(adapter, built, run_dir), **self.variables}
        t0 = time.monotonic()
        server = renode_lease.address(adapter.environ)
        lease = renode_lease.take(server, binary, run_dir) if server else None
        port = lease.robot_port if lease else free_port()
        home = run_dir / "renode-home"
        (home / "tmp").mkdir(parents=True, exist_ok=True)
        outputs = [run_dir / f"robot-output{n or ''}.xml" for n in range(len(self.suites))]
        spec = {"suites": [str(s) for s in self.suites], "keywords": str(keywords), "port": port,
                "server_wait_s": min(60.0, timeout / 2),  # Renode's start-up: 1-2 s here
                "outputs": [str(o) for o in outputs], "options": self.options,
                "variables": [f"{k}:{v}" for k, v in {
                    "SKIP_RUNNING_SERVER": "True", "PORT_NUMBER": port,
                    "DIRECTORY": Path(binary).resolve().parent / "bin",
                    "RESULTS_DIRECTORY": run_dir, "RENODEKEYWORDS": keywords,
                    "RENODETOOLS": keywords.parent.parent / "tools", **variables}.items()]
                + self.options["variable"]}
        (run_dir / "robot-spec.json").write_text(json.dumps(spec, indent=1) + "\n")
        renode = lease or self._renode(adapter, binary, port, run_dir, home)
        child = None
        try:
            child = OwnedProcess([sys.executable, "-m", "harness.interactive.robot_child",
                                  str(run_dir / "robot-spec.json")], run_dir / "robot.log",
                                 cwd=run_dir, env={**adapter.environ, "PYTHONUNBUFFERED": "1"})
            deadline = Deadline(timeout)
            while child.poll() is None and renode.poll() is None and not deadline.expired() \
                    and not cancel.is_set():
                time.sleep(POLL_S)
            timed_out = child.poll() is None and renode.poll() is None and not cancel.is_set()
            renode_died = renode.poll()
        finally:
            ended = child.stop(grace=2.0) if child else {}
            in_order = ended.get("ended_by") == "exited" and not cancel.is_set()
            renode_end = renode.stop(grace=2.0, in_order=in_order) if lease else \
                renode.stop(grace=2.0)
            if lease:                         # its part of the kept Renode's output
                (run_dir / "renode.log").write_bytes(lease.log())
        if cancel.is_set():
            raise Interrupted("the run was cancelled")
        if renode_died is not None or ended.get("returncode") == robot_child.NO_SERVER:
            what = f"exited with rc {renode_died}" if renode_died is not None else \
                "never opened its robot server"
            raise SetupError(f"Renode {what} ({binary} --robot-server-port {port}"
                             f"{', lent by ' + server if lease else ''})",
                             f"Renode's output: {tail((run_dir / 'renode.log').read_bytes())}; "
                             f"full log: {run_dir / 'renode.log'}")
        tests = robot_report.read(outputs)
        judged = robot_report.judge(self.name, tests, ended.get("returncode"))
        evidence = {"testcases": judged.testcases, "teardown": renode_end, "robot": {
            "renode": f"lent by {server}" if lease else "started for this run",
            "returncode": ended.get("returncode"), "seconds": round(time.monotonic() - t0, 3),
            "log": str(run_dir / "robot.log"), "outputs": [str(o) for o in outputs]}}
        outcome = Outcome(judged.verdict, judged.reason, evidence)
        fault = _fault(run_dir / "renode.log")
        if fault:                            # whatever the Robot tests concluded
            evidence["fault"] = fault
            outcome = Outcome(Verdict.CRASH, crash_reason(fault), evidence)
        elif timed_out:
            outcome = Outcome(Verdict.HANG, f"the Robot run did not end within {timeout:g} s "
                              "(host time)", evidence)
        return outcome, {"robot_log": str(run_dir / "robot.log"),
                         "renode_log": str(run_dir / "renode.log")}

    @staticmethod
    def _renode(adapter, binary: str, port: int, run_dir: Path, home: Path) -> OwnedProcess:
        """A Renode of this run's own, serving Renode's keywords on `port`."""
        return OwnedProcess([binary, "--robot-server-port", str(port), "--disable-gui"],
                            run_dir / "renode.log", cwd=run_dir, keep_stdin_open=True,
                            env={**launch_environment(adapter.environ,
                                                      renode_aot.images(binary, adapter.environ)),
                                 "HOME": str(home), "TMPDIR": str(home / "tmp")})

    def board_variables(self, adapter, built, run_dir: Path) -> dict:
        """ELF, RESC and UART as Zephyr's run_renode_test passes them, for the board
        file's Renode description, and KEYWORDS where a workspace gives one."""
        out = {}
        if self.zephyr_keywords is not None:
            out["KEYWORDS"] = self.zephyr_keywords
        if built is None:
            return out
        settings = adapter.settings
        resc, uart = board_script(adapter.board, settings, built.build_dir, run_dir)
        return {**out, "ELF": f"@{built.elf}", "RESC": f"@{resc}", "UART": uart}


def board_script(board, settings: dict, build_dir: Path, run_dir: Path) -> tuple[Path, str]:
    """A Renode script that creates the board and loads `$elf` (the board's own script,
    or one written from its platform description), and its console UART."""
    from harness.emulators import resc
    if "script" in settings:
        wanted = settings["script"]
        script = resc.load(beside(board, wanted) if wanted != ZEPHYR_SCRIPT
                           else resc.zephyr_script(build_dir))
        uart = settings.get("uart") or script.uart
        if not uart:
            raise UsageError(f"the Renode script {script.path} shows no UART",
                             f"name the console UART with `uart:` in {board.path}")
        return script.path, uart
    uart = settings["uart"]
    path = run_dir / "board.resc"
    commands = "\n".join(settings.get("commands", []))
    path.write_text(f'mach create "{board.name}"\n'
                    f"machine LoadPlatformDescription @{platform_file(board, settings)}\n"
                    f"showAnalyzer {uart}\n{commands}\n"
                    'macro reset\n"""\n    sysbus LoadELF $elf\n"""\nrunMacro $reset\n')
    return path, uart


def _fault(renode_log: Path) -> dict | None:
    """The first fatal error the guest printed, from the UART lines in Renode's log."""
    try:
        text = renode_log.read_text(errors="replace")
    except OSError:
        return None
    dump = FaultDump()
    for n, line in enumerate(robot_report.uart_lines(text), 1):
        dump.feed(line, n)
        if dump.complete:
            return dump.summary()
    return None


def renode_keywords(binary: str) -> Path:
    """Renode's renode-keywords.robot, beside the Renode that runs the suites."""
    root = Path(os.path.realpath(binary)).parent
    path = root / "tests" / "renode-keywords.robot"
    if not path.is_file():
        raise SetupError(f"the Renode at {root} has no tests/renode-keywords.robot (its "
                         "Robot keywords)", "use a Renode package or build that ships its "
                         "tests directory (the linux-portable release does)")
    return path


def _statements(node):
    for child in getattr(node, "body", ()):
        yield child
        yield from _statements(child)
    header = getattr(node, "header", None)
    if header is not None:
        yield header
