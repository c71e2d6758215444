"""The locked screen and leaving, in the real GUI (offscreen) against the real training gateway
(issue 16 item 10): a locked screen shows no record data (status bar, title, alert bar, the open
dialogs), alerts arriving meanwhile included; a wrong password keeps the cursor in the password
field; the MDT menu's Lock, Sign out and Quit by keyboard; closing or quitting with alerts not
acknowledged or queries not sent asks first, "Stay" the default."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel, QMessageBox, QWidget
from pytestqt.qtbot import QtBot

from mdt.ui.main_window import MainWindow
from tests.conftest import Gateway
from tests.qt.test_alerts_gui import _inject, signed_in

pytestmark = pytest.mark.e2e

NIC, NAME = "W260000011", "KOLVEX"
REQUEST = {"type": "hit_confirmation_request", "requesting_ori": "VA0290000",
           "requesting_name": "DEPUTY PAT PRACTICE", "phone": "703-555-0129", "pri": "U",
           "rty": "WP", "rno": "1", "oca": "26-000777", "nic": NIC, "respond_in": 540,
           "data_set": {"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312"}}


def on_screen(app_widgets: list[QWidget]) -> str:
    """Every text a person can see: the visible windows' titles and visible labels."""
    seen = []
    for top in app_widgets:
        if not top.isVisible():
            continue
        seen.append(top.windowTitle())
        seen += [label.text() for label in top.findChildren(QLabel) if label.isVisible()]
    return " ".join(seen)


def screen_text() -> str:
    return on_screen(QApplication.topLevelWidgets())


def question(qtbot: QtBot) -> QMessageBox:
    qtbot.waitUntil(lambda: isinstance(QApplication.activeModalWidget(), QMessageBox),
                    timeout=5000)
    box = QApplication.activeModalWidget()
    assert isinstance(box, QMessageBox)
    return box


def button(box: QMessageBox, text: str) -> Any:
    return next(b for b in box.buttons() if b.text() == text)


def shortcut(qtbot: QtBot, window: MainWindow, key: Qt.Key) -> None:
    mods = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
    qtbot.keyClick(window, key, mods)


def test_locked_screen_shows_no_record_and_keeps_the_cursor(
        qtbot: QtBot, gateway: Gateway, gui_thread_guard: list[str]) -> None:
    controller, window = signed_in(qtbot, gateway, "officer1")
    page = window.terminal
    try:
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        # A hit and my urgent YQ on it: the status bar's clock names the record's NIC.
        page.command.setText("QV LIC/TRN4821.LIS/VA")
        page.run_command()
        qtbot.waitUntil(lambda: any(r.hit for r in page.model.rows), timeout=15000)
        page.table.selectRow(next(i for i, r in enumerate(page.model.rows) if r.hit))
        qtbot.waitUntil(lambda: bool(page.hit_panel.lines), timeout=5000)
        line = page.hit_panel.lines[0]
        nic = line.nic
        qtbot.mouseClick(line.urgent, Qt.MouseButton.LeftButton)
        form = page.views["YQ"]
        qtbot.waitUntil(lambda: form.values().get("NIC") == nic, timeout=5000)
        form.send()
        qtbot.waitUntil(lambda: nic in window.next_deadline.text(), timeout=15000)
        assert nic in screen_text()  # unlocked, it is on the screen
        history = window.open_alerts()
        qtbot.waitUntil(lambda: history.model.rowCount() >= 1, timeout=5000)
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)

        shortcut(qtbot, window, Qt.Key.Key_K)  # the MDT menu's Lock
        assert window.pages.currentWidget() is window.lock_screen
        assert not window.statusBar().isVisible() and not history.isVisible()
        seen = screen_text()
        assert nic not in seen and "TRN4821" not in seen, seen
        assert window.windowTitle().endswith("locked")

        # An alert arriving while locked: a number on the lock screen, nothing of what it is.
        waiting = len(controller.alerts.snapshot.open_alerts)
        _inject(gateway, [REQUEST])
        qtbot.waitUntil(lambda: f"{waiting + 1} alerts waiting"
                        in window.lock_screen.waiting.text(), timeout=15000)
        seen = screen_text()
        assert not window.alert_bar.isVisible() and not window.statusBar().isVisible()
        for secret in (nic, NIC, NAME, "TRN4821"):
            assert secret not in seen, (secret, seen)

        # A wrong password: the sentence, the field cleared, the cursor still in it.
        password = window.lock_screen.password
        qtbot.waitUntil(lambda: QApplication.focusWidget() is password, timeout=3000)
        qtbot.keyClicks(password, "wrong-password")
        qtbot.keyClick(password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(window.lock_screen.error.text()), timeout=10000)
        assert window.lock_screen.error.text().startswith("Wrong password")
        assert password.text() == ""
        assert QApplication.focusWidget() is password
        qtbot.keyClicks(password, "training")  # typed straight away, where the cursor is
        qtbot.keyClick(password, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.terminal,
                        timeout=15000)
        assert window.statusBar().isVisible() and history.isVisible()  # as they were

        # The lock screen's Sign out asks like the menu's: counts only, nothing of a record.
        window.lock("locked by the operator")
        qtbot.mouseClick(window.lock_screen.sign_out, Qt.MouseButton.LeftButton)
        box = question(qtbot)
        open_alerts = len(controller.alerts.snapshot.must_acknowledge)
        assert box.text() == f"{open_alerts} alerts are not acknowledged. Sign out anyway?"
        seen = screen_text()
        assert nic not in seen and NIC not in seen and NAME not in seen, seen
        qtbot.keyClick(box, Qt.Key.Key_Escape)  # Escape is Stay too
        qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=3000)
        assert window.pages.currentWidget() is window.lock_screen
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()


def test_quit_close_and_sign_out_ask_when_work_is_open(
        qtbot: QtBot, gateway: Gateway, gui_thread_guard: list[str]) -> None:
    controller, window = signed_in(qtbot, gateway, "officer1")
    page = window.terminal
    try:
        window.activateWindow()
        qtbot.waitUntil(window.isActiveWindow, timeout=5000)
        menu = window.menu_actions
        assert [a.text() for a in menu.menu.actions() if a.text()] == [
            "&Lock the screen", "&Sign out…", "&Quit"]
        # Nothing open yet: no question stands in the way (asked, the sign-out would not go).
        assert menu.open_work() == (0, 0)

        # Two hits not acknowledged, then a query that cannot go (the gateway is gone).
        for query in ("QV LIC/TRN4821.LIS/VA", "QV LIC/TRN5007.LIS/MD"):
            page.command.setText(query)
            page.run_command()
        qtbot.waitUntil(lambda: controller.alerts.snapshot is not None and len(
            controller.alerts.snapshot.must_acknowledge) >= 2, timeout=20000)
        qtbot.waitUntil(lambda: len(page.model.rows) >= 2 and menu.open_work()[1] == 0,
                        timeout=15000)  # both went out
        alerts = menu.open_work()[0]
        gateway.stop()
        page.command.setText("QV LIC/TRN0001.LIS/VA")
        page.run_command()
        qtbot.waitUntil(lambda: menu.open_work() == (alerts, 1), timeout=15000)

        # Ctrl+Q: the question names what is open; Stay is the default and keeps the window.
        qtbot.keyClick(window, Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier)
        box = question(qtbot)
        assert box.text() == (f"{alerts} alerts are not acknowledged and 1 query is waiting "
                              "to be sent. Quit anyway?")
        assert box.defaultButton() is button(box, "Stay")
        qtbot.keyClick(box, Qt.Key.Key_Return)  # Enter takes the default
        qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=3000)
        assert window.isVisible()

        # Closing the window (its close button, Alt+F4) asks the same.
        assert not window.close()
        box = question(qtbot)
        assert box.text().endswith("Quit anyway?") and window.isVisible()
        qtbot.mouseClick(button(box, "Stay"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: QApplication.activeModalWidget() is None, timeout=3000)
        assert window.isVisible()

        # Sign out (Ctrl+Shift+O) says the same; answered, it signs out.
        shortcut(qtbot, window, Qt.Key.Key_O)
        box = question(qtbot)
        assert box.text() == (f"{alerts} alerts are not acknowledged and 1 query is waiting "
                              "to be sent. Sign out anyway?")
        qtbot.mouseClick(button(box, "Sign out anyway"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=20000)
        assert not menu.sign_out.isEnabled() and not menu.lock.isEnabled()

        # Signed out, nothing is open: Quit closes at once.
        menu.quit.trigger()
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)
        assert QApplication.activeModalWidget() is None
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()


def test_quit_anyway_closes_the_window(qtbot: QtBot, gateway: Gateway) -> None:
    controller, window = signed_in(qtbot, gateway, "officer1")
    try:
        page = window.terminal
        page.command.setText("QV LIC/TRN4821.LIS/VA")
        page.run_command()
        # the hit's alert up and the query's answer in the window's outbox (each reaches the
        # window on its own turn of the event loop, in either order)
        qtbot.waitUntil(lambda: window.menu_actions.open_work() == (1, 0), timeout=20000)
        window.menu_actions.quit.trigger()
        box = question(qtbot)
        assert box.text() == "1 alert is not acknowledged. Quit anyway?"
        qtbot.mouseClick(button(box, "Quit anyway"), Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=3000)
    finally:
        controller.shutdown()
        window.close()
