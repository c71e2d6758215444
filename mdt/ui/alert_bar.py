"""The alert bar: the most urgent open alert, across the top of the window, under nothing.

It sits in the main window's own layout (not a pop-up a dialog could hide, not a dock that can be
closed) and shows the loudest open alert: its severity, what it is, the agency's policy prompt
for an Immigration Violator File hit, the countdown to its deadline in the gateway's time, what
to do (confirm the hit, answer the request, send the next request) and how many more are waiting.

When the alert is about the return on screen, the bar leaves it to that return's header (one
banner for one hit, not two): the header then carries the acknowledge button, and the bar comes
back as soon as the return is not on screen.

A critical alert stays until a person acknowledges it: there is no close button, Escape does
nothing, and acknowledging is a deliberate action (the button, or Ctrl+K) that is audited.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mdt.core.alerts import (
    IVF_CATEGORY_WORDS,
    KIND_WORDS,
    AlertKind,
    AlertSeverity,
    bar_order,
    ivf_prompt,
)
from mdt.core.alerts import parse_time as parse_alert_time
from mdt.core.confirmation import deadline_text
from mdt.ui.adaptive import AdaptiveBox, WrappingLabel
from mdt.ui.restyle import restyle

ACTIONS = {
    AlertKind.HIT: "Confirm hit (YQ)…", AlertKind.CAUTION: "Confirm hit (YQ)…",
    AlertKind.IVF_HIT: "Confirm with LESC (YQ)…", AlertKind.DELAYED_HIT: "Confirm hit (YQ)…",
    AlertKind.INCOMING_YQ: "Answer (YR)…", AlertKind.CONFIRMATION_OVERDUE: "Send next request…",
    AlertKind.DETAINER: "Show detainer…", AlertKind.YR: "Show hit…",
}


def gateway_now(offset_seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=offset_seconds)


class AlertBar(QFrame):
    acknowledge_requested = Signal(str)  # alert id
    action_requested = Signal(object)  # the alert (dict)
    history_requested = Signal()
    # The alert left to the header of the return on screen (None: none), the acknowledge
    # button's words and the "All alerts" button's.
    deferred = Signal(object, str, str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("AlertBar")
        self.alerts: list[dict[str, Any]] = []
        self.current: dict[str, Any] | None = None
        self.pinned: str | None = None  # a new critical alert holding the bar
        self._known: set[str] | None = None  # the ids shown last time (None: never yet)
        self.on_screen: str | None = None  # the return shown in the detail pane, if any
        self.offset_seconds = 0.0
        self.policy_prompts: dict[str, str] = {}
        self.severity = QLabel("")
        self.severity.setObjectName("AlertSeverity")
        self.title = WrappingLabel("")
        self.title.setObjectName("AlertTitle")
        self.detail = WrappingLabel("")
        self.detail.setObjectName("AlertDetail")
        self.countdown = QLabel("")
        self.countdown.setObjectName("AlertCountdown")
        self.action = QPushButton("")
        self.action.setObjectName("AlertAction")
        self.ack = QPushButton("Acknowledge (Ctrl+K)")
        self.ack.setObjectName("AlertAcknowledge")
        self.more = QPushButton("")
        self.more.setObjectName("AlertMore")
        for button in (self.action, self.ack, self.more):
            button.setMinimumHeight(40)  # a gloved finger on an in-car touch screen
        # The severity over the title (not a column of its own: the words get the width); the
        # buttons beside the words, or under them when the bar is too narrow for both.
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.severity)
        text.addWidget(self.title)
        text.addWidget(self.detail)
        buttons = QHBoxLayout()
        buttons.addWidget(self.countdown)
        buttons.addWidget(self.action)
        buttons.addWidget(self.ack)
        buttons.addWidget(self.more)
        row = AdaptiveBox(self)
        row.setContentsMargins(8, 4, 8, 4)
        row.addLayout(text, 1)
        row.addLayout(buttons)
        self.ack.clicked.connect(self.acknowledge_current)
        self.action.clicked.connect(lambda: self.current and self.action_requested.emit(
            self.current))
        self.more.clicked.connect(self.history_requested.emit)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update_countdown)
        self.hide()

    # -- what it shows ---------------------------------------------------------------------------
    def set_alerts(self, open_alerts: list[dict[str, Any]], offset_seconds: float) -> None:
        # One ordered list (mdt.core.alerts.bar_order): a new critical alert takes the bar,
        # then officer-safety hits, then the nearest deadline.
        self.alerts, self.pinned = bar_order(open_alerts, known=self._known, pinned=self.pinned)
        self._known = {str(a["id"]) for a in open_alerts}
        self.offset_seconds = offset_seconds
        self.current = self.alerts[0] if self.alerts else None
        if self.current is None:
            self._tick.stop()
            self.hide()
            self.deferred.emit(None, "", "")
            return
        alert = self.current
        kind = AlertKind(alert["kind"])
        severity = AlertSeverity(alert["severity"])
        # Restyled only when its severity or request changes (a re-polish of the bar at every
        # read of the alerts was a few ms each time, most of them changing nothing on screen).
        restyled = restyle(self, severity=severity.value,
                           request=int(alert["body"].get("rno") or 1))
        self.severity.setText(f"{severity.value.upper()} · {KIND_WORDS.get(kind, kind)}")
        self.title.setText(str(alert["title"]))
        self.detail.setText(self.detail_text(alert))
        self.action.setText(ACTIONS.get(kind, ""))
        self.action.setVisible(kind in ACTIONS)
        self.ack.setText("Acknowledge (Ctrl+K)" if severity is AlertSeverity.CRITICAL
                         else "Seen (Ctrl+K)")
        others = len(self.alerts) - 1
        self.more.setText(f"All alerts (+{others})" if others else "All alerts")
        if restyled:  # the labels' rules select on the bar's properties too
            for widget in (self.severity, self.title):
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        self._update_countdown()
        self._tick.start()
        self._place()

    def set_on_screen(self, return_id: str | None) -> None:
        """The return now in the detail pane (None: no return on screen)."""
        if return_id != self.on_screen:
            self.on_screen = return_id
            if self.current is not None:
                self._place()

    def is_deferred(self) -> bool:
        """Whether the current alert is shown by the header of the return on screen."""
        return self.current is not None and self.on_screen is not None and \
            str(self.current["body"].get("return_id") or "") == self.on_screen

    def _place(self) -> None:
        deferred = self.is_deferred()
        self.setVisible(not deferred)
        self.deferred.emit(self.current if deferred else None, self.ack.text(),
                           self.more.text() if len(self.alerts) > 1 else "")

    def detail_text(self, alert: dict[str, Any]) -> str:
        body = alert["body"]
        kind = AlertKind(alert["kind"])
        parts = [str(body.get("summary") or "")]
        if kind is AlertKind.IVF_HIT or body.get("hit_kind") == AlertKind.IVF_HIT:
            category = str(body.get("category") or "")
            parts = [f"Category: {IVF_CATEGORY_WORDS.get(category, category)}. AGENCY POLICY: "
                     f"{ivf_prompt(category, self.policy_prompts)}"]
        elif kind is AlertKind.DETAINER:
            contact = body.get("contact") or {}
            parts.append(f"Issued by {body.get('issuing_office') or '?'}; contact "
                         f"{contact.get('name', '?')} {contact.get('phone', '')}".strip())
        elif kind is AlertKind.INCOMING_YQ:
            parts.append(f"From {body.get('requesting_name') or '?'} "
                         f"({body.get('requesting_ori') or '?'}) {body.get('phone') or ''}")
        return " ".join(p for p in parts if p)

    def remaining(self) -> timedelta | None:
        deadline = parse_alert_time((self.current or {}).get("deadline"))
        return None if deadline is None else deadline - gateway_now(self.offset_seconds)

    def _update_countdown(self) -> None:
        remaining = self.remaining()
        text = deadline_text(remaining)
        if remaining is not None and (self.current or {}).get("kind") == AlertKind.DETAINER:
            text = "hold window " + text
        self.countdown.setText(text)
        overdue = remaining is not None and remaining.total_seconds() < 0
        restyle(self.countdown, overdue=overdue)

    # -- acknowledging ---------------------------------------------------------------------------
    def acknowledge_current(self) -> None:
        if self.current is not None:
            self.acknowledge_requested.emit(str(self.current["id"]))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            event.accept()  # Escape never dismisses an alert
            return
        super().keyPressEvent(event)
