"""The main window: sign-in page, then the terminal (command line, forms, returns); the training
banner above every page with a training gateway; the status bar: the link and the outbox."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from mdt import __version__, paths
from mdt.app import collector
from mdt.app.controller import AppController
from mdt.app.errors import describe_error, then
from mdt.core.alerts import AlertKind
from mdt.core.confirmation import deadline_text
from mdt.core.present import TRAINING_TEXT, connection_text, next_deadlines, quarantine_text
from mdt.desktop.speech import read_aloud_enabled
from mdt.services.session import Operator
from mdt.ui.adaptive import WrappingLabel, keep_line_height
from mdt.ui.alert_bar import AlertBar, gateway_now
from mdt.ui.alert_sound import AlertSounder, DesktopNotifier, SoundPlayer, Speaker
from mdt.ui.lock_screen import Curtain, IdleWatcher, LockScreen
from mdt.ui.login import LoginPage
from mdt.ui.theme import apply_theme, follow_theme
from mdt.ui.window_actions import WindowActions

if TYPE_CHECKING:
    from mdt.ui.alerts_view import AlertsDialog
    from mdt.ui.relogin import ReloginDialog
    from mdt.ui.terminal_page import TerminalPage
    from mdt.ui.trainer_console import TrainerConsole


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
        self._signed_in_as: Operator | None = None  # signed in before the page was whole
        self._offline = False
        self.lock_screen = LockScreen()
        self.pages.addWidget(self.login)
        self.pages.addWidget(self.lock_screen)
        # made when a trainer signs in (most terminals never need it)
        self._console: TrainerConsole | None = None
        self.locked = False
        self.idle = IdleWatcher(self)
        self.idle.idle.connect(lambda: self.lock("locked after inactivity"))
        self.lock_screen.unlock_requested.connect(self.unlock)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.banner)
        layout.addWidget(self.alert_bar)
        layout.addWidget(self.pages, 1)
        self.setCentralWidget(central)

        self.connection = WrappingLabel("Not signed in", most_lines=2)  # offline: why, next try
        self.outbox = QLabel("")
        self.relogin_button = QPushButton("Sign in again…")
        self.relogin_button.setObjectName("ReloginButton")
        self.relogin_button.hide()
        self.relogin_button.setMaximumHeight(0)  # a hidden button still sizes the bar
        self.relogin_button.clicked.connect(self.open_relogin)
        self.next_deadline = WrappingLabel("", most_lines=2)
        self.next_deadline.setObjectName("NextDeadline")
        self._deadlines: list[tuple[Any, str]] = []
        self._offset = 0.0
        self._deadline_tick = QTimer(self)
        self._deadline_tick.setInterval(1000)
        self._deadline_tick.timeout.connect(self._show_next_deadline)
        keep_line_height(self.statusBar())  # type size 1.5: the bar grows with its text
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
        # The MDT menu: Lock, Sign out, Quit; what they and the window's close ask first.
        self.menu_actions = WindowActions(
            self, controller, lock=lambda: self.lock("locked by the operator"),
            sign_out=self.sign_out, outbox=lambda: [
                row.message for row in (self._terminal.model.rows if self._terminal else [])])
        self.lock_screen.sign_out_requested.connect(self.menu_actions.request_sign_out)
        self.curtain = Curtain(self)
        QShortcut(QKeySequence("Ctrl+,"), self, self.open_settings)
        self._setup_alerts()
        self.ui_state = QSettings(str(paths.config_dir() / "ui-state.ini"),
                                  QSettings.Format.IniFormat)
        geometry = self.ui_state.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        self.login.training_detected.connect(self.banner.setVisible)
        self.login.busy_changed.connect(self._signing_in)
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
        if self._terminal is None:
            from mdt.ui.terminal_page import TerminalPage

            staged = self._building is not None  # made a part per turn, the collector paused
            page = self._building or TerminalPage(self.controller)
            self._building = None
            page.finish()
            page.offline = self._offline
            page.outbox_counts.connect(self.outbox.setText)
            page.hit_panel.policy_prompts = dict(self.controller.agency.ivf_prompts)
            page.pane.follow(self.alert_bar, page.on_screen_changed, self.open_alerts)
            self.statusBar().insertPermanentWidget(1, page.operator_label)  # after the state
            snapshot = self.controller.alerts.snapshot
            if snapshot is not None:
                page._alerts_changed(snapshot)
            if self.pages.indexOf(page) < 0:
                self.pages.insertWidget(1, page)
            self._terminal = page
            if staged:
                collector.resume()  # the page is frozen whole
        return self._terminal

    @property
    def terminal_ready(self) -> bool:
        """Whether the terminal page is whole and in the window (asking does not make it)."""
        return self._terminal is not None

    def _signing_in(self, busy: bool) -> None:
        """Signing in takes a round trip and a key unwrap on a worker: make the terminal page
        meanwhile, once the busy state is painted, so it is ready when the answer comes."""
        if busy and self._terminal is None and self._building is None:
            from mdt.ui.terminal_page import TerminalPage

            self._building = TerminalPage(self.controller, staged=True)
            collector.pause()  # no full collection walks the half-made page (mdt.app.collector)
            # In the window (hidden) from the start: each part is styled once, as it is made,
            # with the window's theme, not all of it again when the page goes in.
            self.pages.insertWidget(1, self._building)
            QTimer.singleShot(0, self, self._build_terminal_step)

    def _build_terminal_step(self) -> None:
        page = self._building
        if page is None or self._terminal is not None:  # asked for meanwhile: made whole then
            if self._signed_in_as is not None:
                self._terminal_made()
            return
        if not page.build_step():
            QTimer.singleShot(0, self, self._build_terminal_step)
            return
        # Whole: its layout computed at the page's size while hidden (a turn of its own), so
        # showing it at sign-in is a paint, not a layout of every part first.
        page.resize(self.pages.size())
        layout = page.layout()
        if layout is not None:
            layout.activate()
        QTimer.singleShot(0, self, self._terminal_made)

    def _terminal_made(self) -> None:
        _ = self.terminal  # into the window, wired
        operator, self._signed_in_as = self._signed_in_as, None
        if operator is not None and self.controller.operator is operator:
            self._signed_in(operator)

    # -- alerts --------------------------------------------------------------------------------
    def _setup_alerts(self) -> None:
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
            self.alerts_dialog.load(self.controller.alerts)

    def _show_next_deadline(self) -> None:
        """The status bar's clock: the soonest deadline (an alert's, or my YQ's answer)."""
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
        if operator.role != "trainer" and self._terminal is None and self._building is not None:
            # The terminal page is still being made a part per turn: go on with it and show it
            # when whole (a few frames), rather than making the rest of it in one go now.
            self._signed_in_as = operator
            return
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

        def done(found: Any) -> None:
            if found is None:
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

        self.controller.load_quarantined_raw(items[0].id, then(
            done, self.terminal.refuse, "The unreadable message could not be read"))

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
        if self.menu_actions.keep_open(event):
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
