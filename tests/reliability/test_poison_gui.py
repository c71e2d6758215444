"""The GUI (offscreen) against a hostile gateway: a poisoned event shows in the status bar as an
unreadable message from the switch, its raw text one key (Ctrl+Shift+U) away, while the good
event after it is applied and the link stays Online; a refused inbox shows as the same sentence
``mdt sync`` and the log give."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mdt.settings import Settings
from mdt.ui.application import create_window
from mdt.ui.theme import apply_theme
from tests.reliability.hostile import Hostile
from tests.reliability.test_poison_corpus import BODY, raw_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    yield server
    server.close()


def _signed_in(qtbot: QtBot, url: str) -> tuple[Any, Any]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "day")
    settings = Settings()
    settings.set("gateway_url", url)
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    done: list[Any] = []
    controller.login("officer1", "training", "000000", lambda r, e: done.append((r, e)))
    qtbot.waitUntil(lambda: bool(done), timeout=15000)
    assert done[0][1] is None, done
    return controller, window


def test_an_unreadable_message_is_shown_with_its_raw_text(qtbot: QtBot, hostile: Hostile,
                                                        gui_thread_guard: list[str]) -> None:
    hostile.add({"type": "admin", "text": "BEFORE"})
    hostile.events.append((2, raw_text(BODY[0], 2)))  # records[0].fields is a string
    hostile.add({"type": "admin", "text": "AFTER"}, seq=3)
    controller, window = _signed_in(qtbot, hostile.url)
    try:
        qtbot.waitUntil(lambda: "1 unreadable message from the switch"
                        in window.quarantine.text(), timeout=15000)
        qtbot.waitUntil(lambda: window.connection.text() == "Online", timeout=10000)
        assert controller.terminal.writer.call(lambda c: c.inbox_cursor()) == 3
        qtbot.keyClick(window, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier
                       | Qt.KeyboardModifier.ShiftModifier)
        qtbot.waitUntil(lambda: window.quarantine.box is not None, timeout=5000)
        box = window.quarantine.box
        assert box is not None
        assert box.text().startswith("An unreadable message from the switch (inbox #2)")
        assert '"poison-2"' in box.detailedText()  # the raw text as the switch sent it
        assert window.quarantine.seen is not None
        window.quarantine.seen.click()  # seen: it stays kept, out of the open count
        qtbot.waitUntil(lambda: window.quarantine.text() == "", timeout=5000)
        assert len(controller.terminal.quarantined(open_only=False)) == 1
    finally:
        controller.shutdown()


def test_a_refused_inbox_reads_the_same_in_the_status_bar(qtbot: QtBot, hostile: Hostile,
                                                         gui_thread_guard: list[str]) -> None:
    hostile.status["/v1/inbox"] = 403
    controller, window = _signed_in(qtbot, hostile.url)
    try:
        qtbot.waitUntil(lambda: window.connection.text().startswith(
            "Sync stopped: the gateway refused the inbox (403) — retrying in "), timeout=15000)
        assert controller.terminal.sync_state[1] == window.connection.text()
        del hostile.status["/v1/inbox"]
        qtbot.waitUntil(lambda: window.connection.text() == "Online", timeout=20000)
    finally:
        controller.shutdown()
