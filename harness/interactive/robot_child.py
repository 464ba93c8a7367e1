"""The Robot Framework run of `harness robot` and of twister's `robot` harness, in a
child process of the harness (`python -m harness.interactive.robot_child SPEC.json`):
each suite as renode-test prepares it (tests/robot_tests_provider.py: Renode's
renode-keywords.robot imported, the Setup / Teardown / Reset Emulation / Test Teardown
defaults), run against the Renode the harness started with --robot-server-port
(SKIP_RUNNING_SERVER), so Renode's keywords are Renode's own. The exit code is Robot's:
the number of failed tests (max 250)."""
from __future__ import annotations

import json
import socket
import sys

from robot.running.builder import TestSuiteBuilder

from harness.host.deadline import Deadline, retry


def prepare(path: str, keywords: str, options: dict):
    suite = TestSuiteBuilder().build(path)
    suite.resource.imports.create(type="Resource", name=keywords)
    suite.configure(include_tags=options.get("include") or None,
                    exclude_tags=[*(options.get("exclude") or []), "skipped", "profiling"],
                    include_tests=options.get("test") or None, empty_suite_ok=True)
    if not suite.setup:
        suite.setup.config(name="Setup")
    if not suite.teardown:
        suite.teardown.config(name="Teardown")
    for test in suite.all_tests:
        if not test.setup:
            test.setup.config(name="Reset Emulation")
        if not test.teardown:
            test.teardown.config(name="Test Teardown")
    return suite


NO_SERVER = 252            # the exit code when Renode's robot server never answered


def wait_for_server(port: int, seconds: float = 60.0) -> bool:
    """Until Renode's robot server accepts connections (it starts beside this process):
    renode-keywords' Setup retries its Remote import only once a second."""
    try:
        retry(lambda: socket.create_connection(("127.0.0.1", port), timeout=1.0).close(),
              Deadline(seconds), (OSError,), interval=0.01)
    except OSError:
        return False
    return True


def main(spec_path: str) -> int:
    with open(spec_path) as f:
        spec = json.load(f)
    # the suites are parsed while Renode starts (its robot server takes 1-2 s)
    suites = [prepare(path, spec["keywords"], spec["options"]) for path in spec["suites"]]
    if not wait_for_server(spec["port"], spec.get("server_wait_s", 60.0)):
        print(f"Renode's robot server never answered on port {spec['port']}", file=sys.stderr)
        return NO_SERVER
    worst = 0
    for n, suite in enumerate(suites):
        result = suite.run(output=spec["outputs"][n], log=None, report=None, loglevel="TRACE",
                           variable=spec["variables"], console="verbose",
                           skiponfailure=["non_critical", "skipped"])
        worst = max(worst, result.return_code)
    return worst


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
