"""Signed out and in again in the same window, as a shared car's laptop is at a change of shift:
the forms are the new officer's (the requester's name and agency), made once each, and each
form's function key opens it."""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QScrollArea
from pytestqt.qtbot import QtBot

from tests.conftest import Gateway
from tests.qt.test_alerts_gui import signed_in


def _sign_in_on(qtbot: QtBot, window: object, user: str) -> None:
    login = window.login  # type: ignore[attr-defined]
    qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
    login.use_demo_account(user)
    qtbot.waitUntil(lambda: bool(login.otp.text()), timeout=5000)
    login.do_sign_in()


def test_the_next_officer_gets_forms_of_their_own(qtbot: QtBot, gateway: Gateway) -> None:
    controller, window = signed_in(qtbot, gateway, "officer1")
    try:
        page = window.terminal
        first_views = dict(page.views)
        forms = len(first_views)
        assert page.views["IAQ"].values().get("ATN") == "OFFICER TESS TRAINEE"
        page.forms_panel.select("IAQ")  # opened once by the first officer

        window.sign_out()
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=15000)
        _sign_in_on(qtbot, window, "officer3")  # another agency: VA0290000
        qtbot.waitUntil(lambda: window.pages.currentWidget() is page
                        and all(m in page.views and page.views[m] is not first_views[m]
                                for m in first_views),
                        timeout=15000)

        assert page.forms_panel.picker.count() == forms  # each form listed once
        shown = page.forms_panel.select("IAQ")
        assert shown is page.views["IAQ"]
        on_screen = page.forms_panel.stack.currentWidget()
        assert isinstance(on_screen, QScrollArea) and on_screen.widget() is shown
        assert shown.values().get("ATN") == "OFFICER VIC VIRGINIA"
        qtbot.waitUntil(lambda: not any(shiboken6.isValid(v) for v in first_views.values()),
                        timeout=3000)  # the first officer's views are gone

        # A form's function key opens it (a key bound twice, once per sign-in, opens nothing).
        key = next((getattr(page.forms_panel.forms[m], "function_key", None), m)
                   for m in page.forms_panel.forms
                   if getattr(page.forms_panel.forms[m], "function_key", None))
        page.forms_panel.select("QV")
        page.command.setFocus()
        qtbot.keyClick(page.command, getattr(Qt.Key, f"Key_{key[0]}"))
        qtbot.waitUntil(lambda: page.forms_panel.picker.currentData() == key[1], timeout=3000)
    finally:
        controller.shutdown()
        window.close()
