"""The processes and threads of a session (Linux /proc), and killing a whole session.

Shared by the owned processes (harness.host.process) and the lifeline's watcher
(harness.host.lifeline), which must not import each other."""
from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from harness.host.deadline import Deadline


def kill_session(sid: int, timeout: float = 2.0) -> None:
    """SIGKILL the child's whole session (its process group, and the groups its
    children made, e.g. ninja's jobs) until nothing of it is left (bounded)."""
    deadline = Deadline(timeout)
    while True:
        members = session_members(sid)
        if not members:
            return
        for pid in members:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        if deadline.expired():
            return
        time.sleep(0.01)


def session_rss_kib(sid: int) -> int:
    """Resident memory of every process in the session (e.g. mono under renode), KiB."""
    total = 0
    for pid in session_members(sid):
        try:
            status = Path(f"/proc/{pid}/status").read_text()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines()
                       if line.startswith("VmRSS:")), 0)
    return total


def lower_threads(sid: int, name_prefix: str, niceness: int = 19) -> int:
    """Give every thread of the session whose name starts with `name_prefix` the
    lowest CPU priority (Linux: threads have their own nice value); return how many.
    For an emulator's helper threads that spin where they could wait, so that on a
    runner with few cores they only get what the emulated CPU leaves."""
    count = 0
    for tid, name in session_threads(sid):
        if name.startswith(name_prefix):
            try:
                os.setpriority(os.PRIO_PROCESS, tid, niceness)
            except OSError:
                continue                       # the thread ended meanwhile
            count += 1
    return count


def session_threads(sid: int) -> list[tuple[int, str]]:
    """(thread id, thread name) of every thread of the session's live processes."""
    threads = []
    for pid in session_members(sid):
        try:
            tids = os.listdir(f"/proc/{pid}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                threads.append((int(tid), Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()))
            except (OSError, ValueError):
                continue                       # the thread ended meanwhile
    return threads


def session_alive(sid: int) -> bool:
    """True while any live (non-zombie) process belongs to the session."""
    return bool(session_members(sid))


def session_members(sid: int) -> list[int]:
    return [pid for pid in _pids() if _session_of(pid) == sid and not _is_zombie(pid)]


def _pids():
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _stat(pid: int) -> list[str]:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return []
    return text.rsplit(")", 1)[-1].split()


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system, all threads) a live process has used so far."""
    fields = _stat(pid)
    if len(fields) < 13:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _session_of(pid: int) -> int | None:
    fields = _stat(pid)
    return int(fields[3]) if len(fields) > 3 else None


def _is_zombie(pid: int) -> bool:
    fields = _stat(pid)
    return not fields or fields[0] == "Z"
