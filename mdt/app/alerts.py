"""The alert center: keeps the GUI's picture of alerts and hit confirmations fresh, off the GUI
thread, and runs the operator's actions on them (acknowledge, send a YQ / YR).

It reads an :class:`~mdt.services.alerts.AlertSnapshot` on a worker whenever the inbox or the outbox
changes, and every few seconds besides (a request's time can run out while nothing arrives). The
widgets get the snapshot through ``changed`` and count down from it themselves, between reads,
with the gateway's clock offset it carries.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance

from mdt.app.signals import SyncSignals
from mdt.app.tasks import TaskRunner

if TYPE_CHECKING:
    from mdt.app.errors import Callback
    from mdt.core.confirmation import YqDraft
    from mdt.services.alerts import AlertDesk, AlertSnapshot


def same_picture(before: AlertSnapshot, after: AlertSnapshot) -> bool:
    """Nothing the widgets show differs (the gateway's clock offset within half a second: the
    countdowns tick by themselves between reads)."""
    return (before.open_alerts == after.open_alerts and before.queue == after.queue and
            before.confirmations == after.confirmations and
            abs(before.clock_offset - after.clock_offset) < 0.5)


class AlertCenter(QObject):
    changed = Signal(object)  # AlertSnapshot
    failed = Signal(object)  # the error of a read that failed

    def __init__(self, parent: QObject, *, tasks: TaskRunner, desk: AlertDesk,
                 sync: SyncSignals, signed_in: SignalInstance, is_signed_in: Callable[[], bool],
                 poll_ms: int = 5000) -> None:
        super().__init__(parent)
        self.tasks = tasks
        self.desk = desk
        self._is_signed_in = is_signed_in
        self.snapshot: AlertSnapshot | None = None
        self._reading = False
        self._again = False
        self._timer = QTimer(self)
        self._timer.setInterval(poll_ms)
        self._timer.timeout.connect(self.refresh)
        sync.events_applied.connect(lambda _events: self.refresh())
        sync.outbox_changed.connect(lambda *_args: self.refresh())
        signed_in.connect(lambda _operator: self.start())

    def start(self) -> None:
        self._timer.start()
        self.refresh()

    def stop(self) -> None:
        self._timer.stop()

    def refresh(self) -> None:
        """Read a new snapshot (one read at a time; a request during a read reads once more)."""
        if not self._is_signed_in():
            return
        if self._reading:
            self._again = True
            return
        self._reading = True
        shown = self.snapshot

        def read() -> tuple[AlertSnapshot, bool]:
            # Compared on the worker: a read that changes nothing on screen (most of them,
            # during a burst of answers) costs the GUI thread nothing.
            snapshot = self.desk.snapshot()
            return snapshot, shown is not None and same_picture(shown, snapshot)

        self.tasks.run(read, self._read)

    def _read(self, result: Any, error: BaseException | None) -> None:
        self._reading = False
        if error is not None:
            self.failed.emit(error)
        else:
            self.snapshot, same = result
            if not same:
                self.changed.emit(self.snapshot)
        if self._again:
            self._again = False
            self.refresh()

    # -- actions ---------------------------------------------------------------------------------
    def acknowledge(self, alert_id: str, callback: Callback | None = None, note: str = "") -> None:
        def done(result: Any, error: BaseException | None) -> None:
            self.refresh()
            if callback is not None:
                callback(result, error)

        self.tasks.run(lambda: self.desk.acknowledge(alert_id, note), done)

    def history(self, callback: Callback) -> None:
        self.tasks.run(lambda: self.desk.history(), callback)

    def draft_yq(self, return_id: str, record_index: int, priority: str,
                 callback: Callback) -> None:
        self.tasks.run(
            lambda: self.desk.draft_yq(return_id, record_index, priority), callback)

    def draft_next_request(self, nic: str, callback: Callback) -> None:
        self.tasks.run(lambda: self.desk.draft_next_request(nic), callback)

    def draft_yr(self, nic: str, status: str, callback: Callback, *, confirm_by: str = "",
                 remarks: str = "") -> None:
        self.tasks.run(lambda: self.desk.draft_yr(
            nic, status, confirm_by=confirm_by, remarks=remarks), callback)

    def send(self, mke: str, draft: YqDraft, callback: Callback,
             values: dict[str, str] | None = None) -> None:
        def done(result: Any, error: BaseException | None) -> None:
            self.refresh()
            callback(result, error)

        self.tasks.run(lambda: self.desk.send(mke, draft, values), done)
