"""Screenshots of the trainer console during a scenario and of a debrief page.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/take_trainer_screenshots.py [OUT_DIR]

A headless trainee (officer1) and a careless one (officer3) work the near-miss scenario while
the trainer (trainer1) runs it from the console.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

from PySide6.QtWidgets import QApplication

sys.path.insert(0, str(Path(__file__).resolve().parent))
from take_screenshots import save, sign_in, wait


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    os.environ["MDT_HOME"] = tempfile.mkdtemp(prefix="mdt-shots-")
    from mdt.devrun import allow_file_keystore_if_needed, start_training_gateway
    from mdt.services.terminal import Terminal
    from mdt.settings import Settings
    from mdt.ui.application import create_window
    from mdt.ui.theme import apply_theme

    allow_file_keystore_if_needed()
    gateway, url = start_training_gateway()
    app = QApplication(sys.argv[:1])
    trainees = []
    try:
        for user in ("officer1", "officer3"):
            settings = Settings()
            settings.set("gateway_url", url)
            terminal = Terminal(settings)
            account = {a["user_id"]: a for a in terminal.demo_accounts()}[user]
            terminal.login(user, account["password"], account["otp_now"])
            trainees.append(terminal)
        apply_theme(app, "day")
        settings = Settings()
        settings.set("gateway_url", url)
        controller, window = create_window(settings)
        window.resize(1360, 860)
        window.show()
        sign_in(app, window, "trainer1")
        console = window.console
        wait(app, lambda: window.pages.currentWidget() is console and
             console.scenarios.count() >= 5 and console.trainees.rowCount() >= 2, 30)
        console.scenarios.setCurrentIndex(console.scenarios.findData("near-miss"))
        console.speed.setValue(10)
        console.start_button.click()
        wait(app, lambda: "started" in console.message.text(), 20)
        careful, careless = trainees
        careful.send("QW", {"NAM": "KOLVECKS, DRAYTON Q", "DOB": "19840312"})
        careful.send("DQ", {"OLN": "S100000099"}, dest=["MD"])
        careless.send("QW", {"NAM": "KOLVECKS, DRAYTON Q", "DOB": "19840312"})
        for terminal in trainees:
            terminal.sync_once()
        time.sleep(2)
        careless.sync_once()
        ret = careless.recent_returns(5)[0]
        index = next(i for i, r in enumerate(ret.records) if r.get("hit"))
        careless.alert_desk.send("YQ", careless.alert_desk.draft_yq(ret.id, index, "U"))
        for terminal in trainees:
            terminal.sync_once()
        console.refresh()
        wait(app, lambda: "officer3" in console.debrief_view.toPlainText(), 20)
        console.trainee_table.selectRow(0)
        save(window, app, out / "trainer-console-day.png")
        apply_theme(app, "night")
        save(window, app, out / "trainer-console-night.png")
        apply_theme(app, "day")
        console.tabs.setCurrentIndex(1)
        save(window, app, out / "trainer-debrief-day.png")
        controller.shutdown()
        window.close()
    finally:
        for terminal in trainees:
            terminal.close()
        gateway.terminate()
        gateway.wait(10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
