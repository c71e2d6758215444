"""A return on paper or in a PDF: the same content the screen shows (hit, caveats, records, the
original text), marked as criminal-justice information and, on a training gateway, as training.

The PDF is CJI outside the encrypted cache: the operator chooses where it goes (the terminal
never writes one behind the operator's back), and every print or export is audited.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

from PySide6.QtGui import QPageSize, QPdfWriter, QTextDocument

from mdt.core.present import PROBABLE_CAUSE, age_text, query_summary, return_headline


def return_html(row: Any, *, training: bool, operator: str) -> str:
    ret = row.ret
    headline = return_headline(ret)  # the same headline as the list, the detail and the CLI
    parts = []
    if training:
        parts.append("<p style='background:#f5a300'><b>TRAINING — synthetic data only, not for "
                     "operational use</b></p>")
    parts.append(f"<h2>{html.escape(query_summary(ret.query))}</h2>")
    verdict = f"<b>{html.escape(headline.text)}</b>"
    if headline.is_hit:
        verdict += f" — {html.escape(PROBABLE_CAUSE)}"
    parts.append(f"<p>{verdict}"
                 f" · from {html.escape(ret.source)} · received {html.escape(ret.received_at)} "
                 f"({html.escape(age_text(ret.received_at))})</p>")
    caveats = [str(c) for r in ret.records for c in r.get("caveats") or []]
    for caveat in dict.fromkeys(caveats):
        parts.append(f"<p><b>*** {html.escape(caveat)} ***</b></p>")
    for record in ret.records:
        title = str(record.get("file", "")) + (" — HIT" if record.get("hit") else "")
        parts.append(f"<h3>{html.escape(title)}</h3><table cellspacing='3'>")
        for tag, value in (record.get("fields") or {}).items():
            parts.append(f"<tr><td><b>{html.escape(str(tag))}</b></td>"
                         f"<td>{html.escape(str(value))}</td></tr>")
        parts.append("</table>")
        narrative = record.get("narrative")
        if isinstance(narrative, list):
            parts.extend(f"<p>{html.escape(str(line))}</p>" for line in narrative)
    parts.append(f"<h3>Original text</h3><pre>{html.escape(ret.text)}</pre>")
    parts.append(f"<p><i>Criminal justice information: handle under the CJIS Security Policy. "
                 f"Printed for {html.escape(operator)}.</i></p>")
    return "".join(parts)


def write_pdf(document_html: str, path: Path) -> int:
    """The return as a PDF at ``path``; returns its size in bytes."""
    writer = QPdfWriter(str(path))
    writer.setPageSize(QPageSize(QPageSize.PageSizeId.Letter))
    writer.setTitle("MDT return")
    document = QTextDocument()
    document.setHtml(document_html)
    document.print_(writer)
    del writer  # the file is complete once the writer is gone
    return path.stat().st_size
