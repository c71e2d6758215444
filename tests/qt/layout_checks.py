"""What the layout tests measure on a real window: the widgets whose text does not fit in them
(cut off by their own size, or by their parent's or the window's edge) and how much room the
return's record gets."""

from __future__ import annotations

from PySide6.QtCore import QRect
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractScrollArea,
    QLabel,
    QTabBar,
    QWidget,
)


def _scrolled(widget: QWidget) -> bool:
    """Inside a scroll area's viewport: cut at its edge on purpose (it scrolls)."""
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent.parentWidget(), QAbstractScrollArea):
            return True
        parent = parent.parentWidget()
    return False


def _name(widget: QWidget) -> str:
    text = widget.text() if isinstance(widget, QLabel | QAbstractButton) else ""
    return f"{type(widget).__name__}#{widget.objectName()} {text[:50]!r}"


def clipped(window: QWidget) -> list[str]:
    """Each visible label or button whose text is cut: narrower or lower than its text needs
    (a wrapped label: lower than its lines), or partly outside its parent or the window."""
    found = []
    bounds = window.rect()
    for bar in window.findChildren(QTabBar):
        if bar.isVisible():
            for i in range(bar.count()):
                if not bar.rect().contains(bar.tabRect(i)):
                    found.append(f"tab {bar.tabText(i)!r} cut by the tab bar's edge")
    for widget in window.findChildren(QWidget):
        if not widget.isVisible() or widget.width() <= 0 or _scrolled(widget):
            continue
        if not isinstance(widget, QLabel | QAbstractButton) or not widget.text():
            continue
        top_left = widget.mapTo(window, widget.rect().topLeft())
        where = QRect(top_left, widget.size())
        if not bounds.contains(where):
            found.append(f"{_name(widget)} outside the window at {where.getRect()}")
            continue
        parent = widget.parentWidget()
        if parent is not None and not parent.rect().contains(widget.geometry()):
            found.append(f"{_name(widget)} cut by its parent: {widget.geometry().getRect()} "
                         f"in {parent.rect().getRect()}")
            continue
        metrics = widget.fontMetrics()
        if isinstance(widget, QLabel):
            if widget.wordWrap():
                need_h = widget.heightForWidth(widget.width())
                if need_h > widget.height() + 1:
                    found.append(f"{_name(widget)} needs {need_h} px high, has {widget.height()}")
            else:
                hint = widget.minimumSizeHint()
                if hint.width() > widget.width() + 1 or metrics.height() > widget.height() + 1:
                    found.append(f"{_name(widget)} needs {hint.width()}×{hint.height()}, has "
                                 f"{widget.width()}×{widget.height()}")
        else:
            words = widget.text().replace("&&", "\0").replace("&", "").replace("\0", "&")
            need_w = max(metrics.horizontalAdvance(line) for line in words.split("\n")) + 8
            need_h = metrics.height() * (words.count("\n") + 1)
            if need_w > widget.width() or need_h > widget.height():
                found.append(f"{_name(widget)} needs {need_w}×{need_h}, has "
                             f"{widget.width()}×{widget.height()}")
    return found
