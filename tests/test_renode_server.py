"""`harness serve` and its leases (renode_server, renode_lease) against a fake Renode:
warm Renodes lent and taken back, a lease cut off gets its Renode replaced, nothing
outlives the server, a second server or a dead address is said plainly."""
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
from conftest import FAKES, processes_under

from harness.emulators import renode_lease, renode_server
from harness.errors import SetupError, UsageError
from harness.host.deadline import Deadline

FAKE = str(FAKES / "fake_renode.py")


def start_server(tmp_path, *extra):
    sock = tmp_path / "s.sock"
    err = open(tmp_path / "serve.err", "wb")
    env = {**os.environ, "TMPDIR": str(tmp_path)}      # its scratch: processes_under sees it
    proc = subprocess.Popen([sys.executable, "-m", "harness", "serve", "--socket", str(sock),
                             "--renode", FAKE, *extra], stderr=err, stdin=subprocess.DEVNULL,
                            env=env, start_new_session=True)
    wait_for(lambda: b"ready" in (tmp_path / "serve.err").read_bytes(), proc)
    return proc, sock


def wait_for(cond, proc=None, seconds=20.0):
    deadline = Deadline(seconds)
    while not cond():
        assert proc is None or proc.poll() is None, "the server exited"
        assert not deadline.expired(), "condition not met in time"
        time.sleep(0.05)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"


def test_a_warm_renode_is_lent_taken_back_and_replaced_when_its_lease_is_cut_off(tmp_path):
    proc, sock = start_server(tmp_path)
    try:
        first = renode_lease.take(str(sock), FAKE, tmp_path / "run1")
        assert alive(first.pid) and first.poll() is None
        socket.create_connection(("127.0.0.1", first.robot_port)).close()   # its robot server
        assert b'LoadPlatformDescription' not in first.log()   # the warm-up is not this run's
        assert first.stop(in_order=True)["ended_by"] == "kept"
        again = renode_lease.take(str(sock), FAKE, tmp_path / "run2")
        assert again.pid == first.pid                          # the same warm process
        again.drop()                                           # the client died mid-run
        wait_for(lambda: not alive(first.pid), proc)
        third = renode_lease.take(str(sock), FAKE, tmp_path / "run3")
        assert third.pid != first.pid and alive(third.pid)
        assert third.stop(in_order=False)["replaced"] is True   # a run that timed out
        wait_for(lambda: not alive(third.pid), proc)
        with pytest.raises(SetupError, match="lent nothing: this server runs"):
            renode_lease.take(str(sock), "/usr/bin/true", tmp_path / "run4")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0                       # SIGTERM is its normal end
    assert not sock.exists()
    assert b"cut off: Renode replaced" in (tmp_path / "serve.err").read_bytes()
    wait_for(lambda: processes_under(tmp_path) == [])


def test_the_served_renodes_end_with_the_server_even_when_it_is_killed(tmp_path):
    proc, sock = start_server(tmp_path, "--renodes", "2")
    lease = renode_lease.take(str(sock), FAKE, tmp_path / "run")
    wait_for(lambda: (tmp_path / "serve.err").read_bytes().count(b"ready") == 2, proc)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    wait_for(lambda: not alive(lease.pid))                     # the lifeline's doing
    wait_for(lambda: processes_under(tmp_path) == [])
    # the socket file of the killed server is taken over by the next one
    again, sock2 = start_server(tmp_path)
    assert sock2 == sock
    again.send_signal(signal.SIGINT)
    assert again.wait(timeout=15) == 0


def test_a_live_server_is_not_taken_over_and_a_dead_address_says_how_to_fix_it(tmp_path):
    proc, sock = start_server(tmp_path, "--idle-exit", "1")
    try:
        with pytest.raises(UsageError, match="already listens"):
            renode_server.claim(sock)
        assert proc.wait(timeout=15) == 0                       # idle for 1 s: it stopped
    finally:
        if proc.poll() is None:
            proc.kill()
    with pytest.raises(SetupError, match="no Renode server answers") as err:
        renode_lease.take(str(sock), FAKE, tmp_path / "run")
    assert "harness serve" in err.value.hint
