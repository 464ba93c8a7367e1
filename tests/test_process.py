"""harness.host.process: helpers on the processes and threads of an owned session."""
import os
import subprocess
import sys
import textwrap
import time

import pytest

from harness.host import process
from harness.host.process import OwnedProcess, lower_threads

CHILD = textwrap.dedent("""
    import ctypes, sys, threading, time
    named = [threading.Event(), threading.Event()]
    def spin(done):
        ctypes.CDLL(None).prctl(15, b"SpinnerThread", 0, 0, 0)   # PR_SET_NAME
        done.set()
        time.sleep(60)
    for done in named:
        threading.Thread(target=spin, args=(done,), daemon=True).start()
    for done in named:
        done.wait()
    print("ready", flush=True)
    time.sleep(60)
""")


def _nice_by_name(pid: int) -> list[tuple[str, int]]:
    out = []
    for tid in os.listdir(f"/proc/{pid}/task"):
        name = open(f"/proc/{pid}/task/{tid}/comm").read().strip()
        out.append((name, os.getpriority(os.PRIO_PROCESS, int(tid))))
    return out


def test_lower_threads_renices_only_the_named_threads_of_the_session():
    if os.getpriority(os.PRIO_PROCESS, 0) >= 19:
        pytest.skip("this test runs at nice 19 already: lowering a thread changes nothing")
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE,
                             start_new_session=True, text=True)
    try:
        assert child.stdout.readline().strip() == "ready"
        started_at = os.getpriority(os.PRIO_PROCESS, child.pid)   # ours, inherited
        assert lower_threads(child.pid, "Spinner") == 2
        nices = _nice_by_name(child.pid)
        assert sorted(n for name, n in nices if name.startswith("Spinner")) == [19, 19]
        assert {n for name, n in nices if not name.startswith("Spinner")} == {started_at}
        assert lower_threads(child.pid, "NoSuchThread") == 0
        assert lower_threads(os.getsid(0), "Spinner") == 0   # another session: untouched
    finally:
        child.kill()
        child.wait()


def test_a_process_stop_killed_is_recorded_so_when_another_thread_saw_it_die_first(
        tmp_path, monkeypatch):
    """A pooled Renode's background reset polls its process while the pool kills it."""
    owned = OwnedProcess(["sleep", "30"], tmp_path / "log")
    real_killpg = os.killpg

    def killed_then_seen(sid, sig):
        real_killpg(sid, sig)
        for _ in range(500):                     # the other thread's poll sees the death
            if owned.poll() is not None:
                break
            time.sleep(0.01)
    monkeypatch.setattr(process.os, "killpg", killed_then_seen)
    assert owned.stop(hard=True)["ended_by"] == "SIGKILL"
    assert owned.ended_by == "SIGKILL"


def test_a_process_that_ended_by_itself_is_recorded_as_exited(tmp_path):
    owned = OwnedProcess(["true"], tmp_path / "log")
    owned.proc.wait()
    assert owned.stop()["ended_by"] == "exited"
