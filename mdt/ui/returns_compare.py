"""Returns side by side: a dispatcher pins returns (Ctrl+P) to compare them — the plate's return
beside its owner's, two near-miss names — each in its own pane with its own close button."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from mdt.ui.return_detail import ReturnDetail
from mdt.ui.returns_view import query_summary

MAX_PANES = 3


class ReturnsCompare(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("ReturnsCompare")
        self.panes: list[tuple[str, QWidget, ReturnDetail]] = []
        self._row = QHBoxLayout(self)
        self._row.setContentsMargins(0, 0, 0, 0)

    def pin(self, row: Any, *, offline: bool = False) -> ReturnDetail | None:
        """Show ``row`` (a returns-list row with a return) in a new pane; the oldest pane goes
        when there are already three; a return already pinned is not pinned twice."""
        if row is None or row.ret is None or any(rid == row.ret.id for rid, _, _ in self.panes):
            return None
        if len(self.panes) >= MAX_PANES:
            self.unpin(self.panes[0][0])
        pane = QWidget()
        pane.setObjectName("ComparePane")
        layout = QVBoxLayout(pane)
        layout.setContentsMargins(4, 0, 4, 0)
        title = QLabel(f"<b>{query_summary(row.ret.query)}</b>")
        title.setWordWrap(True)
        close = QPushButton("Close")
        detail = ReturnDetail()
        detail.show_row(row, offline=offline)
        rid = row.ret.id
        close.clicked.connect(lambda: self.unpin(rid))
        head = QHBoxLayout()
        head.addWidget(title, 1)
        head.addWidget(close)
        layout.addLayout(head)
        layout.addWidget(detail, 1)
        self._row.addWidget(pane, 1)
        self.panes.append((rid, pane, detail))
        return detail

    def unpin(self, return_id: str) -> None:
        for entry in list(self.panes):
            if entry[0] == return_id:
                self.panes.remove(entry)
                entry[1].setParent(None)
                entry[1].deleteLater()
        if not self.panes:
            self.hide()
