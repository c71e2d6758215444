"""The command line at the top of the terminal, with recall of recent commands (Up / Down)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QLineEdit, QWidget


class CommandLine(QLineEdit):
    """A line edit that remembers what was run: Up recalls older commands, Down newer ones."""

    def __init__(self, parent: QWidget | None = None, *, limit: int = 50) -> None:
        super().__init__(parent)
        self.setObjectName("CommandLine")
        self.history: list[str] = []  # oldest first
        self.limit = limit
        self._cursor: int | None = None  # index into history while recalling
        self._draft = ""

    def remember(self, command: str) -> None:
        command = command.strip()
        if not command:
            return
        if command in self.history:
            self.history.remove(command)
        self.history.append(command)
        del self.history[:-self.limit]
        self._cursor = None

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Up and self.history:
            if self._cursor is None:
                self._draft = self.text()
                self._cursor = len(self.history)
            self._cursor = max(0, self._cursor - 1)
            self.setText(self.history[self._cursor])
            return
        if event.key() == Qt.Key.Key_Down and self._cursor is not None:
            self._cursor += 1
            if self._cursor >= len(self.history):
                self._cursor = None
                self.setText(self._draft)
            else:
                self.setText(self.history[self._cursor])
            return
        super().keyPressEvent(event)
