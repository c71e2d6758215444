"""The alert history an officer reads (issue 16 item 10): every alert's whole text, wrapped and
never cut with "…"; each field by its NCIC meaning (NIC number, ORI, OCA), none of the
terminal's own ids; a hit offers "Open the return", which shows that return in the window."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import QRect, Qt
from PySide6.QtGui import QFont, QFontMetrics
from pytestqt.qtbot import QtBot

from mdt.ui.alerts_view import AlertsDialog
from tests.conftest import Gateway
from tests.qt.test_alerts_gui import signed_in

RETURN_ID = "9f1c2a7e-5b0d-4c55-8e21-3d4f6a7b8c90"
LONG_TITLE = ("IMMIGRATION VIOLATOR HIT — Deported felon: ZANMIR, SOREN T DOB 19790704 — "
              "previously removed; administrative warrant of removal on file with LESC; "
              "confirm with VTICE0900 before any action and follow the agency's policy")
HIT = {"id": "a-hit", "kind": "ivf_hit", "severity": "critical", "title": LONG_TITLE,
       "created_at": "2026-11-24T20:01:02.123Z", "deadline": None, "acked_by": None,
       "acked_at": None,
       "body": {"return_id": RETURN_ID, "record_index": 0, "file": "IVF",
                "nic": "W123456789", "oca": "26-004513", "ori": "VTICE0900",
                "subject": "ZANMIR, SOREN T DOB 19790704", "category": "DEPORTED_FELON",
                "cautions": [], "summary": "Civil immigration record: confirm with LESC."}}
YQ = {"id": "a-yq", "kind": "incoming_yq", "severity": "critical",
      "title": "Confirm for VA0290000: wanted person NIC W260000011 (URGENT)",
      "created_at": "2026-11-24T20:02:00Z", "deadline": "2026-11-24T20:12:00Z",
      "acked_by": None, "acked_at": None,
      "body": {"request_id": "req-5f0e1d", "rty": "WP", "pri": "U", "rno": 2,
               "oca": "26-000777", "nic": "W260000011", "requesting_ori": "VA0290000",
               "requesting_name": "DEPUTY PAT PRACTICE", "phone": "703-555-0129",
               "data_set": {"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312"},
               "respond_by": "2026-11-24T20:12:00Z", "summary": "Answer with a YR."}}
DETAINER = {"id": "a-det", "kind": "detainer", "severity": "critical",
            "title": "DETAINER DET-0042 — ZANMIR, SOREN T DOB 19790704",
            "created_at": "2026-11-24T20:03:00Z", "deadline": "2026-11-26T20:03:00Z",
            "acked_by": "officer1", "acked_at": "2026-11-24T20:04:00Z",
            "body": {"detainer_id": "DET-0042",
                     "subject": {"name": "ZANMIR, SOREN T", "dob": "19790704", "sex": "M"},
                     "basis": "FINAL ORDER OF REMOVAL", "asks": ["notify DHS before release"],
                     "contact": {"ori": "VTICE0900", "name": "LESC", "phone": "802-555-0100"},
                     "related": {"message_id": "msg-77aa10", "booking": None},
                     "summary": "Acknowledge receipt."}}


def dialog_with(qtbot: QtBot, alerts: list[dict[str, Any]]) -> AlertsDialog:
    dialog = AlertsDialog()
    qtbot.addWidget(dialog)
    dialog.resize(1000, 560)
    dialog.show()
    dialog.set_alerts(alerts)
    return dialog


def test_every_alert_text_is_whole_and_wrapped(qtbot: QtBot) -> None:
    dialog = dialog_with(qtbot, [HIT, YQ])
    table, model = dialog.table, dialog.model
    index = model.index(0, 3)
    assert model.data(index) == LONG_TITLE
    font = model.data(index, Qt.ItemDataRole.FontRole) or QFont(table.font())
    metrics = QFontMetrics(font)

    def fits() -> bool:
        cell = table.visualRect(index)
        needed = metrics.boundingRect(QRect(0, 0, cell.width() - 8, 0),
                                      int(Qt.TextFlag.TextWordWrap), LONG_TITLE)
        return cell.height() >= needed.height()

    qtbot.waitUntil(fits, timeout=3000)
    # The text is longer than its column: it shows because it wraps, not because it is short.
    assert metrics.horizontalAdvance(LONG_TITLE) > table.visualRect(index).width()
    assert table.textElideMode() == Qt.TextElideMode.ElideNone and table.wordWrap()
    assert LONG_TITLE in dialog.details.toPlainText()


def test_a_long_history_wraps_where_it_is_scrolled_to(qtbot: QtBot) -> None:
    dialog = dialog_with(qtbot, [dict(HIT, id=f"a{n}") for n in range(300)])
    table = dialog.table
    metrics = QFontMetrics(dialog.model.data(dialog.model.index(0, 3),
                                             Qt.ItemDataRole.FontRole))

    def whole(row: int) -> bool:
        cell = table.visualRect(dialog.model.index(row, 3))
        needed = metrics.boundingRect(QRect(0, 0, cell.width() - 8, 0),
                                      int(Qt.TextFlag.TextWordWrap), LONG_TITLE)
        return cell.height() >= needed.height() > metrics.height()

    def in_view() -> list[int]:
        bottom = table.viewport().height()
        return [r for r in range(300) if 0 <= table.rowViewportPosition(r) < bottom]

    table.selectRow(299)  # End: the last alert, whole and in view
    qtbot.waitUntil(lambda: 299 in in_view() and all(whole(r) for r in in_view()),
                    timeout=3000)
    table.selectRow(150)  # and one in the middle
    qtbot.waitUntil(lambda: 150 in in_view() and all(whole(r) for r in in_view()),
                    timeout=3000)


def test_fields_by_their_meaning_without_internal_ids(qtbot: QtBot) -> None:
    dialog = dialog_with(qtbot, [HIT, YQ, DETAINER])
    text = dialog.details.toPlainText()
    assert "NIC number" in text and "W123456789" in text
    assert "ORI (agency that entered the record)" in text and "VTICE0900" in text
    assert "OCA (that agency's case number)" in text and "26-004513" in text
    assert "IVF category" in text and "Deported felon" in text
    for raw in ("Nic", "Oca", "Ori", "Return id", "Record index", RETURN_ID):
        assert raw not in text.split(), raw
    assert RETURN_ID not in text and "Return id" not in text
    assert dialog.open_return.isEnabled() and dialog.open_return.text() == "&Open the return"

    dialog.table.selectRow(1)  # the incoming request: its words, not its keys
    text = dialog.details.toPlainText()
    assert "Record type (RTY)" in text and "wanted person (WP)" in text
    assert "urgent (answer within 10 minutes)" in text
    assert "2 — SECOND REQUEST" in text
    assert "Requesting agency (ORI)" in text and "VA0290000" in text
    assert "NAM/KOLVEX, DRAYTON Q DOB/19840312" in text
    assert "req-5f0e1d" not in text and "Request id" not in text and "Pri" not in text.split()
    assert not dialog.open_return.isEnabled()  # no return to open

    dialog.table.selectRow(2)  # the detainer: the related query is the terminal's id
    text = dialog.details.toPlainText()
    assert "msg-77aa10" not in text and "Concerns" not in text
    assert "Detainer number" in text and "LESC (ORI VTICE0900), phone 802-555-0100" in text
    assert "Subject: date of birth" in text


def test_open_the_return_emits_the_return_not_its_id_text(qtbot: QtBot) -> None:
    dialog = dialog_with(qtbot, [HIT])
    with qtbot.waitSignal(dialog.open_return_requested) as signal:
        qtbot.mouseClick(dialog.open_return, Qt.MouseButton.LeftButton)
    assert signal.args == [RETURN_ID]
    assert not dialog.isVisible()


@pytest.mark.e2e
def test_open_the_return_from_the_history_shows_it(qtbot: QtBot, gateway: Gateway,
                                                   gui_thread_guard: list[str]) -> None:
    controller, window = signed_in(qtbot, gateway, "officer1")
    page = window.terminal
    try:
        page.command.setText("QV LIC/TRN4821.LIS/VA")
        page.run_command()
        qtbot.waitUntil(lambda: any(a["kind"] == "hit" for a in window.alert_bar.alerts),
                        timeout=15000)
        page.command.setText("QV LIC/ZZZ0001.LIS/VA")  # a newer row, selected when it comes
        page.run_command()
        qtbot.waitUntil(lambda: sum(r.ret is not None for r in page.model.rows) >= 2,
                        timeout=15000)
        qtbot.waitUntil(lambda: not page.detail.hit_banner.text().startswith("HIT"),
                        timeout=5000)

        dialog = window.open_alerts()
        qtbot.waitUntil(lambda: any(a["kind"] == "hit" for a in dialog.model.alerts),
                        timeout=5000)
        row = next(i for i, a in enumerate(dialog.model.alerts) if a["kind"] == "hit")
        dialog.table.selectRow(row)
        text = dialog.details.toPlainText()
        hit = dialog.model.alerts[row]
        assert "NIC number" in text and hit["body"]["return_id"] not in text
        qtbot.mouseClick(dialog.open_return, Qt.MouseButton.LeftButton)
        assert not dialog.isVisible()
        qtbot.waitUntil(lambda: page.detail.hit_banner.text().startswith("HIT"), timeout=5000)
        shown = page.model.rows[page.table.selectionModel().selectedRows()[0].row()]
        assert shown.ret is not None and shown.ret.id == hit["body"]["return_id"]
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()
