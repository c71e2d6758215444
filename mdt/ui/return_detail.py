"""One return's detail: one header (the headline, then the hits' confirmation lines and, when the
alert bar leaves the alert to it, the acknowledge button), then the record's fields, which get
the room; the switch's original text one key away (F9).

The header is the one place the return's state is announced: the caveats the switch sent go at
the top of the record, not in a box of their own, and the received line sits beside the headline.
"""

from __future__ import annotations

import html
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QTimer, QUrl, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
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
from mdt.core.present import (
    BANNER_NAMES,
    detail_headline,
    hit_banner_text,
    query_summary,
    received_text,
)
from mdt.ui.adaptive import AdaptiveBox, WrappingLabel
from mdt.ui.alert_bar import gateway_now
from mdt.ui.restyle import restyle
from mdt.ui.return_fields import group_fields
from mdt.ui.returns_view import AGE_TICK_MS
from mdt.ui.theme import badge_style

if TYPE_CHECKING:
    from mdt.store.cache import StoredReturn
    from mdt.ui.returns_view import QueryRow

FIELD_COLUMN_PX = 300  # one tag and its value; the record lays out as many as the width holds


def fields_table(fields: list[tuple[str, Any]], columns: int) -> str:
    """A group's fields as a table ``columns`` pairs wide, filled row by row (make, model and
    colour side by side instead of one under the other)."""
    cells = [f"<td><b>{html.escape(str(tag))}</b></td><td>{html.escape(str(value))}"
             "&nbsp;&nbsp;</td>" for tag, value in fields]
    rows = ["".join(cells[i:i + columns]) for i in range(0, len(cells), columns)]
    return "<table cellspacing='3'>" + "".join(f"<tr>{r}</tr>" for r in rows) + "</table>"


class ReturnDetail(QWidget):
    """One return: its header, then the fields; raw text one key away.

    Each record offers its follow-up queries ("Run this person / plate / VIN") as links; choosing
    one emits ``run_requested(mke, values, dest)``. The terminal page puts the hits' confirmation
    lines into :attr:`header_extra` and the acknowledge button beside the headline."""

    run_requested = Signal(str, dict, list)
    shown = Signal()  # another row (or none) is in the pane

    def __init__(self, parent: QWidget | None = None, *, states_below: bool = False) -> None:
        """``states_below``: the hits' confirmation lines are shown under the headline (the
        terminal page), so the headline does not repeat their sentence."""
        super().__init__(parent)
        self.follow_ups: list[FollowUp] = []
        # My confirmations by NIC (from the alert snapshot): a confirmed hit's header drops
        # the "confirm it before acting" sentence.
        self.confirmations: dict[str, OutgoingConfirmation] = {}
        self.states_below = states_below
        self.unanswered_after = 5.0
        self.clock_offset = 0.0  # the gateway's clock against this PC's
        self.answered: dict[str, str] = {}
        self.caveat_lines: list[str] = []
        self._columns = 0
        self._shown: tuple[QueryRow | None, bool, datetime | None] = (None, False, None)
        self.hit_banner = WrappingLabel("")
        self.hit_banner.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        self.cached = QLabel("")
        self.cached.setObjectName("CachedBanner")  # one line: under the headline when narrow
        self._age_tick = QTimer(self)  # the age in the header keeps counting
        self._age_tick.setInterval(AGE_TICK_MS)
        self._age_tick.timeout.connect(self._update_age)
        self._refit = QTimer(self)
        self._refit.setSingleShot(True)
        self._refit.setInterval(50)
        self._refit.timeout.connect(self._refit_fields)
        self._recolour = False
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

        # The header: the headline (and when it came) over the terminal page's confirmation
        # lines, on the left; the terminal page's acknowledge button on the right.
        self.header = QFrame()
        self.header.setObjectName("ReturnHeader")
        top = AdaptiveBox()  # narrow: when it came under the headline
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.hit_banner, 1)
        top.addWidget(self.cached)
        self.header_extra = QVBoxLayout()  # the terminal page's confirmation lines
        self.header_extra.setContentsMargins(0, 0, 0, 0)
        left = QVBoxLayout()
        left.setContentsMargins(0, 0, 0, 0)
        left.setSpacing(2)
        left.addLayout(top)
        left.addLayout(self.header_extra)
        self.header_buttons = QVBoxLayout()  # the terminal page's acknowledge button
        self.header_buttons.setContentsMargins(0, 0, 0, 0)
        header = AdaptiveBox(self.header)  # narrow: the buttons under the words
        header.setContentsMargins(0, 0, 0, 0)
        header.addLayout(left, 1)
        header.addLayout(self.header_buttons)
        self.footer = QHBoxLayout()  # the F9 toggle, unless a layout puts it elsewhere
        self.footer.setContentsMargins(0, 0, 0, 0)
        self.footer.addWidget(self.toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(self.body, 1)
        layout.addWidget(self.raw, 1)
        layout.addLayout(self.footer)
        self.show_row(None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._shown[0] is not None and self._field_columns() != self._columns:
            self._refit.start()  # as many field columns as fit, once the resizing settles

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange) \
                and self._shown[0] is not None:
            self._recolour = True  # a record's links take their colour when the HTML is read:
            self._refit.start()  # after F10 they kept the day's dark blue on the night's black

    def _refit_fields(self) -> None:
        row = self._shown[0]
        recolour, self._recolour = self._recolour, False
        if row is not None and row.ret is not None and \
                (recolour or self._field_columns() != self._columns):
            self.follow_ups = []
            scrolled = self.body.verticalScrollBar().value()
            self.body.setHtml(self.record_html(row.ret))
            self.body.verticalScrollBar().setValue(scrolled)

    def _field_columns(self) -> int:
        return max(1, min(4, self.body.viewport().width() // FIELD_COLUMN_PX))

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

    def shown_return_id(self) -> str | None:
        row = self._shown[0]
        return row.ret.id if row is not None and row.ret is not None else None

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
        restyle(self.header, role=role)
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
        now = now or gateway_now(self.clock_offset)  # the deadlines' clock, the gateway's
        headline = detail_headline(row.ret, row.message, now,
                                   unanswered_after=self.unanswered_after,
                                   answered=self.answered)
        text = headline.text if row.ret is None else \
            hit_banner_text(headline, self.hit_confirmations(row.ret), now,
                            sentence=not self.states_below)
        self._set_banner(text, headline.role)

    def show_row(self, row: QueryRow | None, *, offline: bool = False,
                 now: datetime | None = None) -> None:
        if row is not None and (row, offline, now) == self._shown:
            return  # on screen already (the list moved it, or read it again unchanged)
        self._show_row(row, offline, now)
        self.shown.emit()

    def _show_row(self, row: QueryRow | None, offline: bool, now: datetime | None) -> None:
        for widget in (self.hit_banner, self.cached):
            widget.hide()
        self.follow_ups = []
        self.caveat_lines = []
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
        self.body.setHtml(self.record_html(ret))
        self._set_raw(ret.text)

    def record_html(self, ret: StoredReturn) -> str:
        """The record: what was asked, the switch's caveats in full, then each record's fields
        as many columns wide as the pane holds (hits first, the loudest first among them)."""
        self._columns = columns = self._field_columns()
        self.caveat_lines = []
        for record in ret.records:
            for caveat in record.get("caveats") or []:
                if str(caveat) not in self.caveat_lines:
                    self.caveat_lines.append(str(caveat))
        parts = [f"<h3>{html.escape(query_summary(ret.query))}</h3>"]
        parts += [f"<p><b>{html.escape(line)}</b></p>" for line in self.caveat_lines]
        ordered = sorted(ret.records, key=lambda r: (-int(alert_level(r)), 0))
        loud = badge_style("hit")  # its own background: readable in every theme
        for record in ordered:
            title = html.escape(str(record.get("file", "")))
            if record.get("category"):
                title += f" — {html.escape(str(record['category']).replace('_', ' '))}"
            flag = f" <b style='{loud}'>&nbsp;HIT&nbsp;</b>" if record.get("hit") else ""
            parts.append(f"<h4>{title}{flag}</h4>")
            if record.get("caution_codes"):
                words = [c.text for c in cautions(str(c) for c in record["caution_codes"])]
                parts.append(f"<p style='{loud}'><b>CAUTION: " + html.escape(
                    " · ".join(words)) + "</b></p>")
            for group, fields in group_fields(record.get("fields") or {}):
                parts.append(f"<p><i>{group}</i></p>{fields_table(fields, columns)}")
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
        return "".join(parts)

