"""What an officer (or a dispatcher) sees at a glance, read off the real window, and what they
type. The only module of the acceptance suite that knows the window's widgets: when the screen
is re-laid out (one hit banner instead of four), this module changes and the tests do not.

Reading: :meth:`Screen.headline` and :meth:`Screen.headline_role` (the line atop the return and
the colour role the theme paints it in), :meth:`Screen.rows` (the returns list, newest first),
:meth:`Screen.banner` (the hit banner: the hit, its confirmation state and clock, its actions),
:meth:`Screen.alert_bar`, :meth:`Screen.status_bar`, :meth:`Screen.queue` (a dispatcher's).

Acting, by keyboard only: :meth:`Screen.command` (Ctrl+L, type, Enter), :meth:`Screen.key`
(a key or shortcut to whatever has the focus), :meth:`Screen.type` (into the focused field).
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit, QPushButton, QWidget
from pytestqt.qtbot import QtBot

from mdt.app.controller import AppController
from mdt.settings import Settings
from mdt.ui.application import create_window
from mdt.ui.main_window import MainWindow
from mdt.ui.theme import apply_theme
from tests.conftest import Gateway

WAIT_MS = 15_000
Key = Qt.Key
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier
NO_MODIFIER = Qt.KeyboardModifier.NoModifier
# a countdown as the screens write it (mdt.core.confirmation.deadline_text): "09:58 left",
# "1:02:03 left", "OVERDUE 02:10"
CLOCK = re.compile(r"(?:\d+:)?\d\d:\d\d left|OVERDUE (?:\d+:)?\d\d:\d\d")


@dataclass(frozen=True)
class Row:
    age: str
    query: str
    result: str
    source: str
    selected: bool

    def __str__(self) -> str:
        return f"{self.query} → {self.result}"


@dataclass(frozen=True)
class Banner:
    """The hit banner of the shown return: its text, the confirmation state of its hit (the
    words, their style name, the clock) and the actions it offers."""

    text: str
    state: str = ""
    state_style: str = ""
    clock: str = ""
    actions: tuple[str, ...] = ()
    earlier: str = ""  # what an earlier stop's answer was, said as context

    @property
    def can_request(self) -> bool:
        return any(a.startswith(("Urgent YQ", "Routine YQ")) for a in self.actions)


@dataclass(frozen=True)
class AlertBarView:
    """The alert on top: on the bar, or in the header of the return it is about when that
    return is in view (``in_header``: the bar leaves it there, one banner for one hit)."""

    visible: bool
    severity: str = ""
    title: str = ""
    detail: str = ""
    countdown: str = ""
    action: str = ""
    more: str = ""
    kinds: tuple[str, ...] = ()  # the open alerts in the bar's order, the shown one first
    in_header: bool = False


@dataclass(frozen=True)
class StatusBarView:
    connection: str
    connection_style: str
    deadline: str
    outbox: str


@dataclass(frozen=True)
class QueueItem:
    time_left: str
    request: str
    subject: str
    nic: str
    state: str


@dataclass
class Screen:
    bot: QtBot
    controller: AppController
    window: MainWindow

    # -- the parts -------------------------------------------------------------------------------
    @property
    def page(self) -> Any:
        return self.window.terminal

    def _hit_lines(self) -> list[Any]:
        panel = self.page.hit_panel
        return list(panel.lines) if panel.isVisible() else []

    # -- reading: the return shown ----------------------------------------------------------------
    def headline(self) -> str:
        """The line atop the shown return (or the shown query's wait)."""
        label = self.page.detail.hit_banner
        return label.text() if label.isVisible() else ""

    def headline_role(self) -> str:
        """The colour role of the headline (danger, hit, warning, info, clear, error, status,
        pending), as the theme colours it (its ``role`` property and its style name)."""
        label = self.page.detail.hit_banner
        return str(label.property("role") or "") if label.isVisible() else ""

    def headline_style(self) -> str:
        label = self.page.detail.hit_banner
        return label.objectName() if label.isVisible() else ""

    def caveats(self) -> str:
        """The switch's caveats, at the top of the shown record."""
        detail = self.page.detail
        lines = [line for line in detail.caveat_lines if line in self.body()]
        return "\n".join(lines) if detail.body.isVisible() else ""

    def received(self) -> str:
        """The line under the headline: when it came, from where, cached or live."""
        line = self.page.detail.cached
        return line.text() if line.isVisible() else ""

    def body(self) -> str:
        return str(self.page.detail.body.toPlainText())

    def banner(self) -> Banner:
        """The hit banner of the shown return: its header, the headline over each hit's row
        (its confirmation state, its clock, its YQ buttons); the first hit's."""
        lines = self._hit_lines()
        if not lines:
            return Banner(self.headline())
        line = lines[0]
        state = line.state.text()
        found = CLOCK.search(state)
        actions = tuple(b.text() for b in (line.urgent, line.routine, line.next)
                        if not b.isHidden())
        earlier = state[state.index("Earlier stop:"):] if "Earlier stop:" in state else ""
        return Banner(self.headline(), state, line.state.objectName(),
                      found.group(0) if found else "", actions, earlier)

    def hit_banner_clock(self) -> str:
        """The clock the hit banner shows (its first hit's row), "" if it shows none."""
        return self.banner().clock

    # -- reading: the list --------------------------------------------------------------------------
    def rows(self) -> list[Row]:
        model, table = self.page.model, self.page.table
        selected = {i.row() for i in table.selectionModel().selectedRows()}
        return [Row(*(str(model.data(model.index(r, c)) or "") for c in range(4)),
                    selected=r in selected) for r in range(model.rowCount())]

    def selected(self) -> Row | None:
        return next((r for r in self.rows() if r.selected), None)

    def row(self, query: str) -> Row | None:
        """The newest row whose query has every word of ``query`` (``IAQ NAM/ZANMIR``)."""
        return next((r for r in self.rows() if _asks(r, query)), None)

    # -- reading: the bars --------------------------------------------------------------------------
    def alert_bar(self) -> AlertBarView:
        bar = self.window.alert_bar
        in_header = bar.current is not None and self.page.ack_here.isVisible()
        if not (bar.isVisible() or in_header) or bar.current is None:
            return AlertBarView(False)
        return AlertBarView(True, bar.severity.text().split(" · ")[0], bar.title.text(),
                            bar.detail.text(), bar.countdown.text(),
                            bar.action.text() if not bar.action.isHidden() else "",
                            bar.more.text(), tuple(str(a["kind"]) for a in bar.alerts),
                            in_header)

    def status_bar(self) -> StatusBarView:
        w = self.window
        return StatusBarView(w.connection.text(), w.connection.objectName(),
                             w.next_deadline.text(), w.outbox.text())

    def feedback(self) -> str:
        return str(self.page.command_feedback.text())

    def queue(self) -> list[QueueItem]:
        model = self.page.queue.model
        return [QueueItem(*(str(model.data(model.index(r, c)) or "") for c in (0, 1, 3, 5, 8)))
                for r in range(model.rowCount())]

    def queue_heading(self) -> str:
        return str(self.page.queue.heading.text())

    def focused(self) -> QWidget | None:
        return QApplication.focusWidget()

    # -- acting: the keyboard -----------------------------------------------------------------------
    def key(self, key: Qt.Key, modifier: Qt.KeyboardModifier = NO_MODIFIER) -> None:
        """A key (or a shortcut) to whatever has the focus, the window if nothing has (a dialog
        just closed: the window is active again first, as the window manager makes it)."""
        if QApplication.activeWindow() is None:
            self.window.activateWindow()
            self.wait(lambda: QApplication.activeWindow() is self.window, 5000, "the window")
        self.bot.keyClick(self.focused() or self.window, key, modifier)

    def type(self, text: str) -> None:
        """Type into the focused field."""
        target = self.focused()
        assert isinstance(target, QLineEdit), f"typing into {target!r}, not a field"
        self.bot.keyClicks(target, text)

    def command(self, text: str) -> None:
        """Ctrl+L, the command, Enter."""
        self.key(Key.Key_L, CTRL)
        assert self.focused() is self.page.command, "Ctrl+L did not reach the command line"
        self.type(text)
        self.key(Key.Key_Return)

    def press_button(self, text: str) -> None:
        """From the command line (Ctrl+L), Shift+Tab back along the focus chain to the visible
        button that says ``text`` and press Space: the way a keyboard user reaches the alert
        bar's and the hit's buttons (forward, Tab is kept inside the returns list). A reload
        that re-lays the hit's buttons meanwhile sends the user round once more."""
        for _ in range(3):
            self.key(Key.Key_L, CTRL)
            for _ in range(40):
                focus = self.focused()
                if isinstance(focus, QPushButton) and focus.text().startswith(text) and \
                        focus.isVisible():
                    self.key(Key.Key_Space)
                    return
                if focus is self.page.table:  # back past the return: Tab moves the selection
                    break
                self.key(Key.Key_Backtab, SHIFT)
            self.bot.wait(100)
        raise AssertionError(f"no button {text!r} in the focus chain\n{self.describe()}")

    def tab_to(self, name: str) -> None:
        """Tab along the focus chain to the field named ``name`` (a form's ``field_DEST`` ...)."""
        for _ in range(80):
            focus = self.focused()
            if focus is not None and focus.objectName() == name:
                return
            self.key(Key.Key_Tab)
        raise AssertionError(f"no field {name!r} in the focus chain")

    def select(self, query: str) -> Row:
        """Select the newest row whose query contains ``query``, with the arrow keys."""
        table = self.page.table
        table.setFocus()
        self.key(Key.Key_Home)
        for _ in range(len(self.rows())):
            row = self.selected()
            if row is not None and _asks(row, query):
                return row
            self.key(Key.Key_Down)
        raise AssertionError(f"no row for {query!r}: {[str(r) for r in self.rows()]}")

    def acknowledge_all(self) -> None:
        """Ctrl+K until the alert bar is empty (between tests: the next starts with a calm bar)."""
        bar = self.window.alert_bar
        for _ in range(50):
            if bar.current is None:
                return
            shown = bar.current["id"]
            self.key(Key.Key_K, CTRL)
            self.wait(lambda shown=shown: bar.current is None or bar.current["id"] != shown,
                      what="the alert acknowledged")
        raise AssertionError(f"the alert bar does not empty: {self.alert_bar()}")

    # -- waiting --------------------------------------------------------------------------------
    def wait(self, condition: Callable[[], Any], timeout: int = WAIT_MS, what: str = "") -> None:
        try:
            self.bot.waitUntil(lambda: bool(condition()), timeout=timeout)
        except Exception:
            raise AssertionError(f"not seen in {timeout} ms: {what or condition}\n"
                                 f"{self.describe()}") from None

    def wait_row(self, query: str, result: str, timeout: int = WAIT_MS) -> Row:
        """Wait for the newest row of ``query`` to say ``result`` (its start)."""
        self.wait(lambda: (r := self.row(query)) is not None and r.result.startswith(result),
                  timeout, f"row {query!r} saying {result!r}")
        row = self.row(query)
        assert row is not None
        return row

    def wait_shown(self, query: str, headline: str, timeout: int = WAIT_MS) -> Row:
        """Wait for the newest row of ``query`` to be the one shown, its headline starting with
        ``headline``: what the officer waits for after Enter."""
        def shown() -> bool:
            row = self.selected()
            return row is not None and row == self.row(query) and \
                self.headline().startswith(headline)

        self.wait(shown, timeout, f"{query!r} shown under {headline!r}")
        row = self.selected()
        assert row is not None
        return row

    def describe(self) -> str:
        """What is on screen, for a failed wait."""
        return (f"headline: {self.headline()!r} ({self.headline_role()})\n"
                f"banner: {self.banner()}\nrows: {[str(r) for r in self.rows()[:6]]}\n"
                f"alert bar: {self.alert_bar()}\nstatus bar: {self.status_bar()}\n"
                f"feedback: {self.feedback()!r}")

    # -- the clock ------------------------------------------------------------------------------
    @contextlib.contextmanager
    def gateway_clock_ahead(self, minutes: float) -> Iterator[None]:
        """Run the terminal's gateway clock (the one every deadline runs on,
        mdt.services.gateway_time) ``minutes`` ahead, instead of waiting; back after."""
        clock = self.controller.terminal.time.clock
        real = type(clock).now.__get__(clock)
        shift = timedelta(minutes=minutes)

        def ahead() -> datetime:
            return real() + shift

        clock.now = ahead  # type: ignore[method-assign]
        self.controller.alerts.refresh()  # the alert center reads now, not at its next poll
        try:
            yield
        finally:
            del clock.now
            self.controller.alerts.refresh()

    # -- screenshots ----------------------------------------------------------------------------
    def shot(self, name: str) -> None:
        """With MDT_SCREENSHOTS=FOLDER: the window as it is now, in day, night and high
        contrast (day and night), as ``FOLDER/<name>-<officer|dispatcher>-<theme>.png``
        (scripts/take_screenshots.py runs the suite so). Without it: nothing."""
        folder = os.environ.get("MDT_SCREENSHOTS")
        if not folder:
            return
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        role = "dispatcher" if self.page.layout_kind == "dispatcher" else "officer"
        before = (app.property("mdtTheme") or "day", bool(app.property("mdtHighContrast")),
                  float(app.property("mdtFontScale") or 1.0))
        try:
            for theme, high in (("day", False), ("night", False), ("day", True), ("night", True)):
                apply_theme(app, theme, high_contrast=high, font_scale=before[2])
                self.bot.wait(300)  # restyled, re-laid out and painted
                label = f"{theme}{'-hc' if high else ''}"
                path = Path(folder) / f"{name}-{role}-{label}.png"
                path.parent.mkdir(parents=True, exist_ok=True)
                self.window.grab().save(str(path))
        finally:
            apply_theme(app, before[0], high_contrast=before[1], font_scale=before[2])
            self.bot.wait(100)

    def close(self) -> None:
        self.controller.shutdown()
        self.window.close()


def _asks(row: Row, query: str) -> bool:
    return all(word in row.query for word in query.split())


def sign_in_by_keyboard(bot: QtBot, gateway: Gateway, user: str) -> Screen:
    """A fresh window against ``gateway``; the user types their id, password and one-time
    code, and Enter signs in."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "day")
    settings = Settings()
    settings.set("gateway_url", gateway.url)
    settings.set("operator_phone", "410-555-0112")
    controller, window = create_window(settings)
    window.resize(1200, 800)
    window.show()
    window.activateWindow()
    screen = Screen(bot, controller, window)
    login = window.login
    screen.wait(lambda: login.demo.rowCount() > 0, what="the demo accounts")
    account = gateway.demo_account(user)
    screen.wait(lambda: screen.focused() is login.user, 5000, "the cursor in the user id")
    screen.type(user)
    screen.key(Key.Key_Tab)
    screen.type(account["password"])
    screen.key(Key.Key_Tab)
    assert screen.focused() is login.otp, screen.focused()
    screen.type(account["otp_now"])
    screen.key(Key.Key_Return)
    screen.wait(lambda: window.terminal_ready and window.pages.currentWidget() is window.terminal
                and "YQ" in window.terminal.views, what="the terminal page with its forms")
    screen.wait(lambda: window.connection.text() == "Online", what="online")
    return screen
