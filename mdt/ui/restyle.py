"""Restyle a widget when what its style sheet rules select on changes, and only then.

A re-polish (``style().unpolish(w)``; ``style().polish(w)``) re-resolves the whole style sheet
for the widget and lays it out again: a few ms each, and the returns list, the command line's
feedback and the alert bar asked for one at every event even when nothing had changed."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QWidget


def restyle(widget: QWidget, name: str | None = None, **properties: Any) -> bool:
    """Give ``widget`` this object name and these dynamic properties; re-polish it only if one
    of them changed. True if it did."""
    changed = False
    if name is not None and widget.objectName() != name:
        widget.setObjectName(name)
        changed = True
    for key, value in properties.items():
        if widget.property(key) != value:
            widget.setProperty(key, value)
            changed = True
    if changed:
        widget.style().unpolish(widget)
        widget.style().polish(widget)
    return changed
