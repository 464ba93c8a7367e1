"""Fixtures of the harness pytest plugin (registered only when it is enabled).

Errors go through the harness's one boundary (harness.boundary): a test fails with
'VERDICT: message', and the pytest run exits with the worst verdict's code when a
harness run or fixture failed (as `harness run` would), so result.json, the JUnit
file, the printed line and the exit code agree.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

from harness import boundary
from harness.inputs import apps, boards, expectations
from harness.inputs.config import project_session
from harness.judging.verdict import Verdict, worst_code

CODES = pytest.StashKey[list]()          # exit codes of the harness failures seen


def pytest_generate_tests(metafunc):
    opt = metafunc.config.getoption
    for name, values in (("harness_board", opt("harness_board") or [boards.DEFAULT_BOARD]),
                         ("harness_emulator", opt("harness_emulator") or ["qemu"])):
        if name in metafunc.fixturenames:
            values = [v for item in values for v in item.split(",")]
            metafunc.parametrize(name, values, scope="session")


def pytest_sessionfinish(session, exitstatus):
    """The worst verdict's exit code, as `harness run` would exit (a failing test that
    was no harness run adds pytest's own 1)."""
    codes = session.config.stash.get(CODES, [])
    if codes and exitstatus in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED):
        others = [int(pytest.ExitCode.TESTS_FAILED)] if session.testsfailed > len(codes) else []
        session.exitstatus = worst_code([*codes, *others])


@contextmanager
def _boundary(config):
    """Harness errors fail the test as 'VERDICT: message' (recorded for the exit code)."""
    try:
        yield
    except (pytest.fail.Exception, pytest.skip.Exception):
        raise
    except Exception as exc:                   # noqa: BLE001  the boundary
        found = boundary.failure(exc)
        config.stash.setdefault(CODES, []).append(found.code)
        pytest.fail(found.line(), pytrace=False)


@pytest.fixture(scope="session")
def harness_session(pytestconfig):
    opt = pytestconfig.getoption
    with _boundary(pytestconfig):
        session = project_session(dict(os.environ), Path.cwd(),
                                  workspace_arg=opt("harness_workspace"), out=opt("harness_out"),
                                  config_file=opt("harness_config"), say=lambda msg: None)
    with session:
        yield session               # emulator processes kept between tests stop here


@pytest.fixture
def harness_app(request):
    marker = request.node.get_closest_marker("harness_app")
    with _boundary(request.config):
        return apps.load(marker.args[0] if marker else apps.DEFAULT_APP)


@pytest.fixture
def harness_firmware(request, harness_session, harness_app, harness_board):
    """The built firmware (west build, cached per app and board for the session)."""
    with _boundary(request.config):
        return harness_session.builds.firmware(harness_app, harness_session.board(harness_board))


@pytest.fixture
def harness_device(request, harness_session, harness_app, harness_board, harness_emulator,
                   harness_firmware):
    """A booted board; torn down (whole process group) whatever the test does."""
    with _boundary(request.config):
        device = harness_session.start_device(harness_app, harness_session.board(harness_board),
                                              harness_emulator)
    try:
        yield device
    finally:
        device.close()


@pytest.fixture
def harness_expect(harness_app):
    """Call with a device (and a host-seconds timeout) to judge its UART against
    the app's expectation file; returns the Outcome."""
    spec = expectations.load(harness_app.expect)
    return lambda device, timeout=30.0: device.expect_sequence(spec, timeout)


@pytest.fixture
def harness_run(request, harness_session, harness_app, harness_board, harness_emulator):
    """Call for one complete run, as `harness run` makes it (build, isolation proof,
    boot, judge, result.json and junit.xml in the run directory); returns the RunResult.
    Unless PASS, the test fails with 'VERDICT: reason' (skips for SKIPPED); with
    `check=False` it returns any verdict, for tests that expect one."""
    def run(check: bool = True, isolation: bool = True):
        previous, harness_session.isolation = harness_session.isolation, isolation
        try:
            with _boundary(request.config):
                result = harness_session.run(harness_app, [harness_board], [harness_emulator])[0]
        finally:
            harness_session.isolation = previous
        if check and result.verdict is Verdict.SKIPPED:
            pytest.skip(f"SKIPPED: {result.outcome.reason}")
        if check and result.verdict is not Verdict.PASS:
            request.config.stash.setdefault(CODES, []).append(result.verdict.code)
            pytest.fail(f"{result.verdict.label}: {result.outcome.reason}\n"
                        f"artifacts: {result.run_dir}", pytrace=False)
        return result
    return run
