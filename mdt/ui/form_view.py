"""One widget that renders any query form definition (the forms are data: ``resources/forms``).

Keyboard first: fields in the definition's order, input upper-cased as typed, inline errors as you
type, Enter sends, Esc clears. Code fields offer a searchable completer over their NCIC code table.
"""

from __future__ import annotations

from collections.abc import Iterator

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from mdt.core.codes import CodeTables
from mdt.core.forms import FieldError, FormDef, validate_field, validate_form
from mdt.ui.staged import Staged


class FormView(Staged, QWidget):
    """Emits ``submitted(mke, values, dest, purpose)`` when a valid form is sent."""

    submitted = Signal(str, dict, list, str)

    def __init__(self, form: FormDef, tables: CodeTables, parent: QWidget | None = None,
                 *, operator_defaults: dict[str, str] | None = None, staged: bool = False
                 ) -> None:
        """``staged``: the fields are made a few at a time by :meth:`build_step` (one call per
        turn of the event loop: the longest form, with its code-table completers, held the loop
        tens of ms made at once); :meth:`finish` makes the rest at once."""
        super().__init__(parent)
        self.form = form
        self.tables = tables
        self.setObjectName(f"Form_{form.mke}")
        self.edits: dict[str, QLineEdit | QComboBox] = {}
        self.errors: dict[str, QLabel] = {}
        defaults = operator_defaults or {}
        self.defaults: dict[str, str] = {}

        title = QLabel(f"<b>{form.mke}</b> — {form.title}")
        title.setWordWrap(True)
        description = QLabel(form.description)
        description.setWordWrap(True)
        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(description)
        rows = QFormLayout()
        layout.addLayout(rows)
        self.dest: QLineEdit | None = None
        self.purpose: QComboBox | None = None
        self.ready = False
        self._stages = self._build_fields(layout, rows, defaults)
        if not staged:
            self.finish()

    def _build_fields(self, layout: QVBoxLayout, rows: QFormLayout, defaults: dict[str, str]
                      ) -> Iterator[None]:
        # Made in the order Tab goes: the fields, then the form's error line and its buttons.
        form = self.form
        made = 0
        for field in form.fields:
            editor: QLineEdit | QComboBox
            if field.kind == "choice" and field.choices:
                combo = QComboBox()
                combo.setSizeAdjustPolicy(
                    QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
                combo.setMinimumContentsLength(8)
                combo.addItem("", "")
                for choice in field.choices:
                    combo.addItem(f"{choice['value']} — {choice['label']}", choice["value"])
                editor = combo
            else:
                edit = QLineEdit()
                # No setMaxLength: it cut a 30-character plate to 10 without a word before the
                # rule could refuse it. An over-long value is refused with the rule's sentence.
                edit.setPlaceholderText(field.placeholder or "")
                edit.textEdited.connect(lambda text, e=edit: self._upper(e, text))
                edit.textChanged.connect(lambda _t, tag=field.tag: self._check(tag))
                edit.returnPressed.connect(self.send)
                if field.kind == "code" and field.code_table:
                    self._add_completer(edit, field.code_table)
                editor = edit
            editor.setObjectName(f"field_{field.tag}")
            editor.setToolTip(field.help or "")
            default = defaults.get(field.default_from or "", "") or (field.default or "")
            if default:
                self.defaults[field.tag] = default
                self._set_value(editor, default)
            label = f"{field.label} ({field.tag})" + (" *" if field.required else "")
            error = QLabel("")
            error.setObjectName("FieldError")
            error.setWordWrap(True)
            error.hide()
            rows.addRow(label, editor)
            rows.addRow(error)  # full width under its field: long sentences wrap less
            self.edits[field.tag] = editor
            self.errors[field.tag] = error
            made += 2 if field.kind == "code" else 1  # a completer costs as much as a field
            if made >= 3:
                made = 0
                yield

        destination = form.destination or {}
        if destination.get("kind") not in (None, "fixed"):
            self.dest = QLineEdit(str(destination.get("default") or ""))
            self.dest.setObjectName("field_DEST")
            self.dest.setToolTip(str(destination.get("help") or "Destination"))
            self.dest.textEdited.connect(lambda text: self._upper(self.dest, text))
            self.dest.returnPressed.connect(self.send)
            rows.addRow("Destination", self.dest)
        if form.purpose_codes:
            self.purpose = QComboBox()
            self.purpose.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            self.purpose.setMinimumContentsLength(8)
            self.purpose.setObjectName("field_PURPOSE")
            for code in form.purpose_codes:
                value = code["value"] if isinstance(code, dict) else str(code)
                label_text = code.get("label", value) if isinstance(code, dict) else value
                self.purpose.addItem(f"{value} — {label_text}", value)
            rows.addRow("Purpose", self.purpose)
        self.form_error = QLabel("")
        self.form_error.setObjectName("FieldError")
        self.form_error.setWordWrap(True)
        layout.addWidget(self.form_error)
        self.send_button = QPushButton("Send (Enter)")
        self.send_button.setObjectName("SendButton")
        self.clear_button = QPushButton("Clear (Esc)")
        buttons = QHBoxLayout()
        buttons.addWidget(self.send_button)
        buttons.addWidget(self.clear_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(1)
        self.send_button.clicked.connect(self.send)
        self.clear_button.clicked.connect(self.clear)

    # -- values ----------------------------------------------------------------------------------
    @staticmethod
    def _upper(edit: QLineEdit | None, text: str) -> None:
        if edit is not None and text != text.upper():
            pos = edit.cursorPosition()
            edit.setText(text.upper())
            edit.setCursorPosition(pos)

    @staticmethod
    def _set_value(editor: QLineEdit | QComboBox, value: str) -> None:
        if isinstance(editor, QComboBox):
            index = editor.findData(value.upper())
            editor.setCurrentIndex(max(index, 0))
        else:
            editor.setText(value.upper())

    @staticmethod
    def _value(editor: QLineEdit | QComboBox) -> str:
        if isinstance(editor, QComboBox):
            return str(editor.currentData() or "")
        return editor.text().strip()

    def _add_completer(self, edit: QLineEdit, table_name: str) -> None:
        table = self.tables[table_name]
        entries = [f"{code} {description}" for code, description in table.entries.items()]
        completer = QCompleter(QStringListModel(entries, edit), edit)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.activated.connect(lambda text, e=edit: e.setText(text.split(" ", 1)[0]))
        edit.setCompleter(completer)

    def values(self) -> dict[str, str]:
        return {tag: v for tag, editor in self.edits.items() if (v := self._value(editor))}

    def set_values(self, values: dict[str, str]) -> None:
        for tag, value in values.items():
            if tag in self.edits:
                self._set_value(self.edits[tag], value)

    def set_destination(self, dest: list[str]) -> None:
        if self.dest is not None:
            self.dest.setText(",".join(d.upper() for d in dest))

    def focus_first(self) -> None:
        for editor in self.edits.values():
            if isinstance(editor, QLineEdit) and not editor.text():
                editor.setFocus()
                return
        next(iter(self.edits.values())).setFocus()

    def focus_refused(self, errors: list[FieldError]) -> None:
        """The first field the rules refused (in tab order) takes the focus, its text selected:
        the officer types over it (a refused state, not the next empty field)."""
        refused = {e.field for e in errors if e.severity == "error" and e.field}
        if self.dest is not None and refused == {"DEST"}:  # the destination alone
            self.dest.setFocus()
            self.dest.selectAll()
            return
        for tag, editor in self.edits.items():
            if tag in refused:
                editor.setFocus()
                if isinstance(editor, QLineEdit):
                    editor.selectAll()
                return

    def refused(self, errors: list[FieldError]) -> None:
        """What the service refused (after the form's own check passed): said beside each
        field, the first refused field focused."""
        self._show(errors)
        self.focus_refused(errors)

    # -- checking and sending --------------------------------------------------------------------
    def _show(self, errors: list[FieldError]) -> None:
        by_field: dict[str, list[str]] = {}
        general: list[str] = []
        for error in errors:
            text = error.message if error.severity == "error" else f"Warning: {error.message}"
            if error.field and error.field in self.errors:
                by_field.setdefault(error.field, []).append(text)
            else:
                general.append(text)
        for tag, label in self.errors.items():
            messages = by_field.get(tag, [])
            label.setText(" ".join(messages))
            label.setVisible(bool(messages))
        self.form_error.setText(" ".join(general))

    def _check(self, tag: str) -> None:
        if tag not in self.errors:  # a default set while the form is still being built
            return
        value = self._value(self.edits[tag])
        errors = validate_field(self.form, tag, value, self.tables) if value else []
        label = self.errors[tag]
        label.setText(" ".join(
            e.message if e.severity == "error" else f"Warning: {e.message}" for e in errors))
        label.setVisible(bool(errors))

    def unknown_fields(self, values: dict[str, str]) -> list[str]:
        """The rules' sentence for each value the form has no field for (a command line's)."""
        return [e.message for tag, value in values.items() if tag not in self.edits
                for e in validate_field(self.form, tag, value, self.tables)]

    def send(self) -> list[str]:
        """Send the form if the rules allow it; the rules' sentences for what they refuse."""
        values = self.values()
        errors = validate_form(self.form, values, self.tables)
        self._show(errors)
        refused = [e.message for e in errors if e.severity == "error"]
        if refused:
            self.focus_refused(errors)
            return refused
        dest = [d.strip() for d in self.dest.text().split(",") if d.strip()] if self.dest else []
        purpose = str(self.purpose.currentData() or "") if self.purpose else ""
        self.submitted.emit(self.form.mke, values, dest, purpose)
        return []

    def refusals(self) -> list[str]:
        """What the rules refuse in the values as they are (nothing shown, nothing sent)."""
        return [e.message for e in validate_form(self.form, self.values(), self.tables)
                if e.severity == "error"]

    def clear(self) -> None:
        self.reset()
        self.focus_first()

    def reset(self) -> None:
        """Back to the defaults, without taking the focus (a form filled from the command line
        while the officer stays there)."""
        for tag, editor in self.edits.items():
            if tag in self.defaults:  # back to the operator's own ORI/ATN/PHN, home state ...
                self._set_value(editor, self.defaults[tag])
            elif isinstance(editor, QComboBox):
                editor.setCurrentIndex(0)
            else:
                editor.clear()
        self._show([])

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.clear()
            return
        super().keyPressEvent(event)
