"""The two workstation layouts in the real GUI against the real training gateway: an officer gets
one column with large touch targets, the command line and the last returns first; a dispatcher
gets the queue, the unit list and returns side by side (see also test_alerts_gui.py)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QPushButton
from pytestqt.qtbot import QtBot

from mdt.ui.unit_list import UnitListModel
from tests.conftest import Gateway
from tests.qt.test_alerts_gui import signed_in

pytestmark = pytest.mark.e2e


def test_officer_layout_is_one_column_with_touch_targets(qtbot: QtBot, gateway: Gateway,
                                                         gui_thread_guard: list[str]) -> None:
    controller, window = signed_in(qtbot, gateway, "officer1")
    page = window.terminal
    try:
        assert page.layout_kind == "officer" and page.tabs is not None
        assert [page.tabs.tabText(i) for i in range(page.tabs.count())] == [
            "Returns", "Form", "Search", "Agency queue"]
        # The command line and the last returns first; the form one tab away.
        assert page.returns_panel.isVisible() and not page.forms_panel.isVisible()
        assert page.command.y() < page.tabs.y()
        assert page.command.font().pointSizeF() >= 16
        buttons = [b for b in page.findChildren(QPushButton) if b.isVisible()]
        assert buttons and all(b.height() >= 44 for b in buttons), \
            [(b.text(), b.height()) for b in buttons if b.height() < 44]

        # A complete command goes out from the command line: the returns stay on screen.
        page.command.setText("QV LIC/ABC1234.LIS/MD")
        page.run_command()
        assert page.tabs.currentWidget() is page.returns_panel and not page.forms_panel.isVisible()
        # The query owns the pane: its header says the wait, once (no "Queued QV — …" line
        # above the tabs repeating it).
        qtbot.waitUntil(lambda: page.detail.hit_banner.text().startswith(("Queued", "Sent",
                                                                          "Sending")),
                        timeout=5000)
        assert not page.command_feedback.isVisible(), page.command_feedback.text()
        assert page.tabs.currentWidget() is page.returns_panel

        # An incomplete command opens its form (the Form tab); a sent form returns to Returns.
        page.command.setText("QV LIY/2026")  # a plate's year, no plate
        page.run_command()
        assert page.tabs.currentWidget() is page.forms_panel and page.forms_panel.isVisible()
        assert "plate" in page.command_feedback.text()
        page.views["QV"].set_values({"LIC": "TRN4821", "LIS": "VA"})
        page.views["QV"].send()
        qtbot.waitUntil(lambda: page.tabs.currentWidget() is page.returns_panel, timeout=5000)
        qtbot.waitUntil(lambda: any(r.ret is not None for r in page.model.rows), timeout=15000)

        # The same officer may switch to the dispatcher layout: the choice is kept.
        window.toggle_layout()
        assert page.layout_kind == "dispatcher" and page.units.isVisible()
        qtbot.waitUntil(lambda: controller.terminal.settings.get("workstation_layout")
                        == "dispatcher", timeout=5000)
        row = next(i for i, r in enumerate(page.model.rows) if r.ret is not None)
        page.table.selectRow(row)
        page.pin_selected()
        assert page.compare.isVisible() and len(page.compare.panes) == 1
        page.pin_selected()  # the same return is not pinned twice
        assert len(page.compare.panes) == 1
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()


def test_unit_list_model(qtmodeltester: Any) -> None:
    model = UnitListModel()
    model.set_units([
        {"user_id": "officer2", "name": "Officer Ravi Rookie", "unit": "Car 14",
         "role": "officer", "signed_in": False, "last_login_at": None},
        {"user_id": "officer1", "name": "Officer Tess Trainee", "unit": "Car 12",
         "role": "officer", "signed_in": True, "last_contact_at": "2026-11-24T20:00:00Z"}])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 0)) == "Car 12"  # signed in first
    assert model.data(model.index(0, 3)) == "signed in"
    assert model.data(model.index(1, 4)) == "never"
