"""The terminal page's two workstation layouts of the same parts: an officer's (one column:
the last returns first; forms, search and the queue one tab away) and a dispatcher's (the agency
queue and the unit list, returns side by side with the ones pinned, search below, the form
open). Each is made a part per turn of the event loop (a generator), then returned."""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QSizePolicy, QSplitter, QTabWidget, QWidget

LIST_ROWS = 5  # the officer's list shows at least its five last rows


@dataclass(frozen=True)
class Parts:
    forms: QWidget
    returns: QSplitter
    queue: QWidget
    units: QWidget
    compare: QWidget
    search: QWidget
    actions: QWidget  # what to do with the return shown: beside the tabs, or under the return

    def all(self) -> tuple[QWidget, ...]:
        return (self.forms, self.returns, self.queue, self.units, self.compare, self.search,
                self.actions)

    def release(self) -> None:
        """Out of a tab widget: each part asks for its own height again."""
        for part in self.all():
            policy = part.property("mdtVerticalPolicy")
            if policy is not None:
                part.setSizePolicy(part.sizePolicy().horizontalPolicy(),
                                   QSizePolicy.Policy(policy))
                part.setProperty("mdtVerticalPolicy", None)


def height_of_current_tab(tabs: QTabWidget) -> None:
    """The tab widget asks for the height of the tab shown, not of the tallest one hidden (a
    stacked widget's minimum is its tallest page's; a hidden page keeps the layout it had at
    the last width it was shown at, so a window made narrower on the Form tab kept needing the
    Returns tab's wider-window height and could not be 800 px high any more)."""
    def follow(_index: int) -> None:
        for i in range(tabs.count()):
            page = tabs.widget(i)
            if page is None:
                continue
            if page.property("mdtVerticalPolicy") is None:
                page.setProperty("mdtVerticalPolicy", page.sizePolicy().verticalPolicy().value)
            own = QSizePolicy.Policy(page.property("mdtVerticalPolicy"))
            page.setSizePolicy(page.sizePolicy().horizontalPolicy(),
                               own if page is tabs.currentWidget() else
                               QSizePolicy.Policy.Ignored)

    tabs.currentChanged.connect(follow)
    follow(tabs.currentIndex())


def officer_tabs(parts: Parts) -> Generator[None, None, QTabWidget]:
    tabs = QTabWidget()
    tabs.setObjectName("TerminalTabs")
    tabs.addTab(parts.returns, "Returns")
    yield
    tabs.addTab(parts.forms, "Form")
    tabs.addTab(parts.search, "Search")
    yield
    tabs.addTab(parts.queue, "Agency queue")
    tabs.setCurrentWidget(parts.returns)
    height_of_current_tab(tabs)
    # The actions on the tabs' row: the record, not a row of buttons, gets the height.
    tabs.setCornerWidget(parts.actions, Qt.Corner.TopRightCorner)
    parts.returns.setSizes([160, 650])  # the last returns, then the one shown
    return tabs


def dispatcher_desk(parts: Parts) -> QSplitter:
    left = QSplitter(Qt.Orientation.Vertical)
    left.addWidget(parts.queue)
    left.addWidget(parts.units)
    left.setSizes([420, 260])
    side_by_side = QSplitter(Qt.Orientation.Horizontal)
    side_by_side.addWidget(parts.returns)
    side_by_side.addWidget(parts.compare)
    middle = QSplitter(Qt.Orientation.Vertical)
    middle.addWidget(side_by_side)
    middle.addWidget(parts.search)
    middle.setSizes([600, 200])
    split = QSplitter(Qt.Orientation.Horizontal)
    split.addWidget(left)
    split.addWidget(middle)
    split.addWidget(parts.forms)
    split.setSizes([540, 680, 380])  # at 1200 px the queue still shows its subjects whole
    return split
