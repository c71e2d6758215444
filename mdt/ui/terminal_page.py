"""The terminal page: the command line and forms on the left, the returns on the right (or the
dispatcher's desk layout). Imported when signing in starts, not on the way to the first window."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from PySide6.QtCore import QItemSelection, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QLabel,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mdt.app.controller import AppController
from mdt.app.errors import describe_error, then
from mdt.core.command import parse_command
from mdt.core.confirmation import answered_requests
from mdt.core.forms import FormDef, FormInvalid
from mdt.core.present import command_not_understood, outbox_counts
from mdt.services.session import Operator
from mdt.ui.adaptive import WrappingLabel
from mdt.ui.command_line import CommandLine
from mdt.ui.confirmation_view import AgencyQueueView
from mdt.ui.form_view import FormView
from mdt.ui.forms_panel import FormsPanel
from mdt.ui.restyle import restyle
from mdt.ui.return_pane import ReturnPane
from mdt.ui.returns_compare import ReturnsCompare
from mdt.ui.returns_list import fit_rows, newest_return_id, prepare_rows, returns_table, row_to_show
from mdt.ui.returns_view import ReturnsModel, row_key
from mdt.ui.search_view import SearchView
from mdt.ui.staged import Staged, polish_in_steps
from mdt.ui.terminal_layout import LIST_ROWS, Parts, dispatcher_desk, officer_tabs
from mdt.ui.unit_list import UnitListView


class TerminalPage(Staged, QWidget):
    """Command line and forms on the left, returns on the right."""

    outbox_counts = Signal(str)
    on_screen_changed = Signal(object)  # the id of the return in view (None: none)

    def __init__(self, controller: AppController, parent: QWidget | None = None, *,
                 staged: bool = False) -> None:
        """``staged``: made a part at a time by :meth:`build_step` (one per turn of the event
        loop, so no turn holds it long); :meth:`finish` makes the rest at once."""
        super().__init__(parent)
        self.controller = controller
        self._stages = self._build(controller)
        self.ready = False
        if not staged:
            self.finish()

    def _build(self, controller: AppController) -> Iterator[None]:
        # Named and marked first: a part styled as it is made matches the officer rules.
        self.setObjectName("TerminalPage")
        self.setProperty("layoutKind", "officer")
        self.forms_panel = FormsPanel()
        self.forms = self.forms_panel.forms  # by message key (the same dicts as the panel's)
        self.views = self.forms_panel.views
        self.offline = False

        self.operator_label = WrappingLabel("", most_lines=2)  # type size 1.5: two lines
        self.command = CommandLine()
        self.command.setPlaceholderText(
            "Command (Ctrl+L): QV LIC/ABC1234.LIS/MD · a plate · a VIN · DOE, JOHN 19800101 "
            "· Up: recall")
        self.command_feedback = QLabel("")
        self.command_feedback.setObjectName("CommandFeedback")
        self.command_feedback.setWordWrap(True)  # a long message never widens the window
        self._from_command_line = False
        self._last_viewed: str | None = None
        self._retention = QTimer(self)  # the retention rule keeps running during a long shift
        self._retention.setInterval(10 * 60 * 1000)
        self._retention.timeout.connect(self._expire)

        self.form_picker = self.forms_panel.picker
        yield
        self.model = ReturnsModel(self)
        self.model.unanswered_after = controller.settings.unanswered_after_minutes
        self._messages: list[dict[str, Any]] = []
        self._select_message: str | None = None  # a query just queued: its row is selected
        self._queued_said: str | None = None  # the query the "Queued ..." feedback is about
        self.table = returns_table(self.model)
        self.model.fetch_older = lambda before, callback: controller.load_older_returns(
            before, callback, ReturnsModel.PAGE)
        yield
        # The return in view under one header (mdt.ui.return_pane).
        self.pane = ReturnPane(self)
        self.detail, self.hit_panel = self.pane.detail, self.pane.hit_panel
        self.ack_here, self.alerts_here = self.pane.ack_here, self.pane.alerts_here
        self.return_actions = self.pane.return_actions
        self.detail.unanswered_after = self.model.unanswered_after
        self.pin = self.return_actions.pin
        self.pin.clicked.connect(self.pin_selected)
        yield
        self.returns_panel = QSplitter(Qt.Orientation.Vertical)
        self.returns_panel.addWidget(self.table)
        self.returns_panel.addWidget(self.pane)
        self.returns_panel.setSizes([220, 480])
        yield
        self.queue = AgencyQueueView()
        yield
        self.search = SearchView()
        self.search.search_requested.connect(self.run_search)
        self.search.open_requested.connect(self.show_return)
        yield
        self.units = UnitListView()
        self.compare = ReturnsCompare()
        self.tabs: QTabWidget | None = None
        self.layout_kind = ""
        self._arranged: QWidget | None = None

        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(4, 4, 4, 2)  # the record, not the margins, gets the room
        self.body.setSpacing(4)
        self.body.addWidget(self.command)
        self.body.addWidget(self.command_feedback)
        self.command_feedback.hide()  # shown when it has something to say
        yield
        yield from self._arrange("officer")
        yield from polish_in_steps(self)

        self.command.returnPressed.connect(self.run_command)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        # A burst of events is one read, not a read per event, and the first event is read at
        # once (a 50 ms debounce was most of the time from an answer's arrival to the screen):
        # a change while a read is on its way asks for one more read after it.
        self._reading = False
        self._read_again = False
        self._reset_again = False
        self.detail.run_requested.connect(self.follow_up)
        self.detail.shown.connect(self.say_on_screen)
        self.hit_panel.yq_requested.connect(self.return_actions.request_confirmation)
        self.hit_panel.next_request.connect(self.return_actions.request_next_confirmation)
        self.queue.answer_requested.connect(self.return_actions.answer_request)
        self.units.message_requested.connect(self.return_actions.message_unit)
        self._units_timer = QTimer(self)
        self._units_timer.setInterval(30_000)
        self._units_timer.timeout.connect(self.refresh_units)
        QShortcut(QKeySequence("Ctrl+P"), self, self.pin_selected)
        QShortcut(QKeySequence("Ctrl+F"), self, self.focus_search)
        controller.alerts.changed.connect(self._alerts_changed)
        controller.sync.events_applied.connect(lambda _events: self.changed())
        controller.sync.outbox_changed.connect(lambda *_args: self.changed())

    # -- the two workstation layouts -------------------------------------------------------------
    def arrange(self, kind: str) -> None:
        """Lay the same widgets out for an officer (one column: the command line, then the last
        returns; forms and the queue one tab away; large type and touch targets) or for a
        dispatcher (the agency queue and the unit list, returns side by side, the form open)."""
        for _ in self._arrange(kind):
            pass

    def _arrange(self, kind: str) -> Iterator[None]:
        kind = "dispatcher" if kind == "dispatcher" else "officer"
        current = self._current_row() if self.model.rows else None
        parts = Parts(self.forms_panel, self.returns_panel, self.queue, self.units, self.compare,
                      self.search, self.return_actions)
        for part in parts.all():
            part.setParent(None)  # taken out of the old arrangement before it goes
        parts.release()
        if self._arranged is not None:
            self._arranged.deleteLater()
        arranged: QWidget
        if kind == "officer":
            self.tabs = yield from officer_tabs(parts)
            arranged = self.tabs
            shown: tuple[QWidget, ...] = (self.returns_panel,)  # the current tab only
        else:
            self.tabs = None
            arranged = dispatcher_desk(parts)
            self.pane.actions_below()
            shown = parts.all()
        yield
        self.body.addWidget(arranged, 1)
        arranged.show()  # now, not on the next turn of the event loop
        for part in shown:
            part.show()
        self.compare.setVisible(kind == "dispatcher" and bool(self.compare.panes))
        self.pin.setVisible(kind == "dispatcher")  # comparing returns is a desk task
        self._arranged = arranged
        fit_rows(self.table, LIST_ROWS if kind == "officer" else 0)
        if self.tabs is not None:
            self.tabs.currentChanged.connect(lambda _index: self.say_on_screen())
        self.layout_kind = kind
        self.setObjectName("TerminalPage")
        changed = self.property("layoutKind") not in (None, kind)
        self.setProperty("layoutKind", kind)
        if changed:  # the style sheet's officer rules follow the new layout
            for widget in (self, *self.findChildren(QWidget)):
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        if current is not None:
            self.detail.show_row(current, offline=self.offline)

    def say_on_screen(self) -> None:
        """Tell who listens which return is in view: in the officer layout only while the
        Returns tab is the current one."""
        in_view = self.tabs is None or self.tabs.currentWidget() is self.returns_panel
        self.on_screen_changed.emit(self.detail.shown_return_id() if in_view else None)

    def focus_search(self) -> None:
        self.show_part(self.search)
        self.search.box.setFocus()
        self.search.box.selectAll()

    def run_search(self, text: str, cursor: Any) -> None:
        self.controller.search(text, cursor, lambda result, error: self.search.show_outcome(
            text, cursor, result, describe_error(error) if error is not None else None))

    def forget(self) -> None:
        """Signed out: nothing of the session stays on screen."""
        self.model.set_rows([])
        self.detail.show_row(None)
        self.hit_panel.show_return(None)
        self.queue.set_snapshot(None)
        for return_id, _pane, _detail in list(self.compare.panes):
            self.compare.unpin(return_id)
        self.search.box.clear()
        self.search.model.set_rows([])
        self.units.model.set_units([])
        self.forms_panel.drop_views()
        self.command.clear()
        self.command.history.clear()
        self.feedback("")
        self._units_timer.stop()
        self._retention.stop()

    # -- print, PDF, forward (mdt.ui.return_actions) ------------------------------------------
    def selected_return(self) -> Any:
        row = self._current_row()
        return row if row is not None and row.ret is not None else None

    def document(self, row: Any) -> str:
        from mdt.ui.export import return_html

        operator = getattr(self, "operator", None)
        return return_html(row, training=bool(operator and operator.training),
                           operator=operator.name if operator else "")

    def home_ori(self) -> str | None:
        operator = getattr(self, "operator", None)
        return operator.ori if operator is not None else None

    def request_next_confirmation(self, nic: str) -> None:
        self.return_actions.request_next_confirmation(nic)

    def show_part(self, part: QWidget) -> None:
        """Bring the returns, the form or the queue into view (a tab in the officer layout)."""
        if self.tabs is not None and self.tabs.indexOf(part) >= 0:
            self.tabs.setCurrentWidget(part)

    def pin_selected(self) -> None:
        """Keep the shown return beside the others (a dispatcher comparing returns)."""
        row = self._current_row()
        if row is not None and row.ret is not None:
            self.compare.pin(row, offline=self.offline)
            self.compare.setVisible(self.layout_kind == "dispatcher")

    def refresh_units(self) -> None:
        if self.layout_kind != "dispatcher" or getattr(self, "operator", None) is None:
            return

        self.controller.load_units(lambda units, error: self.units.mark_stale(
            describe_error(error)) if error is not None else self.units.set_units(units))

    # -- setting up after sign-in -------------------------------------------------------------
    def start(self, operator: Operator) -> None:
        self.operator = operator
        self.operator_label.setText(
            f"<b>{operator.name}</b> · {operator.role} · ORI {operator.ori}"
            + (f" · {operator.unit}" if operator.unit else ""))
        self.controller.load_forms(then(self._tables_and_forms_loaded, self.refuse,
                                        "The forms could not be loaded"))
        chosen = self.controller.settings.workstation_layout
        kind = (chosen if chosen in ("officer", "dispatcher") else
                "dispatcher" if operator.role == "dispatcher" else "officer")
        if kind != self.layout_kind:  # laid out already (the page starts as the officer's)
            self.arrange(kind)
        # The keys typed from now go to the command line: the focus was in the sign-in page,
        # hidden now (it had moved on to the status bar's MDT button, or stayed in the demo
        # list), and the forms, which focus it too, are a worker's round trip away.
        self.command.setFocus(Qt.FocusReason.OtherFocusReason)
        self._units_timer.start()
        self.refresh_units()
        self._retention.start()
        self.reload()

    def _expire(self) -> None:
        self.controller.expire(lambda gone, _e: self.reload(reset=True) if gone else None)

    def _tables_and_forms_loaded(self, result: Any) -> None:
        """The forms arrive from the worker; their views are made a turn of the loop each and
        published together when the last one is made."""
        self.forms_panel.tables, forms = result
        operator = self.operator
        defaults = {"ori": operator.ori, "atn": operator.name.upper()[:30], "name": operator.name,
                    "state": operator.ori[:2],
                    "phn": self.controller.settings.operator_phone}
        self.forms_panel.make_views(
            forms, defaults, lambda: getattr(self, "operator", None) is operator,
            self._publish_forms)

    def _publish_forms(self, built: list[tuple[FormDef, FormView]]) -> None:
        self.forms_panel.publish(built, self.send, self, self.open_form)
        self.forms_panel.select("QV")  # ready one tab away, styled a few widgets a turn
        self.show_part(self.returns_panel)  # the command line and the last returns first
        self.command.setFocus()

    # -- forms and the command line ------------------------------------------------------------
    def refuse(self, sentence: str) -> None:
        """The command line's error line: the default place a failed task says why."""
        self.feedback(sentence, error=True)

    def feedback(self, text: str, *, error: bool = False) -> None:
        self.command_feedback.setText(text)
        self.command_feedback.setVisible(bool(text))  # no empty line above the returns
        restyle(self.command_feedback, "CommandError" if error else "CommandFeedback")

    def open_form(self, mke: str, values: dict[str, str] | None = None) -> FormView | None:
        view = self.forms_panel.select(mke)
        if view is None:
            return None
        self.show_part(self.forms_panel)
        if values:
            view.clear()
            view.set_values(values)
        view.focus_first()
        return view

    def follow_up(self, mke: str, values: dict[str, str], dest: list[str]) -> None:
        """A "Run this person / plate / VIN" link: the form opens prefilled; Enter sends it."""
        view = self.open_form(mke, values)
        if view is not None and dest:
            view.set_destination(dest)
        self.feedback(f"{mke} prefilled from the return: check it, then press Enter to send.")

    def run_command(self) -> None:
        text = self.command.text()
        home = self.operator.ori[:2] if getattr(self, "operator", None) else ""
        command = parse_command(text, home_state=home)
        if command is None or command.mke not in self.views:
            self.feedback(command_not_understood(text), error=True)
            return
        self.feedback("")
        self.command.remember(text)
        self.command.clear()
        view = self.views[command.mke]
        # A complete command goes out from its form unseen (no repaint of both tabs); one not
        # complete, or with a field the form has not (the CLI's sentence), opens it with errors.
        if command.values:
            view.reset()
            view.set_values(command.values)
        unknown = view.unknown_fields(command.values)
        if not command.values or unknown or view.refusals():
            self.open_form(command.mke, command.values)
        if unknown:
            self.feedback(" ".join(unknown), error=True)
        elif command.values:
            self._from_command_line = True
            if problems := view.send():
                self._from_command_line = False
                self.feedback(" ".join(problems), error=True)

    def send(self, mke: str, values: dict[str, str], dest: list[str], purpose: str) -> None:
        def sent(message: Any, error: BaseException | None) -> None:
            view = self.views.get(mke)
            from_command_line, self._from_command_line = self._from_command_line, False
            if error is not None:
                self.feedback(f"Not sent: {describe_error(error)}", error=True)
                if isinstance(error, FormInvalid) and self.open_form(mke) is not None:
                    self.views[mke].refused(error.errors)  # back to its form, its field
                return
            # A query that owns the detail pane says its wait there, in its header; a YQ, YR
            # or AM leaves the hit it is about on screen: this line says it is in the outbox.
            owns_pane = message.get("mke") not in ("YQ", "YR", "AM")
            self.feedback("" if owns_pane else
                          f"Queued {message['mke']} — {message['text'].splitlines()[-1]}")
            self._queued_said = None if owns_pane else str(message.get("id") or "") or None
            if view is not None:
                view.reset() if from_command_line else view.clear()
            self.show_part(self.returns_panel)  # the answer will show there
            if from_command_line:
                self.command.setFocus()
            # A new query owns the detail pane from now: never the previous return under its
            # header. A YQ, YR or AM does not: the hit it confirms stays on screen with its clock.
            if owns_pane:
                self._select_message = str(message.get("id") or "") or None
            self.reload()

        self.controller.send(mke, values, sent, dest=dest or None, purpose=purpose or None)

    # -- returns -------------------------------------------------------------------------------
    def changed(self) -> None:
        """The cache changed (events applied, an outbox state): read it."""
        self.reload()

    def reload(self, *, reset: bool = False) -> None:
        """Read the newest queries and returns (off the GUI thread) and merge them into the list
        by rows; ``reset`` starts the list over (retention took returns away). One read at a
        time: asked during one, it reads once more after it (so results never cross)."""
        if self._reading:
            self._read_again = True
            self._reset_again = self._reset_again or reset
            return
        self._reading = True

        def loaded(result: Any, error: BaseException | None) -> None:
            self._reading = False
            if self._read_again:  # what changed during this read
                again, self._read_again, self._reset_again = self._reset_again, False, False
                QTimer.singleShot(0, self, lambda: self.reload(reset=again))
            if error is not None:
                self.feedback(f"The cache could not be read: {describe_error(error)}", error=True)
                return
            messages, rows, headlines = result  # prepared on the worker (prepare_rows)
            self.model.headlines.update(headlines)
            self._messages = messages
            said = next((m for m in messages if self._queued_said and
                         m.get("id") == self._queued_said), None)
            if said is not None and said.get("state") not in ("queued", "sending"):
                # the "Queued ..." line goes once the query is out (its row says the rest)
                self._queued_said = None
                if self.command_feedback.text().startswith("Queued "):
                    self.feedback("")
            self.outbox_counts.emit(outbox_counts(messages, self.model.answered))
            if not self.command.history:  # recall works across restarts: seed from the cache
                for message in reversed(messages):
                    fields = ".".join(f"{k}/{v}" for k, v in (message.get("fields") or {}).items())
                    self.command.remember(f"{message.get('mke', '')} {fields}")
            selected = self._current_row()
            newest_before = newest_return_id(self.model.rows)
            if reset:
                self.model.set_rows(rows)
                changed = {row_key(row) for row in rows}
            else:
                changed = self.model.merge(rows)
            if not self.model.rows:
                self.detail.show_row(None)
                return
            row, queued_shown = row_to_show(self.model.rows, selected, newest_before,
                                            self._select_message)
            if queued_shown:
                self._select_message = None
            indexes = self.table.selectionModel().selectedRows()
            if not indexes or indexes[0].row() != row:
                self.table.selectRow(row)
            elif row_key(self.model.rows[row]) in changed:  # same row, new state: show it
                self._selected(QItemSelection(), QItemSelection())

        self.controller.load_recent(loaded, prepare=prepare_rows(self.model))

    # -- hit confirmation ----------------------------------------------------------------------
    def _alerts_changed(self, snapshot: Any) -> None:
        self.hit_panel.set_snapshot(snapshot)
        self.queue.set_snapshot(snapshot)
        # One state per confirmation: an answered YQ is answered in its row, in the detail's
        # header and in the status bar's count.
        answered = answered_requests(snapshot.confirmations)
        if self.model.follow(answered, snapshot.clock_offset):  # and the gateway's clock
            self.outbox_counts.emit(outbox_counts(self._messages, answered))
        self.detail.clock_offset = snapshot.clock_offset
        self.detail.set_confirmations(snapshot.confirmations, answered)
        waiting = sum(1 for item in snapshot.queue if not item.answered_by)
        if self.tabs is not None:
            self.tabs.setTabText(self.tabs.indexOf(self.queue),
                                 f"Agency queue ({waiting})" if waiting else "Agency queue")

    def show_return(self, return_id: str) -> bool:
        """Select the return with this id in the list (the alert bar's "Confirm hit")."""
        self.show_part(self.returns_panel)
        row = next((i for i, r in enumerate(self.model.rows)
                    if r.ret is not None and r.ret.id == return_id), None)
        if row is not None:
            self.table.selectRow(row)
        return row is not None

    def _current_row(self) -> Any:
        indexes = self.table.selectionModel().selectedRows()
        return self.model.rows[indexes[0].row()] if indexes else None

    def _selected(self, _new: QItemSelection, _old: QItemSelection) -> None:
        row = self._current_row()
        self.detail.show_row(row, offline=self.offline)
        self.hit_panel.show_return(row.ret if row is not None else None)
        if row is not None and row.ret is not None and row.ret.id != self._last_viewed:
            self._last_viewed = row.ret.id  # each return shown is an audited read of CJI
            self.controller.viewed(row.ret.id)
