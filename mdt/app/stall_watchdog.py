"""A watchdog on the GUI thread's event loop: a 5 ms timer that records the longest gap between
its ticks. A gap is time the loop could not run: something blocked the GUI thread. Tests and
benchmarks use it to show the GUI never waits on SQL, the network, the keystore or a KDF.

It also says *where* each stall happened: while the loop is overdue, a small sampling thread
looks at the GUI thread's Python stack (``sys._current_frames``) and keeps the MDT frames on it,
the outermost (the slot Qt called) and the innermost (often a model's ``data`` or a widget
method). A stall with no MDT frame on the stack is Qt's own work (layout, painting, a style)
under the frame that was running.

Each gap is measured twice: on the wall clock, and as the CPU time the GUI thread itself spent
in it (``time.thread_time``). The second is what the GUI thread did in one go, whatever else the
machine runs; the first is what a person saw.

What the stack cannot show (Qt's own styling, layout and painting, in C++) the event trace does
(:mod:`mdt.app.event_trace`): each stall also names the events whose delivery took its time, with
their receivers ("Polish on QLabel in FormView 'Form_DQ' ×40: 12.0 ms")."""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from PySide6.QtCore import QElapsedTimer, QObject, QTimer

from mdt.app.event_trace import Cause, EventTrace, causes

_MDT = str(Path(__file__).resolve().parent.parent)  # the mdt package's folder


@dataclass(frozen=True, order=True)
class Stall:
    ms: float  # wall clock: how long the loop could not run
    where: str
    cpu_ms: float = 0.0  # of it, the GUI thread's own work (the rest: waiting for the CPU or
    #                      the interpreter lock, or blocked)
    causes: tuple[Cause, ...] = ()  # the events whose delivery took the time, most first

    def __str__(self) -> str:
        text = f"{self.ms:.1f} ms ({self.cpu_ms:.1f} ms of it GUI-thread work)"
        if self.causes:  # one a line under it, indented
            return f"{text}, most of it in:" + "".join(f"\n     {c}" for c in self.causes)
        return f"{text} in {self.where}"


def _frame_name(frame: FrameType) -> str:
    code = frame.f_code
    path = code.co_filename
    short = path[len(_MDT) - len("mdt"):] if path.startswith(_MDT) else Path(path).name
    return f"{getattr(code, 'co_qualname', code.co_name)} ({short}:{frame.f_lineno})"


def where_on_stack(frame: FrameType | None) -> str:
    """The MDT code a stack is in, from the slot Qt called to the innermost MDT frame
    (``slot → … → innermost``; event filters, which only watch, left out), or the innermost
    frame when no MDT code is on the stack."""
    mdt: list[FrameType] = []
    innermost = frame
    while frame is not None:
        code = frame.f_code
        if code.co_filename.startswith(_MDT) and code.co_name != "eventFilter" and \
                not code.co_filename.endswith("stall_watchdog.py"):
            mdt.append(frame)
        frame = frame.f_back
    if not mdt:
        if innermost is None:
            return "unknown"
        return f"Qt (layout, painting or styling) under {_frame_name(innermost)}"
    chain = [_frame_name(f) for f in reversed(mdt)]  # outermost (the slot) first
    if len(chain) > 4:
        chain = [*chain[:2], "…", *chain[-2:]]
    return " → ".join(chain)


class StallWatchdog(QObject):
    """``start()``, use the GUI, ``stop()`` → the longest stall in ms; ``top(3)`` → the longest
    stalls with where each happened."""

    def __init__(self, interval_ms: int = 5, parent: QObject | None = None, *,
                 sample_after_ms: float = 3.0, keep: int = 20, trace_events: bool = True) -> None:
        """``trace_events``: name the Qt events behind each stall (a few µs an event)."""
        super().__init__(parent)
        self._trace = EventTrace(self) if trace_events else None
        self.longest_ms = 0.0
        self.longest_cpu_ms = 0.0  # the most GUI-thread work between two ticks
        self.ticks = 0
        self.stalls: list[Stall] = []  # the longest ones, longest first
        self.busiest: list[Stall] = []  # the most GUI-thread work, most first
        self._cpu = 0.0
        self._keep = keep
        self._interval_ms = interval_ms
        self._sample_after = sample_after_ms / 1000
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self._lock = threading.Lock()
        self._last_tick = 0.0
        self._samples: list[tuple[float, str]] = []  # (when, where) in the current gap
        self._halt = threading.Event()
        self._sampler: threading.Thread | None = None
        self._gui_thread = threading.get_ident()

    def start(self) -> None:
        self.longest_ms = 0.0
        self.longest_cpu_ms = 0.0
        self.ticks = 0
        self.stalls = []
        self.busiest = []
        self._gui_thread = threading.get_ident()
        self._cpu = time.thread_time()
        with self._lock:
            self._last_tick = time.perf_counter()
            self._samples = []
        if self._trace is not None:
            self._trace.start()
        self._clock.start()
        self._timer.start()
        self._halt.clear()
        self._sampler = threading.Thread(target=self._sample, name="mdt-stall-sampler",
                                         daemon=True)
        self._sampler.start()

    def stop(self) -> float:
        self._timer.stop()
        if self._trace is not None:
            self._trace.stop()
        self._halt.set()
        if self._sampler is not None:
            self._sampler.join(timeout=1.0)
            self._sampler = None
        return self.longest_ms

    def top(self, count: int = 3, *, by_work: bool = False) -> list[Stall]:
        """The longest stalls (``by_work``: those with the most GUI-thread work)."""
        return (self.busiest if by_work else self.stalls)[:count]

    def report(self, count: int = 3, *, by_work: bool = False) -> str:
        """The longest stalls, one a line: how long, how much of it GUI-thread work, where."""
        stalls = self.top(count, by_work=by_work)
        if not stalls:
            return "no stall"
        return "\n".join(f"{n}. {stall}" for n, stall in enumerate(stalls, 1))

    def _sample(self) -> None:
        """Off the GUI thread: while the loop is overdue, note where the GUI thread is."""
        period = max(0.002, self._interval_ms / 2000)
        while not self._halt.wait(period):
            with self._lock:
                overdue = time.perf_counter() - self._last_tick >= self._sample_after
            if not overdue:
                continue
            frame = sys._current_frames().get(self._gui_thread)
            where = where_on_stack(frame)
            del frame
            with self._lock:
                # Still the same gap (no tick since): the sample belongs to it.
                if time.perf_counter() - self._last_tick >= self._sample_after:
                    self._samples.append((time.perf_counter(), where))

    def _tick(self) -> None:
        gap = self._clock.nsecsElapsed() / 1e6
        self._clock.restart()
        cpu = time.thread_time()
        work = (cpu - self._cpu) * 1000
        self._cpu = cpu
        with self._lock:
            self._last_tick = time.perf_counter()
            samples, self._samples = self._samples, []
        events = self._trace.take() if self._trace is not None else []
        self.ticks += 1
        if self.ticks <= 1:  # the first gap includes the start itself
            return
        self.longest_ms = max(self.longest_ms, gap)
        self.longest_cpu_ms = max(self.longest_cpu_ms, work)
        if gap < self._interval_ms + 8.0:  # a stall worth naming: over 13 ms at 5 ms ticks
            return
        full = len(self.stalls) >= self._keep and len(self.busiest) >= self._keep
        if full and gap <= self.stalls[-1].ms and work <= self.busiest[-1].cpu_ms:
            return  # not among the kept ones: not worth the GUI thread's time to name
        where = Counter(w for _, w in samples).most_common(1)[0][0] if samples else \
            "not sampled (C++ code holding the interpreter, or too short to sample)"
        stall = Stall(gap, where, work,
                      tuple(causes(events, (time.perf_counter(), cpu), samples=samples)))
        for kept, key in ((self.stalls, lambda s: s.ms), (self.busiest, lambda s: s.cpu_ms)):
            kept.append(stall)
            kept.sort(key=key, reverse=True)
            del kept[self._keep:]
