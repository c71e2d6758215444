"""The terminal page, made off the way to the first window: a part per turn of the event loop
from when signing in starts (a round trip and a key unwrap on a worker: the page is whole when
the answer comes), or whole at once when something asks for it first. While it is made a part
per turn, automatic garbage collection is paused, and the page is frozen once whole
(:mod:`mdt.app.collector`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QStackedWidget

from mdt.app import collector

if TYPE_CHECKING:
    from mdt.app.controller import AppController
    from mdt.services.session import Operator
    from mdt.ui.terminal_page import TerminalPage


class TerminalStaging:
    def __init__(self, context: QObject, pages: QStackedWidget,
                 controller: Callable[[], AppController],
                 wire: Callable[[TerminalPage], None],
                 signed_in: Callable[[Operator], None]) -> None:
        self._context, self._pages, self._controller = context, pages, controller
        self._wire, self._signed_in = wire, signed_in  # the window's part, once it is whole
        self.page: TerminalPage | None = None  # whole, wired and in the window
        self._building: TerminalPage | None = None  # the page, a part at a time
        self._signed_in_as: Operator | None = None  # signed in before the page was whole

    def whole(self) -> TerminalPage:
        """The page, made whole now if it is not yet."""
        if self.page is None:
            from mdt.ui.terminal_page import TerminalPage

            staged = self._building is not None  # made a part per turn, the collector paused
            page = self._building or TerminalPage(self._controller())
            self._building = None
            page.finish()
            self._wire(page)
            if self._pages.indexOf(page) < 0:
                self._pages.insertWidget(1, page)
            self.page = page
            if staged:
                collector.resume()  # the page is frozen whole
        return self.page

    def begin(self) -> None:
        """Signing in started: make the page a part per turn (once the busy state is painted)."""
        if self.page is None and self._building is None:
            from mdt.ui.terminal_page import TerminalPage

            self._building = TerminalPage(self._controller(), staged=True)
            collector.pause()  # no full collection walks the half-made page (mdt.app.collector)
            # In the window (hidden) from the start: each part is styled once, as it is made,
            # with the window's theme, not all of it again when the page goes in.
            self._pages.insertWidget(1, self._building)
            QTimer.singleShot(0, self._context, self._step)

    def waits_for(self, operator: Operator) -> bool:
        """Whether the page is still being made: then the sign-in of ``operator`` is shown
        when it is whole (a few frames), rather than the rest being made in one go now."""
        if self.page is None and self._building is not None:
            self._signed_in_as = operator
            return True
        return False

    def _step(self) -> None:
        page = self._building
        if page is None or self.page is not None:  # asked for meanwhile: made whole then
            if self._signed_in_as is not None:
                self._made()
            return
        if not page.build_step():
            QTimer.singleShot(0, self._context, self._step)
            return
        # Whole: its layout computed at the page's size while hidden (a turn of its own), so
        # showing it at sign-in is a paint, not a layout of every part first.
        page.resize(self._pages.size())
        layout = page.layout()
        if layout is not None:
            layout.activate()
        QTimer.singleShot(0, self._context, self._made)

    def _made(self) -> None:
        self.whole()  # into the window, wired
        operator, self._signed_in_as = self._signed_in_as, None
        if operator is not None and self._controller().operator is operator:
            self._signed_in(operator)
