"""The returns list and one return's detail: hits first and unmistakable, caveats pinned on top.

Rows are the operator's queries, newest first: answered ones show their return (HIT or no hit),
the others their outbox state (queued offline, sent and waiting, refused). Everything shown comes
from the encrypted cache, so it stays readable offline, with the age of each return.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QFont, QResizeEvent
from PySide6.QtWidgets import (
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QSizePolicy,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mdt.core.cautions import alert_level, cautions
from mdt.core.confirmation import HitConfirmation, OutgoingConfirmation, for_return
from mdt.core.followups import FollowUp, follow_ups
from mdt.core.headline import Headline
from mdt.core.present import (
    BANNER_NAMES,
    STATE_WORDS,
    RowText,
    age_text,
    detail_headline,
    hit_banner_text,
    query_state,
    query_summary,
    received_text,
    return_headline,
    row_text,
    waited_minutes,
)
from mdt.ui.restyle import restyle
from mdt.ui.return_fields import FIELD_GROUPS, group_fields
from mdt.ui.table_model import HeaderedTableModel

if TYPE_CHECKING:
    from mdt.store.cache import StoredReturn

Index = QModelIndex | QPersistentModelIndex

# The words and the rules are in mdt.core.present (shared with the CLI and the PDF); these names
# stay importable from here.
__all__ = ["FIELD_GROUPS", "STATE_WORDS", "age_text", "group_fields", "query_summary",
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

    def state_text(self, row: QueryRow) -> str:
        """The query's outbox state in words (:func:`mdt.core.present.query_state`)."""
        message = row.message or {}
        return query_state(message, self.now, unanswered_after=self.unanswered_after,
                           answer=self.answered.get(str(message.get("id"))))

    def row_text(self, row: QueryRow) -> RowText:
        """The row's words (:func:`mdt.core.present.row_text`); a return's headline is read
        once (a return does not change), and a row's words are kept for the second (a paint
        asks for them once per column: the same row object, clock and answers)."""
        second, now = int(time.monotonic()), (self.now, self.unanswered_after, self.answered)
        kept = self._texts.get(id(row))
        if kept is not None and kept[0] is row and kept[1] == second and kept[2] == now:
            return kept[3]
        headline = None
        if row.ret is not None:
            headline = self.headlines.get(row.ret.id)
            if headline is None:
                headline = self.headlines[row.ret.id] = return_headline(row.ret)
        text = row_text(row.message, row.ret, self.now, unanswered_after=self.unanswered_after,
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
            return QBrush(QColor("#c8102e"))
        if role == Qt.ItemDataRole.UserRole:
            return row
        return None


class ReturnDetail(QWidget):
    """One return: the HIT banner, the cached/age line, caveats, then fields; raw text one key away.

    Each record offers its follow-up queries ("Run this person / plate / VIN") as links; choosing
    one emits ``run_requested(mke, values, dest)``."""

    run_requested = Signal(str, dict, list)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.follow_ups: list[FollowUp] = []
        # My confirmations by NIC (from the alert snapshot): a confirmed hit's header drops
        # the "confirm it before acting" sentence.
        self.confirmations: dict[str, OutgoingConfirmation] = {}
        self.unanswered_after = 5.0
        self.answered: dict[str, str] = {}
        self._shown: tuple[QueryRow | None, bool, datetime | None] = (None, False, None)
        self.hit_banner = QLabel("")
        self.hit_banner.setWordWrap(True)
        self.cached = QLabel("")
        self.cached.setObjectName("CachedBanner")
        self._age_tick = QTimer(self)  # the age in the header keeps counting
        self._age_tick.setInterval(15_000)
        self._age_tick.timeout.connect(self._update_age)
        self.caveats = QLabel("")
        self.caveats.setObjectName("CaveatBox")
        self.caveats.setWordWrap(True)
        # Caveats are never squeezed: the record body scrolls instead.
        self.caveats.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.hit_banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.body = QTextBrowser()
        self.body.setObjectName("ReturnBody")
        self.body.setOpenLinks(False)
        self.body.anchorClicked.connect(self._link)
        self.raw = QPlainTextEdit()
        self.raw.setObjectName("ReturnRaw")
        self.raw.setReadOnly(True)
        self.raw.hide()
        self._raw_text = ""  # what the raw editor shows once it is shown
        self.toggle = QPushButton("Original text (F9)")
        self.toggle.setShortcut("F9")
        self.toggle.clicked.connect(self.toggle_raw)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        for widget in (self.hit_banner, self.cached, self.caveats, self.body, self.raw,
                       self.toggle):
            layout.addWidget(widget)
        self.show_row(None)

    def _fit_caveats(self) -> None:
        """A wrapped label does not ask for the height its lines need: give it that height,
        so no caveat line is ever cut off (the record body scrolls instead)."""
        width = max(200, self.width() - 24)
        self.caveats.setMinimumHeight(self.caveats.heightForWidth(width))

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self.caveats.isVisible():
            self._fit_caveats()

    def _link(self, url: QUrl) -> None:
        if url.scheme() == "run" and url.path().isdigit():
            self.run(int(url.path()))

    def run(self, index: int) -> None:
        """Ask for follow-up query ``index`` of the shown return."""
        follow = self.follow_ups[index]
        self.run_requested.emit(follow.mke, dict(follow.values), list(follow.dest))

    def toggle_raw(self) -> None:
        raw = not self.raw.isVisible()
        self.raw.setVisible(raw)
        self.body.setVisible(not raw)
        self._set_raw(self._raw_text)

    def _set_raw(self, text: str) -> None:
        """Into the editor only while it is shown (a hidden document's layout: ms a return)."""
        self._raw_text = text
        if (not self.raw.isHidden() or not text) and self.raw.toPlainText() != text:
            self.raw.setPlainText(text)

    def _update_age(self) -> None:
        row, offline, now = self._shown
        if row is None or row.ret is None or now is not None:  # a pinned clock does not tick
            self._age_tick.stop()
            return
        self.cached.setText(received_text(row.ret, offline=offline))

    def hit_confirmations(self, ret: StoredReturn) -> list[HitConfirmation]:
        """The confirmation of each hit on this return (this stop's own, not an earlier's)."""
        found = []
        for record in ret.records:
            if record.get("hit"):
                nic = str(record.get("nic") or (record.get("fields") or {}).get("NIC") or "")
                found.append(for_return(self.confirmations.get(nic), ret.received_at, nic))
        return found

    def _set_banner(self, text: str, role: str) -> None:
        self.hit_banner.setText(text)
        restyle(self.hit_banner, BANNER_NAMES.get(role, "NoticeBanner"), role=role)
        self.hit_banner.show()

    def set_confirmations(self, confirmations: dict[str, OutgoingConfirmation],
                          answered: dict[str, str] | None = None) -> None:
        """New confirmation states: the shown header follows them."""
        self.confirmations = dict(confirmations)
        self.answered = dict(answered or {})
        row, _offline, now = self._shown
        if row is not None:
            self._header(row, now)

    def _header(self, row: QueryRow, now: datetime | None) -> None:
        headline = detail_headline(row.ret, row.message, now,
                                   unanswered_after=self.unanswered_after,
                                   answered=self.answered)
        text = headline.text if row.ret is None else \
            hit_banner_text(headline, self.hit_confirmations(row.ret), now)
        self._set_banner(text, headline.role)

    def show_row(self, row: QueryRow | None, *, offline: bool = False,
                 now: datetime | None = None) -> None:
        if row is not None and (row, offline, now) == self._shown:
            return  # on screen already (the list moved it, or read it again unchanged)
        for widget in (self.hit_banner, self.cached, self.caveats):
            widget.hide()
        self.follow_ups = []
        self._age_tick.stop()
        self._shown = (row, offline, now)
        if row is None:
            self.body.setHtml("<p>Select a return, or send a query.</p>")
            self._set_raw("")
            return
        ret = row.ret
        self._header(row, now)
        if ret is None:
            detail = (row.message or {}).get("state_detail") or ""
            # the header says its state; the body what was asked (and the switch's words)
            self.body.setHtml(f"<h3>{html.escape(query_summary(row.message))}</h3>"
                              f"<p>{html.escape(str(detail))}</p>")
            self._set_raw(str((row.message or {}).get("text", "")))
            return
        self.cached.setText(received_text(ret, offline=offline, now=now))
        self.cached.show()
        self._age_tick.start()
        caveats: list[str] = []
        for record in ret.records:
            for caveat in record.get("caveats") or []:
                if caveat not in caveats:
                    caveats.append(str(caveat))
        if caveats:
            self.caveats.setText("\n".join(caveats))
            self.caveats.show()
            self._fit_caveats()
        parts = [f"<h3>{html.escape(query_summary(ret.query))}</h3>"]
        # Hits first, the loudest (armed and dangerous) first among them.
        ordered = sorted(ret.records, key=lambda r: (-int(alert_level(r)), 0))
        for record in ordered:
            title = html.escape(str(record.get("file", "")))
            if record.get("category"):
                title += f" — {html.escape(str(record['category']).replace('_', ' '))}"
            flag = " <b style='color:#c8102e'>HIT</b>" if record.get("hit") else ""
            parts.append(f"<h4>{title}{flag}</h4>")
            if record.get("caution_codes"):
                words = [c.text for c in cautions(str(c) for c in record["caution_codes"])]
                parts.append("<p style='color:#c8102e'><b>CAUTION: " + html.escape(
                    " · ".join(words)) + "</b></p>")
            for group, fields in group_fields(record.get("fields") or {}):
                rows = "".join(
                    f"<tr><td><b>{html.escape(str(tag))}</b></td>"
                    f"<td>{html.escape(str(value))}</td></tr>" for tag, value in fields)
                parts.append(f"<p><i>{group}</i></p><table cellspacing='4'>{rows}</table>")
            narrative = record.get("narrative")
            if isinstance(narrative, list) and narrative:  # e.g. LESC's finding and instructions
                parts.append("<p><i>Text of the record</i></p>" + "".join(
                    f"<p>{html.escape(str(line))}</p>" for line in narrative))
            links = []
            for follow in follow_ups(record):
                links.append(f"<a href='run:{len(self.follow_ups)}'>{html.escape(follow.label)}</a>")
                self.follow_ups.append(follow)
            if links:
                parts.append("<p>" + " · ".join(links) + "</p>")
        if not ret.records:
            parts.append(f"<pre>{html.escape(ret.text)}</pre>")
        self.body.setHtml("".join(parts))
        self._set_raw(ret.text)
