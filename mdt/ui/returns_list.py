"""The returns list: its table, and which row the detail pane shows after a reload (the query
just queued owns the pane while it waits, else a new answer, the officer is waiting for it,
else the row the operator had selected, or the return that answered its query)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QHeaderView, QTableView

from mdt.core.present import return_headline
from mdt.ui.adaptive import follow_type_size
from mdt.ui.returns_view import (
    AGE_TICK_MS,
    STATE_WORDS,
    QueryRow,
    ReturnsModel,
    build_rows,
    row_key,
)

Prepared = tuple[list[dict[str, Any]], list[QueryRow], dict[str, Any]]


def prepare_rows(model: ReturnsModel) -> Callable[[Any], Prepared]:
    """What a reload does on the worker, given ``(messages, returns)``: the messages, the rows
    in order, and the headline of each return the list has none of yet (parsing a return's
    text was the returns list's painting's work, on the GUI thread)."""
    known = set(model.headlines)

    def prepare(result: Any) -> Prepared:
        messages, returns = result
        return messages, build_rows(messages, returns), {
            r.id: return_headline(r) for r in returns if r.id not in known}

    return prepare


def returns_table(model: ReturnsModel) -> QTableView:
    """The list of queries and returns, one line a row. Columns are sized once from the words
    they hold, never by measuring rows (a list that changes at every event would re-measure its
    rows at every event); the operator can still drag them; the query takes the room left."""
    table = QTableView()
    table.setObjectName("ReturnsTable")
    table.setModel(model)
    table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
    table.setTabKeyNavigation(False)  # Tab leaves the list (arrows move in it): no trap
    header = table.horizontalHeader()
    header.setStretchLastSection(False)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the query and the
    header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)  # result share the room
    metrics = table.fontMetrics()
    for column, sample in ((0, "23 h 59 min ago"), (2, STATE_WORDS["accepted"]),
                           (3, "NCIC · NLETS")):
        header.resizeSection(column, metrics.horizontalAdvance(sample) + 24)
    vertical = table.verticalHeader()
    vertical.setVisible(False)
    vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # rows are one line
    tick = QTimer(table)  # the ages and waits in view count on ("0 s ago" never stays)
    tick.setObjectName("AgeTick")
    tick.setInterval(AGE_TICK_MS)
    tick.timeout.connect(lambda: count_on(table, model))
    tick.start()
    return table


def count_on(table: QTableView, model: ReturnsModel) -> None:
    """Repaint the age and the state of the rows in view (a row's words follow the clock; the
    model signals only rows that arrive or change, so nothing else asks for them again)."""
    if not model.rows or not table.isVisible():
        return
    first = max(0, table.rowAt(0))
    last = table.rowAt(table.viewport().height() - 1)
    last = len(model.rows) - 1 if last < 0 else last
    model.dataChanged.emit(model.index(first, 0), model.index(last, 2))


def _fit(table: QTableView) -> None:
    rows = int(table.property("rowsKept") or 0)
    table.verticalHeader().setDefaultSectionSize(table.fontMetrics().height() + 6)  # one line
    height = table.horizontalHeader().sizeHint().height() + 2 * table.frameWidth()
    table.setMinimumHeight(height + rows * table.verticalHeader().defaultSectionSize()
                           if rows else 0)


def fit_rows(table: QTableView, rows: int) -> None:
    """Rows a line of the list's type high, and at least ``rows`` of them in view (the
    officer's last stops); 0: no minimum. Kept when the type size changes."""
    table.setProperty("rowsKept", rows)
    table.ensurePolished()
    if table.property("rowsFollowed"):
        _fit(table)
    else:
        table.setProperty("rowsFollowed", True)
        follow_type_size(table, lambda: _fit(table))


def newest_return_id(rows: Sequence[Any]) -> str | None:
    return rows[0].ret.id if rows and rows[0].ret is not None else None


def row_to_show(rows: Sequence[Any], selected: Any, newest_before: str | None,
                queued_message: str | None) -> tuple[int, bool]:
    """The index to select, and whether the queued message's row was it (then it is done)."""
    waiting = next((i for i, r in enumerate(rows) if queued_message and r.message
                    and r.message.get("id") == queued_message), None)
    if waiting is not None:
        return waiting, True
    newest = newest_return_id(rows)
    if selected is None or (newest is not None and newest != newest_before):
        return 0, False  # a new answer takes the pane
    keys = [row_key(candidate) for candidate in rows]
    if row_key(selected) in keys:
        return keys.index(row_key(selected)), False
    for i, candidate in enumerate(rows):  # its query was answered: the return that replaced it
        if candidate.message and selected.message and \
                candidate.message.get("id") == selected.message.get("id"):
            return i, False
    return 0, False
