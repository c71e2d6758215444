"""Issue 16 through the real widgets, offscreen: the returns list, the detail's header and the
PDF say the headline decided in ``mdt.core`` — never "No record found." over a record — and a
confirmed hit drops the "confirm it before acting" sentence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from mdt.core.confirmation import outgoing_confirmations
from mdt.core.returns import parse_return
from mdt.store.cache import StoredReturn
from mdt.ui.export import return_html
from mdt.ui.return_detail import ReturnDetail
from mdt.ui.returns_view import ReturnsModel, build_rows

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[1] / "data" / "returns"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def stored(name: str, mke: str, n: int = 1, minutes_ago: float = 15) -> StoredReturn:
    text = (CORPUS / f"{name}.txt").read_bytes().decode("utf-8")
    records = [r.to_dict() for r in parse_return(text).records]
    received = iso(NOW - timedelta(minutes=minutes_ago))
    query = {"id": f"m{n}", "mke": mke, "fields": {"NAM": "ZANMIR, SOREN T"},
             "created_at": received, "state": "answered"}
    return StoredReturn(id=f"e{n}", message_id=f"m{n}", mke=mke, source="NCIC", text=text,
                        records=records, hit=any(r["hit"] for r in records), part=1, parts=1,
                        received_at=received, query=query)


@pytest.mark.parametrize(("name", "mke", "header", "banner"), [
    ("iar_detainer", "IAQ", "RECORD — LESC STATUS: DEPORTED FELON, DETAINER", "NoticeBanner"),
    ("dq_licence_suspended", "DQ", "RECORD — DRIVER LICENSE: SUSPENDED", "NoticeBanner"),
    ("rq_registration", "RQ", "RECORD — REGISTRATION, nothing notable", "RecordBanner"),
    ("qv_no_record", "QV", "No record — NO NCIC WANT LIC/CLN1000 LIS/MD", "NoHitBanner"),
    ("reject_invalid_field", "QV", "Rejected — FIELD LIS INVALID - MUST BE A STATE CODE",
     "ErrorBanner"),
])
def test_the_detail_header_is_the_headline(qtbot: QtBot, name: str, mke: str, header: str,
                                           banner: str) -> None:
    detail = ReturnDetail()
    qtbot.addWidget(detail)
    detail.show()
    ret = stored(name, mke)
    detail.show_row(build_rows([], [ret])[0], now=NOW)
    assert detail.hit_banner.isVisible()
    assert detail.hit_banner.text() == header
    assert detail.hit_banner.objectName() == banner
    assert "No record found" not in detail.hit_banner.text()


def test_the_list_says_what_each_return_is(qtbot: QtBot) -> None:
    model = ReturnsModel()
    model.now = NOW
    returns = [stored("iar_detainer", "IAQ", 1, 10), stored("dq_licence_suspended", "DQ", 2, 20),
               stored("qv_stolen_vehicle", "QV", 3, 30), stored("qv_no_record", "QV", 4, 40)]
    waiting = {"id": "m9", "mke": "IAQ", "fields": {"NAM": "TALBRO, JUNE"},
               "created_at": iso(NOW - timedelta(minutes=2)),
               "accepted_at": iso(NOW - timedelta(minutes=2)), "state": "acknowledged"}
    model.set_rows(build_rows([waiting], returns))
    column = [model.data(model.index(r, 2)) for r in range(model.rowCount())]
    assert column == ["Acknowledged — answer to follow",  # the pending IAQ has its row
                      "RECORD — LESC STATUS: DEPORTED FELON, DETAINER",
                      "RECORD — DRIVER LICENSE: SUSPENDED",
                      "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS", "No record"]
    assert model.data(model.index(0, 0)) == "2 min ago"


def yq(at: datetime) -> dict[str, Any]:
    return {"id": "q1", "mke": "YQ", "state": "accepted", "created_at": iso(at),
            "accepted_at": iso(at), "dest": ["VA0290000"],
            "fields": {"RTY": "SV", "RNO": "1", "PRI": "U", "NIC": "V260000001"}}


def test_a_confirmed_hit_says_confirmed_and_its_yq_row_is_answered(qtbot: QtBot) -> None:
    """Issue 16: "CONFIRMED by ..." in the panel while the YQ's row said "No answer after 5 min"
    and the header still said "confirm it ... before acting"."""
    ret = stored("qv_stolen_vehicle", "QV", 1, 20)
    nic = next(r["nic"] for r in ret.records if r["hit"])
    message = yq(NOW - timedelta(minutes=15)) | {"fields": {**yq(NOW)["fields"], "NIC": nic}}
    answer = {"type": "hit_confirmation_response", "in_reply_to": "q1", "status": "CONFIRMED",
              "nic": nic, "confirming_ori": "VA0290000", "confirming_name": "Dana Desk",
              "created_at": iso(NOW - timedelta(minutes=12)), "seq": 1}
    confirmations = outgoing_confirmations([message], [answer])
    detail = ReturnDetail()
    qtbot.addWidget(detail)
    detail.show()
    detail.show_row(build_rows([], [ret])[0], now=NOW)
    assert "before acting" in detail.hit_banner.text()
    detail.set_confirmations(confirmations, {"q1": "CONFIRMED"})
    assert detail.hit_banner.text() == ("HIT — STOLEN VEHICLE — ARMED AND DANGEROUS — CONFIRMED "
                                        "by the entering agency.")
    # a new stop on the same record is not confirmed by the earlier answer
    later = stored("qv_stolen_vehicle", "QV", 2, 5)
    detail.show_row(build_rows([], [later])[0], now=NOW)
    assert "before acting" in detail.hit_banner.text()

    model = ReturnsModel()
    model.now = NOW
    model.answered = {"q1": "CONFIRMED"}
    model.set_rows(build_rows([message], []))
    assert model.data(model.index(0, 2)) == "Answered — CONFIRMED"
    model.answered = {}
    assert model.data(model.index(0, 2)) == "No answer after 15 min — send the next request"


def test_the_pdf_says_the_same_headline() -> None:
    for name, mke, said in (("iar_detainer", "IAQ",
                             "RECORD — LESC STATUS: DEPORTED FELON, DETAINER"),
                            ("qv_stolen_vehicle", "QV",
                             "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS")):
        ret = stored(name, mke)
        page = return_html(build_rows([], [ret])[0], training=True, operator="officer1")
        assert f"<b>{said}</b>" in page
        assert "No record found" not in page
    page = return_html(build_rows([], [stored("qv_stolen_vehicle", "QV")])[0], training=False,
                       operator="officer1")
    assert "confirm it with the entering agency before acting" in page


def test_an_over_long_value_is_refused_whole_with_the_rules_sentence(qtbot: QtBot) -> None:
    """Issue 16: the form's setMaxLength cut a 30-character plate to 10 without a word."""
    from PySide6.QtWidgets import QLineEdit

    from mdt.app.errors import describe_error
    from mdt.core.codes import CodeTables
    from mdt.core.forms import FormInvalid, load_form
    from mdt.ui.form_view import FormView

    view = FormView(load_form("QV"), CodeTables.default())
    qtbot.addWidget(view)
    sent: list[object] = []
    view.submitted.connect(lambda *args: sent.append(args))
    plate = view.edits["LIC"]
    assert isinstance(plate, QLineEdit)
    qtbot.keyClicks(plate, "A1" * 15)
    assert plate.text() == "A1" * 15  # all 30 characters: nothing cut
    assert view.errors["LIC"].text().startswith(
        "Plate (LIC) may contain only letters and digits, at most 10")
    view.set_values({"LIS": "VA"})
    problems = view.send()
    assert not sent and problems and problems[0].startswith("Plate (LIC) may contain")
    assert view.unknown_fields({"OLS": "VA", "LIC": "X"}) == ["OLS is not a field of the QV form."]
    # a form the rules refuse reads as the CLI says it, never "Unexpected problem (FormInvalid)"
    from mdt.core.rules import FieldError

    error = FormInvalid([FieldError("LIS", "Enter plate (LIC) and plate state (LIS), or VIN.")])
    assert describe_error(error) == "Enter plate (LIC) and plate state (LIS), or VIN."


def test_a_refused_field_takes_the_focus(qtbot: QtBot) -> None:
    """Issue 16: for state ZZ the focus jumped to LIY (the next empty field) instead of LIS."""
    from PySide6.QtWidgets import QApplication

    from mdt.core.codes import CodeTables
    from mdt.core.forms import load_form
    from mdt.ui.form_view import FormView

    view = FormView(load_form("QV"), CodeTables.default())
    qtbot.addWidget(view)
    view.show()
    view.activateWindow()
    qtbot.waitExposed(view)
    view.set_values({"LIC": "ABC1234", "LIS": "ZZ"})
    view.edits["LIC"].setFocus()
    problems = view.send()
    assert problems and "LIS" in " ".join(problems)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.edits["LIS"], timeout=3000)
    assert view.edits["LIS"].selectedText() == "ZZ"  # typed over at once


def test_a_new_officer_safety_hit_takes_the_alert_bar_from_a_detainer(qtbot: QtBot) -> None:
    """Issue 16: with a detainer on the bar, an armed-and-dangerous hit only raised "All alerts
    (+6)"."""
    from mdt.ui.alert_bar import AlertBar

    bar = AlertBar()
    qtbot.addWidget(bar)
    detainer = {"id": "d", "kind": "detainer", "severity": "critical", "title": "DETAINER D",
                "deadline": iso(NOW + timedelta(hours=48)), "created_at": iso(NOW),
                "body": {"summary": "hold"}}
    armed = {"id": "a", "kind": "caution", "severity": "critical", "deadline": None,
             "title": "HIT — 00 ARMED AND DANGEROUS — vehicle: plate TRN5007 MD",
             "created_at": iso(NOW + timedelta(minutes=1)), "body": {"summary": "Officer safety"}}
    bar.set_alerts([detainer], 0.0)
    assert bar.title.text() == "DETAINER D"
    bar.set_alerts([detainer, armed], 0.0)
    assert bar.title.text().startswith("HIT — 00 ARMED AND DANGEROUS")
    assert bar.more.text() == "All alerts (+1)"
    assert [a["id"] for a in bar.alerts] == ["a", "d"]


def test_a_new_stop_on_a_confirmed_record_starts_its_own_confirmation(qtbot: QtBot) -> None:
    """Issue 16: ten minutes after a CONFIRMED answer, a fresh run of the same plate came back
    already "CONFIRMED", with no YQ buttons."""
    from mdt.services.alerts import AlertSnapshot
    from mdt.ui.confirmation_view import HitConfirmationPanel

    earlier = stored("qv_stolen_vehicle", "QV", 1, 30)
    nic = next(r["nic"] for r in earlier.records if r["hit"])
    message = {"id": "q1", "mke": "YQ", "state": "accepted",
               "created_at": iso(NOW - timedelta(minutes=28)),
               "accepted_at": iso(NOW - timedelta(minutes=28)), "dest": ["VA0290000"],
               "fields": {"RTY": "SV", "RNO": "1", "PRI": "U", "NIC": nic}}
    answer = {"type": "hit_confirmation_response", "in_reply_to": "q1", "status": "CONFIRMED",
              "nic": nic, "confirming_ori": "VA0290000", "confirming_name": "Dana Desk",
              "created_at": iso(NOW - timedelta(minutes=25)), "seq": 1}
    snapshot = AlertSnapshot(NOW, [], outgoing_confirmations([message], [answer]), [], 0.0)
    panel = HitConfirmationPanel()
    qtbot.addWidget(panel)
    panel.show()
    panel.set_snapshot(snapshot)
    panel.show_return(earlier)
    (line,) = panel.lines
    assert line.state.text().startswith("CONFIRMED by Dana Desk (VA0290000)")
    assert line.urgent.isHidden() and line.routine.isHidden()  # this stop is confirmed

    fresh = stored("qv_stolen_vehicle", "QV", 2, 5)  # the same plate, ten minutes later
    panel.show_return(fresh)
    (line,) = panel.lines
    assert line.state.text().startswith("Not confirmed yet")
    assert "Earlier stop: CONFIRMED by Dana Desk (VA0290000)" in line.state.text()
    assert "it does not confirm this stop" in line.state.text()
    assert not line.urgent.isHidden() and not line.routine.isHidden()  # YQ buttons again
    assert line.state.objectName() == "ConfirmNone"


def test_a_waiting_query_heads_the_detail_with_its_own_state(qtbot: QtBot) -> None:
    """Issue 16: offline, "Queued QV — TRN6230" sat above TRN5007's HIT."""
    detail = ReturnDetail()
    qtbot.addWidget(detail)
    detail.show()
    detail.show_row(build_rows([], [stored("qv_stolen_vehicle", "QV")])[0], now=NOW)
    assert detail.hit_banner.text().startswith("HIT")
    queued = {"id": "m7", "mke": "QV", "fields": {"LIC": "TRN6230", "LIS": "MD"},
              "created_at": iso(NOW - timedelta(minutes=3)), "state": "queued"}
    detail.show_row(build_rows([queued], [])[0], offline=True, now=NOW)
    assert detail.hit_banner.text() == "Queued (offline) — goes out when the link is back"
    assert detail.hit_banner.objectName() == "PendingBanner"
    assert detail.cached.isHidden() and not detail.caveat_lines
    text = detail.body.toPlainText()
    assert "QV LIC/TRN6230 LIS/MD" in text and "HIT" not in text and "STOLEN" not in text
