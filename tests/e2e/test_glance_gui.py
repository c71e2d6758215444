"""Issue 16 through the real GUI (offscreen) against the real training gateway: the command line
says what is wrong in the rules' own sentences (the CLI's), never cuts a value, never quotes an
empty line back; a suspended licence is headed by its headline, not by "No record found."."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot

from mdt.settings import Settings
from mdt.ui.application import create_window
from mdt.ui.theme import apply_theme
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


def test_command_line_sentences_and_a_suspended_licence(qtbot: QtBot, gateway: Gateway,
                                                        gui_thread_guard: list[str]) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "day")
    settings = Settings()
    settings.set("gateway_url", gateway.url)
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    try:
        login = window.login
        qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
        qtbot.keyClicks(login.user, "officer1")
        qtbot.keyClicks(login.password, gateway.demo_account("officer1")["password"])
        qtbot.keyClicks(login.otp, gateway.demo_account("officer1")["otp_now"])
        qtbot.keyClick(login.otp, Qt.Key.Key_Return)
        page = window.terminal
        qtbot.waitUntil(lambda: window.pages.currentWidget() is page and "DQ" in page.views,
                        timeout=15000)
        qtbot.waitUntil(lambda: window.connection.text() == "Online", timeout=10000)

        def command(text: str) -> str:
            page.command.setText(text)
            qtbot.keyClick(page.command, Qt.Key.Key_Return)
            return page.command_feedback.text()

        # An empty command is not quoted back as ''.
        said = command("")
        assert said.startswith("Type a command first: QV LIC/ABC1234.LIS/MD")
        assert "''" not in said

        # A field the form does not have: the CLI's sentence, not dropped without a word.
        assert command("DQ OLN/S100000008.OLS/VA") == "OLS is not a field of the DQ form."
        assert page.command_feedback.objectName() == "CommandError"

        # No destination: the rule's sentence, not "Unexpected problem (FormInvalid)".
        said = command("DQ OLN/S100000008")
        qtbot.waitUntil(lambda: page.command_feedback.text().startswith("Not sent:"),
                        timeout=10000)
        said = page.command_feedback.text()
        assert said == ("Not sent: Enter the destination: state codes (Up to 5 state codes "
                        "separated by commas, or NL for all states.).")
        assert "Unexpected problem" not in said

        # A 30-character plate is refused whole, with the rule's sentence: never cut to 10.
        plate = "A1" * 15
        said = command(f"QV LIC/{plate}.LIS/VA")
        assert "Plate (LIC) may contain only letters and digits, at most 10" in said
        lic = page.views["QV"].edits["LIC"]
        assert isinstance(lic, QLineEdit) and lic.text() == plate and lic.maxLength() > 30
        assert page.views["QV"].errors["LIC"].text().startswith("Plate (LIC) may contain")
        assert not any(m.get("fields", {}).get("LIC", "").startswith("A1A1")
                       for m in controller.terminal.messages(50))

        # A suspended licence: its headline heads the detail and names it in the list.
        view = page.open_form("DQ", {"OLN": "S100000008"})
        assert view is not None
        view.set_destination(["VA"])
        assert view.send() == []
        qtbot.waitUntil(lambda: any(r.ret is not None and r.ret.mke in ("DQ", "DR")
                                    for r in page.model.rows), timeout=20000)
        index = next(i for i, r in enumerate(page.model.rows) if r.ret is not None)
        page.table.selectRow(index)
        assert page.model.data(page.model.index(index, 2)) == \
            "RECORD — DRIVER LICENSE: SUSPENDED"
        banner = page.detail.hit_banner
        qtbot.waitUntil(banner.isVisible, timeout=5000)
        assert banner.text() == "RECORD — DRIVER LICENSE: SUSPENDED"
        assert banner.objectName() == "NoticeBanner"
        assert "No record" not in banner.text()
    finally:
        controller.shutdown()
