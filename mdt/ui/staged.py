"""Widgets made a part per turn of the event loop (the terminal page, a long form): no turn holds
the GUI thread for the whole of it. The widget's ``_stages`` is a generator that makes one part
per ``next``."""

from __future__ import annotations

from collections.abc import Iterator

import shiboken6
from PySide6.QtWidgets import QWidget


class Staged:
    _stages: Iterator[None]
    ready: bool = False

    def build_step(self) -> bool:
        """Make the next part; True once the widget is whole."""
        if not self.ready:
            try:
                next(self._stages)
            except StopIteration:
                self.ready = True
        return self.ready

    def finish(self) -> None:
        """Make the rest at once."""
        while not self.build_step():
            pass


def polish_in_steps(widget: QWidget, per_step: int = 40) -> Iterator[None]:
    """Style ``widget``'s parts a batch per ``next``, deepest first, so that showing it later
    is a layout and a paint, not the style sheet matched against every part in one go."""
    deepest_first = widget.findChildren(QWidget)[::-1]  # (findChildren: parents first)
    for start in range(0, len(deepest_first), per_step):
        for part in deepest_first[start:start + per_step]:
            if shiboken6.isValid(part):
                part.ensurePolished()
        yield
    widget.ensurePolished()
