"""Fixtures of the harness pytest plugin (registered only when it is enabled)."""
from __future__ import annotations

import os

import pytest

from harness import apps, boards, expectations
from harness.config import make_session


def pytest_generate_tests(metafunc):
    opt = metafunc.config.getoption
    for name, values in (("harness_board", opt("harness_board") or [boards.DEFAULT_BOARD]),
                         ("harness_emulator", opt("harness_emulator") or ["qemu"])):
        if name in metafunc.fixturenames:
            values = [v for item in values for v in item.split(",")]
            metafunc.parametrize(name, values, scope="session")


@pytest.fixture(scope="session")
def harness_session(pytestconfig):
    opt = pytestconfig.getoption
    with make_session(dict(os.environ), opt("harness_workspace"), opt("harness_out"),
                      say=lambda msg: None) as session:
        yield session               # emulator processes kept between tests stop here


@pytest.fixture
def harness_app(request):
    marker = request.node.get_closest_marker("harness_app")
    return apps.load(marker.args[0] if marker else apps.DEFAULT_APP)


@pytest.fixture
def harness_firmware(harness_session, harness_app, harness_board):
    """The built firmware (west build, cached per app and board for the session)."""
    return harness_session.builds.firmware(harness_app, boards.load(harness_board))


@pytest.fixture
def harness_device(harness_session, harness_app, harness_board, harness_emulator,
                   harness_firmware):
    """A booted board; torn down (whole process group) whatever the test does."""
    device = harness_session.start_device(harness_app, boards.load(harness_board),
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
