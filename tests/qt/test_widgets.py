"""Widgets offscreen: the generic form by keyboard, the returns model, the return detail, themes,
and the login page when the gateway is not there."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import pytest
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot

from mdt.core.codes import CodeTables
from mdt.core.forms import load_form
from mdt.settings import Settings
from mdt.store.cache import StoredReturn
from mdt.ui.application import create_window
from mdt.ui.form_view import FormView
from mdt.ui.return_detail import ReturnDetail
from mdt.ui.returns_view import ReturnsModel, age_text, build_rows
from mdt.ui.theme import apply_theme

TABLES = CodeTables.default()
NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def show_active(qtbot: QtBot, widget: QWidget) -> None:
    """Keyboard focus and shortcuts need an active window, as on a real screen."""
    widget.show()
    widget.activateWindow()
    qtbot.waitUntil(widget.isActiveWindow)


def _return(n: int, hit: bool, received: str) -> StoredReturn:
    query = {"id": f"m{n}", "mke": "QV", "fields": {"LIC": f"ZZZ{n:04d}", "LIS": "MD"},
             "created_at": received, "state": "answered"}
    records = [{"file": "VEHICLE", "hit": True, "nic": "V260000001", "category": None,
                "caution_codes": ["00"], "caveats": ["CONFIRM THE RECORD BEFORE ANY ACTION."],
                "fields": {"LIC": f"ZZZ{n:04d}", "VMA": "BUIC"}}] if hit else []
    return StoredReturn(id=f"e{n}", message_id=f"m{n}", mke="QV", source="NCIC",
                        text="QV.MD1012600.NCIC\n\nMKE/STOLEN VEHICLE" if hit else "NO NCIC WANT",
                        records=records, hit=hit, part=1, parts=1, received_at=received,
                        query=query)


def test_form_by_keyboard_only_sends_a_valid_qv(qtbot: QtBot) -> None:
    view = FormView(load_form("QV"), TABLES)
    qtbot.addWidget(view)
    show_active(qtbot, view)
    sent: list[tuple[str, dict[str, str], list[str], str]] = []
    view.submitted.connect(lambda *args: sent.append(args))
    view.focus_first()
    plate = view.edits["LIC"]
    assert isinstance(plate, QLineEdit)
    qtbot.keyClicks(plate, "trn4821")
    assert plate.text() == "TRN4821"  # upper-cased as typed
    qtbot.keyClick(plate, Qt.Key.Key_Tab)
    state = QApplication.focusWidget()
    assert state is view.edits["LIS"]
    qtbot.keyClicks(state, "zz")
    assert view.errors["LIS"].isVisible() and "LIS" in view.errors["LIS"].text()  # inline, as typed
    qtbot.keyClick(state, Qt.Key.Key_Backspace)
    qtbot.keyClick(state, Qt.Key.Key_Backspace)
    qtbot.keyClicks(state, "va")
    assert not view.errors["LIS"].isVisible()
    qtbot.keyClick(state, Qt.Key.Key_Return)
    assert sent == [("QV", {"LIC": "TRN4821", "LIS": "VA"}, [], "")]


def test_enter_on_an_incomplete_form_shows_why_and_sends_nothing(qtbot: QtBot) -> None:
    view = FormView(load_form("QV"), TABLES)
    qtbot.addWidget(view)
    sent: list[object] = []
    view.submitted.connect(lambda *args: sent.append(args))
    plate = view.edits["LIC"]
    assert isinstance(plate, QLineEdit)
    qtbot.keyClicks(plate, "TRN4821")
    qtbot.keyClick(plate, Qt.Key.Key_Return)
    assert not sent
    assert "LIS" in view.form_error.text() and "VIN" in view.form_error.text()
    qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert plate.text() == "" and view.form_error.text() == ""


def test_every_form_renders_from_its_definition(qtbot: QtBot) -> None:
    defaults = {"ori": "MD1012600", "atn": "OFFICER TESS TRAINEE", "phn": "410-555-0100"}
    for mke in ("QW", "QV", "DQ", "RQ", "IAQ", "QH", "QR", "QG", "YQ", "YR", "AM"):
        form = load_form(mke)
        view = FormView(form, TABLES, operator_defaults=defaults)
        qtbot.addWidget(view)
        assert list(view.edits) == [f.tag for f in form.fields]
        assert (view.dest is not None) == (form.destination.get("kind") != "fixed")
    iaq = FormView(load_form("IAQ"), TABLES, operator_defaults=defaults)
    qtbot.addWidget(iaq)
    assert iaq.values()["ATN"] == "OFFICER TESS TRAINEE" and iaq.values()["OFF"] == "0399"


def test_returns_model_passes_the_model_tester(qtmodeltester: ModelTester) -> None:
    model = ReturnsModel()
    model.now = NOW
    messages = [{"id": "m9", "mke": "QV", "fields": {"LIC": "OFF9999", "LIS": "MD"},
                 "created_at": "2026-11-24T11:59:00.000Z", "state": "queued"}]
    model.set_rows(build_rows(messages, [_return(1, True, "2026-11-24T11:00:00.000Z"),
                                         _return(2, False, "2026-11-24T11:30:00.000Z")]))
    qtmodeltester.check(model)
    assert model.rowCount() == 3
    texts = [[model.data(model.index(r, c)) for c in range(4)] for r in range(3)]
    assert texts[0][2].startswith("Queued (offline)")  # newest first: the waiting query
    # The list shows the return's headline (issue 16: which file, and how dangerous)
    assert texts[1][2] == "No record"
    assert texts[2][2] == "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS"
    assert texts[2][0] == "1 h 00 min ago"


def test_return_detail_pins_caveats_and_says_cached(qtbot: QtBot) -> None:
    detail = ReturnDetail()
    qtbot.addWidget(detail)
    show_active(qtbot, detail)
    rows = build_rows([], [_return(1, True, "2026-11-24T11:45:00.000Z")])
    detail.show_row(rows[0], offline=True, now=NOW)
    assert detail.hit_banner.text().startswith("HIT — STOLEN VEHICLE — ARMED AND DANGEROUS. ")
    assert "confirm it with the entering agency before acting" in detail.hit_banner.text()
    # The switch's caveat in full at the top of the record, not in a box of its own.
    assert detail.caveat_lines and "CONFIRM" in detail.caveat_lines[0]
    assert detail.caveat_lines[0] in detail.body.toPlainText().split("\n")[1]
    assert detail.cached.text() == "OFFLINE — Cached return · received 15 min ago · from NCIC"
    assert "CAUTION: 00" in detail.body.toHtml()
    assert detail.toggle.shortcut().toString() == "F9"
    qtbot.mouseClick(detail.toggle, Qt.MouseButton.LeftButton)
    assert detail.raw.isVisible() and "MKE/STOLEN VEHICLE" in detail.raw.toPlainText()


@pytest.mark.parametrize(("seconds", "words"), [(5, "5 s ago"), (125, "2 min ago"),
                                                (3 * 3600 + 60, "3 h 01 min ago"),
                                                (3 * 86400, "3 d ago")])
def test_age_words(seconds: int, words: str) -> None:
    then = datetime.fromtimestamp(NOW.timestamp() - seconds, UTC).isoformat()
    assert age_text(then, NOW) == words
    assert age_text("garbage", NOW) == "age unknown"


def test_themes_switch_the_whole_palette(qapp: QApplication) -> None:
    assert apply_theme(qapp, "night") == "night"
    night = qapp.palette().window().color().lightness()
    assert apply_theme(qapp, "day") == "day"
    assert qapp.palette().window().color().lightness() > night + 100
    assert apply_theme(qapp, "neon") == "day"


def test_login_without_a_gateway_offers_offline_unlock(qtbot: QtBot) -> None:
    settings = Settings()
    settings.set("gateway_url", "http://127.0.0.1:9")
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    try:
        login = window.login
        qtbot.waitUntil(lambda: "not reachable" in login.gateway_state.text(), timeout=15000)
        assert "unlock offline" in login.gateway_state.text().lower()
        assert not window.banner.isVisible()  # not known to be training: no claim either way
        assert not login.demo.isVisible()
        qtbot.keyClicks(login.user, "officer1")
        qtbot.keyClicks(login.password, "training")
        qtbot.mouseClick(login.unlock_offline, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(login.error.text()), timeout=10000)
        assert "no offline profile" in login.error.text().lower()
        assert window.pages.currentWidget() is login
    finally:
        controller.shutdown()


def test_command_line_recalls_recent_commands(qtbot: QtBot) -> None:
    from mdt.ui.command_line import CommandLine

    line = CommandLine()
    qtbot.addWidget(line)
    for command in ("QV LIC/TRN4821.LIS/VA", "CLN1000", "QV LIC/TRN4821.LIS/VA"):
        line.remember(command)
    assert line.history == ["CLN1000", "QV LIC/TRN4821.LIS/VA"]  # no duplicates, newest last
    qtbot.keyClicks(line, "draft")
    qtbot.keyClick(line, Qt.Key.Key_Up)
    assert line.text() == "QV LIC/TRN4821.LIS/VA"
    qtbot.keyClick(line, Qt.Key.Key_Up)
    qtbot.keyClick(line, Qt.Key.Key_Up)  # stays on the oldest
    assert line.text() == "CLN1000"
    qtbot.keyClick(line, Qt.Key.Key_Down)
    qtbot.keyClick(line, Qt.Key.Key_Down)
    assert line.text() == "draft"  # back to what was being typed


def test_run_this_person_from_a_record(qtbot: QtBot) -> None:
    detail = ReturnDetail()
    qtbot.addWidget(detail)
    ret = _return(1, True, "2026-11-24T11:45:00.000Z")
    ret.records[0]["fields"].update({"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312", "SEX": "M"})
    detail.show_row(build_rows([], [ret])[0], now=NOW)
    assert "Run this person: KOLVEX, DRAYTON Q 19840312" in detail.body.toHtml()
    index = next(i for i, f in enumerate(detail.follow_ups) if f.mke == "QW")
    with qtbot.waitSignal(detail.run_requested) as signal:
        detail.body.anchorClicked.emit(QUrl(f"run:{index}"))
    assert signal.args == ["QW", {"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312", "SEX": "M"}, []]


def test_a_query_without_an_answer_is_never_silently_forgotten() -> None:
    model = ReturnsModel()
    model.now = NOW
    sent = {"id": "m1", "mke": "QV", "fields": {"LIC": "OFF9999", "LIS": "MD"},
            "created_at": "2026-11-24T11:50:00.000Z", "accepted_at": "2026-11-24T11:50:01.000Z",
            "state": "accepted"}
    iaq = sent | {"id": "m2", "mke": "IAQ", "state": "acknowledged"}
    model.set_rows(build_rows([sent, iaq], []))
    texts = [model.data(model.index(r, 2)) for r in range(2)]
    assert "No answer after 9 min" in texts[0] or "No answer after 9 min" in texts[1]
    assert "Acknowledged" in " ".join(texts)  # the IAQ may take longer: not yet flagged


def test_day_night_switch_restyles_the_themed_widgets(qapp: QApplication) -> None:
    """F10 restyles without a new style sheet: the themed rules follow the window's theme."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QLabel, QTableView, QWidget

    apply_theme(qapp, "day")
    window = QWidget()
    error = QLabel("Not sent", window)
    error.setObjectName("CommandError")
    plain = QLabel("Officer Tess Trainee", window)  # no name: the palette's text colour
    table = QTableView(window)
    hidden = QLabel("on a tab not open", window)
    window.show()
    hidden.hide()
    sheet = qapp.styleSheet()
    try:
        assert error.palette().color(QPalette.ColorRole.WindowText).name() == "#b00020"
        apply_theme(qapp, "night")
        assert qapp.styleSheet() is sheet or qapp.styleSheet() == sheet  # not rebuilt
        assert error.palette().color(QPalette.ColorRole.WindowText).name() == "#ff7b8a"
        # Every widget follows, named or not (found using it: after F10 the operator's name and
        # the outbox were dark on the night background, the returns list stayed white).
        night = qapp.palette()
        assert plain.palette().color(QPalette.ColorRole.WindowText) == \
            night.color(QPalette.ColorRole.WindowText)
        assert table.palette().color(QPalette.ColorRole.Base) == night.color(
            QPalette.ColorRole.Base)
        deadline = time.monotonic() + 5  # the hidden ones a batch per turn of the loop
        while hidden.palette().color(QPalette.ColorRole.WindowText) != night.color(
                QPalette.ColorRole.WindowText) and time.monotonic() < deadline:
            qapp.processEvents()
        assert hidden.palette().color(QPalette.ColorRole.WindowText) == night.color(
            QPalette.ColorRole.WindowText)
        late = QLabel("made at night", window)  # a widget made after the switch
        late.setObjectName("CommandError")
        late.show()
        assert late.palette().color(QPalette.ColorRole.WindowText).name() == "#ff7b8a"
        apply_theme(qapp, "day")
        assert error.palette().color(QPalette.ColorRole.WindowText).name() == "#b00020"
    finally:
        window.close()
        window.deleteLater()
