"""A watchdog on the GUI thread's event loop: a 5 ms timer that records the longest gap between
its ticks. A gap is time the loop could not run: something blocked the GUI thread. Tests and
benchmarks use it to show the GUI never waits on SQL, the network, the keystore or a KDF."""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QObject, QTimer


class StallWatchdog(QObject):
    def __init__(self, interval_ms: int = 5, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.longest_ms = 0.0
        self.ticks = 0
        self._clock = QElapsedTimer()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.longest_ms = 0.0
        self.ticks = 0
        self._clock.start()
        self._timer.start()

    def stop(self) -> float:
        self._timer.stop()
        return self.longest_ms

    def _tick(self) -> None:
        gap = self._clock.nsecsElapsed() / 1e6
        self._clock.restart()
        self.ticks += 1
        if self.ticks > 1:  # the first gap includes the start itself
            self.longest_ms = max(self.longest_ms, gap)
