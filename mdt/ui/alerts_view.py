"""The history of every alert in the cache (offline too): what came, when, and who acknowledged it.

Open alerts come first, each with its whole text (wrapped, never cut); selecting one shows all it
carries, each field by its meaning (a detainer's subject, basis, requested action and contact; a
request's data set; a hit's NIC number, ORI and OCA), never the terminal's own ids: a hit offers
"Open the return" instead. "Acknowledge" records the operator's acknowledgement.
"""

from __future__ import annotations

import html
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QSplitter,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mdt.app.errors import describe_error
from mdt.core.alert_fields import alert_rows, return_to_open
from mdt.core.alerts import KIND_WORDS, AlertKind
from mdt.ui.table_model import HeaderedTableModel, Index, row_table
from mdt.ui.theme import text_accent

if TYPE_CHECKING:
    from mdt.app.alerts import AlertCenter


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
    """Everything an alert carries, as HTML for the detail pane: whole and wrapped, each field
    by its meaning (:mod:`mdt.core.alert_fields`), no internal ids."""
    rows = alert_rows(alert)
    if alert.get("deadline"):
        rows.append(("Deadline (UTC)", str(alert["deadline"])))
    rows.append(("Acknowledged", f"{alert['acked_by']} at {alert['acked_at']}"
                 + (f" — {alert['ack_note']}" if alert.get("ack_note") else "")
                 if alert.get("acked_at") else "not yet"))
    return "<table cellspacing='4'>" + "".join(
        f"<tr><td valign='top'><b>{html.escape(k)}</b></td><td>{html.escape(v)}</td></tr>"
        for k, v in rows) + "</table>"


class AlertsDialog(QDialog):
    """Every alert kept in the cache; open ones first."""

    acknowledge_requested = Signal(str)
    open_return_requested = Signal(str)  # the return a hit alert came with

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Alerts — history")
        self.resize(1000, 560)
        self.model = AlertHistoryModel(self)
        self.table = row_table(self.model, "AlertHistory", stretch=3)
        # Every alert's whole text: wrapped in its column, each row in view as tall as its
        # text, nothing cut off with "…". The other columns are sized to their contents once;
        # the alert's own stays within the window (sized to its contents too, a long one would
        # run off to the side).
        self.table.setWordWrap(True)
        self.table.setTextElideMode(Qt.TextElideMode.ElideNone)
        header = self.table.horizontalHeader()
        self.model.modelReset.connect(lambda: header.setSectionResizeMode(
            3, QHeaderView.ResizeMode.Stretch))
        self._fitting = QTimer(self)
        self._fitting.setSingleShot(True)
        self._fitting.setInterval(0)
        self._fitting.timeout.connect(self.fit_rows)
        header.sectionResized.connect(lambda *_: self._fitting.start())
        self.table.verticalScrollBar().valueChanged.connect(lambda _: self._fitting.start())
        self.details = QTextBrowser()
        self.details.setObjectName("AlertDetails")
        self.ack = QPushButton("Acknowledge selected")
        self.ack.setEnabled(False)
        self.open_return = QPushButton("&Open the return")
        self.open_return.setObjectName("AlertOpenReturn")
        self.open_return.setEnabled(False)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        split.addWidget(self.details)
        buttons = QHBoxLayout()
        buttons.addWidget(self.ack)
        buttons.addWidget(self.open_return)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(split, 1)
        layout.addLayout(buttons)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selected())
        self.ack.clicked.connect(self._acknowledge)
        self.open_return.clicked.connect(self._open_return)

    def set_alerts(self, alerts: list[dict[str, Any]]) -> None:
        selected = self.selected()
        self.model.set_alerts(alerts)
        row = 0
        for n, alert in enumerate(alerts):
            if selected and alert["id"] == selected["id"]:
                row = n
        if alerts:
            self.table.selectRow(row)
        self.fit_rows()  # before the next paint: a reload does not flash short rows
        self._selected()

    def fit_rows(self) -> None:
        """Make the rows in view as tall as their wrapped text. Only those: measuring every
        row of a long history at each reload costs the GUI thread about a millisecond a row.
        The selected row stays in view when the rows above it grow."""
        table = self.table
        row = table.rowAt(0)
        if row < 0:
            return
        current = table.currentIndex()
        bottom = table.viewport().height()
        in_view = current.isValid() and 0 <= table.rowViewportPosition(current.row()) < bottom
        grew = False
        while 0 <= row < self.model.rowCount() and table.rowViewportPosition(row) < bottom:
            before = table.rowHeight(row)
            table.resizeRowToContents(row)
            grew = grew or table.rowHeight(row) != before
            row += 1
        if grew:  # once the view has the new heights: the selected row back in view, and
            # the rows that brings in (or that came into view at the bottom) fitted in turn
            QTimer.singleShot(0, self, lambda: self._refit(current if in_view else None))

    def _refit(self, keep: QModelIndex | None) -> None:
        if keep is not None and keep.isValid() and keep == self.table.currentIndex():
            self.table.updateGeometries()  # the scroll range for the new heights, now
            self.table.scrollTo(keep)
        self.fit_rows()

    def load(self, center: AlertCenter, select: str = "") -> None:
        """Read the history (on a worker) and show it; ``select`` the alert with this id."""

        def loaded(alerts: Any, error: BaseException | None) -> None:
            if error is not None:
                self.details.setPlainText(
                    f"The alert history could not be read: {describe_error(error)}")
                return
            self.set_alerts(alerts)
            for row, alert in enumerate(alerts):
                if select and alert["id"] == select:
                    self.table.selectRow(row)

        center.history(loaded)

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.alerts[rows[0].row()] if rows else None

    def _selected(self) -> None:
        alert = self.selected()
        self.details.setHtml(alert_details(alert) if alert else "<p>No alerts.</p>")
        self.ack.setEnabled(bool(alert and not alert.get("acked_at")))
        self.open_return.setEnabled(bool(alert and return_to_open(alert)))

    def _acknowledge(self) -> None:
        alert = self.selected()
        if alert and not alert.get("acked_at"):
            self.acknowledge_requested.emit(str(alert["id"]))

    def _open_return(self) -> None:
        alert = self.selected()
        if alert and return_to_open(alert):
            self.open_return_requested.emit(return_to_open(alert))
            self.accept()  # the return is shown in the window behind
