"""History and offline search: one box over every record in the encrypted cache.

Results come as the operator types (a quarter of a second after the last key, on a worker), best
matches first (an identifier, then the exact name, then names that sound alike, then free text),
each with its age, what file it came from and the query that brought it; records older than the
stale mark are flagged (the situation may have changed since: run it again). "More" pages on with
the search's keyset cursor. Each search is audited by the terminal (it reads CJI).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from mdt.core.clock import from_iso
from mdt.ui.returns_view import age_text, query_summary
from mdt.ui.table_model import HeaderedTableModel, Index, row_table
from mdt.ui.theme import text_accent

STALE_AFTER = timedelta(hours=1)  # a cached answer older than this is a lead, not a status
HOW_WORDS = {0: "identifier", 1: "name / DOB", 2: "sounds alike", 3: "text"}


def _when(iso: str) -> datetime | None:
    try:
        return from_iso(iso)
    except ValueError:
        return None


class SearchResultsModel(HeaderedTableModel):
    HEADERS = ("Age", "Match", "File", "Record", "From the query")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.now = datetime.now(UTC)

    def stale(self, hit: Any) -> bool:
        when = _when(hit.received_at)
        return when is not None and self.now - when > STALE_AFTER

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        hit = self.row(index)
        if hit is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            fields = hit.fields
            record = " ".join(f"{k}/{v}" for k, v in fields.items()
                              if k in ("NAM", "DOB", "LIC", "LIS", "VIN", "OLN", "ARN", "NIC",
                                       "SER"))
            age = age_text(hit.received_at, self.now) + (" — STALE" if self.stale(hit) else "")
            values = (age, HOW_WORDS.get(hit.rank, hit.how),
                      f"{hit.file}{' HIT' if hit.hit else ''}", record,
                      query_summary(hit.query))
            return values[index.column()]
        if role == Qt.ItemDataRole.FontRole and hit.hit:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and index.column() == 0 and self.stale(hit):
            return QBrush(text_accent("warning"))
        if role == Qt.ItemDataRole.ToolTipRole and self.stale(hit):
            return "Cached more than an hour ago: run it again before relying on it."
        return None


class SearchView(QWidget):
    """The search box and its results; choosing a result shows its return."""

    search_requested = Signal(str, object)  # text, cursor (None: first page)
    open_requested = Signal(str)  # return id

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.box = QLineEdit()
        self.box.setObjectName("SearchBox")
        self.box.setPlaceholderText("Search the cache (Ctrl+F): plate, VIN, NIC, A-number, "
                                    "licence, or LAST, FIRST — works offline")
        self.box.setClearButtonEnabled(True)
        self.status = QLabel("")
        self.model = SearchResultsModel(self)
        self.table = row_table(self.model, "SearchResults", stretch=3)
        self.more = QPushButton("More results")
        self.more.hide()
        self.cursor: Any = None
        self._debounce = QTimer(self)
        self._debounce.setSingleShot(True)
        self._debounce.setInterval(250)
        self._debounce.timeout.connect(self._search)
        self.box.textChanged.connect(lambda _text: self._debounce.start())
        self.box.returnPressed.connect(self._search)
        self.more.clicked.connect(lambda: self.search_requested.emit(self.box.text().strip(),
                                                                     self.cursor))
        self.table.activated.connect(self._open)
        self.table.doubleClicked.connect(self._open)
        top = QHBoxLayout()
        top.addWidget(self.box, 1)
        top.addWidget(self.more)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        # Under the returns on a dispatcher's desk the results give way first (they scroll):
        # at type size 1.5 the desk's minimum would pass 800 px and grow the window for good.
        self.table.setMinimumHeight(1)

    def _search(self) -> None:
        text = self.box.text().strip()
        if len(text) < 2:
            self.model.set_rows([])
            self.status.setText("")
            self.more.hide()
            return
        self.status.setText("Searching the cache…")
        self.search_requested.emit(text, None)

    def show_outcome(self, text: str, cursor: Any, result: Any, error: str | None) -> None:
        """A search's (result, error) from the worker: the hits and the next page's cursor, or
        why the cache could not be searched."""
        if error is not None:
            self.show_results(text, [], None, False, f"The cache could not be searched: {error}")
            return
        hits, next_cursor = result
        self.show_results(text, hits, next_cursor, cursor is not None)

    def show_results(self, text: str, hits: list[Any], cursor: Any, more: bool,
                     error: str = "") -> None:
        """Results for ``text`` (ignored when the box moved on); ``more``: a further page."""
        if text != self.box.text().strip():
            return
        if error:
            self.status.setText(error)
            return
        self.model.now = datetime.now(UTC)
        self.model.set_rows((self.model.rows if more else []) + list(hits))
        self.cursor = cursor
        self.more.setVisible(cursor is not None)
        count = self.model.rowCount()
        stale = sum(1 for h in self.model.rows if self.model.stale(h))
        self.status.setText(f"{count} cached record{'s' if count != 1 else ''}"
                            + (f", {stale} stale (older than an hour)" if stale else "")
                            if count else f"Nothing cached matches '{text}'.")

    def _open(self, index: Any) -> None:
        hit = self.model.row(index)
        if hit is not None:
            self.open_requested.emit(hit.return_id)
