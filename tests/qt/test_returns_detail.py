"""The return on screen: hits first and the loudest first, caution codes in words, fields in
groups an officer reads in order; the outbox in words for the status bar."""

from __future__ import annotations

from pytestqt.qtbot import QtBot

from mdt.core.present import outbox_counts
from mdt.store.cache import StoredReturn
from mdt.ui.return_detail import ReturnDetail, group_fields
from mdt.ui.returns_view import QueryRow


def test_hits_first_cautions_in_words_fields_grouped(qtbot: QtBot) -> None:
    ret = StoredReturn(
        id="r1", message_id="m1", mke="QW", source="NCIC", text="RAW TEXT", hit=True, part=1,
        parts=1, received_at="2026-11-24T20:00:00.000000Z", seq=1,
        query={"id": "m1", "mke": "QW", "fields": {"NAM": "KOLVEX, DRAYTON Q"}},
        records=[{"file": "DL", "hit": False, "fields": {"NAM": "KOLVEX, DRAYTON Q"}},
                 {"file": "WANTED", "hit": True, "caution_codes": ["00"],
                  "fields": {"ORI": "VA0290000", "NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312",
                             "OLN": "S100000001", "OFF": "1399", "OCA": "26-1",
                             "NIC": "W260000001", "ZZZ": "odd"}}])
    detail = ReturnDetail()
    qtbot.addWidget(detail)
    detail.show()
    detail.show_row(QueryRow(message=ret.query, ret=ret))
    text = detail.body.toPlainText()
    assert text.index("WANTED") < text.index("DL")  # the hit before the licence
    assert "CAUTION: 00 ARMED AND DANGEROUS" in text
    assert text.index("Identity") < text.index("Warrant and record") < text.index("Other")
    assert detail.hit_banner.text().startswith("HIT")
    detail.toggle_raw()
    assert detail.raw.isVisible() and detail.raw.toPlainText() == "RAW TEXT"


def test_group_fields_keeps_repeated_tags_with_their_group() -> None:
    groups = dict(group_fields({"DOA": "2019", "DOA#2": "2023", "LIC": "ABC1234", "NAM": "A, B"}))
    assert groups["Warrant and record"] == [("DOA", "2019"), ("DOA#2", "2023")]
    assert groups["Vehicle"] == [("LIC", "ABC1234")] and groups["Identity"] == [("NAM", "A, B")]


def test_outbox_in_words() -> None:
    assert outbox_counts([]) == "Outbox: empty"
    states = ["queued", "queued", "sending", "accepted", "acknowledged", "answered", "failed"]
    assert outbox_counts([{"state": s} for s in states]) == \
        "Outbox: 2 queued · 1 sending · 2 waiting for an answer · 1 refused"


def test_a_record_s_narrative_is_shown_in_the_return(qtbot: QtBot) -> None:
    ret = StoredReturn(
        id="r2", message_id="m2", mke="IAQ", source="LESC", text="IAR TEXT", hit=True, part=1,
        parts=1, received_at="2026-11-24T20:00:00.000000Z", seq=2,
        query={"id": "m2", "mke": "IAQ", "fields": {"NAM": "ZANMIR, SOREN T"}},
        records=[{"file": "LESC", "hit": True, "fields": {"ARN": "A200000002",
                                                          "STA": "DEPORTED FELON"},
                  "narrative": ["SUBJECT WAS REMOVED IN 2019.",
                                "ICE WILL LODGE A DETAINER. MAINTAIN CUSTODY."]}])
    detail = ReturnDetail()
    qtbot.addWidget(detail)
    detail.show()
    detail.show_row(QueryRow(message=ret.query, ret=ret))
    text = detail.body.toPlainText()
    assert "ICE WILL LODGE A DETAINER. MAINTAIN CUSTODY." in text
    assert text.index("A200000002") < text.index("SUBJECT WAS REMOVED IN 2019.")


def test_the_record_s_links_follow_the_theme(qtbot: QtBot) -> None:
    """A link's colour is fixed when the record's HTML is read: after F10 the links kept the
    day's dark blue on the night's near-black (seen on the night screenshots)."""
    from PySide6.QtGui import QPalette
    from PySide6.QtWidgets import QApplication

    from mdt.ui.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    ret = StoredReturn(
        id="r1", message_id="m1", mke="QV", source="NCIC", text="RAW", hit=False, part=1,
        parts=1, received_at="2026-11-24T20:00:00.000000Z", seq=1,
        query={"id": "m1", "mke": "QV", "fields": {"LIC": "CLN1000", "LIS": "MD"}},
        records=[{"file": "VEHICLE", "hit": False,
                  "fields": {"LIC": "CLN1000", "LIS": "MD", "VIN": "1G4AH59H45G118341"}}])

    def link_colours(detail: ReturnDetail) -> set[str]:
        colours, block = set(), detail.body.document().begin()
        while block.isValid():
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.charFormat().isAnchor():
                    colours.add(fragment.charFormat().foreground().color().name())
                it += 1
            block = block.next()
        return colours

    apply_theme(app, "day")
    detail = ReturnDetail()
    qtbot.addWidget(detail)
    detail.show()
    try:
        detail.show_row(QueryRow(message=ret.query, ret=ret))
        day = app.palette().color(QPalette.ColorRole.Link).name()
        assert link_colours(detail) == {day}
        apply_theme(app, "night")
        night = app.palette().color(QPalette.ColorRole.Link).name()
        assert night != day
        qtbot.waitUntil(lambda: link_colours(detail) == {night}, timeout=3000)
    finally:
        apply_theme(app, "day")
