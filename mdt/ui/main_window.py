"""The main window: sign-in page, then the terminal (command line, forms, returns); the training
banner above every page with a training gateway; the status bar: the link and the outbox.

The window can be made and shown before its controller (the first window is the sign-in page
alone; the settings, the agency file and the services load after it, :mod:`mdt.ui.application`):
:meth:`MainWindow.attach` then wires it to the controller.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# Only what the first window uses is imported here: Qt's namespace (``Qt``: its ~90 enums are
# made on first use, some 30 ms), the shortcuts, the message boxes and the lock screen come with
# the controller (attach) or when used.
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mdt import __version__, paths
from mdt.app.errors import describe_error, then
from mdt.ui.login import LoginPage
from mdt.ui.quarantine_status import QuarantineStatus
from mdt.ui.terminal_staging import TerminalStaging
from mdt.ui.theme import apply_theme, follow_theme

if TYPE_CHECKING:
    from mdt.app.controller import AppController
    from mdt.services.session import Operator
    from mdt.ui.alert_bar import AlertBar
    from mdt.ui.alerts_view import AlertsDialog
    from mdt.ui.lock_screen import Curtain, IdleWatcher, LockScreen
    from mdt.ui.relogin import ReloginDialog
    from mdt.ui.terminal_page import TerminalPage
    from mdt.ui.trainer_console import TrainerConsole
    from mdt.ui.window_actions import WindowActions


class MainWindow(QMainWindow):
    # made at attach (nothing shows them before a sign-in)
    alert_bar: AlertBar
    lock_screen: LockScreen
    idle: IdleWatcher
    menu_actions: WindowActions
    curtain: Curtain

    def __init__(self, controller: AppController | None = None) -> None:
        super().__init__()
        follow_theme(self)  # before any child is styled: its themed rules match at once
        self._controller: AppController | None = None
        self.setWindowTitle(f"MDT {__version__}")
        self.resize(1200, 800)
        self.banner = QLabel()  # its words at attach: it shows once the gateway answered
        self.banner.setObjectName("TrainingBanner")
        self.banner.hide()
        self.pages = QStackedWidget()
        self.login = LoginPage()
        # The terminal page is made when signing in starts (or when first asked for), not on
        # the way to the first window: the sign-in page is all that window needs.
        self.staging = TerminalStaging(self, self.pages, lambda: self.controller,
                                       self._wire_terminal, self._signed_in)
        self._offline = False
        self.pages.addWidget(self.login)
        # made when a trainer signs in (most terminals never need it)
        self._console: TrainerConsole | None = None
        self.locked = False
        central = QWidget()
        layout = self._column = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)
        # A minimum of its own: else the layout's, and Qt grows the window to a layout's
        # minimum for a moment (a row changing direction at a new type size) and never
        # shrinks it back: 1200x800 became 1200x807 for good.
        self.setMinimumSize(960, 660)

        self.connection = QLabel("Not signed in")  # wraps from attach (wrapping_in_place)
        self.outbox = QLabel("")
        self.relogin_button = QPushButton("Sign in again…")
        self.relogin_button.setObjectName("ReloginButton")
        self.relogin_button.hide()
        self.relogin_button.setMaximumHeight(0)  # a hidden button still sizes the bar
        self.relogin_button.clicked.connect(self.open_relogin)
        self.next_deadline = QLabel("")
        self.next_deadline.setObjectName("NextDeadline")
        self._deadlines: list[tuple[Any, str]] = []
        self._offset = 0.0
        self._deadline_tick = QTimer(self)
        self._deadline_tick.setInterval(1000)
        self._deadline_tick.timeout.connect(self._show_next_deadline)
        # Type size 1.5: the bar grows with its text. A line of it high now (its type size from
        # the sheet); from attach on it follows the type size (keep_line_height: an event filter,
        # and Python's side of Qt's events has no place before the first window).
        bar = self.statusBar()
        bar.ensurePolished()
        bar.setMinimumHeight(bar.fontMetrics().height() + 8)
        self.statusBar().addWidget(self.connection, 1)
        self.statusBar().addPermanentWidget(self.next_deadline)
        self.statusBar().addPermanentWidget(self.relogin_button)
        self.statusBar().addPermanentWidget(self.outbox)
        self.quarantine = QuarantineStatus()
        self.statusBar().addPermanentWidget(self.quarantine)
        self.alerts_dialog: AlertsDialog | None = None
        self.ui_state = QSettings(str(paths.config_dir() / "ui-state.ini"),
                                  QSettings.Format.IniFormat)
        geometry = self.ui_state.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.login.training_detected.connect(self.banner.setVisible)
        self.login.busy_changed.connect(self._signing_in)
        self.pages.currentChanged.connect(self._page_shown)
        self.login.focus_first()
        if controller is not None:
            self.attach(controller)

    def _page_shown(self, index: int) -> None:
        if self.pages.widget(index) is self.login:
            self.login.focus_first()

    @property
    def controller(self) -> AppController:
        if self._controller is None:
            raise RuntimeError("the window has no controller yet (MainWindow.attach)")
        return self._controller

    def attach(self, controller: AppController) -> None:
        """Wire the window (made before it, or with it) to the controller."""
        from PySide6.QtCore import Qt
        from PySide6.QtGui import QKeySequence, QShortcut

        from mdt.core.present import TRAINING_TEXT
        from mdt.ui.adaptive import keep_line_height, wrapping_in_place
        from mdt.ui.alert_bar import AlertBar
        from mdt.ui.lock_screen import Curtain, IdleWatcher, LockScreen
        from mdt.ui.window_actions import WindowActions

        self._controller = controller
        keep_line_height(self.statusBar())  # and its labels wrap (offline: the next try)
        self.connection = wrapping_in_place(self.statusBar(), self.connection, 0)
        self.next_deadline = wrapping_in_place(self.statusBar(), self.next_deadline, 1, True)
        self.banner.setText(TRAINING_TEXT)
        self.banner.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.alert_bar = AlertBar()
        self._column.insertWidget(1, self.alert_bar)  # under the banner
        self.lock_screen = LockScreen()
        self.pages.addWidget(self.lock_screen)
        self.idle = IdleWatcher(self)
        self.idle.idle.connect(lambda: self.lock("locked after inactivity"))
        self.lock_screen.unlock_requested.connect(self.unlock)
        self.login.attach(controller)
        self.quarantine.attach(controller, lambda sentence: self.terminal.refuse(sentence))
        QShortcut(QKeySequence("Ctrl+Shift+U"), self, self.quarantine.show_newest)
        controller.signed_in.connect(self._signed_in)
        controller.sync.connectivity_changed.connect(self.set_connection)
        controller.sync.outbox_changed.connect(self._outbox_changed)
        QShortcut(QKeySequence("Ctrl+L"), self, self._focus_command)
        QShortcut(QKeySequence("F10"), self, self.toggle_theme)
        # The MDT menu: Lock, Sign out, Quit; what they and the window's close ask first.
        self.menu_actions = WindowActions(
            self, controller, lock=lambda: self.lock("locked by the operator"),
            sign_out=self.sign_out, outbox=lambda: [
                row.message for row in (self._terminal.model.rows if self._terminal else [])])
        self.lock_screen.sign_out_requested.connect(self.menu_actions.request_sign_out)
        self.curtain = Curtain(self)
        QShortcut(QKeySequence("Ctrl+,"), self, self.open_settings)
        self._setup_alerts()
        self._signing_in(self.login.busy)  # a sign-in asked for before the controller came
        # Once the window is up: the gateway check (whose worker imports the client), and the
        # terminal page's code read on a worker, so signing in does not wait for imports.
        QTimer.singleShot(0, self, self._window_up)

    def _window_up(self) -> None:
        self.login.refresh_gateway()
        self.controller.tasks.run(lambda: importlib.import_module("mdt.ui.terminal_page"))

    # -- the terminal page, made off the way to the first window ---------------------------------
    @property
    def terminal(self) -> TerminalPage:
        """The terminal page, made whole now if not yet (else staged, a part per turn)."""
        return self.staging.whole()

    @property
    def terminal_ready(self) -> bool:
        """Whether the terminal page is whole and in the window (asking does not make it)."""
        return self._terminal is not None

    @property
    def _terminal(self) -> TerminalPage | None:
        return self.staging.page

    def _wire_terminal(self, page: TerminalPage) -> None:
        page.offline = self._offline
        page.outbox_counts.connect(self.outbox.setText)
        page.hit_panel.policy_prompts = dict(self.controller.agency.ivf_prompts)
        page.pane.follow(self.alert_bar, page.on_screen_changed, self.open_alerts)
        self.statusBar().insertPermanentWidget(1, page.operator_label)  # after the state
        snapshot = self.controller.alerts.snapshot
        if snapshot is not None:
            page._alerts_changed(snapshot)

    def _signing_in(self, busy: bool) -> None:
        if busy and self._controller is not None:
            self.staging.begin()

    # -- alerts --------------------------------------------------------------------------------
    def _setup_alerts(self) -> None:
        from PySide6.QtGui import QKeySequence, QShortcut

        from mdt.desktop.speech import read_aloud_enabled
        from mdt.ui.alert_sound import AlertSounder, DesktopNotifier, SoundPlayer, Speaker

        settings = self.controller.settings
        agency = self.controller.agency
        def read_aloud() -> bool:
            operator = self.controller.operator
            return read_aloud_enabled(settings, operator.role if operator else None,
                                      agency.in_vehicle_exempt)

        self.sounder = AlertSounder(SoundPlayer(dict(agency.sounds)),
                                    speaker=Speaker(preference=settings.speech_engine),
                                    read_aloud=read_aloud,
                                    detail=lambda: settings.read_aloud_detail,
                                    parent=self)
        self.alert_bar.policy_prompts = dict(agency.ivf_prompts)
        self.notifier = DesktopNotifier(self)
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
        from mdt.core.present import next_deadlines

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
            self.alerts_dialog.load(self.controller.alerts)

    def _show_next_deadline(self) -> None:
        """The status bar's clock: the soonest deadline (an alert's, or my YQ's answer)."""
        from mdt.core.confirmation import deadline_text
        from mdt.ui.alert_bar import gateway_now

        if not self._deadlines:
            self.next_deadline.setText("")
            return
        moment, what = self._deadlines[0]
        text = deadline_text(moment - gateway_now(self._offset))
        self.next_deadline.setText(f"Next deadline: {what} — {text}")

    def acknowledge_alert(self, alert_id: str) -> None:
        self.controller.alerts.acknowledge(alert_id, then(
            lambda _result: None, self.terminal.refuse, "Not acknowledged"))

    def alert_action(self, alert: dict[str, Any]) -> None:
        """The alert bar's action button: go where the alert asks the operator to act."""
        from mdt.core.alerts import AlertKind

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
        settings = self.controller.settings
        settings.set("workstation_layout", kind)
        self.controller.tasks.run(settings.save)

    def open_alerts(self, select: str = "") -> AlertsDialog:
        if self.alerts_dialog is None:
            from mdt.ui.alerts_view import AlertsDialog

            self.alerts_dialog = AlertsDialog(self)
            self.alerts_dialog.acknowledge_requested.connect(self.acknowledge_alert)
            self.alerts_dialog.open_return_requested.connect(
                lambda return_id: self.terminal.show_return(return_id))
        self.alerts_dialog.load(self.controller.alerts, select)
        self.alerts_dialog.show()
        self.alerts_dialog.raise_()
        return self.alerts_dialog

    @property
    def console(self) -> TrainerConsole:
        """The trainer console page (made on first use)."""
        if self._console is None:
            from mdt.ui.trainer_console import TrainerConsole

            self._console = TrainerConsole(self.controller)
            self.pages.addWidget(self._console)
        return self._console

    # -- session: lock, unlock, sign out -------------------------------------------------------
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
        self.curtain.cover()  # the status bar (its deadline names a NIC), the open dialogs
        self.setWindowTitle(f"MDT {__version__} — locked")
        self.pages.setCurrentWidget(self.lock_screen)
        self.lock_screen.show_for(operator.user_id, reason)
        snapshot = self.controller.alerts.snapshot
        self.lock_screen.set_waiting_alerts(len(snapshot.open_alerts) if snapshot else 0)
        self.controller.audit("lock", "success", reason)

    def unlock(self, password: str) -> None:
        def done(_result: Any, error: BaseException | None) -> None:
            from mdt.store.errors import ProfileWipedError

            if isinstance(error, ProfileWipedError):
                self._signed_out(describe_error(error))
                return
            if error is not None:
                self.lock_screen.refused(describe_error(error))
                return
            self.locked = False
            self.curtain.lift()
            self.setWindowTitle(f"MDT {__version__}")
            self.pages.setCurrentWidget(getattr(self, "_before_lock", self.terminal))
            snapshot = self.controller.alerts.snapshot
            if snapshot is not None:
                self.alert_bar.set_alerts(snapshot.open_alerts, snapshot.clock_offset)
            operator = self.controller.operator
            self.idle.start(self.controller.agency.idle_lock(operator.role) if operator else None)
            self.terminal.command.setFocus()

        self.controller.verify_password(password, done)

    def sign_out(self) -> None:
        """Log out (the agency's erase rule applies) and go back to the sign-in page."""
        self.controller.alerts.stop()
        if self._console is not None:
            self._console.stop()
        self.idle.stop()
        self.controller.sign_out(lambda _r, error: self._signed_out(
            describe_error(error) if error else ""))

    def _signed_out(self, message: str) -> None:
        self.locked = False
        self.curtain.lift(reopen=False)
        self.controller.operator = None
        if self._terminal is not None:
            self._terminal.forget()
        self.alert_bar.set_alerts([], 0.0)
        self.setWindowTitle(f"MDT {__version__}")
        self.pages.setCurrentWidget(self.login)
        self.set_connection("stopped", "signed out")
        self.login.error.setText(message or "Signed out.")
        self.menu_actions.enable_for_session()
        self.login.refresh_gateway()

    def open_settings(self) -> None:
        from mdt.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.controller, self)
        dialog.applied.connect(self._settings_applied)
        dialog.open()
        self.settings_dialog = dialog

    def _settings_applied(self) -> None:
        app = QApplication.instance()
        settings = self.controller.settings
        if isinstance(app, QApplication):
            apply_theme(app, settings.theme,
                        high_contrast=settings.high_contrast,
                        font_scale=settings.font_scale)

    def _signed_in(self, operator: Operator) -> None:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMessageBox

        if operator.role != "trainer" and self.staging.waits_for(operator):
            return  # the terminal page is still being made a part per turn: shown when whole
        self.banner.setVisible(operator.training)
        if self.controller.notices:  # a damaged cache set aside, a password change
            box = QMessageBox(QMessageBox.Icon.Warning, "MDT — your cache",
                              "\n\n".join(self.controller.notices), QMessageBox.StandardButton.Ok,
                              self)
            box.setObjectName("SignInNotice")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()
            self.controller.notices = []
        self.idle.start(self.controller.agency.idle_lock(operator.role))
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
        from mdt.core.present import connection_text

        words, name = connection_text(state, detail)
        self.relogin_button.setVisible(state == "reauth")
        self.relogin_button.setMaximumHeight(16777215 if state == "reauth" else 0)
        self._offline = state != "online"
        if self._terminal is not None:
            self._terminal.offline = self._offline
        self.connection.setText(words)
        self.connection.setToolTip(detail)
        self.connection.setObjectName(name)
        self.connection.style().unpolish(self.connection)
        self.connection.style().polish(self.connection)

    def open_relogin(self) -> ReloginDialog:
        from mdt.ui.relogin import ReloginDialog

        dialog = ReloginDialog(self.controller, self)
        dialog.open()
        return dialog

    def _outbox_changed(self, _message_id: str, state: str, _detail: str) -> None:
        if state == "sending":  # at once; the counts follow with the next reload
            self.outbox.setText("Outbox: sending…")

    def closeEvent(self, event: Any) -> None:
        """Window geometry is UI state: QSettings, not the typed settings file. A close the
        person asked for with work open asks first (mdt/ui/window_actions.py)."""
        if self._controller is not None and self.menu_actions.keep_open(event):
            return
        self.ui_state.setValue("window/geometry", self.saveGeometry())
        self.ui_state.sync()
        super().closeEvent(event)

    def toggle_theme(self) -> None:
        app = QApplication.instance()
        if isinstance(app, QApplication):
            theme = "day" if app.property("mdtTheme") == "night" else "night"
            settings = self.controller.settings
            apply_theme(app, theme, high_contrast=settings.high_contrast,
                        font_scale=settings.font_scale)
            settings.set("theme", theme)
            self.controller.tasks.run(settings.save)
