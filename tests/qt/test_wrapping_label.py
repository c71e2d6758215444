"""A status-bar label's one-line width: plain text measured once, not searched for (#19)."""

from __future__ import annotations

from PySide6.QtGui import QFont, Qt
from pytestqt.qtbot import QtBot

from mdt.ui.adaptive import WrappingLabel

TEXTS = ["Next deadline — YQ LIC/TRN5007 09:57 left",
         "Offline — queries wait in the outbox · retrying in 4 s",
         "Signed in: Officer Tess Trainee · Unit 12A · TRAINING"]


class Counting(WrappingLabel):
    calls = 0

    def heightForWidth(self, width: int) -> int:
        Counting.calls += 1
        return super().heightForWidth(width)


def test_plain_text_is_measured_in_two_layouts_and_as_wide_as_the_search(qtbot: QtBot) -> None:
    for size in (10, 15):  # type size 1.0 and 1.5
        for text in TEXTS:
            label = Counting(text, most_lines=2)
            qtbot.addWidget(label)
            label.setFont(QFont(label.font().family(), size))
            label.show()
            label._measured = (("", ""), 0)
            Counting.calls = 0
            fast = label._one_line()
            assert Counting.calls <= 2, f"{Counting.calls} layouts for one plain text"
            label.setTextFormat(Qt.TextFormat.RichText)  # the search, as rich text gets it
            label._measured = (("", ""), 0)
            Counting.calls = 0
            searched = label._one_line()
            assert Counting.calls > 5  # the search really ran
            assert abs(fast - searched) <= 2, (text, size, fast, searched)
            label.setTextFormat(Qt.TextFormat.AutoText)
            label._measured = (("", ""), 0)
            assert label.lines_height(label._one_line()) == label.lines_height(1 << 16)
