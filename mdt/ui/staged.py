"""Widgets made a part per turn of the event loop (the terminal page, a long form): no turn holds
the GUI thread for the whole of it. The widget's ``_stages`` is a generator that makes one part
per ``next``."""

from __future__ import annotations

from collections.abc import Iterator


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
