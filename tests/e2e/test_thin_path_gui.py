"""The whole path once through the real GUI (offscreen) against the real training gateway:
sign in with a demo account → command line → QV → the HIT with its caveat → quit → gateway
stopped → unlock offline → the return is still there, marked cached and offline, with its age."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mdt.settings import Settings
from mdt.ui.application import create_window
from mdt.ui.theme import apply_theme
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


def _window(qtbot: QtBot, url: str):  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "day")
    settings = Settings()
    settings.set("gateway_url", url)
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    return controller, window


def test_gui_plate_hit_then_offline_unlock(qtbot: QtBot, gateway: Gateway,
                                          gui_thread_guard: list[str]) -> None:
    controller, window = _window(qtbot, gateway.url)
    try:
        login = window.login
        # The training gateway's demo accounts are listed, and training is shown.
        qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
        assert window.banner.isVisible() and "TRAINING" in window.banner.text()
        account = gateway.demo_account("officer1")
        qtbot.keyClicks(login.user, "officer1")
        qtbot.keyClicks(login.password, account["password"])
        qtbot.keyClicks(login.otp, gateway.demo_account("officer1")["otp_now"])
        qtbot.keyClick(login.otp, Qt.Key.Key_Return)

        page = window.terminal
        qtbot.waitUntil(lambda: window.pages.currentWidget() is page and "QV" in page.views,
                        timeout=15000)
        assert window.banner.isVisible()
        qtbot.waitUntil(lambda: window.connection.text() == "Online", timeout=10000)

        # Keyboard only: focus the command line, type the message, Enter.
        qtbot.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
        qtbot.keyClicks(page.command, "QV LIC/TRN4821.LIS/VA")
        qtbot.keyClick(page.command, Qt.Key.Key_Return)

        qtbot.waitUntil(lambda: any(r.ret is not None for r in page.model.rows), timeout=15000)
        row = next(r for r in page.model.rows if r.ret is not None)
        assert row.hit
        page.table.selectRow(page.model.rows.index(row))
        assert page.detail.hit_banner.text().startswith("HIT")
        assert "PROBABLE CAUSE" in " ".join(page.detail.caveat_lines).upper()
        assert page.detail.caveat_lines[0] in page.detail.body.toPlainText()
        # Online, a live answer says when it came, not "Cached return" (issue 16 item 10)
        assert page.detail.cached.text().startswith("Received ")
        assert "ago · from " in page.detail.cached.text()
    finally:
        controller.shutdown()
        window.close()

    gateway.stop()

    controller, window = _window(qtbot, gateway.url)
    try:
        login = window.login
        qtbot.waitUntil(lambda: "not reachable" in login.gateway_state.text(), timeout=15000)
        assert login.user.text() == "officer1"  # remembered, not retyped
        assert window.banner.isVisible()  # the gateway is gone, but it was a training one
        qtbot.keyClicks(login.password, gateway.demo_account_password)
        qtbot.mouseClick(login.unlock_offline, Qt.MouseButton.LeftButton)
        page = window.terminal
        qtbot.waitUntil(lambda: any(r.ret is not None for r in page.model.rows), timeout=15000)
        row = next(r for r in page.model.rows if r.ret is not None)
        page.table.selectRow(page.model.rows.index(row))
        assert row.hit
        assert page.detail.cached.text().startswith("OFFLINE — Cached return · received ")
        assert "ago" in page.detail.cached.text()
        assert window.connection.text().startswith("Offline")
        assert window.banner.isVisible()  # still training, still said so
    finally:
        controller.shutdown()
        window.close()


def test_gui_wrong_password_says_so_and_stays_on_login(qtbot: QtBot, gateway: Gateway) -> None:
    controller, window = _window(qtbot, gateway.url)
    try:
        login = window.login
        qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
        qtbot.keyClicks(login.user, "officer1")
        qtbot.keyClicks(login.password, "wrong-password")
        qtbot.keyClicks(login.otp, "123456")
        qtbot.mouseClick(login.sign_in, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(login.error.text()), timeout=10000)
        assert window.pages.currentWidget() is login
        assert login.password.text() == ""
    finally:
        controller.shutdown()
        window.close()


def test_an_expired_session_is_renewed_without_losing_the_query(qtbot: QtBot,
                                                                gateway: Gateway) -> None:
    gw = gateway
    controller, window = _window(qtbot, gw.url)
    try:
        login = window.login
        qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
        login.user.setText("officer1")
        login.password.setText(gw.demo_account_password)
        login.otp.setText(gw.demo_account("officer1")["otp_now"])
        login.do_sign_in()
        page = window.terminal
        qtbot.waitUntil(lambda: "QV" in page.views and window.connection.text() == "Online",
                        timeout=15000)
        gw.expire_sessions("officer1")  # the token expires (a 3 s time to live raced sign-in)
        page.command.setText("CLN1000")
        page.run_command()
        qtbot.waitUntil(window.relogin_button.isVisible, timeout=15000)
        assert window.connection.text().startswith("Session expired")
        qtbot.waitUntil(lambda: [r.message["state"] for r in page.model.rows if r.message]
                        == ["queued"], timeout=5000)
        dialog = window.open_relogin()
        dialog.password.setText(gw.demo_account_password)
        dialog.otp.setText(gw.demo_account("officer1")["otp_now"])
        dialog.submit()
        qtbot.waitUntil(lambda: any(r.ret is not None for r in page.model.rows), timeout=15000)
        qtbot.waitUntil(lambda: window.connection.text() == "Online", timeout=10000)
        assert not window.relogin_button.isVisible()
        assert window.pages.currentWidget() is page  # the screen was never lost
    finally:
        controller.shutdown()
        window.close()
