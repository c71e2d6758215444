"""A form view made in steps (the terminal page makes its forms a few fields per turn of the
event loop, never holding it long) is the same form as one made at once, in the same Tab order."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from mdt.core.codes import CodeTables
from mdt.core.forms import load_form
from mdt.ui.form_view import FormView


def test_a_staged_form_is_made_a_few_fields_a_step_in_tab_order(qtbot: QtBot) -> None:
    form = load_form("YQ")
    view = FormView(form, CodeTables.default(), staged=True)
    qtbot.addWidget(view)
    assert view.edits == {} and not view.ready
    made = 0
    while not view.build_step():
        assert len(view.edits) - made <= 3  # a few fields a step, never the whole form
        made = len(view.edits)
    assert list(view.edits) == [field.tag for field in form.fields]
    whole = FormView(form, CodeTables.default())
    qtbot.addWidget(whole)
    assert list(whole.edits) == list(view.edits) and whole.ready
    # Tab goes through the fields first, then Send (a staged form is made in that order).
    chain: list[QWidget] = []
    widget: QWidget | None = view.nextInFocusChain()
    while widget is not None and widget is not view and len(chain) < 1000:
        chain.append(widget)
        widget = widget.nextInFocusChain()
    assert max(chain.index(edit) for edit in view.edits.values()) < chain.index(view.send_button)
