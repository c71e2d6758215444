"""The return in view: its detail under one header (the headline; the hits' confirmation lines
under it; the alert's acknowledge button when the alert bar leaves the alert to this header,
because the alert is about this return), and what to do with it (F9, the actions menu, pin)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import SignalInstance
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from mdt.ui.alert_bar import AlertBar
from mdt.ui.confirmation_view import HitConfirmationPanel
from mdt.ui.return_actions import ReturnActions, ReturnsHost
from mdt.ui.return_detail import ReturnDetail


class ReturnPane(QWidget):
    def __init__(self, host: ReturnsHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.detail = ReturnDetail(states_below=True)
        self.hit_panel = HitConfirmationPanel()
        self.detail.header_extra.addWidget(self.hit_panel)
        self.ack_here = QPushButton("Acknowledge (Ctrl+K)")
        self.ack_here.setObjectName("AlertAcknowledge")
        self.alerts_here = QPushButton("All alerts")
        self.alerts_here.setObjectName("AlertMore")
        for button in (self.ack_here, self.alerts_here):
            self.detail.header_buttons.addWidget(button)
            button.hide()
        self.return_actions = ReturnActions(host)
        # F9 beside the actions (on the tabs' row in the officer layout: the record, not a row
        # of buttons, gets the height).
        self.return_actions.row.insertWidget(0, self.detail.toggle)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.addWidget(self.detail, 1)

    def actions_below(self) -> None:
        """The actions under the return (a desk layout has no tab row to put them on)."""
        self._layout.addWidget(self.return_actions)

    def show_alert_here(self, alert: Any, ack_text: str, more_text: str) -> None:
        """The alert bar left ``alert`` (about the return in view) to this header; None: no
        alert is left to it."""
        self.ack_here.setVisible(alert is not None)
        self.ack_here.setText(ack_text or "Acknowledge (Ctrl+K)")
        self.alerts_here.setVisible(alert is not None and bool(more_text))
        self.alerts_here.setText(more_text)

    def follow(self, bar: AlertBar, on_screen: SignalInstance,
               open_alerts: Callable[[], object]) -> None:
        """One banner for one hit: ``bar`` leaves an alert about the return in view (told by
        ``on_screen``) to this header, whose buttons then act for it."""
        on_screen.connect(bar.set_on_screen)
        bar.deferred.connect(self.show_alert_here)
        self.ack_here.clicked.connect(bar.acknowledge_current)
        self.alerts_here.clicked.connect(lambda: open_alerts())
