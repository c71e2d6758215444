"""The dispatcher's unit list: the agency's terminals, who is signed in, when each was last heard
from, and a message (AM) to one of them in one action.

The list comes from the gateway (``GET /v1/units``), read on a worker every 30 seconds while the
link is up; offline, the last list read stays, marked with its age.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from mdt.ui.returns_view import age_text

Index = QModelIndex | QPersistentModelIndex


class UnitListModel(QAbstractTableModel):
    HEADERS = ("Unit", "Name", "Role", "Status", "Last contact")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.units: list[dict[str, Any]] = []
        self.now: datetime | None = None

    def set_units(self, units: list[dict[str, Any]], now: datetime | None = None) -> None:
        self.beginResetModel()
        # Signed-in units first, then by unit name: who can take a call now.
        self.units = sorted(units, key=lambda u: (not u.get("signed_in"),
                                                  str(u.get("unit") or u.get("user_id"))))
        self.now = now
        self.endResetModel()

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.units)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.units):
            return None
        unit = self.units[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            contact = unit.get("last_contact_at") or unit.get("last_login_at")
            values = (str(unit.get("unit") or unit.get("user_id")), str(unit.get("name") or ""),
                      str(unit.get("role") or ""),
                      "signed in" if unit.get("signed_in") else "off",
                      age_text(str(contact), self.now) if contact else "never")
            return values[index.column()]
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 3:
            return QBrush(QColor("#2e8b3e" if unit.get("signed_in") else "#8a8f96"))
        return None


class UnitListView(QWidget):
    message_requested = Signal(str)  # the unit's name, for an AM addressed to it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("<b>Units</b>")
        self.model = UnitListModel(self)
        self.table = QTableView()
        self.table.setObjectName("UnitList")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        for column in range(len(UnitListModel.HEADERS)):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.message = QPushButton("Message unit (AM)…")
        self.message.clicked.connect(self._message)
        self.table.doubleClicked.connect(lambda _index: self._message())
        buttons = QHBoxLayout()
        buttons.addWidget(self.message)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.read_at: datetime | None = None

    def set_units(self, units: list[dict[str, Any]]) -> None:
        self.read_at = datetime.now(UTC)
        self.model.set_units(units, self.read_at)
        on = sum(1 for u in units if u.get("signed_in"))
        self.heading.setText(f"<b>Units</b> — {on} of {len(units)} signed in")

    def mark_stale(self, reason: str) -> None:
        """The gateway could not be asked: keep the last list and say how old it is."""
        when = age_text(self.read_at.isoformat()) if self.read_at else "never read"
        self.heading.setText(f"<b>Units</b> — not updated ({reason}); list from {when}")

    def selected(self) -> dict[str, Any] | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.units[rows[0].row()] if rows else None

    def _message(self) -> None:
        unit = self.selected()
        if unit is not None:
            self.message_requested.emit(str(unit.get("unit") or unit.get("name") or ""))
