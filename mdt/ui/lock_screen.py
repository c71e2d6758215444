"""The session lock: after an idle time set per role (CJIS 5.5.5: at most 30 minutes; a patrol
car's terminal may be exempt, an agency setting), or at once with Ctrl+Shift+K.

The lock screen replaces everything: no return, no alert text, not even in the window title or
the status bar (:class:`Curtain` hides it and the window's open dialogs); the alert sounds go
on (an officer must still hear a hit) and the screen says how many alerts wait.
Unlocking takes the operator's password and checks it offline against the key vault, on a worker
(key derivation never runs on the GUI thread); wrong passwords count like at sign-in, and the
agency's wipe rule applies. "Sign out" ends the session (with the agency's erase on logout).
"""

from __future__ import annotations

from PySide6.QtCore import QElapsedTimer, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QInputEvent
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

ACTIVITY = (QEvent.Type.KeyPress, QEvent.Type.MouseButtonPress, QEvent.Type.MouseMove,
            QEvent.Type.Wheel, QEvent.Type.TouchBegin)


class IdleWatcher(QObject):
    """Emits ``idle`` once the application saw no key, click, touch or mouse movement for
    ``minutes`` (None: never, e.g. an exempt in-car terminal)."""

    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.minutes: float | None = None
        self._since = QElapsedTimer()
        self._since.start()
        self._check = QTimer(self)
        self._check.setInterval(1000)
        self._check.timeout.connect(self._tick)
        self._filtering = False

    def start(self, minutes: float | None) -> None:
        """Watch from now (signed in); the event filter costs nothing before that."""
        self.minutes = minutes
        self._since.restart()
        if minutes is None:
            self.stop()
            return
        app = QApplication.instance()
        if app is not None and not self._filtering:
            app.installEventFilter(self)
            self._filtering = True
        self._check.start()

    def stop(self) -> None:
        self._check.stop()
        app = QApplication.instance()
        if app is not None and self._filtering:
            app.removeEventFilter(self)
            self._filtering = False

    def idle_seconds(self) -> float:
        return self._since.elapsed() / 1000

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Every event of the application comes through here: only input events can be
        # activity, and telling them by class is far cheaper than reading every event's type
        # (a Python enum made per event; a page shown at once sends thousands of events).
        if isinstance(event, QInputEvent) and event.type() in ACTIVITY:
            self._since.restart()
        return False

    def _tick(self) -> None:
        if self.minutes is not None and self.idle_seconds() >= self.minutes * 60:
            self._check.stop()
            self.idle.emit()


class LockScreen(QWidget):
    unlock_requested = Signal(str)  # the password
    sign_out_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("LockScreen")
        title = QLabel("Locked")
        title.setObjectName("LockTitle")
        title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.who = QLabel("")
        self.who.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.waiting = QLabel("")
        self.waiting.setObjectName("LockAlerts")
        self.waiting.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.password = QLineEdit()
        self.password.setObjectName("LockPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("Password")
        self.password.setMinimumHeight(44)
        self.error = QLabel("")
        self.error.setObjectName("CommandError")
        self.error.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.error.setWordWrap(True)
        self.unlock = QPushButton("Unlock")
        self.unlock.setMinimumHeight(44)
        self.sign_out = QPushButton("Sign out")
        self.sign_out.setMinimumHeight(44)
        buttons = QHBoxLayout()
        buttons.addWidget(self.unlock)
        buttons.addWidget(self.sign_out)
        box = QVBoxLayout()
        box.addStretch(1)
        for widget in (title, self.who, self.waiting, self.password, self.error):
            box.addWidget(widget)
        box.addLayout(buttons)
        box.addStretch(2)
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        outer.addLayout(box, 2)
        outer.addStretch(1)
        self.password.returnPressed.connect(self._unlock)
        self.unlock.clicked.connect(self._unlock)
        self.sign_out.clicked.connect(self.sign_out_requested.emit)

    def show_for(self, user_id: str, reason: str) -> None:
        self.who.setText(f"{user_id} — {reason}. Enter your password to go on.")
        self.password.clear()
        self.error.clear()
        self.set_busy(False)
        self.password.setFocus()

    def set_waiting_alerts(self, count: int) -> None:
        """How many alerts wait: a number only, never what they are."""
        self.waiting.setText(f"{count} alert{'s' if count != 1 else ''} waiting — unlock to "
                             "see them" if count else "")

    def set_busy(self, busy: bool) -> None:
        # Read-only, not disabled, while the password is checked: a disabled field gives its
        # focus away, and after a wrong password the operator must be able to type again.
        self.unlock.setEnabled(not busy)
        self.password.setReadOnly(busy)

    def refused(self, message: str) -> None:
        """A wrong password (or another refusal): the sentence, the field cleared and the
        cursor in it, ready for the next try."""
        self.set_busy(False)
        self.password.clear()
        self.error.setText(message)
        self.password.setFocus(Qt.FocusReason.OtherFocusReason)

    def _unlock(self) -> None:
        if self.password.text() and not self.password.isReadOnly():
            self.set_busy(True)
            self.error.clear()
            self.unlock_requested.emit(self.password.text())


class Curtain:
    """What a lock hides besides the window's pages: the status bar (its deadline clock names a
    NIC) and every dialog of the window that is open (the alert history, a message box with a
    return's text). Unlocking shows them again as they were; signing out from the lock screen
    closes the dialogs (nothing of the session survives it) and gives the status bar back."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self._hidden: list[QWidget] = []

    def cover(self) -> None:
        shown = [self.window.statusBar(), *self.window.findChildren(QDialog)]
        self._hidden = [widget for widget in shown if widget.isVisible()]
        for widget in self._hidden:
            widget.hide()

    def lift(self, *, reopen: bool = True) -> None:
        hidden, self._hidden = self._hidden, []
        for widget in hidden:
            if reopen or not isinstance(widget, QDialog):
                widget.show()
            else:
                widget.close()
        self.window.statusBar().show()
