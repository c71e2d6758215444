"""The window's MDT menu — Lock (Ctrl+Shift+K), Sign out (Ctrl+Shift+O), Quit (Ctrl+Q) — and the
question before leaving with work open.

Closing the window (its close button, Alt+F4) or Quit while critical alerts are not acknowledged
or queries wait in the outbox asks first, in one sentence saying what is open, "Stay" the
default; Sign out asks the same. The counts come from what the window already holds (the alert
center's last snapshot, the returns list's last read), never from the cache on the GUI thread,
and the question is a window-modal box opened with ``open()``: nothing waits in a nested loop.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QMessageBox, QToolButton

from mdt.app.controller import AppController

# An outbox message in one of these states has not reached the switch yet.
NOT_SENT = ("queued", "sending")


def leave_question(alerts: int, queries: int, verb: str = "Quit") -> str:
    """``"2 alerts are not acknowledged and 1 query is waiting to be sent. Quit anyway?"``;
    ``""`` when nothing is open."""
    parts = []
    if alerts:
        parts.append(f"{alerts} alert{' is' if alerts == 1 else 's are'} not acknowledged")
    if queries:
        parts.append(f"{queries} quer{'y is' if queries == 1 else 'ies are'} waiting to be sent")
    if not parts:
        return ""
    return f"{' and '.join(parts)}. {verb} anyway?"


def unsent_queries(messages: Iterable[Mapping[str, Any] | None]) -> int:
    """How many of these outbox messages have not gone out yet (each message once)."""
    return len({str(m.get("id")) for m in messages if m and m.get("state") in NOT_SENT})


class WindowActions(QObject):
    def __init__(self, window: QMainWindow, controller: AppController, *,
                 lock: Callable[[], None], sign_out: Callable[[], None],
                 outbox: Callable[[], Iterable[Mapping[str, Any] | None]]) -> None:
        super().__init__(window)
        self.window = window
        self.controller = controller
        self._sign_out = sign_out
        self._outbox = outbox
        self.question: QMessageBox | None = None
        self._leaving = False
        # On the status bar, not a menu bar of its own: the record keeps that height too.
        menu = QMenu("&MDT", window)
        menu.setObjectName("SessionMenu")
        self.button = QToolButton()
        self.button.setText("&MDT ▾")
        self.button.setObjectName("SessionMenuButton")
        self.button.setAutoRaise(True)  # a line of text high, like the bar's labels
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.button.setMenu(menu)
        window.statusBar().addPermanentWidget(self.button)
        self.lock = menu.addAction("&Lock the screen")
        self.lock.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self.lock.triggered.connect(lock)
        self.sign_out = menu.addAction("&Sign out…")
        self.sign_out.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.sign_out.triggered.connect(self.request_sign_out)
        menu.addSeparator()
        self.quit = menu.addAction("&Quit")
        self.quit.setShortcut(QKeySequence("Ctrl+Q"))
        self.quit.triggered.connect(self.request_quit)
        for action in (self.lock, self.sign_out, self.quit):  # wherever the focus is
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            window.addAction(action)
        self.menu = menu
        menu.aboutToShow.connect(self.enable_for_session)
        controller.signed_in.connect(lambda _operator: self.enable_for_session())
        self.enable_for_session()

    def enable_for_session(self) -> None:
        """Lock and Sign out while someone is signed in; Quit always."""
        signed_in = self.controller.operator is not None
        self.lock.setEnabled(signed_in)
        self.sign_out.setEnabled(signed_in)

    def open_work(self) -> tuple[int, int]:
        """(critical alerts not acknowledged, queries not sent yet), from what the window
        already holds: nothing is read from the cache here (this runs on the GUI thread)."""
        if self.controller.operator is None:
            return 0, 0
        snapshot = self.controller.alerts.snapshot
        alerts = len(snapshot.must_acknowledge) if snapshot is not None else 0
        return alerts, unsent_queries(self._outbox())

    def ask(self, verb: str, go: Callable[[], None]) -> QMessageBox | None:
        """``go()`` at once when nothing is open; else the question (returned), and ``go()``
        only on "<verb> anyway"."""
        sentence = leave_question(*self.open_work(), verb)
        if not sentence:
            go()
            return None
        if self.question is not None:
            self.question.close()
        box = QMessageBox(QMessageBox.Icon.Warning, f"MDT — {verb.lower()}?", sentence,
                          QMessageBox.StandardButton.NoButton, self.window)
        box.setObjectName("LeaveQuestion")
        stay = box.addButton("Stay", QMessageBox.ButtonRole.RejectRole)
        leave = box.addButton(f"{verb} anyway", QMessageBox.ButtonRole.DestructiveRole)
        box.setDefaultButton(stay)
        box.setEscapeButton(stay)
        leave.clicked.connect(go)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: self._answered(box))
        box.open()
        self.question = box
        return box

    def _answered(self, box: QMessageBox) -> None:
        if self.question is box:
            self.question = None

    def request_sign_out(self) -> None:
        if self.controller.operator is not None:
            self.ask("Sign out", self._sign_out)

    def request_quit(self) -> None:
        self.ask("Quit", self._quit)

    def _quit(self) -> None:
        self._leaving = True
        self.window.close()

    def keep_open(self, event: QCloseEvent) -> bool:
        """The window's close (its close button, Alt+F4, the desktop session ending) with work
        open while the session is open: refused and asked about. "Quit anyway", or a session
        already closed (the program ending after its last window), goes through."""
        if self._leaving or self.controller.terminal.operator is None or \
                not any(self.open_work()):
            return False
        event.ignore()
        self.request_quit()
        return True
