"""Issue 16, item 7, measured on the real window against the real training gateway: in the
officer layout at 1200×800 the record's fields get at least half of the window's height, the
list shows at least five rows and the hit is announced once; and nothing is cut, in both
layouts, at 1200×800 and 1600×1000, at type size 1.0 and 1.5, in day, night and high contrast
(tests/qt/layout_checks.py says what "cut" means)."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics
from PySide6.QtWidgets import QApplication, QLabel, QTableView
from pytestqt.qtbot import QtBot

from mdt.ui.main_window import MainWindow
from mdt.ui.theme import apply_theme
from tests.acceptance.roles import Trainer
from tests.conftest import Gateway
from tests.qt.layout_checks import clipped
from tests.qt.test_alerts_gui import signed_in

pytestmark = pytest.mark.e2e


def _stolen_car(qtbot: QtBot, gateway: Gateway, user: str) -> tuple[Any, MainWindow]:
    controller, window = signed_in(qtbot, gateway, user)
    window.resize(1200, 800)
    page = window.terminal
    qtbot.keyClicks(page.command, "QV LIC/TRN5007.LIS/MD")  # armed and dangerous, stolen
    page.run_command()
    qtbot.waitUntil(lambda: any(r.ret is not None for r in page.model.rows), timeout=15000)
    qtbot.waitUntil(lambda: window.alert_bar.current is not None, timeout=10000)
    return controller, window


def test_officer_record_gets_half_the_window_and_the_hit_is_said_once(
        qtbot: QtBot, gateway: Gateway, gui_thread_guard: list[str]) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    controller, window = _stolen_car(qtbot, gateway, "officer1")
    page = window.terminal
    try:
        for n in range(4):  # four earlier stops, so the list has five rows to show
            page.command.setText(f"QV LIC/CLN100{n}.LIS/MD")
            page.run_command()
        qtbot.waitUntil(lambda: sum(r.ret is not None for r in page.model.rows) >= 5,
                        timeout=20000)
        page.table.selectRow(next(i for i, r in enumerate(page.model.rows) if r.hit))
        qtbot.waitUntil(lambda: page.ack_here.isVisible(), timeout=5000)
        qtbot.wait(100)  # the layout settles
        assert window.size().toTuple() == (1200, 800)
        share = page.detail.body.height() / window.height()
        rows = page.table.viewport().height() / page.table.verticalHeader().defaultSectionSize()
        print(f"\nofficer 1200x800: record {page.detail.body.height()} px = {share:.0%} of the "
              f"window; list {rows:.1f} rows")
        assert share >= 0.5, share
        assert rows >= 5, rows
        # The hit, once: its header (the alert bar leaves the alert to it; no second banner).
        saying_hit = [w.text() for w in window.findChildren(QLabel)
                      if w.isVisible() and "HIT" in w.text()]
        assert saying_hit == ["HIT — STOLEN VEHICLE — ARMED AND DANGEROUS"], saying_hit
        assert not window.alert_bar.isVisible()
        assert page.ack_here.isVisible() and page.hit_panel.lines[0].urgent.isVisible()
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()
        apply_theme(app, "day")


THEMES = (("day", False), ("night", False), ("day", True), ("night", True))


def settled(qtbot: QtBot, window: MainWindow) -> list[str]:
    """What is cut once the layout has settled: a row that changes direction asks for a new
    layout on a later turn of the event loop (later still on a loaded machine), so what is cut
    for a turn while it gets there does not count; what stays cut for 2 s does."""
    found = clipped(window)
    deadline = 40
    while found and deadline:
        qtbot.wait(50)
        found, deadline = clipped(window), deadline - 1
    return found


@pytest.mark.parametrize("user", ["officer1", "dispatch1"])
def test_nothing_is_cut_at_either_size_type_size_or_theme(qtbot: QtBot, gateway: Gateway,
                                                         user: str) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    controller, window = _stolen_car(qtbot, gateway, user)
    page = window.terminal
    report: list[str] = []
    cut: list[str] = []
    try:
        for size in ((1200, 800), (1600, 1000)):
            window.resize(*size)
            for scale, themes in ((1.0, THEMES[:1]), (1.5, THEMES)):
                for theme, high_contrast in themes:
                    apply_theme(app, theme, high_contrast=high_contrast, font_scale=scale)
                    for tab in ((page.returns_panel, page.forms_panel) if page.tabs else
                                (page.returns_panel,)):
                        page.show_part(tab)  # another tab: the alert bar is back on top
                        found = settled(qtbot, window)
                        line = page.table.fontMetrics().height()
                        if page.table.verticalHeader().defaultSectionSize() < line:
                            found.append(f"the list's rows are lower than a line ({line} px)")
                        got = window.size().toTuple()
                        if got != size:
                            found.append(f"the window needs {got}, more than {size}")
                        where = f"{page.layout_kind} {size[0]}x{size[1]} type {scale} " \
                                f"{theme}{' high contrast' if high_contrast else ''} " \
                                f"{type(tab).__name__}"
                        report.append(f"{where}: {len(found)} cut")
                        cut += [f"{where}: {f}" for f in found]
        print("\n" + "\n".join(report))
        assert cut == []
    finally:
        controller.shutdown()
        window.close()
        apply_theme(app, "day")


def test_offline_the_connection_state_reads_whole(qtbot: QtBot, gateway: Gateway) -> None:
    """Issue 16: offline, the status bar cut its sentence ("… until they g"). The link's state,
    what it means for queries and when the next try is read whole (why: the tooltip), with a
    query waiting in the outbox, at 1200×800, type size 1.0 (on one line) and 1.5 (its words
    and the operator's on two lines each), in day and high contrast."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    controller, window = _stolen_car(qtbot, gateway, "officer1")
    page = window.terminal
    trainer = Trainer(gateway)
    cut: list[str] = []
    try:
        trainer.cut_link("officer1")
        page.command.setText("QV LIC/CLN1000.LIS/MD")
        page.run_command()
        qtbot.waitUntil(lambda: window.connection.text().startswith(("Offline", "Poor link"))
                        and "retrying in" in window.connection.text(), timeout=30000)
        qtbot.waitUntil(lambda: "1 queued" in window.outbox.text(), timeout=10000)
        window.resize(1200, 800)
        for scale, themes in ((1.0, THEMES[:1]), (1.5, (THEMES[0], THEMES[2]))):
            for theme, high_contrast in themes:
                apply_theme(app, theme, high_contrast=high_contrast, font_scale=scale)
                for state in ("offline", "degraded"):  # both sentences, with the same why
                    detail = window.connection.toolTip() or "x — retrying in 32 s"
                    window.set_connection(state, detail)
                    found = settled(qtbot, window)
                    got = window.size().toTuple()
                    if got != (1200, 800):
                        found.append(f"the window needs {got}")
                    where = f"{state} type {scale} {theme}{' hc' if high_contrast else ''}"
                    print(f"\n{where}: {window.connection.text()!r} "
                          f"{window.connection.size().toTuple()}")
                    bar, line = window.statusBar(), window.connection.fontMetrics().height()
                    if scale == 1.0 and bar.height() > line + 12:  # room for it on one line
                        found.append(f"the status bar is {bar.height()} px high, not a line")
                    cut += [f"{where}: {f}" for f in found]
        assert cut == []
    finally:
        trainer.calm()
        trainer.close()
        controller.shutdown()
        window.close()
        apply_theme(app, "day")


def _columns_fit(table: QTableView, column: int, words: str) -> list[str]:
    """What is wrong with a desk's table: a sideways scroll bar, or ``words`` (in ``column``)
    not whole."""
    found = []
    name = table.objectName()
    if table.horizontalScrollBar().maximum() > 0:
        found.append(f"{name} scrolls sideways ({table.horizontalScrollBar().maximum()} px)")
    header = table.horizontalHeader()
    if header.isSectionHidden(column):
        found.append(f"{name}: its {table.model().headerData(column, Qt.Orientation.Horizontal)}"
                     " column is left out")
    model = table.model()
    row = next(r for r in range(model.rowCount()) if model.index(r, column).data() == words)
    font = model.index(row, column).data(Qt.ItemDataRole.FontRole)  # a late request: bold
    need = QFontMetrics(font if font is not None else table.font()).horizontalAdvance(words) + 8
    if header.sectionSize(column) < need:
        found.append(f"{name}: {words!r} needs {need} px, its column has "
                     f"{header.sectionSize(column)}")
    return found


def test_the_dispatchers_queue_and_units_fit_at_1200x800(qtbot: QtBot, gateway: Gateway) -> None:
    """Issue 16: at 1200×800 the dispatcher's agency queue and unit list scrolled sideways,
    their Subject and Name columns cut. At type size 1.0 and 1.5 they fit: no sideways scroll
    bar, the subject and the unit's name whole (what gives way is in the row's tooltip)."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    controller, window = signed_in(qtbot, gateway, "dispatch1")
    page = window.terminal
    trainer = Trainer(gateway)
    cut: list[str] = []
    try:
        window.resize(1200, 800)
        trainer.request_confirmation("MD1012600", nic="W260000011", rty="WP",
                                     data_set={"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312"})
        trainer.inject("incoming_yq", ori="MD1012600")
        qtbot.waitUntil(lambda: page.queue.model.rowCount() >= 2, timeout=15000)
        qtbot.waitUntil(lambda: page.units.model.rowCount() >= 2, timeout=15000)
        names = [str(u.get("name")) for u in page.units.model.units]
        longest = max(names, key=len)
        for scale in (1.0, 1.5):
            apply_theme(app, "day", font_scale=scale)
            qtbot.wait(200)  # the layout settles
            found = _columns_fit(page.queue.table, 3, "KOLVEX, DRAYTON Q") + \
                _columns_fit(page.units.table, 1, longest)
            tip = page.queue.model.data(page.queue.model.index(0, 0),
                                        Qt.ItemDataRole.ToolTipRole)
            if "From: VA0290000 DEPUTY PAT PRACTICE" not in str(tip):
                found.append(f"the queue's row tooltip: {tip!r}")
            print(f"\ntype {scale}: queue {page.queue.table.viewport().width()} px: "
                  f"{[page.queue.table.horizontalHeader().sectionSize(c) for c in range(9)]}, "
                  f"units {[page.units.table.horizontalHeader().sectionSize(c) for c in range(5)]}")
            cut += [f"type {scale}: {f}" for f in found]
        assert cut == []
    finally:
        trainer.calm()
        trainer.close()
        controller.shutdown()
        window.close()
        apply_theme(app, "day")


def test_the_alert_bar_keeps_its_height_after_type_size_theme_and_width_changes(
        qtbot: QtBot, gateway: Gateway) -> None:
    """Issue 16: later in the suite the alert bar stood about 190 px high, with gaps, where a
    freshly signed-in window gives the same alert 68 px: a wrapped line kept the height it had
    needed at a narrower moment (a type size of 1.5, a narrower window). After a round of
    type sizes, themes, widths and a second alert the bar is as high as it was at first."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    controller, window = _stolen_car(qtbot, gateway, "officer1")
    page = window.terminal
    bar = window.alert_bar
    try:
        page.show_part(page.forms_panel)  # off the return: the alert is on the bar
        qtbot.waitUntil(bar.isVisible, timeout=5000)
        qtbot.wait(200)
        fresh = bar.height()
        title = bar.title.text()
        for theme, high_contrast, scale, width in (
                ("night", False, 1.5, 1200), ("day", True, 1.5, 900), ("night", True, 1.0, 760)):
            apply_theme(app, theme, high_contrast=high_contrast, font_scale=scale)
            window.resize(width, 800)
            qtbot.wait(100)
        page.command.setText("QG SER/TRG4821.MAK/SW")  # a second alert takes the narrow bar
        page.run_command()
        qtbot.waitUntil(lambda: bar.title.text() != title, timeout=15000)
        page.show_part(page.forms_panel)
        for theme, high_contrast, scale, width in (
                ("day", False, 1.5, 1600), ("night", False, 1.0, 900)):
            apply_theme(app, theme, high_contrast=high_contrast, font_scale=scale)
            window.resize(width, 800)
            qtbot.wait(100)
        bar.acknowledge_current()  # the gun's alert answered: the car's is back on the bar
        qtbot.waitUntil(lambda: bar.title.text() == title, timeout=10000)
        apply_theme(app, "day")
        window.resize(1200, 800)
        qtbot.wait(300)  # the layout settles
        print(f"\nthe alert bar: {fresh} px fresh, {bar.height()} px after the round")
        assert bar.isVisible() and bar.height() == fresh, (fresh, bar.height())
    finally:
        controller.shutdown()
        window.close()
        apply_theme(app, "day")


@pytest.mark.parametrize("user", ["officer1", "dispatch1"])
def test_the_window_never_needs_more_than_1200x800(qtbot: QtBot, gateway: Gateway,
                                                   user: str) -> None:
    """Issue 16: after type size and theme changes a window stayed 1200×828 (Qt grows a window
    to its minimum and never shrinks it back). Nothing forces that growth: at type size 1.5,
    in every theme, on every tab, with an alert on the bar and offline, the window's minimum
    is within 1200×800."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    controller, window = _stolen_car(qtbot, gateway, user)
    page = window.terminal
    trainer = Trainer(gateway)
    over: list[str] = []
    try:
        for offline in (False, True):
            if offline:
                trainer.cut_link(user)
                page.command.setText("QV LIC/CLN1000.LIS/MD")  # a query waits in the outbox
                page.run_command()
                qtbot.waitUntil(lambda: "retrying in" in window.connection.text(),
                                timeout=30000)
            for theme, high_contrast in THEMES:
                apply_theme(app, theme, high_contrast=high_contrast, font_scale=1.5)
                tabs = [page.tabs.widget(i) for i in range(page.tabs.count())] \
                    if page.tabs else [page.returns_panel]
                for tab in tabs:
                    if page.tabs:
                        page.tabs.setCurrentWidget(tab)
                    need, before = window.minimumSizeHint(), None
                    while need != before:  # settled: the same for two turns
                        qtbot.wait(100)
                        before, need = need, window.minimumSizeHint()
                    need = need.expandedTo(window.minimumSize())
                    where = f"{page.layout_kind} {theme}{' hc' if high_contrast else ''} " \
                            f"{type(tab).__name__}{' offline' if offline else ''}"
                    print(f"\n{where}: {need.width()}x{need.height()}")
                    if need.width() > 1200 or need.height() > 800:
                        over.append(f"{where}: needs {need.width()}x{need.height()}")
        assert over == []
    finally:
        trainer.calm()
        trainer.close()
        controller.shutdown()
        window.close()
        apply_theme(app, "day")
