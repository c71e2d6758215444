"""The main window: sign-in page, then the terminal (command line, forms, returns).

The training banner sits above every page whenever the gateway is a training one. The status bar
shows the link (online / offline / re-login needed) and the outbox.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QItemSelection, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from mdt import __version__, paths
from mdt.app.controller import AppController
from mdt.core.alerts import KIND_WORDS, AlertKind, parse_time
from mdt.core.codes import CodeTables
from mdt.core.command import parse_command
from mdt.core.confirmation import ConfirmState, deadline_text
from mdt.core.forms import FormDef
from mdt.desktop.speech import read_aloud_enabled
from mdt.terminal import Operator
from mdt.ui.alert_bar import AlertBar, gateway_now
from mdt.ui.alert_sound import AlertSounder, DesktopNotifier, SoundPlayer, Speaker
from mdt.ui.alerts_view import AlertsDialog
from mdt.ui.command_line import CommandLine
from mdt.ui.confirmation_view import AgencyQueueView, HitConfirmationPanel
from mdt.ui.form_view import FormView
from mdt.ui.lock_screen import IdleWatcher, LockScreen
from mdt.ui.login import LoginPage, describe_error
from mdt.ui.relogin import ReloginDialog
from mdt.ui.returns_compare import ReturnsCompare
from mdt.ui.returns_view import (
    STATE_WORDS,
    ReturnDetail,
    ReturnsModel,
    build_rows,
    query_summary,
    row_key,
)
from mdt.ui.search_view import SearchView
from mdt.ui.theme import apply_theme, follow_theme
from mdt.ui.unit_list import UnitListView


def next_deadlines(snapshot: Any) -> list[tuple[Any, str]]:
    """Every running clock in a snapshot, soonest first: open alerts with a deadline, my YQs
    waiting for an answer, and the agency's requests not yet answered."""
    clocks: list[tuple[Any, str]] = []
    for alert in snapshot.open_alerts:
        moment = parse_time(alert.get("deadline"))
        if moment is not None and alert["kind"] != AlertKind.DETAINER:
            clocks.append((moment, KIND_WORDS.get(AlertKind(alert["kind"]), alert["kind"])))
    for nic, confirmation in snapshot.confirmations.items():
        state = confirmation.state(snapshot.now)
        if state in (ConfirmState.WAITING, ConfirmState.WILL_CONFIRM_BY) and \
                confirmation.deadline is not None:
            clocks.append((confirmation.deadline, f"answer to my YQ on {nic}"))
    for item in snapshot.queue:
        if not item.answered_by and item.respond_by is not None:
            clocks.append((item.respond_by, f"our YR on {item.nic}"))
    return sorted(clocks, key=lambda c: c[0])


TRAINING_TEXT = ("TRAINING — synthetic data only, not for operational use — "
                 "training gateway")
CONNECTION_WORDS = {
    "online": ("Online", "ConnOnline"),
    "degraded": ("Poor link — retrying; queries wait in the outbox until they get through",
                 "ConnReauth"),
    "offline": ("Offline — working from the cache; queries wait in the outbox", "ConnOffline"),
    "reauth": ("Session expired — sign in again (nothing queued is lost)", "ConnReauth"),
    "stopped": ("Sync stopped", "ConnOffline"),
}


def connection_text(state: str, detail: str) -> tuple[str, str]:
    """The status bar's words for the sync state: the same sentence ``mdt sync`` and the log
    give (why, and when the next try is) after the state's own words. Online is said only while
    answers, events or heartbeats arrive (the engine's idle timeout ends it)."""
    words, name = CONNECTION_WORDS.get(state, (state, "ConnOffline"))
    if state == "stopped" and detail:
        return detail, name
    if state in ("offline", "degraded") and detail:
        return f"{words} · {detail}", name
    return words, name


def quarantine_text(count: int) -> str:
    if not count:
        return ""
    return (f"{count} unreadable message{'s' if count != 1 else ''} from the switch "
            "(Ctrl+Shift+U)")


def outbox_counts(messages: list[dict[str, Any]]) -> str:
    """The outbox in words for the status bar: what waits to go, what is going, what waits for
    its answer (the newest 200 messages)."""
    states = [str(m.get("state")) for m in messages]
    parts = [f"{states.count('queued')} queued" if "queued" in states else "",
             f"{states.count('sending')} sending" if "sending" in states else "",
             f"{states.count('accepted') + states.count('acknowledged')} waiting for an answer"
             if {"accepted", "acknowledged"} & set(states) else "",
             f"{states.count('failed')} refused" if "failed" in states else ""]
    words = " · ".join(p for p in parts if p)
    return f"Outbox: {words}" if words else "Outbox: empty"


class TerminalPage(QWidget):
    """Command line and forms on the left, returns on the right."""

    outbox_counts = Signal(str)

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

    def build_step(self) -> bool:
        """Make the next part; True once the page is whole."""
        if not self.ready:
            try:
                next(self._stages)
            except StopIteration:
                self.ready = True
        return self.ready

    def finish(self) -> None:
        while not self.build_step():
            pass

    def _build(self, controller: AppController) -> Iterator[None]:
        self.tables = CodeTables.default()
        self.forms: dict[str, FormDef] = {}
        self.views: dict[str, FormView] = {}
        self.scrolls: dict[str, QScrollArea] = {}
        self.offline = False

        self.operator_label = QLabel("")
        self.command = CommandLine()
        self.command.setPlaceholderText(
            "Command (Ctrl+L): QV LIC/ABC1234.LIS/MD · a plate · a VIN · DOE, JOHN 19800101 "
            "· Up: recall")
        self.command_feedback = QLabel("")
        self.command_feedback.setObjectName("CommandFeedback")
        self.command_feedback.setWordWrap(True)  # a long message never widens the window
        self._from_command_line = False
        self._last_viewed: str | None = None
        self._forms_build = 0  # which sign-in's form views are being built
        self._retention = QTimer(self)  # the retention rule keeps running during a long shift
        self._retention.setInterval(10 * 60 * 1000)
        self._retention.timeout.connect(self._expire)

        self.form_picker = QComboBox()
        self.form_picker.setObjectName("FormPicker")
        self.form_picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.form_picker.setMinimumContentsLength(12)
        yield
        self.form_stack = QStackedWidget()
        self.forms_panel = QWidget()
        self.forms_panel.setObjectName("FormsPanel")
        forms_layout = QVBoxLayout(self.forms_panel)
        forms_layout.addWidget(self.form_picker)
        forms_layout.addWidget(self.form_stack, 1)

        yield
        self.model = ReturnsModel(self)
        self.model.unanswered_after = float(
            controller.terminal.settings.get("unanswered_after_minutes"))
        self.table = QTableView()
        self.table.setObjectName("ReturnsTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QTableView.SelectionMode.SingleSelection)
        # Columns sized once from the words they hold, never by measuring rows: a list that
        # changes at every event would otherwise re-measure its rows at every event. The
        # operator can still drag them (Interactive); the query takes the room left.
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)  # the query
        metrics = self.table.fontMetrics()
        for column, sample in ((0, "23 h 59 min ago"), (2, STATE_WORDS["accepted"]),
                               (3, "NCIC · NLETS")):
            header.resizeSection(column, metrics.horizontalAdvance(sample) + 24)
        vertical = self.table.verticalHeader()
        vertical.setVisible(False)
        vertical.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # rows are one line
        self.model.fetch_older = lambda before, callback: controller.load_older_returns(
            before, callback, ReturnsModel.PAGE)
        yield
        self.detail = ReturnDetail()
        yield
        self.hit_panel = HitConfirmationPanel()
        self.pin = QPushButton("Pin beside (Ctrl+P)")
        self.pin.setObjectName("PinReturn")
        self.pin.clicked.connect(self.pin_selected)
        detail_box = QWidget()
        detail_layout = QVBoxLayout(detail_box)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.hit_panel)
        detail_layout.addWidget(self.detail, 1)
        self.print_button = QPushButton("Print…")
        self.pdf_button = QPushButton("PDF…")
        self.forward_button = QPushButton("Forward (AM)…")
        self.print_button.clicked.connect(self.print_selected)
        self.pdf_button.clicked.connect(self.export_selected)
        self.forward_button.clicked.connect(self.forward_selected)
        actions = QHBoxLayout()
        for button in (self.print_button, self.pdf_button, self.forward_button, self.pin):
            actions.addWidget(button)
        detail_layout.addLayout(actions)
        yield
        self.returns_panel = QSplitter(Qt.Orientation.Vertical)
        self.returns_panel.addWidget(self.table)
        self.returns_panel.addWidget(detail_box)
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
        top = QHBoxLayout()
        top.addWidget(self.operator_label, 1)
        self.body.addLayout(top)
        self.body.addWidget(self.command)
        self.body.addWidget(self.command_feedback)
        yield
        yield from self._arrange("officer")
        yield

        self.command.returnPressed.connect(self.run_command)
        self.form_picker.currentIndexChanged.connect(self._picked)
        self.table.selectionModel().selectionChanged.connect(self._selected)
        self._reload = QTimer(self)
        self._reload.setSingleShot(True)
        self._reload.setInterval(50)
        self._reload.timeout.connect(self.reload)
        self.detail.run_requested.connect(self.follow_up)
        self.hit_panel.yq_requested.connect(self.request_confirmation)
        self.hit_panel.next_request.connect(self.request_next_confirmation)
        self.queue.answer_requested.connect(self.answer_request)
        self.units.message_requested.connect(self.message_unit)
        self._units_timer = QTimer(self)
        self._units_timer.setInterval(30_000)
        self._units_timer.timeout.connect(self.refresh_units)
        QShortcut(QKeySequence("Ctrl+P"), self, self.pin_selected)
        QShortcut(QKeySequence("Ctrl+F"), self, self.focus_search)
        controller.alerts.changed.connect(self._alerts_changed)
        controller.sync.events_applied.connect(lambda _events: self._reload.start())
        controller.sync.outbox_changed.connect(lambda *_args: self._reload.start())

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
        parts = (self.forms_panel, self.returns_panel, self.queue, self.units, self.compare,
                 self.search)
        for part in parts:
            part.setParent(None)  # taken out of the old arrangement before it goes
        if self._arranged is not None:
            self._arranged.deleteLater()
        if kind == "officer":
            tabs = QTabWidget()
            tabs.setObjectName("TerminalTabs")
            tabs.addTab(self.returns_panel, "Returns")
            yield
            tabs.addTab(self.forms_panel, "Form")
            tabs.addTab(self.search, "Search")
            yield
            tabs.addTab(self.queue, "Agency queue")
            tabs.setCurrentWidget(self.returns_panel)
            self.returns_panel.setSizes([150, 650])  # the last returns, then the one shown
            self.tabs = tabs
            arranged: QWidget = tabs
            shown: tuple[QWidget, ...] = (self.returns_panel,)  # the current tab only
        else:
            left = QSplitter(Qt.Orientation.Vertical)
            left.addWidget(self.queue)
            left.addWidget(self.units)
            left.setSizes([420, 260])
            side_by_side = QSplitter(Qt.Orientation.Horizontal)
            side_by_side.addWidget(self.returns_panel)
            side_by_side.addWidget(self.compare)
            middle = QSplitter(Qt.Orientation.Vertical)
            middle.addWidget(side_by_side)
            middle.addWidget(self.search)
            middle.setSizes([600, 200])
            split = QSplitter(Qt.Orientation.Horizontal)
            split.addWidget(left)
            split.addWidget(middle)
            split.addWidget(self.forms_panel)
            split.setSizes([520, 760, 380])
            self.tabs = None
            arranged = split
            shown = parts
        yield
        self.body.addWidget(arranged, 1)
        arranged.show()  # now, not on the next turn of the event loop
        for part in shown:
            part.show()
        self.compare.setVisible(kind == "dispatcher" and bool(self.compare.panes))
        self.pin.setVisible(kind == "dispatcher")  # comparing returns is a desk task
        self._arranged = arranged
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

    def focus_search(self) -> None:
        self.show_part(self.search)
        self.search.box.setFocus()
        self.search.box.selectAll()

    def run_search(self, text: str, cursor: Any) -> None:
        terminal = self.controller.terminal

        def done(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.search.show_results(text, [], None, False,
                                         f"The cache could not be searched: "
                                         f"{describe_error(error)}")
                return
            hits, next_cursor = result
            self.search.show_results(text, hits, next_cursor, cursor is not None)

        self.controller.tasks.run(lambda: terminal.search(text, 50, cursor), done)

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
        for view in self.views.values():
            view.clear()
        self.command.clear()
        self.command.history.clear()
        self.feedback("")
        self._units_timer.stop()
        self._retention.stop()

    # -- print, PDF, forward ------------------------------------------------------------------
    def _selected_return(self) -> Any:
        row = self._current_row()
        return row if row is not None and row.ret is not None else None

    def _document(self, row: Any) -> str:
        from mdt.ui.export import return_html

        operator = getattr(self, "operator", None)
        return return_html(row, training=bool(operator and operator.training),
                           operator=operator.name if operator else "")

    def export_pdf(self, path: Path) -> None:
        """The selected return as a PDF at ``path`` (the operator chose it), audited."""
        from mdt.ui.export import write_pdf

        row = self._selected_return()
        if row is None:
            self.feedback("Select a return to export.", error=True)
            return
        size = write_pdf(self._document(row), path)
        terminal, return_id = self.controller.terminal, row.ret.id
        self.controller.tasks.run(lambda: terminal.audit(
            "export", "success", f"return {return_id} to PDF ({size} bytes)"))
        self.feedback(f"Saved {path.name}: it holds CJI — keep it as agency policy says.")

    def export_selected(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        if self._selected_return() is None:
            self.feedback("Select a return to export.", error=True)
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the return as PDF — it holds criminal-justice information", "",
            "PDF (*.pdf)")
        if path:
            self.export_pdf(Path(path))

    def print_selected(self) -> None:
        from PySide6.QtGui import QTextDocument
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        row = self._selected_return()
        if row is None:
            self.feedback("Select a return to print.", error=True)
            return
        printer = QPrinter()
        if QPrintDialog(printer, self).exec() != QPrintDialog.DialogCode.Accepted:
            return
        document = QTextDocument()
        document.setHtml(self._document(row))
        document.print_(printer)
        terminal, return_id = self.controller.terminal, row.ret.id
        self.controller.tasks.run(lambda: terminal.audit("print", "success",
                                                         f"return {return_id}"))

    def forward_selected(self) -> None:
        """Forward the return to a unit as an administrative message (AM), to check and send."""
        row = self._selected_return()
        operator = getattr(self, "operator", None)
        if row is None or operator is None:
            self.feedback("Select a return to forward.", error=True)
            return
        text = f"FWD {query_summary(row.ret.query)}\n{row.ret.text}"[:1000]
        view = self.open_form("AM", {"TXT": text})
        if view is not None:
            view.set_destination([operator.ori])
        self.feedback("AM with the return: add ATTN <unit> and send with Enter.")

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

    def message_unit(self, unit: str) -> None:
        """An AM to one of our units: the switch routes AMs by ORI; the unit is named first."""
        operator = getattr(self, "operator", None)
        view = self.open_form("AM", {"TXT": f"ATTN {unit.upper()}: "})
        if view is not None and operator is not None:
            view.set_destination([operator.ori])
        self.feedback(f"AM to {unit}: write the message, then press Enter to send.")

    def refresh_units(self) -> None:
        if self.layout_kind != "dispatcher" or getattr(self, "operator", None) is None:
            return

        def done(units: Any, error: BaseException | None) -> None:
            if error is not None:
                self.units.mark_stale(describe_error(error))
            else:
                self.units.set_units(units)

        self.controller.tasks.run(self.controller.terminal.units, done)

    # -- setting up after sign-in -------------------------------------------------------------
    def start(self, operator: Operator) -> None:
        self.operator = operator
        self.operator_label.setText(
            f"<b>{operator.name}</b> · {operator.role} · ORI {operator.ori}"
            + (f" · {operator.unit}" if operator.unit else ""))
        terminal = self.controller.terminal

        def load() -> list[FormDef]:
            self.tables = tables = terminal.code_tables
            forms = terminal.forms.all()
            for form in forms:  # read the code tables now, on this worker, not on the GUI thread
                for field in form.fields:
                    if field.code_table:
                        _ = tables[field.code_table].entries
            return forms

        self.controller.tasks.run(load, self._forms_loaded)
        chosen = str(terminal.settings.get("workstation_layout"))
        kind = (chosen if chosen in ("officer", "dispatcher") else
                "dispatcher" if operator.role == "dispatcher" else "officer")
        if kind != self.layout_kind:  # laid out already (the page starts as the officer's)
            self.arrange(kind)
        self._units_timer.start()
        self.refresh_units()
        self._retention.start()
        self.reload()

    def _expire(self) -> None:
        terminal = self.controller.terminal
        self.controller.tasks.run(terminal.expire,
                                  lambda gone, _e: self.reload(reset=True) if gone else None)

    def _forms_loaded(self, forms: Any, error: BaseException | None) -> None:
        """The forms arrive from the worker: one form view is built per turn of the event loop
        (a view of 20 fields is a few ms; all of them at once held the loop half a second), put in
        the form stack the next turn, and
        all are published together when the last one is made."""
        if error is not None:
            self.feedback(f"The forms could not be loaded: {describe_error(error)}", error=True)
            return
        operator = self.operator
        defaults = {"ori": operator.ori, "atn": operator.name.upper()[:30], "name": operator.name,
                    "state": operator.ori[:2],
                    "phn": str(self.controller.terminal.settings.get("operator_phone"))}
        self._forms_build += 1
        build = self._forms_build
        pending = list(forms)
        built: list[tuple[FormDef, FormView, QScrollArea]] = []
        made: list[tuple[FormDef, FormView]] = []

        def step() -> None:
            if build != self._forms_build or getattr(self, "operator", None) is not operator:
                return  # signed out (or in again) meanwhile: this build is stale
            if made:  # the view made last turn goes into its scroll area and the stack
                form, view = made.pop()
                scroll = QScrollArea()  # long forms (IAQ, YQ) scroll instead of squeezing
                scroll.setWidgetResizable(True)
                scroll.setFrameShape(QScrollArea.Shape.NoFrame)
                scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
                scroll.setWidget(view)
                self.form_stack.addWidget(scroll)
                built.append((form, view, scroll))
            elif pending:
                form = pending.pop(0)
                made.append((form, FormView(form, self.tables, operator_defaults=defaults)))
            else:
                self._publish_forms(built)
                return
            QTimer.singleShot(0, self, step)

        step()

    def _publish_forms(self, built: list[tuple[FormDef, FormView, QScrollArea]]) -> None:
        self.form_picker.blockSignals(True)
        for form, view, scroll in built:
            self.forms[form.mke] = form
            view.submitted.connect(self.send)
            self.views[form.mke] = view
            self.scrolls[form.mke] = scroll
            function_key = getattr(form, "function_key", None)
            key = f" [{function_key}]" if function_key else ""
            self.form_picker.addItem(f"{form.mke} — {form.title}{key}", form.mke)
            if function_key:
                shortcut = QShortcut(QKeySequence(function_key), self)
                shortcut.activated.connect(lambda mke=form.mke: self.open_form(mke))
        self.form_picker.blockSignals(False)
        self.open_form("QV")
        self.show_part(self.returns_panel)  # the command line and the last returns first
        self.command.setFocus()

    # -- forms and the command line ------------------------------------------------------------
    def feedback(self, text: str, *, error: bool = False) -> None:
        self.command_feedback.setText(text)
        self.command_feedback.setObjectName("CommandError" if error else "CommandFeedback")
        self.command_feedback.style().unpolish(self.command_feedback)
        self.command_feedback.style().polish(self.command_feedback)

    def _picked(self, index: int) -> None:
        mke = self.form_picker.itemData(index)
        if mke in self.scrolls:
            self.form_stack.setCurrentWidget(self.scrolls[mke])

    def open_form(self, mke: str, values: dict[str, str] | None = None) -> FormView | None:
        view = self.views.get(mke)
        if view is None:
            return None
        self.form_picker.setCurrentIndex(self.form_picker.findData(mke))
        self.form_stack.setCurrentWidget(self.scrolls[mke])
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
            self.feedback(
                f"Not understood: '{text.strip()}'. Try QV LIC/ABC1234.LIS/MD, a plate, a VIN, "
                "or LAST, FIRST CCYYMMDD.", error=True)
            return
        self.feedback("")
        self.command.remember(text)
        self.command.clear()
        view = self.open_form(command.mke, command.values)
        if view is not None and command.values:
            # A complete command goes straight out and the officer stays on the command line;
            # an incomplete one leaves the form open with its errors.
            self._from_command_line = True
            view.send()

    def send(self, mke: str, values: dict[str, str], dest: list[str], purpose: str) -> None:
        def sent(message: Any, error: BaseException | None) -> None:
            view = self.views.get(mke)
            from_command_line, self._from_command_line = self._from_command_line, False
            if error is not None:
                self.feedback(f"Not sent: {describe_error(error)}", error=True)
                return
            self.feedback(f"Queued {message['mke']} — {message['text'].splitlines()[-1]}")
            if view is not None:
                view.clear()
            self.show_part(self.returns_panel)  # the answer will show there
            if from_command_line:
                self.command.setFocus()
            self.reload()

        self.controller.send(mke, values, sent, dest=dest or None, purpose=purpose or None)

    # -- returns -------------------------------------------------------------------------------
    def reload(self, *, reset: bool = False) -> None:
        """Read the newest queries and returns (off the GUI thread) and merge them into the list
        by rows; ``reset`` starts the list over (retention took returns away)."""
        def loaded(result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.feedback(f"The cache could not be read: {describe_error(error)}", error=True)
                return
            messages, returns = result
            self.outbox_counts.emit(outbox_counts(messages))
            if not self.command.history:  # recall works across restarts: seed from the cache
                for message in reversed(messages):
                    fields = ".".join(f"{k}/{v}" for k, v in (message.get("fields") or {}).items())
                    self.command.remember(f"{message.get('mke', '')} {fields}")
            selected = self._current_row()
            newest_before = self.model.rows[0].ret.id if self.model.rows and \
                self.model.rows[0].ret else None
            rows = build_rows(messages, returns)
            if reset:
                self.model.set_rows(rows)
                changed = {row_key(row) for row in rows}
            else:
                changed = self.model.merge(rows)
            newest = self.model.rows[0].ret.id if self.model.rows and self.model.rows[0].ret \
                else None
            if not self.model.rows:
                self.detail.show_row(None)
                return
            row = 0
            # A new answer takes the detail pane (the officer is waiting for it); otherwise
            # the selection stays where the operator put it.
            if selected is not None and (newest is None or newest == newest_before):
                keys = [row_key(candidate) for candidate in self.model.rows]
                if row_key(selected) in keys:
                    row = keys.index(row_key(selected))
                else:  # its query was answered: the return that replaced it
                    for i, candidate in enumerate(self.model.rows):
                        if candidate.message and selected.message and \
                                candidate.message.get("id") == selected.message.get("id"):
                            row = i
                            break
            indexes = self.table.selectionModel().selectedRows()
            if not indexes or indexes[0].row() != row:
                self.table.selectRow(row)
            elif row_key(self.model.rows[row]) in changed:  # same row, new state: show it
                self._selected(QItemSelection(), QItemSelection())

        terminal = self.controller.terminal
        self.controller.tasks.run(
            lambda: (terminal.messages(200), terminal.recent_returns(200)), loaded)

    # -- hit confirmation ----------------------------------------------------------------------
    def _alerts_changed(self, snapshot: Any) -> None:
        self.hit_panel.set_snapshot(snapshot)
        self.queue.set_snapshot(snapshot)
        waiting = sum(1 for item in snapshot.queue if not item.answered_by)
        if self.tabs is not None:
            self.tabs.setTabText(self.tabs.indexOf(self.queue),
                                 f"Agency queue ({waiting})" if waiting else "Agency queue")

    def _open_draft(self, mke: str, draft: Any, error: BaseException | None, what: str) -> None:
        if error is not None:
            self.feedback(f"{mke} not prepared: {describe_error(error)}", error=True)
            return
        view = self.open_form(mke, draft.values)
        if view is not None:
            view.set_destination(draft.dest)
        self.feedback(f"{mke} prefilled from {what}: check it, then press Enter to send.")

    def request_confirmation(self, return_id: str, record_index: int, priority: str) -> None:
        """One action: the YQ for a hit, prefilled from the record; Enter sends it."""
        self.controller.alerts.draft_yq(
            return_id, record_index, priority,
            lambda draft, error: self._open_draft("YQ", draft, error, "the hit"))

    def request_next_confirmation(self, nic: str) -> None:
        self.controller.alerts.draft_next_request(
            nic, lambda draft, error: self._open_draft("YQ", draft, error, "the last request"))

    def answer_request(self, nic: str, cst: str) -> None:
        self.controller.alerts.draft_yr(
            nic, cst, lambda draft, error: self._open_draft("YR", draft, error, "the request"))

    def show_return(self, return_id: str) -> bool:
        """Select the return with this id in the list (the alert bar's "Confirm hit")."""
        self.show_part(self.returns_panel)
        for row, candidate in enumerate(self.model.rows):
            if candidate.ret is not None and candidate.ret.id == return_id:
                self.table.selectRow(row)
                return True
        return False

    def _current_row(self) -> Any:
        indexes = self.table.selectionModel().selectedRows()
        return self.model.rows[indexes[0].row()] if indexes else None

    def _selected(self, _new: QItemSelection, _old: QItemSelection) -> None:
        row = self._current_row()
        self.detail.show_row(row, offline=self.offline)
        self.hit_panel.show_return(row.ret if row is not None else None)
        if row is not None and row.ret is not None and row.ret.id != self._last_viewed:
            self._last_viewed = row.ret.id  # each return shown is an audited read of CJI
            terminal, return_id = self.controller.terminal, row.ret.id
            self.controller.tasks.run(lambda: terminal.viewed(return_id))


class MainWindow(QMainWindow):
    def __init__(self, controller: AppController) -> None:
        super().__init__()
        follow_theme(self)  # before any child is styled: its themed rules match at once
        self.controller = controller
        self.setWindowTitle(f"MDT {__version__}")
        self.resize(1200, 800)
        self.banner = QLabel(TRAINING_TEXT)
        self.banner.setObjectName("TrainingBanner")
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.banner.hide()
        self.alert_bar = AlertBar()
        self.pages = QStackedWidget()
        self.login = LoginPage(controller)
        # The terminal page is made when signing in starts (or when first asked for), not on
        # the way to the first window: the sign-in page is all that window needs.
        self._terminal: TerminalPage | None = None
        self._building: TerminalPage | None = None  # the terminal page, a part at a time
        self._offline = False
        self.lock_screen = LockScreen()
        self.pages.addWidget(self.login)
        self.pages.addWidget(self.lock_screen)
        self._console: Any = None  # made when a trainer signs in (most terminals never need it)
        self.locked = False
        self.idle = IdleWatcher(self)
        self.idle.idle.connect(lambda: self.lock("locked after inactivity"))
        self.lock_screen.unlock_requested.connect(self.unlock)
        self.lock_screen.sign_out_requested.connect(self.sign_out)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.alert_bar)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.connection = QLabel("Not signed in")
        self.outbox = QLabel("")
        self.relogin_button = QPushButton("Sign in again…")
        self.relogin_button.setObjectName("ReloginButton")
        self.relogin_button.hide()
        self.relogin_button.clicked.connect(self.open_relogin)
        self.next_deadline = QLabel("")
        self.next_deadline.setObjectName("NextDeadline")
        self._deadlines: list[tuple[Any, str]] = []
        self._offset = 0.0
        self._deadline_tick = QTimer(self)
        self._deadline_tick.setInterval(1000)
        self._deadline_tick.timeout.connect(self._show_next_deadline)
        self.statusBar().addWidget(self.connection, 1)
        self.statusBar().addPermanentWidget(self.next_deadline)
        self.statusBar().addPermanentWidget(self.relogin_button)
        self.statusBar().addPermanentWidget(self.outbox)
        self.quarantine = QLabel("")
        self.quarantine.setObjectName("ConnReauth")
        self.statusBar().addPermanentWidget(self.quarantine)
        controller.sync.events_quarantined.connect(lambda _items: self._reload_quarantine())
        controller.signed_in.connect(lambda _operator: self._reload_quarantine())
        QShortcut(QKeySequence("Ctrl+Shift+U"), self, self.show_quarantine)

        controller.signed_in.connect(self._signed_in)
        controller.sync.connectivity_changed.connect(self.set_connection)
        controller.sync.outbox_changed.connect(self._outbox_changed)
        QShortcut(QKeySequence("Ctrl+L"), self, self._focus_command)
        QShortcut(QKeySequence("F10"), self, self.toggle_theme)
        QShortcut(QKeySequence("Ctrl+Shift+K"), self, lambda: self.lock("locked by the operator"))
        QShortcut(QKeySequence("Ctrl+,"), self, self.open_settings)
        self._setup_alerts()
        self.ui_state = QSettings(str(paths.config_dir() / "ui-state.ini"),
                                  QSettings.Format.IniFormat)
        geometry = self.ui_state.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.login.training_detected.connect(self.banner.setVisible)
        self.login.busy_changed.connect(self._signing_in)
        # Asked once the window is up: the worker's first gateway call (and the client's
        # imports) does not compete with showing the window.
        QTimer.singleShot(0, self, self.login.refresh_gateway)

    # -- the terminal page, made off the way to the first window ---------------------------------
    @property
    def terminal(self) -> TerminalPage:
        """The terminal page, made whole now if it is not yet (its staged build goes on
        otherwise a part per turn of the event loop)."""
        if self._terminal is None:
            page = self._building or TerminalPage(self.controller)
            self._building = None
            page.finish()
            page.offline = self._offline
            page.outbox_counts.connect(self.outbox.setText)
            page.hit_panel.policy_prompts = dict(self.controller.terminal.agency.ivf_prompts)
            snapshot = self.controller.alerts.snapshot
            if snapshot is not None:
                page._alerts_changed(snapshot)
            self.pages.insertWidget(1, page)
            self._terminal = page
        return self._terminal

    @property
    def terminal_ready(self) -> bool:
        """Whether the terminal page is whole and in the window (asking does not make it)."""
        return self._terminal is not None

    def _signing_in(self, busy: bool) -> None:
        """Signing in takes a round trip and a key unwrap on a worker: make the terminal page
        meanwhile, once the busy state is painted, so it is ready when the answer comes."""
        if busy and self._terminal is None and self._building is None:
            self._building = TerminalPage(self.controller, staged=True)
            QTimer.singleShot(0, self, self._build_terminal_step)

    def _build_terminal_step(self) -> None:
        page = self._building
        if page is None or self._terminal is not None:
            return  # asked for meanwhile: made whole then
        if page.build_step():
            _ = self.terminal  # whole: into the window
        else:
            QTimer.singleShot(0, self, self._build_terminal_step)

    # -- alerts --------------------------------------------------------------------------------
    def _setup_alerts(self) -> None:
        settings = self.controller.terminal.settings
        agency = self.controller.terminal.agency
        def read_aloud() -> bool:
            operator = self.controller.operator
            return read_aloud_enabled(settings, operator.role if operator else None,
                                      agency.in_vehicle_exempt)

        self.sounder = AlertSounder(SoundPlayer(dict(agency.sounds)),
                                    speaker=Speaker(preference=str(settings.get("speech_engine"))),
                                    read_aloud=read_aloud,
                                    detail=lambda: str(settings.get("read_aloud_detail")),
                                    parent=self)
        self.alert_bar.policy_prompts = dict(agency.ivf_prompts)
        self.notifier = DesktopNotifier(self)
        self.alerts_dialog: AlertsDialog | None = None
        center = self.controller.alerts
        center.changed.connect(self._alerts_changed)
        center.failed.connect(lambda error: self.terminal.feedback(
            f"Alerts could not be read: {describe_error(error)}", error=True))
        self.alert_bar.acknowledge_requested.connect(self.acknowledge_alert)
        self.alert_bar.action_requested.connect(self.alert_action)
        self.alert_bar.history_requested.connect(self.open_alerts)
        QShortcut(QKeySequence("Ctrl+K"), self, self.alert_bar.acknowledge_current)
        QShortcut(QKeySequence("Ctrl+Shift+A"), self, self.open_alerts)
        QShortcut(QKeySequence("Ctrl+Shift+Q"), self, self.open_queue)
        QShortcut(QKeySequence("Ctrl+Shift+D"), self, self.toggle_layout)

    def _alerts_changed(self, snapshot: Any) -> None:
        self.alert_bar.set_alerts(snapshot.open_alerts, snapshot.clock_offset)
        if self.locked:  # the sound goes on; what the alerts say stays hidden
            self.alert_bar.hide()
            self.lock_screen.set_waiting_alerts(len(snapshot.open_alerts))
        self._deadlines = next_deadlines(snapshot)
        self._offset = snapshot.clock_offset
        self._show_next_deadline()
        if self._deadlines:
            self._deadline_tick.start()
        else:
            self._deadline_tick.stop()
        new = self.sounder.update(snapshot.open_alerts)
        if new and not self.isActiveWindow():
            self.notifier.notify(new)
        if self.alerts_dialog is not None and self.alerts_dialog.isVisible():
            self._load_alert_history()

    def _show_next_deadline(self) -> None:
        """The status bar's clock: the soonest deadline (an alert's, or my YQ's answer)."""
        if not self._deadlines:
            self.next_deadline.setText("")
            return
        moment, what = self._deadlines[0]
        text = deadline_text(moment - gateway_now(self._offset))
        self.next_deadline.setText(f"Next deadline: {what} — {text}")

    def acknowledge_alert(self, alert_id: str) -> None:
        def done(_result: Any, error: BaseException | None) -> None:
            if error is not None:
                self.terminal.feedback(f"Not acknowledged: {describe_error(error)}", error=True)

        self.controller.alerts.acknowledge(alert_id, done)

    def alert_action(self, alert: dict[str, Any]) -> None:
        """The alert bar's action button: go where the alert asks the operator to act."""
        kind, body = alert["kind"], alert["body"]
        if kind in (AlertKind.HIT, AlertKind.CAUTION, AlertKind.IVF_HIT, AlertKind.DELAYED_HIT):
            if self.terminal.show_return(str(body.get("return_id") or "")):
                self.terminal.feedback("Choose urgent or routine to confirm the hit (YQ).")
        elif kind == AlertKind.INCOMING_YQ:
            self.open_queue()
        elif kind == AlertKind.CONFIRMATION_OVERDUE:
            self.terminal.request_next_confirmation(str(body.get("nic") or ""))
        else:
            self.open_alerts(str(alert["id"]))

    def open_queue(self) -> None:
        self.terminal.show_part(self.terminal.queue)
        self.terminal.queue.table.setFocus()

    def toggle_layout(self) -> None:
        """Officer ↔ dispatcher layout (Ctrl+Shift+D); the choice is kept."""
        kind = "officer" if self.terminal.layout_kind == "dispatcher" else "dispatcher"
        self.terminal.arrange(kind)
        self.terminal.refresh_units()
        settings = self.controller.terminal.settings
        settings.set("workstation_layout", kind)
        self.controller.tasks.run(settings.save)

    def open_alerts(self, select: str = "") -> AlertsDialog:
        if self.alerts_dialog is None:
            self.alerts_dialog = AlertsDialog(self)
            self.alerts_dialog.acknowledge_requested.connect(self.acknowledge_alert)
        self._load_alert_history(select)
        self.alerts_dialog.show()
        self.alerts_dialog.raise_()
        return self.alerts_dialog

    def _load_alert_history(self, select: str = "") -> None:
        def loaded(alerts: Any, error: BaseException | None) -> None:
            if self.alerts_dialog is None:
                return
            if error is not None:
                self.alerts_dialog.details.setPlainText(
                    f"The alert history could not be read: {describe_error(error)}")
                return
            self.alerts_dialog.set_alerts(alerts)
            for row, alert in enumerate(alerts):
                if select and alert["id"] == select:
                    self.alerts_dialog.table.selectRow(row)

        self.controller.alerts.history(loaded)

    @property
    def console(self) -> Any:
        """The trainer console page (made on first use)."""
        if self._console is None:
            from mdt.ui.trainer_console import TrainerConsole

            self._console = TrainerConsole(self.controller)
            self.pages.addWidget(self._console)
        return self._console

    # -- session: lock, unlock, sign out -------------------------------------------------------
    def lock_minutes(self, operator: Operator) -> float | None:
        """The idle time before the lock for this operator's role (None: exempt in a car)."""
        agency = self.controller.terminal.agency
        if operator.role == "officer" and agency.in_vehicle_exempt:
            return None
        return agency.lock_after(operator.role)

    def lock(self, reason: str) -> None:
        """Hide everything behind the lock screen; alert sounds go on."""
        operator = self.controller.operator
        current = self.pages.currentWidget()
        if operator is None or self.locked or current is None or \
                current not in (self._terminal, self._console):
            return
        self._before_lock = current
        self.locked = True
        self.idle.stop()
        self.alert_bar.hide()
        if self.alerts_dialog is not None:
            self.alerts_dialog.close()
        self.setWindowTitle(f"MDT {__version__} — locked")
        self.pages.setCurrentWidget(self.lock_screen)
        self.lock_screen.show_for(operator.user_id, reason)
        snapshot = self.controller.alerts.snapshot
        self.lock_screen.set_waiting_alerts(len(snapshot.open_alerts) if snapshot else 0)
        terminal = self.controller.terminal
        self.controller.tasks.run(lambda: terminal.audit("lock", "success", reason))

    def unlock(self, password: str) -> None:
        def done(_result: Any, error: BaseException | None) -> None:
            from mdt.store.errors import ProfileWipedError

            if isinstance(error, ProfileWipedError):
                self._signed_out(describe_error(error))
                return
            if error is not None:
                self.lock_screen.set_busy(False)
                self.lock_screen.password.clear()
                self.lock_screen.error.setText(describe_error(error))
                return
            self.locked = False
            self.setWindowTitle(f"MDT {__version__}")
            self.pages.setCurrentWidget(getattr(self, "_before_lock", self.terminal))
            snapshot = self.controller.alerts.snapshot
            if snapshot is not None:
                self.alert_bar.set_alerts(snapshot.open_alerts, snapshot.clock_offset)
            operator = self.controller.operator
            self.idle.start(self.lock_minutes(operator) if operator else None)
            self.terminal.command.setFocus()

        terminal = self.controller.terminal
        self.controller.tasks.run(lambda: terminal.verify_password(password), done)

    def sign_out(self) -> None:
        """Log out (the agency's erase rule applies) and go back to the sign-in page."""
        terminal = self.controller.terminal
        self.controller.alerts.stop()
        if self._console is not None:
            self._console.stop()
        self.idle.stop()
        self.controller.tasks.run(terminal.sign_out,
                                  lambda _r, error: self._signed_out(
                                      describe_error(error) if error else ""))

    def _signed_out(self, message: str) -> None:
        self.locked = False
        self.controller.operator = None
        if self._terminal is not None:
            self._terminal.forget()
        self.alert_bar.set_alerts([], 0.0)
        self.setWindowTitle(f"MDT {__version__}")
        self.pages.setCurrentWidget(self.login)
        self.set_connection("stopped", "signed out")
        self.login.error.setText(message or "Signed out.")
        self.login.refresh_gateway()

    def open_settings(self) -> None:
        from mdt.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.controller, self)
        dialog.applied.connect(self._settings_applied)
        dialog.open()
        self.settings_dialog = dialog

    def _settings_applied(self) -> None:
        app = QApplication.instance()
        settings = self.controller.terminal.settings
        if isinstance(app, QApplication):
            apply_theme(app, str(settings.get("theme")),
                        high_contrast=bool(settings.get("high_contrast")),
                        font_scale=float(settings.get("font_scale")))

    def _signed_in(self, operator: Operator) -> None:
        self.banner.setVisible(operator.training)
        if self.controller.notices:  # a damaged cache set aside, a password change
            box = QMessageBox(QMessageBox.Icon.Warning, "MDT — your cache",
                              "\n\n".join(self.controller.notices), QMessageBox.StandardButton.Ok,
                              self)
            box.setObjectName("SignInNotice")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.controller.notices = []
        self.idle.start(self.lock_minutes(operator))
        if operator.role == "trainer":  # a trainer runs the class, not a terminal
            self.pages.setCurrentWidget(self.console)
            self.console.start()
            return
        self.pages.setCurrentWidget(self.terminal)
        if self.controller.offline_unlock:
            self.set_connection("offline", "unlocked offline")
        self.terminal.start(operator)

    def _focus_command(self) -> None:
        self.terminal.command.setFocus()
        self.terminal.command.selectAll()

    def set_connection(self, state: str, detail: str) -> None:
        words, name = connection_text(state, detail)
        self.relogin_button.setVisible(state == "reauth")
        self._offline = state != "online"
        if self._terminal is not None:
            self._terminal.offline = self._offline
        self.connection.setText(words)
        self.connection.setToolTip(detail)
        self.connection.setObjectName(name)
        self.connection.style().unpolish(self.connection)
        self.connection.style().polish(self.connection)

    def _reload_quarantine(self) -> None:
        def done(items: Any, error: BaseException | None) -> None:
            self.quarantined_items = [] if error is not None or items is None else list(items)
            self.quarantine.setText(quarantine_text(len(self.quarantined_items)))

        self.controller.load_quarantined(done)

    def show_quarantine(self) -> None:
        """The newest unreadable message from the switch, its raw text one key away."""
        items = getattr(self, "quarantined_items", [])
        if not items:
            return

        def done(found: Any, error: BaseException | None) -> None:
            if error is not None or found is None:
                return
            box = QMessageBox(self)
            box.setWindowTitle("An unreadable message from the switch")
            box.setText(found.title)
            box.setInformativeText("It was kept aside (encrypted) and the next messages were "
                                   "applied. The raw text is under Show Details.")
            box.setDetailedText(found.raw)
            seen = box.addButton("Mark as seen", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Close)
            seen.clicked.connect(lambda: self.controller.acknowledge_quarantined(
                found.id, lambda _done, _error: self._reload_quarantine()))
            box.open()
            self.quarantine_box = box
            self.quarantine_seen = seen

        self.controller.load_quarantined_raw(items[0].id, done)

    def open_relogin(self) -> ReloginDialog:
        dialog = ReloginDialog(self.controller, self)
        dialog.open()
        return dialog

    def _outbox_changed(self, _message_id: str, state: str, _detail: str) -> None:
        if state == "sending":  # at once; the counts follow with the next reload
            self.outbox.setText("Outbox: sending…")

    def closeEvent(self, event: Any) -> None:
        """Window geometry is UI state: QSettings, not the typed settings file."""
        self.ui_state.setValue("window/geometry", self.saveGeometry())
        self.ui_state.sync()
        super().closeEvent(event)

    def toggle_theme(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme = "day" if app.property("mdtTheme") == "night" else "night"
            settings = self.controller.terminal.settings
            apply_theme(app, theme, high_contrast=bool(settings.get("high_contrast")),
                        font_scale=float(settings.get("font_scale")))
            settings.set("theme", theme)
            self.controller.tasks.run(settings.save)
