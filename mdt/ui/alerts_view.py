"""The history of every alert in the cache (offline too): what came, when, and who acknowledged it.

Open alerts come first; selecting one shows all it carries (a detainer's subject, basis, requested
action and contact; a request's data set); "Acknowledge" records the operator's acknowledgement.
"""

from __future__ import annotations

import html
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mdt.core.alerts import KIND_WORDS, AlertKind
from mdt.ui.table_model import HeaderedTableModel, Index, row_table
from mdt.ui.theme import text_accent


def _short_time(iso: str | None) -> str:
    """``2026-11-24T20:01:02.123Z`` → ``11-24 20:01:02`` (UTC, as the switch keeps time)."""
    if not iso:
        return ""
    return iso[5:19].replace("T", " ")


class AlertHistoryModel(HeaderedTableModel):
    HEADERS = ("Received (UTC)", "Severity", "Kind", "Alert", "Deadline (UTC)", "Acknowledged")

    @property
    def alerts(self) -> list[dict[str, Any]]:
        return self.rows

    def set_alerts(self, alerts: list[dict[str, Any]]) -> None:
        self.set_rows(alerts)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        alert = self.row(index)
        if alert is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == 0:
                return _short_time(alert.get("created_at"))
            if column == 1:
                return str(alert["severity"]).upper()
            if column == 2:
                try:
                    return KIND_WORDS[AlertKind(alert["kind"])]
                except ValueError:
                    return str(alert["kind"])
            if column == 3:
                return str(alert["title"])
            if column == 4:
                return _short_time(alert.get("deadline"))
            if column == 5:
                if not alert.get("acked_at"):
                    return "NOT ACKNOWLEDGED"
                return f"{alert['acked_by']} at {_short_time(alert['acked_at'])}"
            return None
        if role == Qt.ItemDataRole.FontRole and not alert.get("acked_at"):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column == 1 and \
                alert["severity"] == "critical":
            return QBrush(text_accent("hit"))
        return None


def alert_details(alert: dict[str, Any]) -> str:
    """Everything an alert carries, as HTML for the detail pane."""
    body = alert.get("body") or {}
    rows: list[tuple[str, str]] = [("Alert", str(alert["title"]))]
    if body.get("summary"):
        rows.append(("What to do", str(body["summary"])))
    if alert["kind"] == AlertKind.DETAINER:
        subject = body.get("subject") or {}
        rows += [("Subject", " ".join(f"{k.upper()}/{v}" for k, v in subject.items() if v)),
                 ("Issuing office", str(body.get("issuing_office") or "")),
                 ("Basis", str(body.get("basis") or "")),
                 ("Requested", "; ".join(body.get("asks") or [])),
                 ("Warrant", str(body.get("warrant") or "")),
                 ("Contact", " ".join(str(v) for v in (body.get("contact") or {}).values())),
                 ("Concerns", f"query {((body.get('related') or {}).get('message_id') or '')}")]
    else:
        for key, value in body.items():
            if key not in ("summary",) and value not in (None, "", [], {}):
                rows.append((key.replace("_", " ").capitalize(), str(value)))
    if alert.get("deadline"):
        rows.append(("Deadline (UTC)", str(alert["deadline"])))
    rows.append(("Acknowledged", f"{alert['acked_by']} at {alert['acked_at']}"
                 + (f" — {alert['ack_note']}" if alert.get("ack_note") else "")
                 if alert.get("acked_at") else "not yet"))
    return "<table cellspacing='4'>" + "".join(
        f"<tr><td><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>" for k, v in rows
    ) + "</table>"


class AlertsDialog(QDialog):
    """Every alert kept in the cache; open ones first."""

    acknowledge_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alerts — history")
        self.resize(1000, 560)
        self.model = AlertHistoryModel(self)
        self.table = row_table(self.model, "AlertHistory", stretch=3)
        self.details = QTextBrowser()
        self.details.setObjectName("AlertDetails")
        self.ack = QPushButton("Acknowledge selected")
        self.ack.setEnabled(False)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        buttons = QHBoxLayout()
        buttons.addWidget(self.ack)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.ack.clicked.connect(self._acknowledge)

    def set_alerts(self, alerts: list[dict[str, Any]]) -> None:
        selected = self.selected()
        self.model.set_alerts(alerts)
        row = 0
        for n, alert in enumerate(alerts):
            if selected and alert["id"] == selected["id"]:
                row = n
        if alerts:
            self.table.selectRow(row)
        self._selected()

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.alerts[rows[0].row()] if rows else None

    def _selected(self) -> None:
        alert = self.selected()
        self.details.setHtml(alert_details(alert) if alert else "<p>No alerts.</p>")
        self.ack.setEnabled(bool(alert and not alert.get("acked_at")))

    def _acknowledge(self) -> None:
        alert = self.selected()
        if alert and not alert.get("acked_at"):
            self.acknowledge_requested.emit(str(alert["id"]))
