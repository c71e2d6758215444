"""The GUI after a password change at the gateway: the new password signs in at the gateway, the
sign-in page asks once for the previous one (nothing counted as wrong), keeps the cache, and the
main window says what happened."""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.ui.application import create_window
from mdt.ui.theme import apply_theme
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


def test_the_sign_in_page_asks_for_the_previous_password_and_keeps_the_cache(
        qtbot: QtBot, gateway: Gateway, gui_thread_guard: list[str]) -> None:
    def signed_in_once() -> str:  # off the GUI thread, as the app does it
        config = Settings()
        config.set("gateway_url", gateway.url)
        config.save()
        first = Terminal(config)
        try:
            first.login("officer1", "training", gateway.demo_account("officer1")["otp_now"])
            return str(first.send("QV", {"LIC": "DS00077", "LIS": "MD"})["id"])
        finally:
            first.close()

    with ThreadPoolExecutor(1) as pool:
        queued = pool.submit(signed_in_once).result()
    done = subprocess.run([sys.executable, "-m", "mock_server", "passwd", "officer1",
                           "--data-dir", str(gateway.data_dir)], capture_output=True, text=True,
                          env={**os.environ, "MDT_GATEWAY_PASSWORD": "new-password-9"})
    assert done.returncode == 0, done.stderr

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "night")
    controller, window = create_window(Settings())
    qtbot.addWidget(window)
    window.resize(1200, 800)
    window.show()
    try:
        login = window.login
        qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
        qtbot.keyClicks(login.password, "new-password-9")
        qtbot.keyClicks(login.otp, gateway.demo_account("officer1")["otp_now"])
        qtbot.keyClick(login.otp, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: login.changed.isVisible(), timeout=15000)
        assert "password was changed" in login.error.text()
        assert "wrong password" not in login.error.text().replace("counted as a wrong password",
                                                                   "")
        assert login.previous.hasFocus()
        qtbot.keyClicks(login.previous, "training")
        qtbot.keyClick(login.previous, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.terminal, timeout=15000)
        box = window.findChild(QMessageBox, "SignInNotice")
        assert box is not None and box.isVisible()
        assert "cache now opens with the new password" in box.text()
        box.accept()
        qtbot.waitUntil(lambda: any(r.message is not None and r.message.get("id") == queued
                                    for r in window.terminal.model.rows), timeout=10000)
    finally:
        controller.shutdown()
        window.close()
