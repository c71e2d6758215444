"""Issue 16, item 8: text an officer can read at 3 a.m., in every theme.

Two views of the same thing:

* from the colours: the style sheet the application really sets (``mdt.ui.theme.style_sheet``,
  checked against ``QApplication.styleSheet()`` after ``apply_theme``) cascaded for every text it
  shows, with the palette for what the sheet leaves unset (``tests/qt/contrast_sheet.py``), plus
  the colours code gives table cells and rich text (``TEXT_ACCENTS``, ``BADGES``): at least 4.5:1
  everywhere (WCAG AA), 7:1 for what is safety-critical in high contrast, 3:1 for a check box's
  border and check mark. ``pytest -s`` prints the table; so does ``python
  tests/qt/contrast_sheet.py``, and a failure's message.
* from the pixels: the real widgets (the alert bar with an armed-and-dangerous hit, the return's
  HIT banner and the HIT / CAUTION words of its record, the hit's YQ countdown, the connection
  label, a check box, a ticked list row, the returns list's HIT cell) rendered offscreen with
  ``grab()`` in each theme — night and high-contrast night reached by the F10 switch (a property
  change and a re-polish) — and the ratio of the text's ink to what is behind it measured.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QImage, QTextCursor
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QStatusBar,
    QStyle,
    QStyleOptionButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)
from pytestqt.qtbot import QtBot

from mdt.core.confirmation import outgoing_confirmations
from mdt.core.present import TRAINING_TEXT, connection_text
from mdt.core.returns import parse_return
from mdt.services.alerts import AlertSnapshot
from mdt.store.cache import StoredReturn
from mdt.ui.alert_bar import AlertBar
from mdt.ui.confirmation_view import HitConfirmationPanel
from mdt.ui.return_detail import ReturnDetail
from mdt.ui.returns_view import ReturnsModel, build_rows
from mdt.ui.theme import apply_theme, follow_theme, style_sheet
from tests.qt.contrast_sheet import (
    AA,
    NON_TEXT,
    SAFETY_HC,
    THEMES,
    Measured,
    all_rows,
    indicator_ratios,
    measure,
    ratio,
    table,
    uncovered_rules,
)

CORPUS = Path(__file__).resolve().parents[1] / "data" / "returns"


# -- from the colours -------------------------------------------------------------------------
@pytest.mark.parametrize("name", list(THEMES))
def test_the_measured_sheet_is_the_one_the_application_sets(qapp: QApplication,
                                                            name: str) -> None:
    theme, high = THEMES[name]
    try:
        apply_theme(qapp, theme, high_contrast=high)
        assert qapp.styleSheet() == style_sheet(high)
        assert qapp.palette().color(qapp.palette().ColorRole.Window).name() == \
            next(r.background for r in measure(name) if r.what == "palette text on window")
    finally:
        apply_theme(qapp, "day")


@pytest.mark.parametrize("name", list(THEMES))
def test_every_text_meets_wcag_in_every_theme(name: str) -> None:
    rows = measure(name) + indicator_ratios(name)
    print()
    print(table(rows))
    failed = [row for row in rows if not row.ok]
    assert not failed, "below the minimum:\n" + table(failed) + "\n\nall of them:\n" + table(rows)
    # the figures of the issue, now
    if name == "night":
        assert _row(rows, "cell text 'hit' on Base").value >= AA
    if name.startswith("hc"):
        for what in ("Online", "hit line: YQ countdown", "HIT banner",
                     "alert bar critical: AlertTitle", "training banner", "badge 'hit'"):
            assert _row(rows, what).value >= SAFETY_HC, what


def test_every_rule_that_gives_a_colour_is_measured() -> None:
    """A new object name with a colour in day.qss / night.qss / the high-contrast sheet needs
    its line in contrast_sheet.TEXTS (where it shows), or its ratio is never seen."""
    assert uncovered_rules() == []


def test_the_table_can_fail() -> None:
    """The table would say FAIL for the issue's own figures (the old night HIT red)."""
    old = Measured("night", "old HIT", "#c8102e", "#12151a", ratio("#c8102e", "#12151a"), AA, "")
    assert round(old.value, 1) == 3.1 and not old.ok
    assert len(all_rows()) > 300


def _row(rows: list[Measured], what: str) -> Measured:
    return next(row for row in rows if row.what == what)


# -- from the pixels --------------------------------------------------------------------------
def now() -> datetime:
    """Read when the screen is filled, not when the module is collected: the suite reaches this
    test minutes later, and a YQ sent "a minute ago" must still be waiting, not overdue."""
    return datetime.now(UTC).replace(microsecond=0)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def stolen_car(at: datetime) -> StoredReturn:
    """QV LIC/TRN5007.LIS/MD: a stolen car, armed and dangerous (the training corpus), received
    two minutes before ``at``."""
    text = (CORPUS / "qv_stolen_vehicle.txt").read_bytes().decode("utf-8")
    records = [r.to_dict() for r in parse_return(text).records]
    received = iso(at - timedelta(minutes=2))
    query = {"id": "m1", "mke": "QV", "fields": {"LIC": "TRN5007", "LIS": "MD"},
             "created_at": received, "state": "answered"}
    return StoredReturn(id="e1", message_id="m1", mke="QV", source="NCIC", text=text,
                        records=records, hit=any(r["hit"] for r in records), part=1, parts=1,
                        received_at=received, query=query)


def ink_and_ground(image: QImage, rect: QRect) -> tuple[QColor, QColor]:
    """The background of ``rect`` (its most common colour) and the text's ink (the colour
    with the highest contrast to it among those on at least three pixels: anti-aliased edges
    are in between)."""
    counts = Counter(image.pixel(x, y) for x in range(rect.left(), rect.right() + 1)
                     for y in range(rect.top(), rect.bottom() + 1))
    ground = QColor(counts.most_common(1)[0][0])
    inks = [QColor(p) for p, n in counts.items() if n >= 3]
    return max(inks, key=lambda c: ratio(c, ground)), ground


class Screen(QWidget):
    """A window with the widgets under test, laid out as the terminal has them."""

    def __init__(self) -> None:
        super().__init__()
        follow_theme(self)
        self.resize(1200, 1000)
        layout = QVBoxLayout(self)
        self.banner = QLabel(TRAINING_TEXT)  # as MainWindow has it
        self.banner.setObjectName("TrainingBanner")
        layout.addWidget(self.banner)
        self.bar = AlertBar()
        layout.addWidget(self.bar)
        self.detail = ReturnDetail()
        self.detail.setMinimumHeight(520)
        layout.addWidget(self.detail)
        self.panel = HitConfirmationPanel()
        layout.addWidget(self.panel)
        self.model = ReturnsModel()
        self.table = QTableView()
        self.table.setObjectName("ReturnsTable")
        self.table.setModel(self.model)
        self.table.setMinimumHeight(70)
        layout.addWidget(self.table)
        self.checked = QCheckBox("Whole gateway offline")
        self.checked.setChecked(True)
        self.unchecked = QCheckBox("Read new critical and high alerts aloud")
        layout.addWidget(self.checked)
        layout.addWidget(self.unchecked)
        self.ticks = QListWidget()
        self.ticks.setMaximumHeight(60)
        for state in (Qt.CheckState.Checked, Qt.CheckState.Unchecked):
            item = QListWidgetItem("")
            item.setCheckState(state)
            self.ticks.addItem(item)
        layout.addWidget(self.ticks)
        self.status = QStatusBar()
        self.connection = QLabel()
        self.offline = QLabel()
        self.status.addWidget(self.connection)
        self.status.addWidget(self.offline)
        layout.addWidget(self.status)

    def fill(self) -> None:
        at = now()
        armed = {"id": "a", "kind": "caution", "severity": "critical",
                 "deadline": iso(at + timedelta(minutes=9)),
                 "title": "HIT — 00 ARMED AND DANGEROUS — vehicle: plate TRN5007 MD",
                 "created_at": iso(at), "body": {"summary": "Officer safety: caution codes"}}
        self.bar.set_alerts([armed], 0.0)
        ret = stolen_car(at)
        row = build_rows([], [ret])[0]
        self.detail.show_row(row)
        self.model.set_rows([row])
        nic = next(r["nic"] for r in ret.records if r["hit"])
        yq = {"id": "q1", "mke": "YQ", "state": "accepted",
              "created_at": iso(at - timedelta(minutes=1)),
              "accepted_at": iso(at - timedelta(minutes=1)), "dest": ["VA0290000"],
              "fields": {"RTY": "SV", "RNO": "1", "PRI": "U", "NIC": nic}}
        self.panel.set_snapshot(AlertSnapshot(at, [], outgoing_confirmations([yq], []), [],
                                              0.0))
        self.panel.show_return(ret)
        for label, state in ((self.connection, "online"), (self.offline, "offline")):
            words, name = connection_text(state, "")  # as MainWindow.set_connection names it
            label.setText(words)
            label.setObjectName(name)
            label.style().unpolish(label)
            label.style().polish(label)

    def rect_of(self, widget: QWidget, rect: QRect | None = None) -> QRect:
        rect = rect if rect is not None else widget.rect()
        return QRect(widget.mapTo(self, rect.topLeft()), rect.size())


@pytest.fixture
def screen(qapp: QApplication, qtbot: QtBot, request: pytest.FixtureRequest) -> Iterator[Screen]:
    theme, high = THEMES[request.param]
    apply_theme(qapp, "day", high_contrast=high)
    window = Screen()
    qtbot.addWidget(window)
    window.show()
    window.fill()
    qtbot.waitExposed(window)
    if theme == "night":  # F10: the property switch and re-polish, as the officer does it
        sheet = qapp.styleSheet()
        apply_theme(qapp, "night", high_contrast=high)
        assert qapp.styleSheet() == sheet  # no new style sheet for a day/night switch
    qapp.processEvents()
    try:
        yield window
    finally:
        apply_theme(qapp, "day")


def _document_rect(detail: ReturnDetail, words: str) -> QRect:
    """Where the first piece of text starting with ``words`` is on screen in the record body
    (non-breaking spaces read as spaces)."""
    block = detail.body.document().begin()
    while block.isValid():
        fragments = block.begin()
        while not fragments.atEnd():
            fragment = fragments.fragment()
            if fragment.text().replace("\u00a0", " ").strip().startswith(words):
                start = QTextCursor(detail.body.document())
                start.setPosition(fragment.position())
                end = QTextCursor(detail.body.document())
                end.setPosition(fragment.position() + fragment.length())
                left, right = detail.body.cursorRect(start), detail.body.cursorRect(end)
                box = QRect(QPoint(left.left(), left.top()), QPoint(right.right(), right.bottom()))
                return QRect(detail.body.viewport().mapTo(detail.window(), box.topLeft()),
                             box.size())
            fragments += 1
        block = block.next()
    raise AssertionError(f"{words!r} is not in the record body")


@pytest.mark.parametrize("screen", list(THEMES), indirect=True)
def test_the_widgets_show_readable_text(screen: Screen, request: pytest.FixtureRequest) -> None:
    name = request.node.callspec.params["screen"]
    high = THEMES[name][1]
    safety = SAFETY_HC if high else AA
    image = screen.grab().toImage()
    bar, detail = screen.bar, screen.detail
    line = screen.panel.lines[0]
    assert bar.isVisible() and detail.hit_banner.text().startswith("HIT")
    assert line.state.objectName() == "ConfirmWaiting", line.state.text()
    assert screen.connection.objectName() == "ConnOnline"
    assert screen.offline.objectName() == "ConnOffline"
    result = screen.table.visualRect(screen.model.index(0, 2))
    texts = {
        "alert bar: severity": (screen.rect_of(bar.severity), safety),
        "alert bar: title": (screen.rect_of(bar.title), safety),
        "alert bar: countdown": (screen.rect_of(bar.countdown), safety),
        "HIT banner": (screen.rect_of(detail.hit_banner), safety),
        "record: HIT": (_document_rect(detail, "HIT"), safety),
        "record: CAUTION": (_document_rect(detail, "CAUTION: 00 ARMED"), safety),
        "record: caveat": (_document_rect(detail, detail.caveat_lines[0][:24]), safety),
        "YQ countdown": (screen.rect_of(line.state), safety),
        "Online": (screen.rect_of(screen.connection), safety),
        "Offline": (screen.rect_of(screen.offline), safety),
        "training banner": (screen.rect_of(screen.banner), safety),
        "returns list: HIT": (screen.rect_of(screen.table.viewport(), result), safety),
        "check box text": (screen.rect_of(screen.unchecked), AA),
    }
    rows = []
    for what, (rect, minimum) in texts.items():
        assert rect.width() > 4 and rect.height() > 4, what
        ink, ground = ink_and_ground(image, rect)
        rows.append(Measured(name, what, ink.name(), ground.name(), ratio(ink, ground), minimum,
                             f"pixels {rect.x()},{rect.y()} {rect.width()}x{rect.height()}"))
    rows += check_boxes(screen, image, name)
    print()
    print(table(rows))
    failed = [row for row in rows if not row.ok]
    assert not failed, "below the minimum on screen:\n" + table(failed)
    # What the pixels show is what the colours computed from the sheet say (the table of
    # test_every_text_meets_wcag_in_every_theme is the screen's).
    computed = {row.what: row for row in measure(name)}
    differ = [f"{what}: on screen {row.colour} on {row.background}, computed "
              f"{computed[SAME[what]].colour} on {computed[SAME[what]].background}"
              for row in rows for what in [row.what] if what in SAME
              and (row.colour, row.background) != (computed[SAME[what]].colour,
                                                   computed[SAME[what]].background)]
    assert not differ, "\n".join(differ)


SAME = {  # a text measured on screen: its line in contrast_sheet's table
    "alert bar: severity": "alert bar critical: AlertSeverity",
    "alert bar: title": "alert bar critical: AlertTitle",
    "alert bar: countdown": "alert bar critical: AlertCountdown",
    "HIT banner": "HIT banner", "record: HIT": "badge 'hit'", "record: CAUTION": "badge 'hit'",
    "YQ countdown": "hit line: YQ countdown",
    "Online": "Online", "Offline": "Offline", "training banner": "training banner",
    "returns list: HIT": "cell text 'hit' on Base", "check box text": "check box text",
}


def check_boxes(screen: Screen, image: QImage, name: str) -> list[Measured]:
    """A box's border against what is around it, a check mark against the ticked box, and a
    ticked box looks different from an empty one."""
    out = []
    boxes: list[tuple[str, QRect]] = []
    for what, box in (("check box", screen.checked), ("empty check box", screen.unchecked)):
        option = QStyleOptionButton()
        option.initFrom(box)
        inner = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
        boxes.append((what, screen.rect_of(box, inner)))
    for row, what in ((0, "ticked list row"), (1, "empty list row")):
        cell = screen.ticks.visualItemRect(screen.ticks.item(row))
        size = cell.height()
        boxes.append((what, screen.rect_of(screen.ticks.viewport(),
                                            QRect(cell.left(), cell.top(), size + 4, size))))
    pictures = {}
    for what, rect in boxes:
        around = QColor(image.pixel(rect.left() - 2 if "box" in what else rect.right() + 8,
                                    rect.center().y()))
        grow = rect.adjusted(-1, -1, 1, 1) if "box" in what else rect  # list rows touch
        border, _ground = ink_and_ground(image, grow)
        pixels = Counter(image.pixel(x, y) for x in range(grow.left(), grow.right() + 1)
                         for y in range(grow.top(), grow.bottom() + 1))
        border = max((QColor(p) for p, n in pixels.items() if n >= 6),
                     key=lambda c: ratio(c, around))
        out.append(Measured(name, f"{what}: border", border.name(), around.name(),
                            ratio(border, around), NON_TEXT, "pixels"))
        pictures[what] = image.copy(rect)
        if what.startswith(("check box", "ticked")):
            inside = rect.adjusted(3, 3, -3, -3)
            mark, box_colour = ink_and_ground(image, inside)
            out.append(Measured(name, f"{what}: check mark", mark.name(), box_colour.name(),
                                ratio(mark, box_colour), NON_TEXT, "pixels"))
    assert pictures["check box"] != pictures["empty check box"]
    assert pictures["ticked list row"] != pictures["empty list row"]
    return out
