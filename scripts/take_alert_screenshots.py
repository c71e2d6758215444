"""Screenshots of alerts and hit confirmation: the real client against the real training gateway.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/take_alert_screenshots.py [OUT_DIR]

Officer: a QW on the roster's deported felon → the IVF hit in the alert bar with its category and
policy prompt → an urgent YQ from the hit → its countdown beside the hit (day and night).
Then the lock screen (night). Dispatcher: a trainer injects hit confirmation requests for the
agency (one a second request) → the dispatcher layout with the agency queue, soonest deadline
first, and the unit list (day and night).
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import httpx
from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))
from take_screenshots import save, sign_in, wait


def trainer_inject(url: str, events: list[dict[str, object]], ori: str) -> None:
    accounts = httpx.get(f"{url}/v1/training/demo-accounts").json()["accounts"]
    trainer = next(a for a in accounts if a["user_id"] == "trainer1")
    token = httpx.post(f"{url}/v1/sessions", json={
        "user_id": "trainer1", "password": trainer["password"], "otp": trainer["otp_now"],
        "device_id": "screenshots"}).json()["token"]
    answer = httpx.post(f"{url}/v1/training/events", json={"ori": ori, "events": events},
                        headers={"Authorization": f"Bearer {token}"})
    answer.raise_for_status()


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["MDT_HOME"] = tempfile.mkdtemp(prefix="mdt-shots-")
    from mdt.devrun import allow_file_keystore_if_needed, start_training_gateway
    from mdt.settings import Settings
    from mdt.ui.application import create_window
    from mdt.ui.theme import apply_theme

    allow_file_keystore_if_needed()
    gateway, url = start_training_gateway()
    app = QApplication(sys.argv[:1])
    try:
        apply_theme(app, "day")
        settings = Settings()
        settings.set("gateway_url", url)
        settings.set("operator_phone", "410-555-0112")
        controller, window = create_window(settings)
        window.resize(1360, 860)
        window.show()
        sign_in(app, window, "officer1")
        page = window.terminal
        wait(app, lambda: "QW" in page.views)
        page.command.setText("QW NAM/ZANMIR, SOREN T.DOB/19790704")
        page.run_command()
        wait(app, lambda: window.alert_bar.isVisible() and page.hit_panel.isVisible())
        save(window, app, out / "alert-ivf-hit-day.png")
        page.hit_panel.lines[0].urgent.click()
        wait(app, lambda: page.views["YQ"].isVisible())
        save(window, app, out / "alert-yq-prefilled-day.png")
        page.views["YQ"].send()
        wait(app, lambda: "left" in page.hit_panel.lines[0].state.text())
        save(window, app, out / "alert-hit-countdown-day.png")
        apply_theme(app, "night")
        save(window, app, out / "alert-hit-countdown-night.png")
        window.lock("locked by the operator")
        save(window, app, out / "lock-screen-night.png")
        controller.shutdown()
        window.close()

        apply_theme(app, "day")
        controller, window = create_window(Settings())
        window.resize(1360, 860)
        window.show()
        sign_in(app, window, "dispatch1")
        page = window.terminal
        wait(app, lambda: "YR" in page.views)
        base = {"type": "hit_confirmation_request", "requesting_ori": "VA0290000",
                "requesting_name": "DEPUTY PAT PRACTICE", "phone": "703-555-0129"}
        trainer_inject(url, [
            {**base, "rty": "SV", "rno": "1", "pri": "U", "oca": "26-004513",
             "nic": "V260000002", "respond_in": 540, "remarks": "DRIVER DETAINED ON THIS HIT",
             "data_set": {"LIC": "TRN5007", "LIS": "MD", "VMA": "DODG"}},
            {**base, "rty": "WP", "rno": "2", "pri": "U", "oca": "26-000777",
             "nic": "W260000011", "respond_in": 200,
             "remarks": "SECOND REQUEST - SUBJECT HELD ON THIS WARRANT ONLY",
             "data_set": {"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312", "SEX": "M"}},
            {**base, "rty": "SG", "rno": "1", "pri": "R", "oca": "26-001200",
             "nic": "G260000003", "respond_in": 3300,
             "data_set": {"SER": "TRG4821", "MAK": "SW"}},
        ], "MD1012600")
        wait(app, lambda: page.queue.model.rowCount() >= 3)
        window.open_queue()
        save(window, app, out / "dispatcher-queue-day.png")
        apply_theme(app, "night")
        save(window, app, out / "dispatcher-queue-night.png")
        controller.shutdown()
        window.close()
    finally:
        gateway.terminate()
        gateway.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
