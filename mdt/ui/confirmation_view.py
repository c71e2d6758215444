"""Hit confirmation on screen, both directions.

:class:`HitConfirmationPanel` sits in the return's header, under the headline: one row per hit
with its state and countdown, and the actions (an urgent or a routine YQ prefilled from the
record; the next request when the time ran out). :class:`AgencyQueueView` is the agency's queue
of incoming requests, soonest deadline first, second and third requests marked louder, with the three answers.

Countdowns run from the snapshot the alert center read, on the gateway's clock; nothing here
touches the cache or the network.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mdt.core.alerts import IVF_CATEGORY_WORDS, RTY_WORDS, ivf_prompt
from mdt.core.confirmation import (
    HitConfirmation,
    IncomingRequest,
    OutgoingConfirmation,
    deadline_text,
    for_return,
)
from mdt.core.present import confirmation_words, incoming_state
from mdt.ui.adaptive import AdaptiveBox, WrappingLabel
from mdt.ui.alert_bar import gateway_now
from mdt.ui.table_model import HeaderedTableModel, Index, row_table
from mdt.ui.theme import badge_colours

if TYPE_CHECKING:
    from mdt.services.alerts import AlertSnapshot
    from mdt.store.cache import StoredReturn



def confirmation_text(confirmation: HitConfirmation | OutgoingConfirmation | None,
                      now: datetime) -> tuple[str, str]:
    """What the hit's line says about its confirmation, and its style name (the words are
    :func:`mdt.core.present.confirmation_words`)."""
    return confirmation_words(confirmation, now)


class _HitLine(QFrame):
    def __init__(self, panel: HitConfirmationPanel, index: int, record: dict[str, Any]) -> None:
        super().__init__()
        self.setObjectName("HitLine")
        self.index = index
        self.record = record
        self.nic = str(record.get("nic") or (record.get("fields") or {}).get("NIC") or "")
        file = str(record.get("file") or "").replace("_", " ")
        category = str(record.get("category") or "")
        heading = f"HIT {index + 1}: {file}"
        if category:
            heading += f" — {IVF_CATEGORY_WORDS.get(category, category)}"
        self.heading = QLabel(f"<b>{heading}</b> · NIC {self.nic or '?'}")
        self.state = WrappingLabel("")
        self.state.setObjectName("ConfirmNone")
        self.policy = WrappingLabel("")
        self.policy.setObjectName("PolicyPrompt")
        self.policy.setVisible(bool(category))
        if category:
            self.policy.setText(f"AGENCY POLICY ({IVF_CATEGORY_WORDS.get(category, category)}): "
                                f"{ivf_prompt(category, panel.policy_prompts)}")
        self.urgent = QPushButton("Urgent YQ (10 min)")
        self.routine = QPushButton("Routine YQ (1 h)")
        self.next = QPushButton("Send next request")
        self.next.setObjectName("NextRequest")
        for button in (self.urgent, self.routine, self.next):
            button.setMinimumHeight(36)
        self.urgent.clicked.connect(lambda: panel.yq_requested.emit(panel.return_id, index, "U"))
        self.routine.clicked.connect(lambda: panel.yq_requested.emit(panel.return_id, index, "R"))
        self.next.clicked.connect(lambda: panel.next_request.emit(self.nic))
        self.heading.setObjectName("HitHeading")
        self.heading.setVisible(panel.hits_on_return > 1)  # one hit: the headline names it
        # One row a hit: which hit and its state on the left, what to do on the right.
        words = QVBoxLayout()
        words.setSpacing(0)
        words.addWidget(self.heading)
        words.addWidget(self.state)
        buttons = QHBoxLayout()
        buttons.addWidget(self.urgent)
        buttons.addWidget(self.routine)
        buttons.addWidget(self.next)
        buttons.addStretch(0)
        row = AdaptiveBox()  # narrow (a desk's pane): the buttons under the words
        row.addLayout(words, 1)
        row.addLayout(buttons)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 1, 6, 1)
        layout.setSpacing(2)
        layout.addLayout(row)
        layout.addWidget(self.policy)

    def update_state(self, confirmation: HitConfirmation, now: datetime) -> None:
        text, style = confirmation_text(confirmation, now)
        self.state.setText(text)
        if self.state.objectName() != style:
            self.state.setObjectName(style)
            self.state.style().unpolish(self.state)
            self.state.style().polish(self.state)
        fresh = confirmation.can_request()  # no YQ yet for this stop (an earlier one's answer
        # does not confirm it)
        self.urgent.setVisible(fresh)
        self.routine.setVisible(fresh)
        next_rno = confirmation.next_rno(now)
        self.next.setVisible(next_rno is not None and next_rno <= 3)
        if next_rno is not None and next_rno <= 3:
            self.next.setText(f"Send request {next_rno} (RNO {next_rno})…")


class HitConfirmationPanel(QFrame):
    """The confirmation state of each hit in the shown return, with its countdown."""

    yq_requested = Signal(str, int, str)  # return id, record index, priority U / R
    next_request = Signal(str)  # NIC

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("HitConfirmationPanel")
        self.return_id = ""
        self.received_at = ""  # of the shown return: its hits' own confirmations begin after it
        self.policy_prompts: dict[str, str] = {}
        self.lines: list[_HitLine] = []
        self.hits_on_return = 0
        self.confirmations: dict[str, OutgoingConfirmation] = {}
        self.offset_seconds = 0.0
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(2)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(self._update)
        self.hide()

    def show_return(self, ret: StoredReturn | None) -> None:
        for line in self.lines:
            line.deleteLater()
        self.lines = []
        self.return_id = ret.id if ret is not None else ""
        self.received_at = ret.received_at if ret is not None else ""
        records = ret.records if ret is not None else []
        self.hits_on_return = sum(1 for record in records if record.get("hit"))
        for n, record in enumerate(records):
            if record.get("hit"):
                line = _HitLine(self, n, record)
                self.lines.append(line)
                self._layout.addWidget(line)
        self.setVisible(bool(self.lines))
        self._update()
        if self.lines:
            self._tick.start()
        else:
            self._tick.stop()

    def set_snapshot(self, snapshot: AlertSnapshot) -> None:
        self.confirmations = snapshot.confirmations
        self.offset_seconds = snapshot.clock_offset
        self._update()

    def _update(self) -> None:
        now = gateway_now(self.offset_seconds)
        for line in self.lines:
            line.update_state(for_return(self.confirmations.get(line.nic), self.received_at,
                                         line.nic), now)


# -- the agency queue ------------------------------------------------------------------------------
class IncomingQueueModel(HeaderedTableModel):
    HEADERS = ("Time left", "Request", "Type", "Subject", "Priority", "NIC", "OCA", "From",
               "State")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.now: datetime = gateway_now(0)

    @property
    def items(self) -> list[IncomingRequest]:
        return self.rows

    def set_items(self, items: list[IncomingRequest], now: datetime) -> None:
        self.now = now
        self.set_rows(items)

    def tick(self, now: datetime) -> None:
        self.now = now
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, 0))

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        item = self.row(index)
        if item is None:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.values(item)[index.column()]
        if role == Qt.ItemDataRole.ToolTipRole:  # the columns a narrow desk leaves out too
            return "\n".join(f"{h}: {v}" for h, v in zip(self.HEADERS, self.values(item),
                                                          strict=True))
        if role == Qt.ItemDataRole.FontRole and (item.rno > 1 or item.overdue(self.now)) \
                and not item.answered_by:
            font = QFont()
            font.setBold(True)
            return font
        if role in (Qt.ItemDataRole.BackgroundRole, Qt.ItemDataRole.ForegroundRole) and \
                not item.answered_by and (item.overdue(self.now) or item.rno > 1):
            colour, background = badge_colours("hit" if item.overdue(self.now) else "late")
            return QBrush(background if role == Qt.ItemDataRole.BackgroundRole else colour)
        return None

    def values(self, item: IncomingRequest) -> tuple[str, ...]:
        request = item.request
        data = request.get("data_set") or {}
        subject = data.get("NAM") or data.get("LIC") or data.get("VIN") or data.get("SER") or ""
        return (
            "answered" if item.answered_by else deadline_text(item.remaining(self.now)),
            {1: "1st", 2: "2ND REQUEST", 3: "3RD REQUEST"}.get(item.rno, str(item.rno)),
            RTY_WORDS.get(str(request.get("rty") or ""), str(request.get("rty") or "")),
            str(subject), "URGENT" if request.get("pri") == "U" else "routine",
            item.nic, str(request.get("oca") or ""),
            f"{request.get('requesting_ori', '')} {request.get('requesting_name', '')}",
            self.state(item))

    def state(self, item: IncomingRequest) -> str:
        return incoming_state(item.answered_by, item.overdue(self.now))


class AgencyQueueView(QWidget):
    """Requests from other agencies to confirm our records, soonest deadline first."""

    answer_requested = Signal(str, str)  # NIC, CST (Y / N / T)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.offset_seconds = 0.0
        self.heading = WrappingLabel("")
        self.heading.setObjectName("QueueHeading")
        self.model = IncomingQueueModel(self)
        # narrow: the sender, the OCA, the NIC, the priority, the type, the state and the
        # request give way, in that order (the alert bar and the row's tooltip still say
        # them); the time left and the subject never
        self.table = row_table(self.model, "AgencyQueue", stretch=3, give_way=(7, 6, 5, 4, 2, 8, 1))
        self.confirm = QPushButton("Confirmed (Y)…")
        self.deny = QPushButton("Not confirmed (N)…")
        self.later = QPushButton("Will confirm by… (T)")
        buttons = AdaptiveBox()  # a narrow desk column: one above the other
        for button, cst in ((self.confirm, "Y"), (self.deny, "N"), (self.later, "T")):
            button.setMinimumHeight(36)
            button.clicked.connect(lambda _=False, cst=cst: self._answer(cst))
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._tick = QTimer(self)
        self._tick.setInterval(1000)
        self._tick.timeout.connect(lambda: self.model.tick(gateway_now(self.offset_seconds)))
        self._tick.start()
        self.set_snapshot(None)

    def set_snapshot(self, snapshot: AlertSnapshot | None) -> None:
        selected = self.selected()
        items = snapshot.queue if snapshot is not None else []
        self.offset_seconds = snapshot.clock_offset if snapshot is not None else 0.0
        self.model.set_items(items, gateway_now(self.offset_seconds))
        waiting = [i for i in items if not i.answered_by]
        self.heading.setText(
            f"<b>Hit confirmation requests for our agency</b> — {len(waiting)} waiting"
            if waiting else "<b>Hit confirmation requests for our agency</b> — none waiting")
        for row, item in enumerate(self.model.items):
            if selected is not None and item.nic == selected.nic:
                self.table.selectRow(row)
                break
        else:
            if waiting:
                self.table.selectRow(0)
        self._enable()

    def selected(self) -> IncomingRequest | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.items[rows[0].row()] if rows else None

    def _enable(self) -> None:
        item = self.selected()
        for button in (self.confirm, self.deny, self.later):
            button.setEnabled(item is not None)

    def _answer(self, cst: str) -> None:
        item = self.selected()
        if item is not None:
            self.answer_requested.emit(item.nic, cst)
