"""The way to the first window: the sign-in page alone, nothing it does not need imported, and
the terminal page made a part at a time when signing in starts (or whole, when asked first)."""

from __future__ import annotations

import os
import subprocess
import sys

from pytestqt.qtbot import QtBot

from mdt.settings import Settings
from mdt.ui.application import create_window

NOT_ON_THE_START_PATH = ("httpx", "rich", "mdt.net.gateway", "mdt.store.cache",
                         "mdt.ui.terminal_page", "mdt.ui.form_view", "mdt.ui.returns_view")


def test_the_start_path_leaves_out_the_network_stack_and_the_terminal_page() -> None:
    code = ("import sys, mdt.ui.application; print(','.join(m for m in "
            f"{NOT_ON_THE_START_PATH!r} if m in sys.modules))")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True, timeout=60).stdout.strip()
    assert found == ""


def test_the_first_window_is_the_sign_in_page_and_the_terminal_page_comes_later(
        qtbot: QtBot) -> None:
    settings = Settings()
    settings.set("gateway_url", "http://127.0.0.1:9")  # nobody there: the page still shows
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.pages.currentWidget() is window.login
        assert not window.terminal_ready
        window.login.busy_changed.emit(True)  # signing in starts: the page is made meanwhile
        qtbot.waitUntil(lambda: window.terminal_ready, timeout=10000)
        page = window.terminal
        assert page.ready and window.pages.indexOf(page) >= 0
        assert window.pages.currentWidget() is window.login  # made, not shown
    finally:
        controller.shutdown()
        window.close()


def test_a_staged_terminal_page_is_whole_when_asked_for(qtbot: QtBot) -> None:
    from mdt.ui.terminal_page import TerminalPage

    settings = Settings()
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    try:
        page = TerminalPage(controller, staged=True)
        qtbot.addWidget(page)
        steps = 1
        while not page.build_step():
            steps += 1
        assert steps > 5  # no turn of the event loop makes all of it
        assert page.layout_kind == "officer" and page.tabs is not None
        whole = TerminalPage(controller)  # not staged: whole at once
        qtbot.addWidget(whole)
        assert whole.ready and whole.layout_kind == "officer"
    finally:
        controller.shutdown()
