"""Issue 16, item 8: the trainer console cut off Reset, Restore link and Clear faults at night —
its controls pane grew wider than its place in the splitter once the gateway's scenario titles
and trainee names were in its boxes and a theme switch re-measured them; type size 1.5 did the
same. Each button must be whole, in day, at night (F10) and at type size 1.5."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QPushButton, QScrollArea
from pytestqt.qtbot import QtBot

from mdt.ui.theme import apply_theme
from mdt.ui.trainer_console import TrainerConsole
from tests.conftest import Gateway
from tests.qt.test_trainer_console import signed_in_trainer

pytestmark = pytest.mark.e2e


def cut_off(console: TrainerConsole) -> list[str]:
    """The buttons of the controls pane that are not whole across (up and down it scrolls)."""
    scroll = console.findChild(QScrollArea)  # the controls pane
    assert scroll is not None
    viewport = scroll.viewport()
    cut = []
    for button in scroll.widget().findChildren(QPushButton):
        left = button.mapTo(viewport, QPoint(0, 0)).x()
        if left < 0 or left + button.width() > viewport.width() or \
                button.width() < button.sizeHint().width():
            cut.append(f"{button.text()} ({left}+{button.width()} of {viewport.width()}, "
                       f"needs {button.sizeHint().width()})")
    return cut


def test_the_console_buttons_are_whole_by_day_at_night_and_in_large_type(
        qtbot: QtBot, gateway: Gateway) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    controller, window = signed_in_trainer(qtbot, gateway)
    try:
        window.resize(1200, 800)
        console = window.console
        qtbot.waitUntil(lambda: console.scenarios.count() > 0
                        and console.inject_target.count() > 2, timeout=15000)
        texts = {b.text() for b in console.findChildren(QPushButton)}
        assert {"Reset", "Restore link", "Clear faults"} <= texts
        for theme, high, scale in (("day", False, 1.0), ("night", False, 1.0),
                                   ("night", True, 1.0), ("night", False, 1.0),
                                   ("night", False, 1.5), ("day", True, 1.5)):
            apply_theme(app, theme, high_contrast=high, font_scale=scale)
            for _ in range(30):  # laid out again within a few turns of the event loop
                if not cut_off(console):
                    break
                qtbot.wait(100)
            assert cut_off(console) == [], (theme, high, scale)
    finally:
        apply_theme(app, "day")
        controller.shutdown()
        window.close()
