"""The returns list changes by rows: a reload is merged in (inserted, changed, moved, removed
rows signalled as such, never a reset), the selection stays on its row, and older returns come
by keyset paging (``canFetchMore``/``fetchMore``)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QTableView
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from mdt.store.cache import StoredReturn
from mdt.ui.returns_view import QueryRow, ReturnsModel, build_rows, row_key
from tests.qt.test_widgets import NOW, _return


def _waiting(n: int, state: str = "accepted", minute: int = 0) -> dict[str, Any]:
    return {"id": f"m{n}", "mke": "QV", "fields": {"LIC": f"WAIT{n:03d}", "LIS": "MD"},
            "created_at": f"2026-11-24T11:{minute:02d}:00.000Z", "state": state}


def _stamp(minute: int) -> str:
    return f"2026-11-24T10:{minute:02d}:00.000Z"


class Signals:
    def __init__(self, model: ReturnsModel) -> None:
        self.seen: list[str] = []
        for name in ("modelReset", "rowsInserted", "rowsRemoved", "rowsMoved", "dataChanged"):
            getattr(model, name).connect(lambda *_args, name=name: self.seen.append(name))


def test_a_reload_is_merged_by_rows_not_reset(qtmodeltester: ModelTester) -> None:
    model = ReturnsModel()
    model.now = NOW
    returns = [_return(n, n % 3 == 0, _stamp(n)) for n in range(1, 21)]
    model.merge(build_rows([_waiting(90)], returns))
    qtmodeltester.check(model)
    assert model.rowCount() == 21
    signals = Signals(model)

    # The waiting query is answered and a new query goes out: one row replaced, one inserted.
    answered = _return(90, False, "2026-11-24T11:05:00.000Z")
    changed = model.merge(build_rows([_waiting(91, "queued", 10)], [answered, *returns]))
    assert "modelReset" not in signals.seen
    assert signals.seen.count("rowsInserted") >= 1 and "rowsRemoved" in signals.seen
    assert [row_key(r) for r in model.rows[:2]] == ["m:m91", "r:e90"]
    assert {"m:m91", "r:e90"} <= changed
    assert model.rowCount() == 22

    # A state change is a changed row, nothing else.
    signals.seen.clear()
    changed = model.merge(build_rows([_waiting(91, "accepted", 10)], [answered, *returns]))
    assert signals.seen == ["dataChanged"] and changed == {"m:m91"}
    assert not model.data(model.index(0, 2)).startswith("Queued")

    # The same reload again: not a signal.
    signals.seen.clear()
    assert model.merge(build_rows([_waiting(91, "accepted", 10)], [answered, *returns])) == set()
    assert signals.seen == []

    # A row that moves (an older query sent again sorts to the top) is a moved row.
    resent = dict(_waiting(91, "accepted", 10))
    moved_up = _return(1, False, "2026-11-24T11:20:00.000Z")
    model.merge(build_rows([resent], [moved_up, answered, *returns[1:]]))
    assert "rowsMoved" in signals.seen and "modelReset" not in signals.seen
    assert row_key(model.rows[0]) == "r:e1"
    qtmodeltester.check(model)


def test_selection_stays_on_its_row_across_a_merge(qtbot: QtBot) -> None:
    model = ReturnsModel()
    table = QTableView()
    qtbot.addWidget(table)
    table.setModel(model)
    returns = [_return(n, False, _stamp(n)) for n in range(1, 6)]
    model.merge(build_rows([], returns))
    table.selectRow(2)
    chosen = row_key(model.rows[2])
    model.merge(build_rows([_waiting(50, "queued", 30)], returns))  # a row above it
    indexes = table.selectionModel().selectedRows()
    assert [row_key(model.rows[i.row()]) for i in indexes] == [chosen]


def test_older_returns_come_by_keyset_paging(qtbot: QtBot, qtmodeltester: ModelTester) -> None:
    cached = [_return(n, False, _stamp(n)) for n in range(59, 0, -1)]  # newest first
    asked: list[str] = []

    def older(before: StoredReturn, callback: Any) -> None:
        asked.append(before.id)
        ids = [r.id for r in cached]
        # As the store does: an id no longer (or never) cached gives an empty page.
        page = cached[ids.index(before.id) + 1:][:model.PAGE] if before.id in ids else []
        QTimer.singleShot(0, lambda: callback(page, None))  # it comes back later, as from a worker

    model = ReturnsModel()
    model.PAGE = 20
    model.fetch_older = older
    model.merge(build_rows([], cached[:20]))
    assert model.canFetchMore()
    model.fetchMore()
    assert not model.canFetchMore()  # one page on its way at a time
    qtbot.waitUntil(lambda: model.rowCount() == 40)
    assert asked == ["e40"]
    model.fetchMore()
    qtbot.waitUntil(lambda: model.rowCount() == 59)
    assert asked == ["e40", "e20"] and not model.canFetchMore()  # a short page: the end
    # A reload of the newest page keeps the older rows below it.
    newest = _return(99, True, "2026-11-24T11:59:00.000Z")
    model.merge(build_rows([], [newest, *cached[:19]]))
    assert model.rowCount() == 60
    assert [row_key(r) for r in model.rows[:2]] == ["r:e99", "r:e59"]
    assert row_key(model.rows[-1]) == "r:e1"
    qtmodeltester.check(model)
    model.set_rows([QueryRow(newest.query, newest)])  # a reset starts paging over
    assert model.rowCount() == 1
    if model.canFetchMore():  # (the model tester may have asked already)
        model.fetchMore()
    assert asked[-1] == "e99"  # paging starts again from the one return held


def test_the_ages_in_view_count_on(qtbot: QtBot) -> None:
    """Nothing about a return changes as it ages, so only a tick asks for its words again: the
    list said "0 s ago" for as long as no other row arrived (seen under Xvfb beside a header that
    had counted on to "30 s ago")."""
    from mdt.ui.returns_list import returns_table

    model = ReturnsModel()
    model.now = NOW
    model.merge(build_rows([_waiting(90, minute=59)],
                           [_return(n, False, f"2026-11-24T11:59:{50 - n:02d}.000Z")
                            for n in range(1, 4)]))
    table = returns_table(model)
    qtbot.addWidget(table)
    table.resize(900, 300)
    table.show()
    qtbot.waitExposed(table)
    assert model.data(model.index(1, 0)) == "12 s ago"
    age_column = table.visualRect(model.index(1, 0))
    before = table.viewport().grab(age_column).toImage()

    tick = table.findChild(QTimer, "AgeTick")
    assert tick is not None and tick.isActive()
    changed: list[tuple[int, int, int, int]] = []
    model.dataChanged.connect(lambda first, last, *_: changed.append(
        (first.row(), first.column(), last.row(), last.column())))
    model.now = NOW.replace(minute=2)  # two minutes on
    tick.setInterval(20)
    qtbot.waitUntil(lambda: bool(changed), timeout=2000)
    assert changed[0] == (0, 0, model.rowCount() - 1, 2)  # every row in view: age and state
    assert model.data(model.index(1, 0)) == "2 min ago"
    qtbot.waitUntil(lambda: table.viewport().grab(age_column).toImage() != before, timeout=2000)
