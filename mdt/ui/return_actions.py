"""What an officer does with the return on screen: print it, save it as a PDF (written on a
worker, never on the GUI thread), forward it to a unit as an AM, pin it beside the others (a
dispatcher comparing returns). Each print or export is audited."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from PySide6.QtWidgets import QMenu, QPushButton, QWidget

from mdt.app.errors import Callback, then
from mdt.ui.adaptive import AdaptiveBox
from mdt.ui.returns_view import query_summary

if TYPE_CHECKING:
    from mdt.app.controller import AppController
    from mdt.ui.form_view import FormView


class ReturnsHost(Protocol):
    """What the actions need of the terminal page."""

    controller: AppController

    def selected_return(self) -> Any: ...  # the row shown, when it holds a return

    def document(self, row: Any) -> str: ...  # the return as printable HTML

    def feedback(self, text: str, *, error: bool = False) -> None: ...

    def refuse(self, sentence: str) -> None: ...

    def open_form(self, mke: str, values: dict[str, str] | None = None) -> FormView | None: ...

    def home_ori(self) -> str | None: ...


class ReturnActions(QWidget):
    def __init__(self, host: ReturnsHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        # One button with a menu (Alt+A, then the item's letter): what is seldom done at a stop
        # takes no row of its own from the record.
        self.menu = QMenu(self)
        self.print_action = self.menu.addAction("&Print…", self.print_selected)
        self.pdf_action = self.menu.addAction("Save as P&DF…", self.export_selected)
        self.forward_action = self.menu.addAction("&Forward to a unit (AM)…",
                                                  self.forward_selected)
        self.more = QPushButton("&Actions ▾")
        self.more.setObjectName("ReturnActionsMenu")
        self.more.setMenu(self.menu)
        self.pin = QPushButton("Pin (Ctrl+P)")
        self.pin.setObjectName("PinReturn")
        self.pin.setToolTip("Keep this return beside the others to compare them")
        self.row = AdaptiveBox(self)
        self.row.setContentsMargins(0, 0, 0, 0)
        self.row.addWidget(self.more)
        self.row.addWidget(self.pin)

    def export_pdf(self, path: Path) -> None:
        """The selected return as a PDF at ``path`` (the operator chose it), audited."""
        from mdt.ui.export import write_pdf

        host = self.host
        row = host.selected_return()
        if row is None:
            host.feedback("Select a return to export.", error=True)
            return
        document, return_id = host.document(row), row.ret.id

        def written(size: Any) -> None:
            host.controller.audit("export", "success", f"return {return_id} to PDF ({size} bytes)")
            host.feedback(f"Saved {path.name}: it holds CJI — keep it as agency policy says.")

        host.feedback(f"Saving {path.name}…")
        # on a worker: no file is written on the GUI thread
        host.controller.tasks.run(lambda: write_pdf(document, path),
                                  then(written, host.refuse, "Not saved"))

    def export_selected(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        if self.host.selected_return() is None:
            self.host.feedback("Select a return to export.", error=True)
            return
        path, _ = QFileDialog.getSaveFileName(
            self, "Save the return as PDF — it holds criminal-justice information", "",
            "PDF (*.pdf)")
        if path:
            self.export_pdf(Path(path))

    def print_selected(self) -> None:
        from PySide6.QtGui import QTextDocument
        from PySide6.QtPrintSupport import QPrintDialog, QPrinter

        row = self.host.selected_return()
        if row is None:
            self.host.feedback("Select a return to print.", error=True)
            return
        printer = QPrinter()
        if QPrintDialog(printer, self).exec() != QPrintDialog.DialogCode.Accepted:
            return
        document = QTextDocument()
        document.setHtml(self.host.document(row))
        document.print_(printer)
        self.host.controller.audit("print", "success", f"return {row.ret.id}")

    def forward_selected(self) -> None:
        """Forward the return to a unit as an administrative message (AM), to check and send."""
        row, ori = self.host.selected_return(), self.host.home_ori()
        if row is None or ori is None:
            self.host.feedback("Select a return to forward.", error=True)
            return
        text = f"FWD {query_summary(row.ret.query)}\n{row.ret.text}"[:1000]
        view = self.host.open_form("AM", {"TXT": text})
        if view is not None:
            view.set_destination([ori])
        self.host.feedback("AM with the return: add ATTN <unit> and send with Enter.")

    def message_unit(self, unit: str) -> None:
        """An AM to one of our units: the switch routes AMs by ORI; the unit is named first."""
        ori = self.host.home_ori()
        view = self.host.open_form("AM", {"TXT": f"ATTN {unit.upper()}: "})
        if view is not None and ori is not None:
            view.set_destination([ori])
        self.host.feedback(f"AM to {unit}: write the message, then press Enter to send.")

    # -- hit confirmation: YQ from a hit, the next request, a YR to the agency queue ----------
    def _drafted(self, mke: str, what: str) -> Callback:
        return then(lambda draft: self._open_draft(mke, draft, what), self.host.refuse,
                    f"{mke} not prepared")

    def _open_draft(self, mke: str, draft: Any, what: str) -> None:
        view = self.host.open_form(mke, draft.values)
        if view is not None:
            view.set_destination(draft.dest)
        self.host.feedback(f"{mke} prefilled from {what}: check it, then press Enter to send.")

    def request_confirmation(self, return_id: str, record_index: int, priority: str) -> None:
        """One action: the YQ for a hit, prefilled from the record; Enter sends it."""
        self.host.controller.alerts.draft_yq(
            return_id, record_index, priority,
            self._drafted("YQ", "the hit"))

    def request_next_confirmation(self, nic: str) -> None:
        self.host.controller.alerts.draft_next_request(
            nic, self._drafted("YQ", "the last request"))

    def answer_request(self, nic: str, cst: str) -> None:
        self.host.controller.alerts.draft_yr(
            nic, cst, self._drafted("YR", "the request"))
