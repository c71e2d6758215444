"""The sign-in page: online login (password + one-time code) or offline unlock of the cache
(the password alone; Enter does it when the gateway did not answer).

On a training gateway it lists the demo accounts; choosing one fills the user id, the password and
a fresh one-time code. Everything that may block (health check, login, key unwrap) runs through
the controller's background tasks.

The page is made before the controller (the first window does not wait for the settings, the
agency file and the services: :mod:`mdt.ui.application`); :meth:`LoginPage.attach` gives it the
controller, with the validated settings, and the demo accounts' list (hidden until a training
gateway answers). A sign-in asked for before then waits, busy, and goes on at attach. Qt's
namespace (``Qt``, some 30 ms of enums on first use) and the table classes are not needed for
the first window and are imported when used.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mdt.app.errors import describe_error
from mdt.store.errors import PasswordChangedError

if TYPE_CHECKING:
    from PySide6.QtWidgets import QTableWidget

    from mdt.app.controller import AppController


class LoginPage(QWidget):
    demo: QTableWidget  # the training gateway's demo accounts (made at attach)
    busy_changed = Signal(bool)
    training_detected = Signal(bool)  # the gateway answered and said whether it is a training one

    def __init__(self, controller: AppController | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._controller: AppController | None = None
        self._waiting: Callable[[AppController], None] | None = None  # asked before attach
        self.busy = False
        self.gateway_training = False
        self.offline = False  # the gateway did not answer its last check: Enter unlocks

        title = QLabel("MDT — Mobile Data Terminal")
        title.setObjectName("LoginTitle")
        self.gateway_label = QLabel("Gateway: …")
        self.gateway_state = QLabel("Checking the gateway…")
        self.gateway_state.setWordWrap(True)

        self.user = QLineEdit()
        self.user.setObjectName("LoginUser")
        self.user.setPlaceholderText("user id")
        self.password = QLineEdit()
        self.password.setObjectName("LoginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.otp = QLineEdit()
        self.otp.setObjectName("LoginOtp")
        self.otp.setPlaceholderText("6-digit code from your authenticator")
        self.otp.setMaxLength(8)

        form = QFormLayout()
        form.addRow("&User id", self.user)
        form.addRow("&Password", self.password)
        form.addRow("One-time &code", self.otp)

        self.sign_in = QPushButton("&Sign in")
        self.sign_in.setObjectName("SignIn")
        self.sign_in.setDefault(True)
        self.unlock_offline = QPushButton("&Unlock offline")
        self.unlock_offline.setObjectName("UnlockOffline")
        self.unlock_offline.setToolTip(
            "Open this terminal's encrypted cache with your password, without the gateway.")
        buttons = QHBoxLayout()
        buttons.addWidget(self.sign_in)
        buttons.addWidget(self.unlock_offline)
        buttons.addStretch(1)

        self.error = QLabel("")
        self.error.setObjectName("LoginError")
        self.error.setWordWrap(True)

        # After a password change at the gateway: the previous password once, or a fresh start.
        self.changed = QWidget()
        self.changed.setObjectName("PasswordChanged")
        self.previous = QLineEdit()
        self.previous.setObjectName("LoginPreviousPassword")
        self.previous.setEchoMode(QLineEdit.EchoMode.Password)
        self.previous.setPlaceholderText("the password you used before the change")
        self.keep_cache = QPushButton("&Keep my cache")
        self.keep_cache.setObjectName("KeepCache")
        self.start_fresh = QPushButton("Start &fresh (erase the old cache)")
        self.start_fresh.setObjectName("StartFresh")
        changed_form = QFormLayout(self.changed)
        changed_form.setContentsMargins(0, 0, 0, 0)
        changed_form.addRow("P&revious password", self.previous)
        changed_buttons = QHBoxLayout()
        changed_buttons.addWidget(self.keep_cache)
        changed_buttons.addWidget(self.start_fresh)
        changed_buttons.addStretch(1)
        changed_form.addRow(changed_buttons)
        self.changed.hide()
        self._changed_for: tuple[str, str] | None = None  # (user, new password) while asked

        column = QVBoxLayout()
        column.addWidget(title)
        column.addWidget(self.gateway_label)
        column.addWidget(self.gateway_state)
        column.addSpacing(8)
        column.addLayout(form)
        column.addLayout(buttons)
        column.addWidget(self.error)
        column.addWidget(self.changed)
        column.addSpacing(8)
        column.addStretch(1)  # the demo accounts go above (attach): nothing stretched apart
        self._column = column
        outer = QHBoxLayout(self)
        outer.addStretch(1)
        box = QWidget()
        box.setLayout(column)
        box.setMaximumWidth(720)
        outer.addWidget(box, 4)
        outer.addStretch(1)

        self.sign_in.clicked.connect(self.do_sign_in)
        self.unlock_offline.clicked.connect(self.do_unlock)
        self.keep_cache.clicked.connect(lambda: self._after_password_change(fresh=False))
        self.previous.returnPressed.connect(lambda: self._after_password_change(fresh=False))
        self.start_fresh.clicked.connect(lambda: self._after_password_change(fresh=True))
        for edit in (self.user, self.password, self.otp):
            edit.returnPressed.connect(self.submit)
        self._accounts: list[dict[str, Any]] = []
        if controller is not None:
            self.attach(controller)

    @property
    def controller(self) -> AppController:
        if self._controller is None:
            raise RuntimeError("the sign-in page has no controller yet (LoginPage.attach)")
        return self._controller

    def attach(self, controller: AppController) -> None:
        """The controller, with the validated settings: the gateway's URL, the remembered user
        id (unless one is typed already), and a sign-in that waited for it."""
        from PySide6.QtCore import Qt

        self._controller = controller
        self._make_demo_list()
        self.gateway_label.setTextFormat(Qt.TextFormat.PlainText)  # a URL from a settings file
        self.gateway_label.setText(f"Gateway: {controller.gateway_url}")
        if not self.user.text() and not self.user.isModified():
            self.user.setText(controller.settings.last_user)
            if self.user.text() and self.user.hasFocus():
                self.password.setFocus()  # where typing starts, as when shown
        waiting, self._waiting = self._waiting, None
        if waiting is not None:
            waiting(controller)

    def _make_demo_list(self) -> None:
        from PySide6.QtWidgets import QHeaderView, QTableWidget

        self.demo_title = QLabel("Training demo accounts (synthetic; training gateway only). "
                                 "Double-click one (or select it and press Enter) to fill the "
                                 "form with a fresh code.")
        self.demo_title.setWordWrap(True)
        self.demo = QTableWidget(0, 4)
        self.demo.setObjectName("DemoAccounts")
        self.demo.setHorizontalHeaderLabels(["User id", "Name", "Role", "ORI"])
        self.demo.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.demo.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        header = self.demo.horizontalHeader()
        for section in range(4):
            header.setSectionResizeMode(section, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.demo.verticalHeader().setVisible(False)
        self.demo_title.hide()
        self.demo.hide()
        # Enter or a double-click on a row (the platform's "activate").
        self.demo.activated.connect(lambda index: self._use_demo_row(index.row()))
        at = self._column.count() - 1  # above the closing stretch
        self._column.insertWidget(at, self.demo_title)
        self._column.insertWidget(at + 1, self.demo, 10)  # the list takes the room when shown

    def _when_attached(self, action: Callable[[AppController], None]) -> None:
        """Busy, then ``action`` with the controller: now, or at :meth:`attach`."""
        self._busy(True)
        if self._controller is None:
            self._waiting = action
        else:
            action(self._controller)

    def focus_first(self) -> None:
        """Where typing starts (the window calls it whenever the page is shown): the password
        when the user id is remembered, else the user id. Not a showEvent: a Python override
        of an event handler makes Qt's event types on the first window's way (QEvent's ~180
        enum members, ~10 ms)."""
        (self.password if self.user.text() else self.user).setFocus()

    # -- the gateway's state ---------------------------------------------------------------------
    def refresh_gateway(self) -> None:
        self.gateway_state.setText("Checking the gateway…")
        self.controller.check_gateway(self._gateway_checked)

    def _gateway_checked(self, result: Any, error: BaseException | None) -> None:
        from PySide6.QtWidgets import QTableWidgetItem

        self._set_offline(error is not None)
        if error is not None:
            self.gateway_state.setText(
                f"Gateway not reachable: {describe_error(error)} "
                "You can unlock offline and work from the cache; queries wait in the outbox.")
            self.gateway_state.setObjectName("ConnOffline")
            self._restyle(self.gateway_state)
            # Offline: say "training" if this gateway said so the last time it answered.
            self.training_detected.emit(self.controller.last_gateway_training)
            return
        health, accounts = result
        self.gateway_training = bool(health.get("training"))
        self.training_detected.emit(self.gateway_training)
        self.controller.remember_gateway_kind(self.gateway_training)
        kind = "TRAINING gateway" if self.gateway_training else "Gateway"
        self.gateway_state.setText(f"{kind} online (version {health.get('version', '?')}).")
        self.gateway_state.setObjectName("ConnOnline")
        self._restyle(self.gateway_state)
        self._accounts = accounts
        self.demo.setRowCount(len(accounts))
        for row, account in enumerate(accounts):
            for col, key in enumerate(("user_id", "name", "role", "ori")):
                self.demo.setItem(row, col, QTableWidgetItem(str(account.get(key, ""))))
        visible = bool(accounts)
        self.demo_title.setVisible(visible)
        self.demo.setVisible(visible)

    def _set_offline(self, offline: bool) -> None:
        self.offline = offline
        self.otp.setPlaceholderText("not needed offline: Enter unlocks with your password"
                                    if offline else "6-digit code from your authenticator")

    @staticmethod
    def _restyle(widget: QWidget) -> None:
        widget.style().unpolish(widget)
        widget.style().polish(widget)

    def _use_demo_row(self, row: int, _column: int = 0) -> None:
        self.use_demo_account(str(self._accounts[row]["user_id"]))

    def use_demo_account(self, user_id: str) -> None:
        """Fill the form from a demo account, fetching a code that is valid now."""

        def filled(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.show_error(describe_error(error))
                return
            _health, accounts = result
            self._gateway_checked(result, None)
            for account in accounts:
                if account.get("user_id") == user_id:
                    self.user.setText(user_id)
                    if "otp_now" not in account:  # a trainer's sign-in is never listed
                        self.password.clear()
                        self.otp.clear()
                        self.show_error("A trainer signs in with the password and the code "
                                        "shown where the gateway runs (mdt-gateway otp "
                                        f"{user_id}).")
                        self.password.setFocus()
                        return
                    self.password.setText(str(account.get("password", "")))
                    self.otp.setText(str(account.get("otp_now", "")))
                    self.sign_in.setFocus()

        self.controller.check_gateway(filled)

    # -- signing in ------------------------------------------------------------------------------
    def _busy(self, busy: bool) -> None:
        for widget in (self.sign_in, self.unlock_offline, self.user, self.password, self.otp,
                       self.previous, self.keep_cache, self.start_fresh):
            widget.setEnabled(not busy)
        if busy:
            self.error.setText("")
        self.busy = busy
        self.busy_changed.emit(busy)

    def show_error(self, message: str) -> None:
        self.error.setText(message)

    def submit(self) -> None:
        """Enter in the form: offline, unlock the cache with the password alone (no gateway
        to check a one-time code); online, sign in."""
        if self.offline:
            self.do_unlock()
        else:
            self.do_sign_in()

    def do_sign_in(self) -> None:
        user, password, otp = self.user.text().strip(), self.password.text(), self.otp.text()
        if not user or not password or not otp:
            self.show_error("Enter your user id, password and one-time code "
                            "(or use Unlock offline without the gateway).")
            return
        self._when_attached(lambda controller: controller.login(
            user, password, otp.strip(), self._finished))

    def do_unlock(self) -> None:
        user, password = self.user.text().strip(), self.password.text()
        if not user or not password:
            self.show_error("Enter your user id and password to unlock offline.")
            return
        self._when_attached(lambda controller: controller.unlock(user, password, self._finished))

    def _after_password_change(self, *, fresh: bool) -> None:
        if self._changed_for is None:
            return
        user, password = self._changed_for
        previous = self.previous.text()
        if not fresh and not previous:
            self.show_error("Enter your previous password to keep the cache, or start fresh.")
            return
        otp = self.otp.text().strip()
        self._when_attached(lambda controller: controller.login(
            user, password, otp, self._finished,
            previous_password=None if fresh else previous, start_fresh=fresh))

    def _finished(self, _operator: Any, error: BaseException | None) -> None:
        from PySide6.QtCore import Qt

        self._busy(False)
        if isinstance(error, PasswordChangedError):
            if self._changed_for is None:
                self._changed_for = (self.user.text().strip(), self.password.text())
            self.previous.clear()
            self.changed.show()
            self.show_error(describe_error(error))
            self.previous.setFocus(Qt.FocusReason.OtherFocusReason)
            return
        self._changed_for = None
        self.changed.hide()
        self.previous.clear()
        if error is not None:
            self.password.clear()
            self.otp.clear()
            self.show_error(describe_error(error))
            self.password.setFocus(Qt.FocusReason.OtherFocusReason)
        else:
            self.password.clear()
            self.otp.clear()
