"""Signing in again when the gateway session expired mid-shift, without losing the screen or
anything queued: the terminal keeps its open cache; only the token is renewed."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from mdt.app.controller import AppController
from mdt.app.errors import describe_error


class ReloginDialog(QDialog):
    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.setWindowTitle("Sign in again")
        operator = controller.operator
        who = operator.user_id if operator else ""
        intro = QLabel(f"The gateway session of {who} has ended. Sign in again to send and "
                       "receive; nothing queued is lost.")
        intro.setWordWrap(True)
        self.password = QLineEdit()
        self.password.setObjectName("ReloginPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.otp = QLineEdit()
        self.otp.setObjectName("ReloginOtp")
        self.otp.setMaxLength(8)
        self.error = QLabel("")
        self.error.setObjectName("LoginError")
        self.error.setWordWrap(True)
        form = QFormLayout()
        form.addRow("&Password", self.password)
        form.addRow("One-time &code", self.otp)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)

    def submit(self) -> None:
        if not self.password.text() or not self.otp.text().strip():
            self.error.setText("Enter your password and a one-time code.")
            return
        self.buttons.setEnabled(False)
        self.controller.relogin(self.password.text(), self.otp.text().strip(), self._done)

    def _done(self, _result: Any, error: BaseException | None) -> None:
        self.buttons.setEnabled(True)
        self.password.clear()
        self.otp.clear()
        if error is not None:
            self.error.setText(describe_error(error))
            return
        self.accept()
