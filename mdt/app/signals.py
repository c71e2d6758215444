"""The Qt signals the sync engine's callbacks become (emitting a signal is safe from any
thread): the controller owns one set, the alert center listens to it."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class SyncSignals(QObject):
    """The sync engine's listener: emitting a signal is safe from any thread."""

    connectivity_changed = Signal(str, str)  # state, detail
    events_applied = Signal(list)
    outbox_changed = Signal(str, str, str)  # message id, state, detail
    events_quarantined = Signal(list)  # [{seq, type, kind, reason}]: no record data
