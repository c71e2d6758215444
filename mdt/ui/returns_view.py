"""The returns list and one return's detail: hits first and unmistakable, caveats pinned on top.

Rows are the operator's queries, newest first: answered ones show their return (HIT or no hit),
the others their outbox state (queued offline, sent and waiting, refused). Everything shown comes
from the encrypted cache, so it stays readable offline, with the age of each return.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QWidget,
)

from mdt.core.headline import Headline
from mdt.core.present import (
    STATE_WORDS,
    RowText,
    age_text,
    query_state,
    query_summary,
    return_headline,
    row_text,
    waited_minutes,
)
from mdt.ui.return_fields import FIELD_GROUPS, group_fields
from mdt.ui.table_model import HeaderedTableModel
from mdt.ui.theme import text_accent

if TYPE_CHECKING:
    from mdt.store.cache import StoredReturn

Index = QModelIndex | QPersistentModelIndex

# The words and the rules are in mdt.core.present (shared with the CLI and the PDF); these names
# stay importable from here.
#: How often the ages and waits on screen count on (the returns list and the detail's header
#: alike, so the two never disagree by more than a tick).
AGE_TICK_MS = 5_000

__all__ = ["AGE_TICK_MS", "FIELD_GROUPS", "STATE_WORDS", "age_text", "group_fields", "query_summary",
           "waited_minutes"]


@dataclass
class QueryRow:
    message: dict[str, Any] | None
    ret: StoredReturn | None

    @property
    def hit(self) -> bool:
        return bool(self.ret and self.ret.hit)

    @property
    def when(self) -> str:
        if self.ret:
            return self.ret.received_at
        return str((self.message or {}).get("created_at", ""))


def build_rows(messages: list[dict[str, Any]], returns: list[StoredReturn]) -> list[QueryRow]:
    """One row per return, plus one per query still waiting; newest first, hits kept visible."""
    answered = {r.message_id for r in returns}
    rows = [QueryRow(r.query, r) for r in returns]
    rows += [QueryRow(m, None) for m in messages if m.get("id") not in answered]
    rows.sort(key=lambda row: row.when, reverse=True)
    return rows


def row_key(row: QueryRow) -> str:
    """What a row is, across reloads: its return, or the query still waiting for one."""
    if row.ret is not None:
        return f"r:{row.ret.id}"
    return f"m:{(row.message or {}).get('id')}"


def _shown(row: QueryRow) -> tuple[Any, ...]:
    """What the list shows of a row, apart from the age: a change here repaints the row."""
    message = row.message or {}
    return (row.ret.id if row.ret else None, message.get("state"), message.get("state_detail"),
            message.get("accepted_at"), message.get("created_at"))


_ROLES = {Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.FontRole, Qt.ItemDataRole.ForegroundRole,
          Qt.ItemDataRole.UserRole}  # the roles data() answers: a paint asks for ten a cell
# Fetch older returns: (the oldest return held, a callback given the page or an error).
OlderFetcher = Callable[["StoredReturn", Callable[[Any, BaseException | None], None]], None]


class ReturnsModel(HeaderedTableModel):
    """The operator's queries and returns, newest first.

    A reload is merged in by rows: new rows are inserted, changed ones signalled as changed,
    reordered ones moved and gone ones removed, so the view keeps its selection and scroll
    position and repaints only what changed (a reset re-measured and repainted all of it on
    every event). History older than the newest page comes by keyset paging through
    ``canFetchMore``/``fetchMore`` (the view asks when it is scrolled to the end)."""

    HEADERS = COLUMNS = ("Received", "Query", "Result", "Source")
    PAGE = 100  # older returns fetched at a time

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[QueryRow] = []
        self.now: datetime | None = None  # tests pin the clock
        self.clock_offset = 0.0  # the gateway's clock against this PC's (from the alerts)
        # Minutes after which a sent query with no answer is shown as unanswered (the rule is
        # mdt.core.present.query_state's).
        self.unanswered_after = 5.0
        # My YQs the entering agency answered, by message id (from the alert snapshot).
        self.answered: dict[str, str] = {}
        self.headlines: dict[str, Headline] = {}  # by return id (a return does not change)
        self._texts: dict[int, tuple[QueryRow, int, Any, RowText]] = {}  # by id(row)
        self.fetch_older: OlderFetcher | None = None
        self._fetching = False
        self._more = True
        self._generation = 0  # a reset makes pages still on their way stale

    def set_rows(self, rows: list[Any]) -> None:
        self._generation += 1
        self._fetching = False
        self._more = True
        super().set_rows(rows)

    # -- merging a reload ----------------------------------------------------------------------
    def merge(self, head: list[QueryRow]) -> set[str]:
        """Merge a reload (the newest rows, newest first) in by rows; the older returns fetched
        by paging stay below it. Returns the keys of the rows whose shown data changed."""
        head_keys = {row_key(row) for row in head}
        oldest = min((row.when for row in head if row.ret is not None), default=None)
        tail = [] if oldest is None else [
            row for row in self.rows
            if row.ret is not None and row_key(row) not in head_keys and row.when <= oldest]
        return self._apply(head + tail)

    def _apply(self, new_rows: list[QueryRow]) -> set[str]:
        new_keys = [row_key(row) for row in new_rows]
        wanted = set(new_keys)
        if len(wanted) != len(new_keys):  # two rows claim one key: no diff can be trusted
            self.set_rows(new_rows)
            return wanted
        # 1. Remove what is gone, bottom up, a run at a time.
        end = len(self.rows) - 1
        while end >= 0:
            if row_key(self.rows[end]) in wanted:
                end -= 1
                continue
            start = end
            while start > 0 and row_key(self.rows[start - 1]) not in wanted:
                start -= 1
            self.beginRemoveRows(QModelIndex(), start, end)
            del self.rows[start:end + 1]
            self.endRemoveRows()
            end = start - 1
        # 2. Walk the new order: keep, update, move up or insert (a run at a time).
        present = {row_key(row) for row in self.rows}
        changed: set[str] = set()
        last = self.column_count() - 1
        i = 0
        while i < len(new_rows):
            key = new_keys[i]
            if i < len(self.rows) and row_key(self.rows[i]) == key:
                if _shown(self.rows[i]) != _shown(new_rows[i]):
                    changed.add(key)
                    self.rows[i] = new_rows[i]
                    self.dataChanged.emit(self.index(i, 0), self.index(i, last))
                else:
                    self.rows[i] = new_rows[i]
                i += 1
                continue
            if key in present:  # further down: move it up to here
                source = next(j for j in range(i + 1, len(self.rows))
                              if row_key(self.rows[j]) == key)
                self.beginMoveRows(QModelIndex(), source, source, QModelIndex(), i)
                moved = self.rows.pop(source)
                self.rows.insert(i, new_rows[i])
                self.endMoveRows()
                if _shown(moved) != _shown(new_rows[i]):
                    changed.add(key)
                    self.dataChanged.emit(self.index(i, 0), self.index(i, last))
                i += 1
                continue
            stop = i
            while stop < len(new_rows) and new_keys[stop] not in present:
                stop += 1
            self.beginInsertRows(QModelIndex(), i, stop - 1)
            self.rows[i:i] = new_rows[i:stop]
            self.endInsertRows()
            changed.update(new_keys[i:stop])
            present.update(new_keys[i:stop])
            i = stop
        return changed

    # -- paging: older returns -----------------------------------------------------------------
    def _oldest_return(self) -> StoredReturn | None:
        for row in reversed(self.rows):
            if row.ret is not None:
                return row.ret
        return None

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return (not parent.isValid() and self.fetch_older is not None and self._more and
                not self._fetching and self._oldest_return() is not None)

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        oldest = self._oldest_return()
        if parent.isValid() or self.fetch_older is None or oldest is None or self._fetching:
            return
        self._fetching = True
        generation = self._generation

        def arrived(returns: Any, error: BaseException | None) -> None:
            if generation != self._generation:
                return  # the list was reset meanwhile (signed out, retention)
            self._fetching = False
            if error is not None or not returns:
                self._more = False
                return
            self._more = len(returns) >= self.PAGE
            have = {row_key(row) for row in self.rows}
            page = [QueryRow(r.query, r) for r in returns if f"r:{r.id}" not in have]
            if page:
                self.beginInsertRows(QModelIndex(), len(self.rows), len(self.rows) + len(page) - 1)
                self.rows.extend(page)
                self.endInsertRows()

        self.fetch_older(oldest, arrived)

    def clock(self) -> datetime:
        """Now on the gateway's clock: the one every deadline and wait runs on (the hit's
        banner, the alert bar and the status bar too)."""
        return self.now or datetime.now(UTC) + timedelta(seconds=self.clock_offset)

    def follow(self, answered: dict[str, str], clock_offset: float) -> bool:
        """The alert snapshot's answered YQs and clock; True (rows repainted) if they changed."""
        changed = answered != self.answered or abs(clock_offset - self.clock_offset) > 0.5
        self.answered, self.clock_offset = answered, clock_offset
        if changed and self.rows:
            self.dataChanged.emit(self.index(0, 2), self.index(len(self.rows) - 1, 2))
        return changed

    def state_text(self, row: QueryRow) -> str:
        """The query's outbox state in words (:func:`mdt.core.present.query_state`)."""
        message = row.message or {}
        return query_state(message, self.clock(), unanswered_after=self.unanswered_after,
                           answer=self.answered.get(str(message.get("id"))))

    def row_text(self, row: QueryRow) -> RowText:
        """The row's words (:func:`mdt.core.present.row_text`); a return's headline is read
        once (a return does not change), and a row's words are kept for the second (a paint
        asks for them once per column: the same row object, clock and answers)."""
        second, now = int(time.monotonic()), (self.now, self.clock_offset,
                                               self.unanswered_after, self.answered)
        kept = self._texts.get(id(row))
        if kept is not None and kept[0] is row and kept[1] == second and kept[2] == now:
            return kept[3]
        headline = None
        if row.ret is not None:
            headline = self.headlines.get(row.ret.id)
            if headline is None:
                headline = self.headlines[row.ret.id] = return_headline(row.ret)
        text = row_text(row.message, row.ret, self.clock(), unanswered_after=self.unanswered_after,
                        answered=self.answered, headline=headline)
        if len(self._texts) > 2 * len(self.rows) + 64:
            self._texts.clear()
        self._texts[id(row)] = (row, second, now, text)
        return text

    @classmethod
    def column_count(cls) -> int:
        return len(cls.COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in _ROLES or not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row = self.rows[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            text = self.row_text(row)
            return (text.age, text.query, text.result, text.source)[column] \
                if 0 <= column < 4 else None
        if role == Qt.ItemDataRole.FontRole and column == 2 and \
                self.row_text(row).role in ("danger", "hit", "warning"):
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ForegroundRole and column == 2 and row.hit:
            return QBrush(text_accent("hit"))
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None
