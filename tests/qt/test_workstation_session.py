"""The workstation in the real GUI against the real training gateway: lock on demand and after
idling (nothing of the session visible, unlock offline with the password, wrong ones refused),
offline search as you type, a return to PDF (audited) and forwarded as an AM, settings with
validation, high contrast and type size, sign-out that leaves nothing on screen."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from mdt.ui.returns_view import ReturnsModel, build_rows
from mdt.ui.search_view import SearchResultsModel
from tests.conftest import Gateway
from tests.qt.test_alerts_gui import alert_up, signed_in

pytestmark = pytest.mark.e2e


def visible_text(widget: Any) -> str:
    return " ".join(label.text() for label in widget.findChildren(QLabel) if label.isVisible())


def test_lock_unlock_search_export_forward_sign_out(qtbot: QtBot, gateway: Gateway,
                                                     tmp_path: Path,
                                                     gui_thread_guard: list[str]) -> None:
    controller, window = signed_in(qtbot, gateway, "officer1")
    page = window.terminal
    try:
        page.command.setText("QV LIC/TRN4821.LIS/VA")
        page.run_command()
        qtbot.waitUntil(lambda: any(r.ret is not None for r in page.model.rows), timeout=15000)
        qtbot.waitUntil(lambda: alert_up(window), timeout=10000)

        # Lock on demand: nothing of the session shows, not even in the title.
        window.lock("locked by the operator")
        assert window.pages.currentWidget() is window.lock_screen
        assert window.windowTitle().endswith("locked") and not window.alert_bar.isVisible()
        assert "TRN4821" not in visible_text(window) and "STOLEN" not in visible_text(window)
        assert "alert" in window.lock_screen.waiting.text()  # how many, never what
        window.lock_screen.password.setText("wrong-password")
        window.lock_screen.password.returnPressed.emit()
        qtbot.waitUntil(lambda: bool(window.lock_screen.error.text()), timeout=10000)
        assert window.pages.currentWidget() is window.lock_screen
        qtbot.keyClicks(window.lock_screen.password, "training")
        qtbot.mouseClick(window.lock_screen.unlock, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: window.pages.currentWidget() is page, timeout=15000)
        assert alert_up(window) and not window.windowTitle().endswith("locked")

        # Idle: a short timeout locks by itself.
        window.idle.start(0.02)  # 1.2 s
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.lock_screen,
                        timeout=5000)
        assert "inactivity" in window.lock_screen.who.text()
        window.lock_screen.password.setText("training")
        window.lock_screen.unlock.click()
        qtbot.waitUntil(lambda: window.pages.currentWidget() is page, timeout=15000)

        # Search as you type, offline over the cache.
        page.focus_search()
        qtbot.keyClicks(page.search.box, "TRN4821")
        try:
            qtbot.waitUntil(lambda: page.search.model.rowCount() >= 1, timeout=5000)
        except Exception:
            raise AssertionError(page.search.status.text()) from None
        assert "TRN4821" in page.search.model.data(page.search.model.index(0, 3))
        assert "cached record" in page.search.status.text()
        page.search.table.selectRow(0)
        page.search._open(page.search.model.index(0, 0))
        assert page.tabs is not None and page.tabs.currentWidget() is page.returns_panel

        # PDF, audited; forward as an AM.
        row = next(i for i, r in enumerate(page.model.rows) if r.ret is not None)
        page.table.selectRow(row)
        pdf = tmp_path / "return.pdf"
        page.return_actions.export_pdf(pdf)  # written on a worker: wait for its "Saved"
        qtbot.waitUntil(lambda: page.command_feedback.text().startswith("Saved"), timeout=15000)
        assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 1000
        page.return_actions.forward_selected()
        assert page.views["AM"].values()["TXT"].startswith("FWD QV")
        assert page.views["AM"].dest is not None and page.views["AM"].dest.text() == "MD1012600"

        # Sign out: back to the sign-in page, nothing of the session left in the widgets.
        window.sign_out()
        qtbot.waitUntil(lambda: window.pages.currentWidget() is window.login, timeout=15000)
        assert page.model.rowCount() == 0 and page.search.model.rowCount() == 0
        assert not window.alert_bar.isVisible()
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()


def test_settings_dialog_checks_saves_and_applies(qtbot: QtBot, gateway: Gateway) -> None:
    controller, window = signed_in(qtbot, gateway, "officer1")
    try:
        window.open_settings()
        dialog = window.settings_dialog
        dialog.gateway_url.setText("not a url")
        dialog.save()
        assert "gateway_url" in dialog.error.text() and dialog.isVisible()
        dialog.gateway_url.setText("http://192.0.2.10:8765")  # plain http to another machine
        dialog.save()
        assert "must use https://" in dialog.error.text() and dialog.isVisible()
        dialog.gateway_url.setText(gateway.url)
        dialog.operator_phone.setText("410-555-0199")
        dialog.high_contrast.setChecked(True)
        dialog.font_scale.setValue(1.5)
        dialog.save()
        assert not dialog.isVisible()
        settings = controller.terminal.settings
        assert settings.get("operator_phone") == "410-555-0199"
        app = QApplication.instance()
        assert app is not None and app.property("mdtHighContrast") is True
        assert "font-size: 16.5pt" in app.styleSheet()  # 11 pt × 1.5
    finally:
        controller.shutdown()
        window.close()
        app = QApplication.instance()
        if isinstance(app, QApplication):
            from mdt.ui.theme import apply_theme

            apply_theme(app, "day")


def test_models_pass_qtmodeltester(qtmodeltester: Any) -> None:
    from mdt.store.cache import SearchHit, StoredReturn

    ret = StoredReturn(id="r1", message_id="m1", mke="QV", source="NCIC", text="T",
                       records=[{"file": "VEHICLE", "hit": True, "fields": {"LIC": "A1"}}],
                       hit=True, part=1, parts=1, received_at="2026-11-24T20:00:00.000000Z",
                       query={"id": "m1", "mke": "QV", "fields": {"LIC": "A1"}}, seq=1)
    returns = ReturnsModel()
    returns.set_rows(build_rows([{"id": "m1", "mke": "QV", "fields": {"LIC": "A1"},
                                  "state": "answered", "created_at": "2026-11-24T20:00:00Z"},
                                 {"id": "m2", "mke": "QW", "fields": {}, "state": "queued",
                                  "created_at": "2026-11-24T20:01:00Z"}], [ret]))
    qtmodeltester.check(returns)
    results = SearchResultsModel()
    results.set_rows([SearchHit("r1", 0, 0, "plate", "VEHICLE", True,
                                "2020-01-01T00:00:00.000000Z", {"LIC": "A1"}, None)])
    qtmodeltester.check(results)
    assert "STALE" in results.data(results.index(0, 0))
