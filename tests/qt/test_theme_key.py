"""Issue 16: F10 (day/night) is one key from wherever the officer is: right after signing in
and in a form's field; and the first keys typed after signing in reach the command line."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from mdt.ui.theme import apply_theme
from tests.conftest import Gateway
from tests.e2e.test_thin_path_gui import _window as day_window

pytestmark = pytest.mark.e2e


def _theme() -> str:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return str(app.property("mdtTheme"))


def _press_f10(qtbot: QtBot, widget: QWidget) -> None:
    QTest.keyClick(widget, Qt.Key.Key_F10)
    qtbot.wait(50)


def test_f10_and_the_first_keys_right_after_sign_in_and_in_a_form_field(
        qtbot: QtBot, gateway: Gateway) -> None:
    """Signed in by keyboard (Enter in the one-time code field), the keys typed the moment the
    terminal page shows go to the command line: the focus had stayed behind in the hidden
    sign-in page's last focusable neighbour (the status bar's MDT button), so what was typed
    went nowhere until the forms arrived from a worker. F10 switches day and night there and
    in a form's field."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    controller, window = day_window(qtbot, gateway.url)
    window.resize(1200, 800)
    window.activateWindow()
    first: list[QWidget | None] = []  # where the keys typed as the page showed went

    def typed_at_once() -> None:
        first.append(QApplication.focusWidget())
        QTest.keyClicks(QApplication.focusWidget(), "QW")

    window.pages.currentChanged.connect(
        lambda _i: QTimer.singleShot(0, typed_at_once) if window.terminal_ready and
        window.pages.currentWidget() is window.terminal and not first else None)
    try:
        login = window.login
        qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
        login.use_demo_account("officer1")
        qtbot.waitUntil(lambda: bool(login.otp.text()), timeout=5000)
        login.otp.setFocus()
        QTest.keyClick(login.otp, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: bool(first), timeout=15000)
        page = window.terminal
        assert first[0] is page.command, f"the first keys went to {first[0]}"
        assert page.command.text() == "QW"
        qtbot.waitUntil(lambda: "YQ" in page.views, timeout=15000)  # the forms came
        focused = QApplication.focusWidget()
        assert focused is page.command and page.command.text() == "QW", focused
        _press_f10(qtbot, focused)
        assert _theme() == "night", "F10 right after signing in"
        page.command.clear()
        view = page.open_form("QV")
        assert view is not None
        qtbot.waitUntil(lambda: isinstance(QApplication.focusWidget(), QLineEdit) and
                        QApplication.focusWidget() is not page.command, timeout=5000)
        field = QApplication.focusWidget()
        assert field is not None and field.isVisible()
        QTest.keyClicks(field, "ABC")
        _press_f10(qtbot, field)
        assert _theme() == "day", f"F10 in the form's field {field.objectName()}"
        _press_f10(qtbot, field)
        assert _theme() == "night"
    finally:
        controller.shutdown()
        window.close()
        apply_theme(app, "day")
