"""The status bar's word on unreadable messages from the switch: how many were kept aside, and
the newest one with its raw text one key away (Ctrl+Shift+U in the main window)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QLabel, QWidget

from mdt.app.errors import then

if TYPE_CHECKING:
    from PySide6.QtWidgets import QMessageBox, QPushButton

    from mdt.app.controller import AppController


class QuarantineStatus(QLabel):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("", parent)
        self.setObjectName("ConnReauth")
        self.items: list[Any] = []  # the open ones, newest first (without raw text)
        self.box: QMessageBox | None = None  # the newest one, when shown
        self.seen: QPushButton | None = None  # its "Mark as seen"
        self._controller: AppController | None = None
        self._refuse: Callable[[str], None] = lambda _sentence: None

    def attach(self, controller: AppController, refuse: Callable[[str], None]) -> None:
        """Count again whenever the sync sets one aside and at sign-in; ``refuse`` says why the
        raw text could not be read."""
        self._controller, self._refuse = controller, refuse
        controller.sync.events_quarantined.connect(lambda _items: self.reload())
        controller.signed_in.connect(lambda _operator: self.reload())

    def reload(self) -> None:
        if self._controller is None:
            return

        def done(items: Any, error: BaseException | None) -> None:
            from mdt.core.present import quarantine_text

            self.items = [] if error is not None or items is None else list(items)
            self.setText(quarantine_text(len(self.items)))

        self._controller.load_quarantined(done)

    def show_newest(self) -> None:
        """The newest unreadable message from the switch, its raw text one key away."""
        controller = self._controller
        if controller is None or not self.items:
            return

        def done(found: Any) -> None:
            from PySide6.QtWidgets import QMessageBox

            if found is None:
                return
            box = QMessageBox(self.window())
            box.setWindowTitle("An unreadable message from the switch")
            box.setText(found.title)
            box.setInformativeText("It was kept aside (encrypted) and the next messages were "
                                   "applied. The raw text is under Show Details.")
            box.setDetailedText(found.raw)
            seen = box.addButton("Mark as seen", QMessageBox.ButtonRole.AcceptRole)
            box.addButton(QMessageBox.StandardButton.Close)
            seen.clicked.connect(lambda: controller.acknowledge_quarantined(
                found.id, lambda _done, _error: self.reload()))
            box.open()
            self.box, self.seen = box, seen

        controller.load_quarantined_raw(self.items[0].id, then(
            done, lambda sentence: self._refuse(sentence),
            "The unreadable message could not be read"))
