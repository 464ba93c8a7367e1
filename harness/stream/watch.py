"""Boot an ELF on an emulator and watch its UART until the judge decides.

The only place where the emulator, the UART stream and the clock meet.
Timeouts here are host seconds (time.monotonic); stall detection compares the
emulator's virtual time, where it reports one, against host time, and otherwise
the CPU time of an emulator that can only sit idle when its guest can never move
again (QEMU with -icount sleep=off).
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from harness.errors import Interrupted
from harness.host.deadline import Deadline
from harness.judging.judge import Ending, Judge
from harness.stream.uart import UartStream

log = logging.getLogger(__name__)
POLL_S = 0.05          # longest wait for UART data before re-checking the emulator
SETTLE_POLL_S = 0.01   # the same while a capture window in guest time runs
EXIT_DRAIN_S = 0.5     # host seconds to collect bytes still in flight after an exit
STALL_CHECK_S = 5.0    # host seconds between virtual-time samples (board: stall_check_s)
IDLE_CPU_S = 0.02      # less CPU than this between two samples: the emulator sat idle


@dataclass
class Watched:
    ending: Ending
    timings: dict = field(default_factory=dict)
    teardown: dict = field(default_factory=dict)
    uart_bytes: int = 0
    virtual_time_s: float | None = None     # guest seconds at completion (else at the end)


def watch(emulator, elf: Path, judge: Judge, timeout_s: float, on_line=None,
          cancel: threading.Event | None = None) -> Watched:
    """Run `elf` on `emulator` until the judge stops it, it exits, or `timeout_s` (host).
    Setting `cancel` (from another thread) aborts the run with Interrupted."""
    t_start = time.monotonic()
    stream: UartStream | None = None
    try:
        stream = emulator.start(elf)
        t_running = time.monotonic()
        marks: dict = {}
        ending = follow(emulator, stream, judge, timeout_s, on_line, cancel, marks)
        t_end = time.monotonic()
        vtime = marks.get("completed_vtime") or emulator.virtual_time()
    finally:
        if stream:
            stream.close()
        teardown = emulator.stop()
    timings = {"start_s": round(t_running - t_start, 4), "run_s": round(t_end - t_running, 4),
               "teardown_s": round(time.monotonic() - t_end, 4)}
    return Watched(ending, timings, teardown, stream.nbytes, vtime)


def follow(emulator, stream: UartStream, judge: Judge, budget: float, on_line=None,
           cancel: threading.Event | None = None, marks: dict | None = None) -> Ending:
    """Feed the running emulator's UART lines to `judge` until it stops the run, the
    emulator exits or closes the UART, virtual time stalls, or `budget` host seconds pass.
    `marks["completed_vtime"]`: the guest time when the sequence completed, if reported."""
    marks = {} if marks is None else marks
    deadline = Deadline(budget)
    cancel = cancel or threading.Event()
    stall = _StallDetector(emulator)

    def take(lines) -> None:
        for line in lines:
            judge.feed(line.lineno, line.text, line.t)
            if on_line:
                on_line(line)

    by_guest_time = getattr(emulator, "settle_guest_s", None) is not None
    while True:
        if cancel.is_set():
            raise Interrupted("run cancelled (the harness is stopping)")
        settling = by_guest_time and judge.completed
        take(stream.read_lines(min(SETTLE_POLL_S if settling else POLL_S, deadline.remaining())))
        now = time.monotonic()
        if judge.completed and "completed_vtime" not in marks:
            marks["completed_vtime"] = emulator.virtual_time()
        if judge.should_stop(now - stream.t0, _guest_since(emulator, marks) if settling else None):
            return Ending("stopped")
        rc = emulator.poll() if not stream.closed else _exit_code_within(emulator, EXIT_DRAIN_S)
        if rc is not None:
            take(stream.drain(EXIT_DRAIN_S) + stream.flush_partial())
            return Ending("exited", rc)
        if stream.closed:
            return Ending("closed", detail="the emulator closed the UART connection")
        if deadline.expired() and (overtime := getattr(judge, "overtime_s", lambda: 0)()):
            deadline = Deadline(overtime)      # a gcov dump under way: let it end, once
            budget += overtime
        if deadline.expired():
            take(stream.flush_partial())
            return Ending("timeout", detail=f"{budget:g} s of host time")
        frozen = stall.check(now)
        if frozen:
            return Ending("stall", detail=frozen)


def _guest_since(emulator, marks: dict) -> float | None:
    """Guest seconds since the sequence completed (None: not reported)."""
    then, now = marks.get("completed_vtime"), emulator.virtual_time()
    return None if then is None or now is None else now - then


def _exit_code_within(emulator, seconds: float) -> int | None:
    """The UART closed: give the emulator a moment to exit, so its rc is known."""
    deadline = Deadline(seconds)
    while (rc := emulator.poll()) is None and not deadline.expired():
        time.sleep(0.01)
    return rc


class _StallDetector:
    """Virtual time that does not move while host time does means a stuck emulator; so
    does an emulator that reports no virtual time but uses no CPU while it could only
    idle if its guest could never move again (Emulator.busy_time)."""

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        self.every = float(emulator.settings.get("stall_check_s", STALL_CHECK_S))
        self.last: tuple[float, float, str] | None = None

    def check(self, now: float) -> str:
        if self.last and now - self.last[0] < self.every:
            return ""
        sample = self._sample()
        if sample is None:
            return ""
        previous, self.last = self.last, (now, *sample)
        if not previous or previous[2] != sample[1]:
            return ""
        value, kind = sample
        if kind == "virtual" and value <= previous[1]:
            return f"virtual time stuck at {value:.6f} s for {now - previous[0]:.1f} s of host time"
        if kind == "busy" and value - previous[1] < IDLE_CPU_S:
            return (f"{self.emulator.name} used no CPU for {now - previous[0]:.1f} s of host "
                    "time: its guest is halted with no timer armed (-icount sleep=off)")
        return ""

    def _sample(self) -> tuple[float, str] | None:
        vtime = self.emulator.virtual_time()
        if vtime is not None:
            return vtime, "virtual"
        busy = self.emulator.busy_time()
        return None if busy is None else (busy, "busy")
