"""Test suites that talk to the firmware: twister's `pytest` and `shell` harnesses, run
by the workspace's own pytest-twister-harness against a board this harness boots.

    pytest child (the workspace's twister_harness plugin + device.py)
        --- a local socket, one connection per boot --->
    relay.py in the harness (boots the emulator, records uart.raw / uart-io.log,
        watches for a fatal error) ---> the emulator's UART

pytest_harness.py builds the pytest command as twister does (pytest_root, pytest_args,
pytest_dut_scope, the shell harness's commands) and turns its JUnit file into the
run's outcome and test cases. The judging of that file (judging/pytest_report.py) is
pure.
"""
