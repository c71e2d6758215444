"""The trainer console: what a trainer signed in to the training gateway sees instead of the
terminal. Run a scenario for some or all trainees (start, pause, resume, reset), make things
happen now (a detainer, an incoming YQ, a delayed hit, a message, a destination down, a lost
link for one trainee), set faults, watch each trainee's activity, and read the debrief —
expectations met or missed with response times — on screen or as a PDF.

Everything comes from the gateway's trainer endpoints through :class:`mdt.services.training.
TrainerDesk`, on workers; the console refreshes every five seconds and keeps its last picture
(saying so) when the gateway does not answer.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSplitter,
    QTabWidget,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from mdt.app.errors import describe_error, then
from mdt.services.training import INJECTIONS
from mdt.ui.table_model import HeaderedTableModel, Index, row_table
from mdt.ui.theme import badge_style

if TYPE_CHECKING:
    from mdt.app.controller import AppController
    from mdt.services.training import TrainerDesk

# A verdict is a badge (mdt.ui.theme.BADGES): text on its own background, readable on the
# screen in every theme and on the PDF's white page.
VERDICT_BADGES = {"met": "ok", "late": "late", "missed": "hit", "violated": "hit",
                  "out_of_order": "late", "pending": "info"}


class TraineesModel(HeaderedTableModel):
    HEADERS = ("Trainee", "Role", "ORI", "Signed in", "Sent", "Got", "Waiting")

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        user = self.row(index)
        if user is None or role != Qt.ItemDataRole.DisplayRole:
            return None
        values = (user.get("user_id"), user.get("role"), user.get("ori"),
                  str(user.get("last_login_at") or "")[11:19] or "never",
                  len(user.get("sent") or []), user.get("received_count", 0),
                  user.get("pending", 0))
        return str(values[index.column()])


def debrief_html(debrief: dict[str, Any]) -> str:
    """The debrief as HTML: for the screen and for the PDF."""
    scenario = debrief.get("scenario")
    if not scenario:
        return "<p>No scenario has been run since the last reset.</p>"
    parts = [f"<h2>Debrief — {html.escape(str(scenario.get('title')))}</h2>",
             f"<p>Scenario <b>{html.escape(str(scenario.get('name')))}</b>, started "
             f"{html.escape(str(scenario.get('started_at')))}, speed ×{scenario.get('speed')}"
             f"{' — PAUSED' if scenario.get('paused') else ''}. Teaches: "
             f"{html.escape(str(scenario.get('teaches') or ''))}</p>",
             "<p><i>TRAINING — synthetic data only.</i></p>"]
    for trainee in debrief.get("trainees") or []:
        verdict = "PASSED" if trainee.get("passed") else (
            f"IN PROGRESS ({trainee['pending']} pending)" if trainee.get("pending")
            else "NOT PASSED")
        parts.append(f"<h3>{html.escape(str(trainee.get('name')))} "
                     f"({html.escape(str(trainee.get('user_id')))}, {trainee.get('role')}) — "
                     f"{verdict}: {trainee.get('met')} of {trainee.get('expected')} met</h3>")
        parts.append("<table border='1' cellspacing='0' cellpadding='3'><tr><th>Expected</th>"
                     "<th>Verdict</th><th>Time</th><th>Limit</th><th>What happened</th></tr>")
        for item in trainee.get("expectations") or []:
            badge = badge_style(VERDICT_BADGES.get(str(item.get("verdict")), "neutral"))
            seconds = item.get("seconds")
            limit = item.get("limit_seconds")
            parts.append(
                f"<tr><td>{html.escape(str(item.get('title')))}</td>"
                f"<td style='{badge}'><b>{html.escape(str(item.get('verdict')))}</b></td>"
                f"<td>{'' if seconds is None else f'{seconds:.0f} s'}</td>"
                f"<td>{'' if limit is None else f'{limit:.0f} s'}</td>"
                f"<td>{html.escape(str(item.get('detail')))}</td></tr>")
        parts.append("</table><p><b>Timeline</b></p><ul>")
        for event in trainee.get("timeline") or []:
            parts.append(f"<li>{html.escape(str(event.get('at'))[11:19])} "
                         f"{html.escape(str(event.get('what')))}: "
                         f"{html.escape(str(event.get('text')))}</li>")
        parts.append("</ul>")
    return "".join(parts)


def trainee_html(user: dict[str, Any], confirmations: list[dict[str, Any]]) -> str:
    """One trainee's activity: what they queried, what came back, which YQs they answered."""
    parts = [f"<h3>{html.escape(str(user.get('name')))} ({html.escape(str(user.get('user_id')))})"
             f"</h3><p><b>Sent</b></p><ul>"]
    for message in (user.get("sent") or [])[-20:]:
        fields = ".".join(f"{k}/{v}" for k, v in (message.get("fields") or {}).items())
        parts.append(f"<li>{html.escape(str(message.get('at'))[11:19])} "
                     f"{html.escape(str(message.get('mke')))} {html.escape(fields)}</li>")
    parts.append("</ul><p><b>Received</b></p><ul>")
    for event in (user.get("received") or [])[-20:]:
        parts.append(f"<li>{html.escape(str(event.get('at'))[11:19])} "
                     f"{html.escape(str(event.get('type')))} {html.escape(str(event.get('mke') or ''))}</li>")
    parts.append("</ul><p><b>Alerts acknowledged</b></p><ul>")
    for ack in (user.get("acknowledged") or [])[-20:]:
        parts.append(f"<li>{html.escape(str(ack.get('at'))[11:19])} "
                     f"{html.escape(str(ack.get('kind')).replace('_', ' '))}</li>")
    parts.append("</ul><p><b>Hit confirmations answered</b></p><ul>")
    for item in confirmations:
        if item.get("answered_by") == user.get("user_id"):
            on_time = {True: "in time", False: "LATE", None: "open"}[item.get("on_time")]
            parts.append(f"<li>NIC {html.escape(str(item.get('nic')))}: "
                         f"{html.escape(str(item.get('status')))} — {on_time}</li>")
    parts.append("</ul>")
    return "".join(parts)


class ControlsScroll(QScrollArea):
    """The console's controls: they scroll up and down, never sideways. The pane asks the
    splitter for the width its widest row needs, asked again whenever that row changes (a long
    scenario title, a new type size, a re-polish after F10): the last button of a row (Reset,
    Restore link, Clear faults) was cut off at the right edge."""

    def __init__(self, inner: QWidget) -> None:
        super().__init__()
        self.setWidgetResizable(True)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setWidget(inner)
        inner.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.widget() and event.type() == QEvent.Type.LayoutRequest:
            self.updateGeometry()  # the splitter asks minimumSizeHint again
        return super().eventFilter(watched, event)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        inner = self.widget()
        if inner is None:
            return hint
        width = (inner.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
                 + 2 * self.frameWidth())
        return QSize(max(hint.width(), width), hint.height())


class TrainerConsole(QWidget):
    def __init__(self, controller: AppController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.activity: dict[str, Any] = {}
        self.debrief: dict[str, Any] = {}
        self.scenario_list: list[dict[str, Any]] = []
        self.state = QLabel("Reading the gateway…")
        self.state.setObjectName("ConsoleState")
        self.state.setWordWrap(True)
        self.message = QLabel("")
        self.message.setWordWrap(True)

        # Scenario
        self.scenarios = QComboBox()
        self.scenario_text = QLabel("")
        self.scenario_text.setWordWrap(True)
        self.trainees_pick = QListWidget()
        self.trainees_pick.setMaximumHeight(130)
        self.speed = QDoubleSpinBox()
        self.speed.setRange(0.1, 100.0)
        self.speed.setValue(1.0)
        self.start_button = QPushButton("Start")
        self.pause_button = QPushButton("Pause")
        self.resume_button = QPushButton("Resume")
        self.reset_button = QPushButton("Reset")
        scenario_box = QGroupBox("Scenario")
        form = QFormLayout(scenario_box)
        form.addRow("Scenario", self.scenarios)
        form.addRow(self.scenario_text)
        form.addRow("For (none ticked: all)", self.trainees_pick)
        form.addRow("Speed ×", self.speed)
        run_row = QHBoxLayout()
        for button in (self.start_button, self.pause_button, self.resume_button,
                       self.reset_button):
            run_row.addWidget(button)
        form.addRow(run_row)

        # Inject now
        self.inject_kind = QComboBox()
        for key, words in INJECTIONS.items():
            self.inject_kind.addItem(words, key)
        self.inject_target = QComboBox()
        self.inject_text = QLineEdit()
        self.inject_text.setPlaceholderText("Message text (administrative message, remarks)")
        self.inject_button = QPushButton("Inject now")
        self.restore_link = QPushButton("Restore link")
        inject_box = QGroupBox("Make it happen now")
        inject_form = QFormLayout(inject_box)
        inject_form.addRow("What", self.inject_kind)
        inject_form.addRow("To", self.inject_target)
        inject_form.addRow(self.inject_text)
        inject_row = QHBoxLayout()
        inject_row.addWidget(self.inject_button)
        inject_row.addWidget(self.restore_link)
        inject_form.addRow(inject_row)

        # Faults
        self.latency = QDoubleSpinBox()
        self.latency.setRange(0, 120)
        self.error_rate = QDoubleSpinBox()
        self.error_rate.setRange(0, 1)
        self.error_rate.setSingleStep(0.05)
        self.drop_rate = QDoubleSpinBox()
        self.drop_rate.setRange(0, 1)
        self.drop_rate.setSingleStep(0.05)
        self.offline = QCheckBox("Whole gateway offline")
        self.faults_button = QPushButton("Set faults")
        self.clear_faults = QPushButton("Clear faults")
        faults_box = QGroupBox("Faults (all trainees)")
        faults_form = QFormLayout(faults_box)
        faults_form.addRow("Extra latency (s)", self.latency)
        faults_form.addRow("Error rate", self.error_rate)
        faults_form.addRow("Drop rate", self.drop_rate)
        faults_form.addRow(self.offline)
        faults_row = QHBoxLayout()
        faults_row.addWidget(self.faults_button)
        faults_row.addWidget(self.clear_faults)
        faults_form.addRow(faults_row)

        left = QWidget()
        left_layout = QVBoxLayout(left)
        for widget in (scenario_box, inject_box, faults_box):
            left_layout.addWidget(widget)
        left_layout.addStretch(1)

        # Trainees and debrief
        self.trainees = TraineesModel(self)
        self.trainee_table = row_table(self.trainees, "ConsoleTrainees", stretch=0)
        self.trainee_detail = QTextBrowser()
        trainees_page = QSplitter(Qt.Orientation.Vertical)
        trainees_page.addWidget(self.trainee_table)
        trainees_page.addWidget(self.trainee_detail)
        self.debrief_view = QTextBrowser()
        self.debrief_view.setObjectName("Debrief")
        self.export_button = QPushButton("Export debrief to PDF…")
        debrief_page = QWidget()
        debrief_layout = QVBoxLayout(debrief_page)
        debrief_layout.addWidget(self.debrief_view, 1)
        debrief_layout.addWidget(self.export_button)
        self.tabs = QTabWidget()
        self.tabs.addTab(trainees_page, "Trainees")
        self.tabs.addTab(debrief_page, "Debrief")

        self.scenario_text.setSizePolicy(QSizePolicy.Policy.Preferred,
                                         QSizePolicy.Policy.Minimum)
        # A long scenario title or trainee name does not widen its box: the box shows what
        # fits, the list that opens shows it all.
        for box in (self.scenarios, self.inject_kind, self.inject_target):
            box.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            box.setMinimumContentsLength(12)
        left_scroll = ControlsScroll(left)  # the controls scroll rather than squeeze
        split = QSplitter(Qt.Orientation.Horizontal)
        split.setChildrenCollapsible(False)
        split.addWidget(left_scroll)
        split.addWidget(self.tabs)
        split.setSizes([520, 840])
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("<b>Trainer console</b> — the training gateway's class"))
        layout.addWidget(self.state)
        layout.addWidget(self.message)
        layout.addWidget(split, 1)

        self.scenarios.currentIndexChanged.connect(self._scenario_picked)
        self.start_button.clicked.connect(self.start_scenario)
        self.pause_button.clicked.connect(lambda: self._do(lambda d: d.pause(), "Paused."))
        self.resume_button.clicked.connect(lambda: self._do(lambda d: d.resume(), "Resumed."))
        self.reset_button.clicked.connect(lambda: self._do(lambda d: d.reset(),
                                                           "Reset: the class starts again."))
        self.inject_button.clicked.connect(self.inject)
        self.restore_link.clicked.connect(self.restore)
        self.faults_button.clicked.connect(self.set_faults)
        self.clear_faults.clicked.connect(lambda: self._do(lambda d: d.set_faults({}),
                                                           "Faults cleared."))
        self.export_button.clicked.connect(self._export_dialog)
        self.trainee_table.selectionModel().selectionChanged.connect(lambda *_: self._detail())
        self._poll = QTimer(self)
        self._poll.setInterval(5000)
        self._poll.timeout.connect(self.refresh)

    @property
    def desk(self) -> TrainerDesk:
        return self.controller.trainer_desk

    # -- reading ---------------------------------------------------------------------------------
    def start(self) -> None:
        self.controller.tasks.run(lambda: self.desk.scenarios(), then(
            self._scenarios_read, self.message.setText, "Scenarios not read"))
        self.refresh()
        self._poll.start()

    def stop(self) -> None:
        self._poll.stop()

    def _scenarios_read(self, scenarios: Any) -> None:
        self.scenario_list = list(scenarios)
        self.scenarios.blockSignals(True)
        self.scenarios.clear()
        for scenario in self.scenario_list:
            self.scenarios.addItem(f"{scenario.get('name')} — {scenario.get('title', '')}",
                                   scenario.get("name"))
        self.scenarios.blockSignals(False)
        self._scenario_picked(self.scenarios.currentIndex())

    def _scenario_picked(self, index: int) -> None:
        if 0 <= index < len(self.scenario_list):
            scenario = self.scenario_list[index]
            self.scenario_text.setText(f"{scenario.get('description', '')}\nTeaches: "
                                       f"{scenario.get('teaches', '')}")

    def refresh(self) -> None:
        self.controller.tasks.run(lambda: self.desk.picture(), self._pictured)

    def _pictured(self, picture: Any, error: BaseException | None) -> None:
        if error is not None:
            self.state.setText(f"The gateway does not answer ({describe_error(error)}): "
                               "this is the last picture read.")
            return
        self.activity, self.debrief = picture["activity"], picture["debrief"]
        health = picture["health"]
        scenario = self.debrief.get("scenario")
        running = "no scenario run yet" if not scenario else (
            f"scenario {scenario['name']} started {str(scenario['started_at'])[11:19]}, "
            f"{'PAUSED, ' if scenario.get('paused') else ''}"
            f"{scenario.get('steps_to_come', 0)} steps to come")
        self.state.setText(f"Gateway {'TRAINING' if health.get('training') else 'LIVE'} · "
                           f"time {str(health.get('time', ''))[11:19]} UTC · {running}")
        users = [u for u in self.activity.get("users") or [] if u.get("role") != "trainer"]
        selected = self._selected_user()
        self.trainees.set_rows(users)
        self._fill_targets(users)
        self._fill_picker(users)
        for row, user in enumerate(users):
            if selected and user["user_id"] == selected.get("user_id"):
                self.trainee_table.selectRow(row)
        self.debrief_view.setHtml(debrief_html(self.debrief))

    def _fill_targets(self, users: list[dict[str, Any]]) -> None:
        current = self.inject_target.currentData()
        self.inject_target.blockSignals(True)
        self.inject_target.clear()
        self.inject_target.addItem("All trainees", "")
        for ori in sorted({str(u.get("ori")) for u in users}):
            self.inject_target.addItem(f"ORI {ori}", f"ori:{ori}")
        for user in users:
            self.inject_target.addItem(f"{user['user_id']} — {user.get('name')}",
                                       f"user:{user['user_id']}")
        found = self.inject_target.findData(current)
        self.inject_target.setCurrentIndex(max(found, 0))
        self.inject_target.blockSignals(False)

    def _fill_picker(self, users: list[dict[str, Any]]) -> None:
        ticked = {self.trainees_pick.item(i).data(Qt.ItemDataRole.UserRole)
                  for i in range(self.trainees_pick.count())
                  if self.trainees_pick.item(i).checkState() == Qt.CheckState.Checked}
        self.trainees_pick.clear()
        for user in users:
            item = QListWidgetItem(f"{user['user_id']} ({user.get('role')})")
            item.setData(Qt.ItemDataRole.UserRole, user["user_id"])
            item.setCheckState(Qt.CheckState.Checked if user["user_id"] in ticked
                               else Qt.CheckState.Unchecked)
            self.trainees_pick.addItem(item)

    def _selected_user(self) -> dict[str, Any] | None:
        rows = self.trainee_table.selectionModel().selectedRows()
        return self.trainees.rows[rows[0].row()] if rows else None

    def _detail(self) -> None:
        user = self._selected_user()
        self.trainee_detail.setHtml(trainee_html(user, self.activity.get("hit_confirmations")
                                                 or []) if user else "")

    # -- acting ----------------------------------------------------------------------------------
    def _do(self, action: Any, done_text: str) -> None:
        def done(_result: Any, error: BaseException | None) -> None:
            self.message.setText(f"Not done: {describe_error(error)}" if error else done_text)
            self.refresh()

        desk = self.desk
        self.controller.tasks.run(lambda: action(desk), done)

    def ticked_trainees(self) -> list[str] | None:
        users = [self.trainees_pick.item(i).data(Qt.ItemDataRole.UserRole)
                 for i in range(self.trainees_pick.count())
                 if self.trainees_pick.item(i).checkState() == Qt.CheckState.Checked]
        return users or None

    def start_scenario(self) -> None:
        name = self.scenarios.currentData()
        if not name:
            self.message.setText("Choose a scenario.")
            return
        users, speed = self.ticked_trainees(), self.speed.value()
        self._do(lambda d: d.start(name, users, speed),
                 f"Scenario {name} started for {', '.join(users) if users else 'all trainees'}.")

    def _target(self) -> tuple[str | None, str | None]:
        """(user, ORI) chosen in "To": both None for all trainees."""
        kind, _, value = str(self.inject_target.currentData() or "").partition(":")
        return (value if kind == "user" else None), (value if kind == "ori" else None)

    def inject(self) -> None:
        kind = self.inject_kind.currentData()
        user, ori = self._target()
        if kind == "lost_link" and not user:
            self.message.setText("A lost link is for one trainee: choose who.")
            return
        text = self.inject_text.text()
        self._do(lambda d: d.inject(kind, user=user, ori=ori, text=text),
                 f"{INJECTIONS[kind]} sent to {self.inject_target.currentText()}.")

    def restore(self) -> None:
        user, _ori = self._target()
        if not user:
            self.message.setText("Choose the trainee whose link to restore.")
            return
        self._do(lambda d: d.set_faults({}, user), f"Link restored for {user}.")

    def set_faults(self) -> None:
        faults = {"latency": self.latency.value(), "error_rate": self.error_rate.value(),
                  "drop_rate": self.drop_rate.value(), "offline": self.offline.isChecked()}
        self._do(lambda d: d.set_faults(faults), "Faults set for the whole class.")

    def export_pdf(self, path: Path) -> None:
        """The debrief on screen, as a PDF at ``path``, written on a worker (never on the GUI
        thread); the message line says when it is saved."""
        from mdt.ui.export import write_pdf

        document = debrief_html(self.debrief)

        def written(size: Any, error: BaseException | None) -> None:
            self.message.setText(f"Debrief not saved: {describe_error(error)}" if error
                                 else f"Debrief saved to {path} ({size} bytes).")

        self.controller.tasks.run(lambda: write_pdf(document, path), written)

    def _export_dialog(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save the debrief", "debrief.pdf",
                                              "PDF (*.pdf)")
        if path:
            self.export_pdf(Path(path))
