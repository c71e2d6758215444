"""The terminal page's forms: the picker, and a stack with one page per form opened. The form
views are made from the definitions a worker read, a few fields per turn of the event loop (a
view of 22 fields with its code-table completers was 13-60 ms made at once; all of them at once
held the loop half a second), and each goes into the stack the first time it is opened (styling
a view in the window costs more than making it, and most forms are never opened in a shift)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QComboBox, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from mdt.app import collector
from mdt.core.codes import CodeTables
from mdt.core.forms import FormDef
from mdt.ui.form_view import FormView


class FormsPanel(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FormsPanel")
        self.tables = CodeTables.default()
        self.forms: dict[str, FormDef] = {}
        self.views: dict[str, FormView] = {}
        self.scrolls: dict[str, QScrollArea] = {}
        self._shortcuts: list[QShortcut] = []
        self._build = 0  # which sign-in's form views are being made
        self.picker = QComboBox()
        self.picker.setObjectName("FormPicker")
        self.picker.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.picker.setMinimumContentsLength(12)
        self.stack = QStackedWidget()
        layout = QVBoxLayout(self)
        layout.addWidget(self.picker)
        layout.addWidget(self.stack, 1)
        self.picker.currentIndexChanged.connect(self._picked)

    def make_views(self, forms: list[FormDef], defaults: dict[str, str],
                   still_wanted: Callable[[], bool],
                   done: Callable[[list[tuple[FormDef, FormView]]], None]) -> None:
        """Make a view per form, one per turn of the event loop; ``done`` gets them all once
        the last is made (not when ``still_wanted`` says the sign-in it was for is over)."""
        self._build += 1
        build = self._build
        pending = list(forms)
        built: list[tuple[FormDef, FormView]] = []

        def step() -> None:
            if build != self._build or not still_wanted():
                collector.resume()
                return  # signed out (or in again) meanwhile: this build is stale
            if built and not built[-1][1].build_step():
                pass  # the last view's next fields
            elif pending:
                form = pending.pop(0)
                built.append((form, FormView(form, self.tables, operator_defaults=defaults,
                                             staged=True)))
            else:
                collector.resume()
                done(built)
                return
            QTimer.singleShot(0, self, step)

        collector.pause()  # the views are frozen once made (mdt.app.collector)
        step()

    def publish(self, built: list[tuple[FormDef, FormView]], send: Callable[..., Any],
                shortcuts_on: QWidget, open_form: Callable[[str], Any]) -> None:
        """Put the made views in the picker; each form's function key opens it."""
        self.picker.blockSignals(True)
        for form, view in built:
            self.forms[form.mke] = form
            view.submitted.connect(send)
            self.views[form.mke] = view
            function_key = getattr(form, "function_key", None)
            key = f" [{function_key}]" if function_key else ""
            self.picker.addItem(f"{form.mke} — {form.title}{key}", form.mke)
            if function_key:
                shortcut = QShortcut(QKeySequence(function_key), shortcuts_on)
                shortcut.activated.connect(lambda mke=form.mke: open_form(mke))
                self._shortcuts.append(shortcut)
        self.picker.blockSignals(False)

    def _picked(self, index: int) -> None:
        mke = self.picker.itemData(index)
        if mke in self.views:
            self.show_page(mke)

    def show_page(self, mke: str) -> None:
        """A form's page in the stack, put there the first time it is opened (and styled there
        a few widgets per turn of the event loop, while it is not on screen)."""
        scroll = self.scrolls.get(mke)
        if scroll is None:
            self._polish_later(self.views[mke])
            scroll = QScrollArea()  # long forms (IAQ, YQ) scroll instead of squeezing
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
            scroll.setWidget(self.views[mke])
            self.stack.addWidget(scroll)
            self.scrolls[mke] = scroll
        self.stack.setCurrentWidget(scroll)

    def _polish_later(self, view: FormView, per_turn: int = 8) -> None:
        """Style the view's widgets before it is shown: showing an unstyled form polished every
        widget in it at once (the QV form: tens of ms of the GUI thread at sign-in)."""
        widgets = [view, *view.findChildren(QWidget)]

        def step() -> None:
            if view.isVisible():
                return  # shown meanwhile: Qt has styled the rest
            for widget in widgets[:per_turn]:
                with contextlib.suppress(RuntimeError):  # a part Qt has deleted since
                    widget.ensurePolished()
            del widgets[:per_turn]
            if widgets:
                QTimer.singleShot(0, view, step)

        QTimer.singleShot(0, view, step)

    def select(self, mke: str) -> FormView | None:
        """Show the form for ``mke`` in the picker and the stack; None if there is none."""
        view = self.views.get(mke)
        if view is not None:
            self.picker.setCurrentIndex(self.picker.findData(mke))
            self.show_page(mke)
        return view

    def drop_views(self) -> None:
        """Signed out: the views go with their session (each holds its officer's name, agency
        and phone as the requester's defaults, and what was typed), their pages, picker entries
        and function keys too; the next sign-in publishes views of its own. (Kept, the stack
        went on showing the first officer's forms to the next, and each key was bound twice.)"""
        self._build += 1  # a build still under way is for the session that ended
        for shortcut in self._shortcuts:
            shortcut.setEnabled(False)
            shortcut.deleteLater()
        self._shortcuts.clear()
        self.picker.blockSignals(True)
        self.picker.clear()
        self.picker.blockSignals(False)
        for scroll in self.scrolls.values():
            self.stack.removeWidget(scroll)
            scroll.deleteLater()  # with the view it holds
        for mke, view in self.views.items():
            if mke not in self.scrolls:
                view.deleteLater()
        self.scrolls.clear()
        self.views.clear()  # in place: the terminal page reads the same dict
        self.forms.clear()
