"""Rows that give way instead of cutting: a box laid out left to right while its width holds
its items side by side, top to bottom when it does not (a narrow desk pane, type size 1.5), and
a word-wrapped label that asks for the height its lines need at its width.

Qt has no such layout (its FlowLayout is an example, not a class), so this is a few lines over
QBoxLayout: it reports the narrow arrangement's width as its minimum, and picks the arrangement
when it is given its geometry."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject, QRect, QSize
from PySide6.QtGui import QResizeEvent, Qt  # QtGui's Qt: it has mightBeRichText
from PySide6.QtWidgets import QBoxLayout, QLabel, QLayoutItem, QStatusBar, QWidget

LEFT_TO_RIGHT = QBoxLayout.Direction.LeftToRight
TOP_TO_BOTTOM = QBoxLayout.Direction.TopToBottom


class AdaptiveBox(QBoxLayout):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(LEFT_TO_RIGHT, parent)

    def _shown(self) -> list[QLayoutItem]:
        items = (self.itemAt(i) for i in range(self.count()))
        return [item for item in items if item is not None and not item.isEmpty()]

    def side_by_side_width(self) -> int:
        items = self._shown()
        margins = self.contentsMargins()
        return sum(i.sizeHint().width() for i in items) + \
            max(0, len(items) - 1) * self.spacing() + margins.left() + margins.right()

    def minimumSize(self) -> QSize:
        size = super().minimumSize()
        if self.direction() == LEFT_TO_RIGHT:  # it may stack: the widest item is the least
            margins = self.contentsMargins()
            widest = max((i.minimumSize().width() for i in self._shown()), default=0)
            size.setWidth(widest + margins.left() + margins.right())
        return size

    def setGeometry(self, rect: QRect) -> None:
        direction = LEFT_TO_RIGHT if rect.width() >= self.side_by_side_width() else \
            TOP_TO_BOTTOM
        if direction != self.direction():
            self.setDirection(direction)  # asks the parent for a new layout (a new height)
        super().setGeometry(rect)


class WrappingLabel(QLabel):
    """A word-wrapped label whose minimum height follows its width (a splitter or a crowded
    layout then gives way, not its last lines); never narrower than about 24 characters, nor,
    given ``most_lines``, than its text in that many lines (a status bar's words share one row:
    each gives way to two lines, none to six)."""

    def __init__(self, text: str = "", parent: QWidget | None = None, *,
                 most_lines: int = 0) -> None:
        super().__init__(text, parent)
        self.most_lines = most_lines
        self._measured: tuple[tuple[str, str], int] = (("", ""), 0)
        self.setWordWrap(True)

    def _one_line(self) -> int:
        """The least width that holds its words on one line, as the label lays them out (bold
        ones as wide as they are drawn), and a character spare; kept while text and type stay."""
        key = (self.text(), self.font().key())
        if self._measured[0] != key:
            line = self.lines_height(1 << 16)
            spare = self.fontMetrics().averageCharWidth()
            width = self._plain_width()
            if width and self.lines_height(width + spare) <= line:  # a character spare, as below
                self._measured = (key, width + spare)
                return self._measured[1]
            low, high = 1, self.fontMetrics().horizontalAdvance(self.text()) * 2 + 64
            while low < high:  # the narrowest width still one line high
                middle = (low + high) // 2
                low, high = (low, middle) if self.lines_height(middle) <= line else \
                    (middle + 1, high)
            self._measured = (key, low + spare)
        return self._measured[1]

    def _plain_width(self) -> int:
        """A plain text's drawn width on one line, margins included; 0 for rich or Markdown text,
        which gets the search. (The status bar's next-deadline label changes every second: the search's
        ~11 layouts a change were a stall.)"""
        plain = self.textFormat() == Qt.TextFormat.PlainText or (
            self.textFormat() == Qt.TextFormat.AutoText and not Qt.mightBeRichText(self.text()))
        if not plain:
            return 0
        margins = self.contentsMargins()
        return (self.fontMetrics().horizontalAdvance(self.text()) + 2 * self.margin()
                + max(self.indent(), 0) + margins.left() + margins.right())

    def sizeHint(self) -> QSize:
        if not self.most_lines or not self.text():
            return super().sizeHint()
        width = self._one_line()  # its words on one line when the row has room for them
        return QSize(width, self.lines_height(width))

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        least = min(self.fontMetrics().averageCharWidth() * 24, super().sizeHint().width())
        if self.most_lines and self.text():
            # a little over the share: words do not break at the exact middle
            least = max(least, self._one_line() // self.most_lines +
                        self.fontMetrics().averageCharWidth() * 6)
        return QSize(max(hint.width(), least), hint.height())

    def lines_height(self, width: int) -> int:
        """The height its lines need at ``width``. (QLabel's own answer is never less than the
        label's minimum height: asked with the minimum it set from a narrower moment, it would
        keep that height for good, however wide the label grew again.)"""
        kept = self.minimumHeight()
        if not kept:
            return self.heightForWidth(width)
        self.setMinimumHeight(0)
        need = self.heightForWidth(width)
        self.setMinimumHeight(kept)
        return need

    def setText(self, text: str) -> None:
        super().setText(text)
        self._fit()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit()

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self._fit()  # another type size: other lines at the same width

    def _fit(self) -> None:
        width = max(self.width(), self.minimumSizeHint().width())
        need = self.lines_height(width)
        if need > 0 and need != self.minimumHeight():
            self.setMinimumHeight(need)


class _OnTypeSize(QObject):
    def __init__(self, widget: QWidget, fit: Callable[[], None]) -> None:
        super().__init__(widget)
        self.fit = fit

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.fit()
        return False


def follow_type_size(widget: QWidget, fit: Callable[[], None]) -> None:
    """Call ``fit`` now and whenever ``widget``'s type size changes (the setting, a theme):
    for sizes Qt sets once (a status bar's height, a list's rows)."""
    widget.installEventFilter(_OnTypeSize(widget, fit))
    fit()


def keep_line_height(widget: QWidget) -> None:
    """``widget`` (a status bar, whose height Qt sets once) stays a line of its text high."""
    follow_type_size(widget, lambda: widget.setMinimumHeight(widget.fontMetrics().height() + 8))


def wrapping_in_place(bar: QStatusBar, old: QLabel, index: int, permanent: bool = False
                      ) -> WrappingLabel:
    """A label of the status bar that wraps to two lines (same words and name, same place) in
    place of ``old``. A label that wraps handles Qt's resize events in Python, which has no
    place before the first window (mdt.ui.main_window), so it takes over at attach."""
    new = WrappingLabel(old.text(), most_lines=2)
    new.setObjectName(old.objectName())
    bar.removeWidget(old)
    old.deleteLater()
    if permanent:
        bar.insertPermanentWidget(index, new)
    else:
        bar.insertWidget(index, new, 1)
    return new
