"""Settings (Ctrl+,): the operator's part of the typed registry in :mod:`mdt.settings`.

Each field shows its setting's own description; one the agency locked (``mdt-agency.toml``) is
shown but cannot be changed. Values are checked before anything is kept (the message names the
setting), saved on a worker, and applied at once: a new gateway URL or CA bundle restarts the
link, a theme, contrast or type size change repaints the whole application.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mdt.desktop.speech import read_aloud_enabled
from mdt.settings import DECLARED, SettingsError

if TYPE_CHECKING:
    from mdt.app.controller import AppController


class SettingsDialog(QDialog):
    applied = Signal()

    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.settings = controller.terminal.settings
        self.setWindowTitle("Settings")
        get = self.settings.get
        self.gateway_url = QLineEdit(self.settings.gateway_url)
        self.ca_bundle = QLineEdit(self.settings.ca_bundle)
        browse = QPushButton("Choose…")
        browse.clicked.connect(self._choose_ca)
        ca_row = QHBoxLayout()
        ca_row.addWidget(self.ca_bundle, 1)
        ca_row.addWidget(browse)
        self.operator_phone = QLineEdit(self.settings.operator_phone)
        self.theme = QComboBox()
        self.theme.addItems(["day", "night"])
        self.theme.setCurrentText(self.settings.theme)
        self.high_contrast = QCheckBox("High contrast")
        self.high_contrast.setChecked(self.settings.high_contrast)
        self.font_scale = QDoubleSpinBox()
        self.font_scale.setRange(0.8, 2.0)
        self.font_scale.setSingleStep(0.1)
        self.font_scale.setValue(self.settings.font_scale)
        self.read_aloud = QCheckBox("Read new critical and high alerts aloud")
        operator = getattr(controller, "operator", None)
        # What is in force (on by default for an officer in a vehicle), kept unset until changed
        self._read_aloud_was = read_aloud_enabled(
            self.settings, getattr(operator, "role", None),
            bool(getattr(controller.terminal.agency, "in_vehicle_exempt", False)))
        self.read_aloud.setChecked(self._read_aloud_was)
        self.retention = QLabel(f"{get('retention_hours'):g} hours")
        form = QFormLayout()
        rows: list[tuple[str, Any, str]] = [
            ("Gateway URL", self.gateway_url, "gateway_url"),
            ("CA bundle", ca_row, "ca_bundle"),
            ("Phone (PHN, PHO)", self.operator_phone, "operator_phone"),
            ("Theme (F10)", self.theme, "theme"),
            ("", self.high_contrast, "high_contrast"),
            ("Type size", self.font_scale, "font_scale"),
            ("", self.read_aloud, "read_alerts_aloud"),
            ("Cached returns kept", self.retention, "retention_hours"),
        ]
        for label, widget, key in rows:
            if isinstance(widget, QHBoxLayout):
                form.addRow(label, widget)
            else:
                form.addRow(label, widget)
                widget.setToolTip(DECLARED[key].doc)
                if self.settings.is_locked(key):
                    widget.setEnabled(False)
                    widget.setToolTip(DECLARED[key].doc + " (set by the agency)")
        self.error = QLabel("")
        self.error.setObjectName("CommandError")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def _choose_ca(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "The agency's CA certificate", "",
                                              "PEM files (*.pem *.crt);;All files (*)")
        if path:
            self.ca_bundle.setText(path)

    def values(self) -> dict[str, Any]:
        return {"gateway_url": self.gateway_url.text().strip(),
                "ca_bundle": self.ca_bundle.text().strip(),
                "operator_phone": self.operator_phone.text().strip(),
                "theme": self.theme.currentText(), "high_contrast": self.high_contrast.isChecked(),
                "font_scale": round(self.font_scale.value(), 2),
                **({"read_alerts_aloud": self.read_aloud.isChecked()}
                   if self.read_aloud.isChecked() != self._read_aloud_was else {})}

    def check(self, values: dict[str, Any]) -> str:
        """The first problem, as a sentence naming the setting, or ''."""
        return self.settings.check(values)  # the checks live in mdt.settings

    def save(self) -> None:
        values = self.values()
        problem = self.check(values)
        if problem:
            self.error.setText(problem)
            return
        old_gateway = (self.settings.get("gateway_url"), self.settings.get("ca_bundle"))
        try:
            for key, value in values.items():
                # read-aloud is in values only when changed from what is in force
                if not self.settings.is_locked(key) and (self.settings.get(key) != value
                                                         or key == "read_alerts_aloud"):
                    self.settings.set(key, value)
        except SettingsError as exc:
            self.error.setText(str(exc))
            return
        terminal = self.controller.terminal
        gateway_changed = (values["gateway_url"], values["ca_bundle"]) != old_gateway

        def work() -> None:
            self.settings.save()
            if gateway_changed:
                terminal.set_gateway(values["gateway_url"], values["ca_bundle"])

        self.controller.tasks.run(work)
        self.applied.emit()
        self.accept()
