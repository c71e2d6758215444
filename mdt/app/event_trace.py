"""Where the GUI thread's time went, by Qt event: the part of a stall a Python stack cannot show.

Qt's own work (styling a widget the first time it is shown, laying out a page, painting) runs
in C++ under the event loop, with no MDT frame on the Python stack. It always runs inside the
delivery of some event to some object: ``Polish`` to a form's label, ``LayoutRequest`` to a
page, ``UpdateRequest`` to the window (painting), ``MetaCall`` to a worker's result (a slot).

:class:`EventTrace` is an application event filter that notes each event delivered on the GUI
thread: when (wall clock and the thread's CPU clock), to which object, of which type. It only
watches (it never filters an event out). :func:`causes` puts the time from one delivery to the
next down to the first of them and sums it by event type and receiver, so a stall reads
"Polish on QLabel 'FieldError' in FormView 'Form_DQ' ×214: 23.0 ms" rather than "somewhere in
Qt". An event sent from inside another (a ``Polish`` sent while a ``LayoutRequest`` is laid
out) takes the time until the next event starts, some of which may be its sender's: read the
first cause with the second.

Python's cyclic garbage collector runs under whatever event allocated last; its collections on
the GUI thread are noted as entries of their own ("GarbageCollection on Python's collector,
generation 2"), so a stall it made is put down to it, not to that event (see
:mod:`mdt.app.collector`).

Its cost is a few microseconds an event; :class:`mdt.app.stall_watchdog.StallWatchdog` uses it
when asked to (``trace_events=True``)."""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject
from shiboken6 import getCppPointer

Entry = tuple[float, float, str, QEvent.Type | str]  # wall s, thread CPU s, receiver, type
COLLECTION = "GarbageCollection"  # an entry's type for a collection by Python's collector

@dataclass(frozen=True)
class Cause:
    """The time of a gap put down to one kind of event on one kind of receiver."""

    event: str  # the event type: "Polish", "LayoutRequest", "MetaCall" (a slot) ...
    receiver: str  # "QLabel 'FieldError' in FormView 'Form_DQ'" (the longest one's)
    ms: float  # wall clock, summed
    cpu_ms: float  # of it, the GUI thread's own work
    count: int  # events of this kind in the gap
    python: str = ""  # the MDT code running under them, if the sampler saw any

    def __str__(self) -> str:
        times = f" ×{self.count}" if self.count > 1 else ""
        text = f"{self.event} on {self.receiver}{times}: {self.ms:.1f} ms ({self.cpu_ms:.1f} ms CPU)"
        return f"{text} in {self.python}" if self.python else text


def event_name(kind: QEvent.Type | str) -> str:
    if isinstance(kind, str):
        return kind
    name = getattr(kind, "name", None)
    if name:
        return str(name)
    try:
        return f"event {int(kind)}"
    except (TypeError, ValueError):
        return str(kind)


def _one(obj: QObject) -> str:
    name = obj.objectName()
    return f"{type(obj).__name__} '{name}'" if name else type(obj).__name__


def describe(obj: QObject) -> str:
    """The receiver, by class and object name, and the nearest of its parents MDT made or named
    (``QLabel in FormView 'Form_DQ'``); a receiver deleted since says so."""
    try:
        text = _one(obj)
        parent = obj.parent()
        hops = 0
        while parent is not None and hops < 12:
            if parent.objectName() or type(parent).__module__.startswith("mdt"):
                return f"{text} in {_one(parent)}"
            parent = parent.parent()
            hops += 1
        return text
    except RuntimeError:  # the C++ object is gone
        return f"{type(obj).__name__} (deleted since)"


def causes(entries: list[Entry], end: tuple[float, float], count: int = 3, *,
           samples: Sequence[tuple[float, str]] = ()) -> list[Cause]:
    """The ``count`` kinds of event whose delivery took most of the GUI thread's work in a gap,
    most first: each event takes the time until the next one is delivered (the last, until
    ``end``: wall and CPU clock). ``samples``: (when, where) of the Python stack (the
    watchdog's sampler); a cause names the MDT code seen most often under it."""
    wall: dict[tuple[str, str], float] = defaultdict(float)
    python: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    sampled = sorted((at, where) for at, where in samples if not where.startswith("Qt ("))
    next_sample = 0
    cpu: dict[tuple[str, str], float] = defaultdict(float)
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for n, (at, cpu_at, receiver, kind) in enumerate(entries):
        until, cpu_until = (entries[n + 1][0], entries[n + 1][1]) if n + 1 < len(entries) \
            else end
        spent = until - at
        while next_sample < len(sampled) and sampled[next_sample][0] < at:
            next_sample += 1
        if spent < 0.00005 and n + 1 < len(entries):  # 50 µs: not worth naming
            continue
        key = (event_name(kind), receiver)
        wall[key] += spent
        cpu[key] += cpu_until - cpu_at
        seen[key] += 1
        while next_sample < len(sampled) and sampled[next_sample][0] < until:
            python[key][sampled[next_sample][1]] += 1
            next_sample += 1
    # By the GUI thread's own work: on a loaded machine the wall clock also holds the time the
    # thread waited for a CPU, which lands on whatever event was running.
    top = sorted(wall, key=lambda key: (cpu[key], wall[key]), reverse=True)[:count]
    return [Cause(key[0], key[1], wall[key] * 1000, cpu[key] * 1000, seen[key],
                  python[key].most_common(1)[0][0] if python[key] else "") for key in top]


class EventTrace(QObject):
    """``start()`` … ``take()`` (the events since the last take) … ``stop()``.

    A receiver is named as its event is delivered and never kept: holding a Python wrapper of an
    object Qt is still constructing (a table's header gets events before it is a QHeaderView)
    would make PySide hand out that wrong-typed wrapper for it ever after. Names are cached by
    the object's address, class and object name (a renamed widget is named again), once it has
a parent to be named by."""

    CACHE = 20_000  # names kept before the cache starts over

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.log: list[Entry] = []
        self._names: dict[tuple[int, str, str], str] = {}
        self._app: QCoreApplication | None = None
        self._thread = threading.get_ident()

    def start(self) -> None:
        self.log = []
        self._names = {}
        self._thread = threading.get_ident()
        self._app = QCoreApplication.instance()
        if self._app is not None:
            self._app.installEventFilter(self)
        if self._collected not in gc.callbacks:
            gc.callbacks.append(self._collected)

    def stop(self) -> None:
        if self._app is not None:
            self._app.removeEventFilter(self)
            self._app = None
        if self._collected in gc.callbacks:
            gc.callbacks.remove(self._collected)
        self.log = []
        self._names = {}

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        """A collection on the GUI thread: an entry of its own, then the event it interrupted
        again (from the collection's end)."""
        if threading.get_ident() != self._thread:
            return
        at, cpu = time.perf_counter(), time.thread_time()
        if phase == "start":
            self.log.append((at, cpu, f"Python's collector, generation {info['generation']}",
                             COLLECTION))
        elif len(self.log) >= 2 and self.log[-1][3] == COLLECTION:
            self.log.append((at, cpu, self.log[-2][2], self.log[-2][3]))

    def take(self) -> list[Entry]:
        log, self.log = self.log, []
        return log

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        at, cpu = time.perf_counter(), time.thread_time()
        key = (getCppPointer(watched)[0], type(watched).__name__, watched.objectName())
        name = self._names.get(key)
        if name is None:
            name = describe(watched)
            if " in " in name:  # not while it has no parent yet (made, not yet placed)
                if len(self._names) >= self.CACHE:
                    self._names = {}
                self._names[key] = name
        self.log.append((at, cpu, name, event.type()))
        return False
