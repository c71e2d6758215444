"""The dispatcher's unit list: the agency's terminals, who is signed in, when each was last heard
from, and a message (AM) to one of them in one action.

The list comes from the gateway (``GET /v1/units``), read on a worker every 30 seconds while the
link is up; offline, the last list read stays, marked with its age.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mdt.ui.returns_view import age_text
from mdt.ui.table_model import HeaderedTableModel, Index, row_table
from mdt.ui.theme import text_accent


class UnitListModel(HeaderedTableModel):
    HEADERS = ("Unit", "Name", "Role", "Status", "Last contact")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.now: datetime | None = None

    @property
    def units(self) -> list[dict[str, Any]]:
        return self.rows

    def set_units(self, units: list[dict[str, Any]], now: datetime | None = None) -> None:
        self.now = now
        # Signed-in units first, then by unit name: who can take a call now.
        self.set_rows(sorted(units, key=lambda u: (not u.get("signed_in"),
                                                   str(u.get("unit") or u.get("user_id")))))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        unit = self.row(index)
        if unit is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.values(unit)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:  # the columns a narrow desk leaves out too
            return "\n".join(f"{h}: {v}" for h, v in zip(self.HEADERS, self.values(unit),
                                                          strict=True))
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 3:
            return QBrush(text_accent("ok" if unit.get("signed_in") else "muted"))
        return None


    def values(self, unit: dict[str, Any]) -> tuple[str, ...]:
        contact = unit.get("last_contact_at") or unit.get("last_login_at")
        return (str(unit.get("unit") or unit.get("user_id")), str(unit.get("name") or ""),
                str(unit.get("role") or ""), "signed in" if unit.get("signed_in") else "off",
                age_text(str(contact), self.now) if contact else "never")


class UnitListView(QWidget):
    message_requested = Signal(str)  # the unit's name, for an AM addressed to it

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heading = QLabel("<b>Units</b>")
        self.model = UnitListModel(self)
        self.table = row_table(self.model, "UnitList", stretch=1, give_way=(2, 4, 3))  # narrow: name whole
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
