"""Enter on the sign-in page (issue 16 item 10), in the real GUI (offscreen) against the real
training gateway: online, Enter signs in and a missing one-time code is asked for; offline (the
gateway gone), Enter in the password field unlocks the cache with the password alone."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from tests.conftest import Gateway
from tests.e2e.test_thin_path_gui import _window

pytestmark = pytest.mark.e2e


def test_enter_signs_in_online_and_unlocks_offline(qtbot: QtBot, gateway: Gateway,
                                                   gui_thread_guard: list[str]) -> None:
    controller, window = _window(qtbot, gateway.url)
    try:
        login = window.login
        qtbot.waitUntil(lambda: "online" in login.gateway_state.text(), timeout=10000)
        qtbot.keyClicks(login.user, "officer1")
        qtbot.keyClicks(login.password, gateway.demo_account_password)
        qtbot.keyClick(login.password, Qt.Key.Key_Return)  # online: the code is asked for
        assert "one-time code" in login.error.text()
        assert window.pages.currentWidget() is login
        qtbot.keyClicks(login.otp, gateway.demo_account("officer1")["otp_now"])
        qtbot.keyClick(login.otp, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.terminal_ready
                        and window.pages.currentWidget() is window.terminal, timeout=15000)
        assert not controller.offline_unlock
    finally:
        controller.shutdown()
        window.close()

    gateway.stop()

    controller, window = _window(qtbot, gateway.url)
    try:
        login = window.login
        qtbot.waitUntil(lambda: "not reachable" in login.gateway_state.text(), timeout=15000)
        assert login.user.text() == "officer1"
        assert "not needed offline" in login.otp.placeholderText()
        qtbot.keyClicks(login.password, gateway.demo_account_password)
        qtbot.keyClick(login.password, Qt.Key.Key_Return)  # no code: none can be checked
        qtbot.waitUntil(lambda: window.terminal_ready
                        and window.pages.currentWidget() is window.terminal, timeout=15000)
        assert "one-time code" not in login.error.text()
        assert controller.offline_unlock
        assert window.connection.text().startswith("Offline")
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()
