"""The watchdog names a stall's cause: the event whose delivery took the time and its receiver
(what a Python stack cannot show when the time goes to Qt's own styling, layout or painting)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget
from pytestqt.qtbot import QtBot

from mdt.app.event_trace import describe
from mdt.app.stall_watchdog import Stall, StallWatchdog


class SlowToLayOut(QWidget):
    """Takes 40 ms of the GUI thread to handle one layout request."""

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.LayoutRequest:
            until = time.thread_time() + 0.040
            while time.thread_time() < until:
                pass
        return super().event(event)


def test_a_stall_is_put_down_to_the_event_and_the_widget_it_went_to(qtbot: QtBot) -> None:
    panel = QWidget()
    panel.setObjectName("Panel")
    slow = SlowToLayOut(panel)
    slow.setObjectName("SlowPart")
    layout = QVBoxLayout(slow)
    layout.addWidget(QLabel("a line"))
    qtbot.addWidget(panel)
    panel.show()
    qtbot.wait(50)
    watchdog = StallWatchdog()
    watchdog.start()
    qtbot.wait(30)
    QTimer.singleShot(0, layout.invalidate)  # a layout request is posted
    qtbot.wait(150)
    watchdog.stop()
    stall = watchdog.top(1)[0]
    assert stall.ms >= 35
    cause = stall.causes[0]
    assert (cause.event, cause.receiver) == ("LayoutRequest", "SlowToLayOut 'SlowPart' in "
                                                              "QWidget 'Panel'")
    assert cause.cpu_ms >= 35
    assert "LayoutRequest on SlowToLayOut 'SlowPart'" in watchdog.report(1)


def test_a_receiver_is_named_with_the_nearest_named_parent() -> None:
    top = QWidget()
    top.setObjectName("ReturnsPanel")
    middle = QWidget(top)
    label = QLabel("x", middle)
    assert describe(label) == "QLabel in QWidget 'ReturnsPanel'"
    label.setObjectName("CaveatBox")
    assert describe(label) == "QLabel 'CaveatBox' in QWidget 'ReturnsPanel'"
    assert describe(QObject()) == "QObject"
    top.deleteLater()


def busy_python_slot() -> None:
    until = time.thread_time() + 0.040
    while time.thread_time() < until:
        pass


def longest_stall_of(qtbot: QtBot, watchdog: StallWatchdog, slot: Callable[[], None],
                     settle_ms: int) -> Stall:
    """The longest stall while ``slot`` runs once on the GUI thread."""
    watchdog.start()
    qtbot.wait(30)
    QTimer.singleShot(0, slot)
    qtbot.wait(settle_ms)
    watchdog.stop()
    return watchdog.top(1)[0]


def test_without_the_trace_a_stall_in_python_is_named_by_its_stack(qtbot: QtBot) -> None:
    stall = longest_stall_of(qtbot, StallWatchdog(trace_events=False), busy_python_slot, 150)
    assert stall.causes == ()
    assert "busy_python_slot" in stall.where


class Knot:
    """A cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self
        self.payload = [[n] for n in range(40)]


def collect_a_heap() -> None:
    """A slot during which the collector walks a few hundred thousand objects, on purpose."""
    import gc

    heap = [Knot() for _ in range(20_000)]
    del heap
    gc.collect()


def test_a_stall_made_by_the_garbage_collector_is_put_down_to_it(qtbot: QtBot) -> None:
    watchdog = StallWatchdog()
    stall = longest_stall_of(qtbot, watchdog, collect_a_heap, 200)
    collections = [c for c in stall.causes if c.event == "GarbageCollection"]
    assert collections, watchdog.report(1)
    assert all(c.receiver.startswith("Python's collector, generation ") for c in collections)
    # most of it, not put down to the slot that happened to be running
    assert sum(c.ms for c in collections) >= 0.3 * stall.ms, watchdog.report(1)
    assert "GarbageCollection on Python's collector, generation" in watchdog.report(1)
