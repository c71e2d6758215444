"""How long the alert history takes the GUI thread to show a reload of N alerts (offscreen),
with every alert's whole text wrapped: rows are fitted to their text only where they are in
view, so the cost does not grow with the history.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/alert_history.py
"""

from __future__ import annotations

import json
import time

from PySide6.QtWidgets import QApplication

from mdt.ui.alerts_view import AlertsDialog

TITLE = ("IMMIGRATION VIOLATOR HIT — Deported felon: ZANMIR, SOREN T DOB 19790704 — previously "
         "removed; administrative warrant of removal on file with LESC; confirm with VTICE0900")


def alert(n: int) -> dict[str, object]:
    return {"id": f"a{n}", "kind": "ivf_hit", "severity": "critical", "title": TITLE,
            "created_at": "2026-11-24T20:01:02.123Z", "deadline": None, "acked_by": None,
            "acked_at": None, "body": {"return_id": f"r{n}", "nic": "W123456789",
                                       "oca": "26-004513", "ori": "VTICE0900"}}


def main() -> None:
    app = QApplication.instance() or QApplication([])
    dialog = AlertsDialog()
    dialog.resize(1000, 560)
    dialog.show()
    figures = {}
    for count in (100, 500, 2000):
        alerts = [alert(n) for n in range(count)]
        dialog.set_alerts(alerts)
        app.processEvents()
        start = time.perf_counter()
        for _ in range(5):
            dialog.set_alerts(alerts)
            app.processEvents()
        figures[f"reload_ms_{count}"] = round((time.perf_counter() - start) / 5 * 1000, 1)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
