"""Running blocking work off the GUI thread and getting ``(result, error)`` back on it.

The GUI thread only paints and reacts. Anything that may block (SQL, the network, the keystore,
key derivation) goes through :class:`TaskRunner.run`: the function runs on a worker thread, and the
callback runs later on the GUI thread with either the result or the exception (MusicBrainz
Picard's ``run_task`` idea). Workers never touch widgets.

Callbacks run one per turn of the event loop: results that arrive together (an answer, the
alerts it raised, the agency queue) would otherwise all run in one pass over Qt's posted
events, one long stall made of short callbacks, with no paint or input between them.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal, Slot

from mdt.app.errors import Callback

log = logging.getLogger(__name__)



class TaskRunner(QObject):
    """Lives on the GUI thread; its signal carries finished work back to it."""

    _finished = Signal(object, object, object)  # callback, result, error

    def __init__(self, parent: QObject | None = None, *, workers: int = 2) -> None:
        super().__init__(parent)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mdt-task")
        self._pending = 0
        self._closed = False
        self._ready: deque[tuple[Callback | None, Any, BaseException | None]] = deque()
        self._finished.connect(self._arrived)

    @property
    def pending(self) -> int:
        """How many tasks have not called back yet (the UI shows a busy state while > 0)."""
        return self._pending

    def run(self, fn: Callable[[], Any], callback: Callback | None = None) -> Future[Any]:
        if self._closed:  # a timer that fires while the window closes: nothing to run it for
            cancelled: Future[Any] = Future()
            cancelled.cancel()
            return cancelled
        self._pending += 1

        def work() -> Any:
            try:
                result = fn()
            except BaseException as exc:
                self._finished.emit(callback, None, exc)
                raise
            self._finished.emit(callback, result, None)
            return result

        return self._pool.submit(work)

    @Slot(object, object, object)
    def _arrived(self, callback: Callback | None, result: Any, error: BaseException | None) -> None:
        self._ready.append((callback, result, error))
        if len(self._ready) == 1:  # else a turn to come delivers it
            QTimer.singleShot(0, self, self._deliver)

    def _deliver(self) -> None:
        """The oldest result to its callback; the next one on the next turn."""
        if not self._ready:
            return
        callback, result, error = self._ready.popleft()
        if self._ready:
            QTimer.singleShot(0, self, self._deliver)
        self._pending -= 1
        if self._closed:  # the window that asked is gone: nobody to tell
            self._pending -= len(self._ready)
            self._ready.clear()
            return
        if callback is not None:
            callback(result, error)
        elif error is not None:
            log.error("background task failed: %s", type(error).__name__)

    def shutdown(self) -> None:
        """Finish what runs, drop what waits, and deliver no more results."""
        self._closed = True
        self._pool.shutdown(wait=True, cancel_futures=True)
