"""The part every table model here shares: a list of rows, fixed column headers, no children.

Subclasses set ``HEADERS`` and implement ``data``; ``set_rows`` replaces the rows in one reset
(the lists are small: alerts, requests, units; the returns list merges by rows instead)."""

from __future__ import annotations

from typing import Any, ClassVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtWidgets import QHeaderView, QTableView, QWidget

Index = QModelIndex | QPersistentModelIndex


class HeaderedTableModel(QAbstractTableModel):
    HEADERS: ClassVar[tuple[str, ...]] = ()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[Any] = []

    def set_rows(self, rows: list[Any]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self.endResetModel()

    def row(self, index: Index) -> Any:
        """The row behind a valid index, else None."""
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        return self.rows[index.row()]

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal \
                and 0 <= section < len(self.HEADERS):
            return self.HEADERS[section]
        return None


def row_table(model: HeaderedTableModel, name: str, stretch: int,
              give_way: tuple[int, ...] = ()) -> QTableView:
    """A table of whole rows, one selected at a time, that fits its width: each column as wide
    as its words (header and rows), but ``stretch``, which takes the room left; where the row
    does not fit (a desk's column at 1200 px, type size 1.5), the columns of ``give_way`` are
    left out in that order (their words stay in the row's tooltip) rather than a column cut or
    the list scrolled sideways. Fitted again when the room, the type size or the rows change
    (an operator can still drag a column until then)."""
    table = QTableView()
    table.setObjectName(name)
    table.setModel(model)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    table.setTabKeyNavigation(False)  # Tab leaves the list (arrows move in it): no trap
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)
    header.setResizeContentsPrecision(40)  # measure the first rows, not every one
    fit = _ColumnFit(table, stretch, give_way)
    model.modelReset.connect(fit.fit)
    model.rowsInserted.connect(fit.fit)
    return table


class _ColumnFit(QObject):
    def __init__(self, table: QTableView, stretch: int, give_way: tuple[int, ...]) -> None:
        super().__init__(table)
        self.table, self.stretch, self.give_way = table, stretch, give_way
        self._pending = False
        table.installEventFilter(self)
        table.viewport().installEventFilter(self)  # narrower when its scroll bar comes

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.Resize, QEvent.Type.FontChange,
                            QEvent.Type.StyleChange, QEvent.Type.Show):
            self.fit()
        return False

    def fit(self) -> None:
        """On the next turn of the event loop, once: the type and the room then settled."""
        if not self._pending:
            self._pending = True
            QTimer.singleShot(0, self, self._fit)

    def _fit(self) -> None:
        self._pending = False
        table, header = self.table, self.table.horizontalHeader()
        columns = range(table.model().columnCount())
        for column in columns:  # a hidden column measures as empty
            header.setSectionHidden(column, False)
        need = {c: max(header.sectionSizeHint(c), table.sizeHintForColumn(c)) for c in columns}
        room = table.viewport().width()
        shown = list(columns)
        for column in self.give_way:
            if sum(need[c] for c in shown) <= room:
                break
            shown.remove(column)
        for column in columns:
            header.setSectionHidden(column, column not in shown)
            if column in shown and column != self.stretch:
                header.resizeSection(column, need[column])
