"""twister's `pytest` and `shell` harnesses, run the way twister runs them
(twisterlib/harness.py: Pytest, Shell): the workspace's pytest-twister-harness plugin,
the scenario's pytest_root / pytest_args / pytest_dut_scope, the test timeout as
--base-timeout and as the budget of the whole pytest run, the JUnit file for the
verdict. The device is this harness's (interactive/device.py over relay.py), so the
same scenario runs on QEMU and on Renode, with the run's artifacts, its lifeline and
its crash triage.

Bad input is found before anything runs: a pytest_root that does not exist, a Python
file with a syntax error, a shell commands file that is not a list of commands.
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import yaml

from harness.errors import SetupError, UsageError
from harness.host.deadline import Deadline
from harness.host.process import OwnedProcess
from harness.interactive.relay import Relay
from harness.judging import pytest_report
from harness.judging.judge import crash_reason
from harness.judging.verdict import Outcome, Verdict

PLUGIN_SRC = Path("scripts", "pylib", "pytest-twister-harness", "src")
SHELL_ROOT = Path("scripts", "pylib", "shell-twister-harness")
PYTEST_USAGE_CODES = {2: "interrupted (e.g. a collection error)", 3: "an internal error",
                      4: "a usage error"}


class PytestScenario:
    """The judge of a pytest or shell scenario: it drives the board itself (drive())."""

    def __init__(self, scenario, zephyr_base: Path, environ: dict) -> None:
        self.scenario = scenario
        self.zephyr_base = Path(zephyr_base)
        self.environ = environ
        self.config = dict(scenario["harness_config"] or {})
        self.roots = self._roots()
        self.required_builds: list[Path] = []    # required_applications' build directories
        self.fixtures: tuple = ()                 # --fixture values (name or name:parameter)

    def check(self) -> None:
        """Bad input as UsageError (BAD_INPUT) and a workspace without the plugin as a
        SetupError, before anything is built."""
        if not (self.zephyr_base / PLUGIN_SRC / "twister_harness").is_dir():
            raise SetupError(f"the workspace has no pytest-twister-harness "
                             f"({self.zephyr_base / PLUGIN_SRC})",
                             "pytest and shell scenarios need a Zephyr with "
                             "scripts/pylib/pytest-twister-harness (3.5 and later)")
        for root in self.roots:
            if not root.exists():
                raise UsageError(f"{self.scenario.yaml_path}: {self.scenario.name}: pytest_root "
                                 f"{root} does not exist", "fix harness_config.pytest_root")
            for py in [root] if root.is_file() else sorted(root.rglob("*.py")):
                _compiles(py)
        if self.scenario.harness == "shell":
            self.shell_commands()

    def shell_commands(self) -> list | None:
        """The shell harness's commands (inline shell_commands, or the file
        shell_commands_file, default test_shell.yml), checked; None when there are none
        (twister then runs the test without them, and it skips)."""
        inline = self.config.get("shell_commands")
        where = f"{self.scenario.yaml_path}: harness_config.shell_commands"
        if inline is None:
            path = self.scenario.source / os.path.expanduser(os.path.expandvars(
                self.config.get("shell_commands_file", "test_shell.yml")))
            if not path.is_file():
                return None
            where = str(path)
            try:
                inline = yaml.safe_load(path.read_text())
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                at = f":{mark.line + 1}" if mark else ""
                raise UsageError(f"{path}{at}: not valid YAML: "
                                 f"{getattr(exc, 'problem', None) or exc}") from None
        if not isinstance(inline, list) or not all(
                isinstance(e, dict) and isinstance(e.get("command"), str) for e in inline):
            raise UsageError(f"{where}: shell commands must be a list of "
                             "{command: ..., expected: ...} entries")
        return inline

    def command(self, build_dir: Path, run_dir: Path, platform: str, timeout: float) -> list[str]:
        """The pytest command line twister would give, with this harness's device."""
        argv = [sys.executable, "-m", "pytest", "--twister-harness", "-s", "-v",
                f"--build-dir={build_dir}", f"--junit-xml={run_dir / 'report.xml'}",
                f"--platform={platform}", *map(str, self.roots)]
        if self.config.get("pytest_dut_scope"):
            argv.append(f"--dut-scope={self.config['pytest_dut_scope']}")
        argv += ["--log-cli-level=DEBUG", "--log-cli-format=%(levelname)s: %(message)s",
                 f"--base-timeout={timeout}", "--device-type=custom",
                 "-p", "twister_harness.plugin", "-p", "harness.interactive.device",
                 "-p", "no:cacheprovider"]          # nothing written into the workspace
        if self.scenario.harness == "shell":
            commands = self.shell_commands()
            if commands is not None:
                data = run_dir / "test_shell.yml"
                data.write_text(yaml.safe_dump(commands))
                argv.append(f"--testdata={data}")
        argv += [f"--required-build={d}" for d in self.required_builds]
        argv += [f"--twister-fixture={f}" for f in self.fixtures]     # as twister gives them
        argv += [str(a) for a in self.config.get("pytest_args") or []]
        return argv

    def drive(self, new_emulator, built, run_dir: Path, platform: str, timeout: float,
              cancel) -> tuple[Outcome, dict]:
        """Run pytest against boots of `built`; the outcome and what the boots saw."""
        relay = Relay(new_emulator, built.elf, run_dir)
        env = {**self.environ, "HARNESS_RELAY": relay.address,
               "ZEPHYR_BASE": str(self.zephyr_base),
               "PYTHONPATH": os.pathsep.join(filter(None, [
                   str(self.zephyr_base / PLUGIN_SRC), self.environ.get("PYTHONPATH")]))}
        try:
            argv = self.command(built.build_dir, run_dir, platform, timeout)
            (run_dir / "pytest-command.txt").write_text(" ".join(argv) + "\n")
            t0 = time.monotonic()
            child = OwnedProcess(argv, run_dir / "pytest.log", env=env, cwd=run_dir)
        except BaseException:
            relay.server.close()
            raise
        deadline = Deadline(timeout)
        try:
            relay.serve(lambda: child.poll() is not None, deadline, cancel)
            timed_out = child.poll() is None
        finally:
            teardown = child.stop(grace=2.0)
        report = run_dir / "report.xml"
        judged = pytest_report.judge(self.scenario.name,
                                     report.read_text() if report.is_file() else None)
        boots = relay.boots
        evidence = {"testcases": judged.testcases, "pytest": {
            "returncode": teardown.get("returncode", child.returncode), "seconds":
            round(time.monotonic() - t0, 3), "boots": boots.count, "log": str(run_dir / "pytest.log"),
            "report": str(report)}, "uart_bytes": boots.uart_bytes,
            "teardown": boots.teardowns[-1] if boots.teardowns else {}}
        outcome = Outcome(judged.verdict, judged.reason, evidence)
        if boots.fault and not self.scenario.ignores_faults:
            evidence["fault"] = boots.fault
            outcome = Outcome(Verdict.CRASH, f"boot {boots.fault_boot}: "
                              + crash_reason(boots.fault), evidence)
        elif boots.died:
            outcome = Outcome(Verdict.EMULATOR_ERROR, f"the emulator ended during boot "
                              f"{boots.died[0]} (rc {boots.died[1]})", evidence)
        elif timed_out:
            outcome = Outcome(Verdict.HANG, f"Pytest timeout: the pytest run did not end "
                              f"within {timeout:g} s (host time)", evidence)
        elif child.returncode in PYTEST_USAGE_CODES:     # twister: ERROR, whatever the report
            outcome = Outcome(Verdict.HARNESS_ERROR, f"pytest ended with "
                              f"{PYTEST_USAGE_CODES[child.returncode]} (rc {child.returncode}); "
                              f"see {run_dir / 'pytest.log'}", evidence)
        return outcome, {"boots": [str(d) for d in boots.run_dirs]}

    def _roots(self) -> list[Path]:
        if self.scenario.harness == "shell":
            return [self.zephyr_base / SHELL_ROOT]
        roots = self.config.get("pytest_root") or ["pytest"]
        roots = [roots] if isinstance(roots, str) else roots
        return [Path(os.path.normpath(self.scenario.source / os.path.expanduser(
            os.path.expandvars(str(r))))) for r in roots]


def _compiles(path: Path) -> None:
    try:
        compile(path.read_bytes(), str(path), "exec")
    except SyntaxError as exc:
        raise UsageError(f"{path}:{exc.lineno}: syntax error: {exc.msg}",
                         "fix the test file; nothing was run") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None
