"""Take the README's screenshots: the real client against the real training gateway.

    QT_QPA_PLATFORM=offscreen .venv/bin/python scripts/take_screenshots.py [OUT_DIR]

Starts ``mdt-gateway`` on a free port with a throwaway MDT_HOME, signs in with a demo account,
runs a stolen plate and a clean one, and saves PNGs of the login page and the returns (day and
night), then stops the gateway and shows the offline unlock.

Then the returns of the acceptance suite (tests/acceptance), each taken at the moment its test
has checked what the screen says, officer and dispatcher, in day, night and high contrast:
``<return>-<officer|dispatcher>-<day|night|day-hc|night-hc>.png`` (the suite run with
``MDT_SCREENSHOTS=OUT_DIR``; ``--no-returns`` leaves them out).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import QApplication, QWidget


def wait(app: QApplication, condition: Callable[[], bool], timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the client did not get there in time")
        app.processEvents()
        time.sleep(0.02)


def save(widget: QWidget, app: QApplication, path: Path) -> None:
    for _ in range(5):
        app.processEvents()
        time.sleep(0.05)
    widget.grab().save(str(path))
    print(f"saved {path}")


def sign_in(app: QApplication, window: Any, user: str) -> None:
    """Sign in with a training gateway's demo account, as a user would from the list."""
    login = window.login
    wait(app, lambda: login.demo.rowCount() > 0)
    login.use_demo_account(user)
    wait(app, lambda: bool(login.otp.text()))
    login.do_sign_in()


def acceptance_shots(out: Path) -> int:
    """The acceptance suite, saving each checked return in every theme."""
    env = {**os.environ, "MDT_SCREENSHOTS": str(out), "QT_QPA_PLATFORM": "offscreen"}
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "tests/acceptance"],
                          env=env, check=False).returncode


def main() -> int:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    out = Path(args[0] if args else "docs/screenshots").resolve()
    out.mkdir(parents=True, exist_ok=True)
    home = tempfile.mkdtemp(prefix="mdt-shots-")
    os.environ["MDT_HOME"] = home
    from mdt.devrun import allow_file_keystore_if_needed, start_training_gateway
    from mdt.settings import Settings
    from mdt.ui.application import create_window
    from mdt.ui.theme import apply_theme

    allow_file_keystore_if_needed()
    gateway, url = start_training_gateway()
    assert gateway is not None  # a fresh MDT_HOME has no gateway running yet
    app = QApplication(sys.argv[:1])
    try:
        apply_theme(app, "day")
        settings = Settings()
        settings.set("gateway_url", url)
        controller, window = create_window(settings)
        window.resize(1280, 820)
        window.show()
        login = window.login
        wait(app, lambda: login.demo.rowCount() > 0)
        save(window, app, out / "login-day.png")
        sign_in(app, window, "officer1")
        page = window.terminal
        wait(app, lambda: "QV" in page.views)
        page.command.setText("CLN1000")
        page.run_command()
        page.command.setText("QV LIC/TRN4821.LIS/VA")
        page.run_command()
        wait(app, lambda: sum(r.ret is not None for r in page.model.rows) >= 2)
        row = next(i for i, r in enumerate(page.model.rows) if r.hit)
        page.table.selectRow(row)
        page.command.setText("QV LIC/ABC1234.LIS/ZZ")
        page.run_command()
        save(window, app, out / "main-hit-day.png")
        apply_theme(app, "night")
        save(window, app, out / "main-hit-night.png")
        # The QV form with an inline error (state ZZ) was sent from the command line above.
        save(window, app, out / "form-qv-error-night.png")
        apply_theme(app, "day")
        save(window, app, out / "form-qv-error-day.png")
        page.open_form("IAQ", {"NAM": "SMITH JOHN", "DOB": "13451", "SEX": "M", "POB": "MX"})
        save(window, app, out / "form-iaq-error-day.png")
        apply_theme(app, "night")
        save(window, app, out / "form-iaq-error-night.png")
        controller.shutdown()
        window.close()

        gateway.terminate()
        gateway.wait(10)
        apply_theme(app, "night")
        controller, window = create_window(Settings())
        window.resize(1280, 820)
        window.show()
        login = window.login
        wait(app, lambda: "not reachable" in login.gateway_state.text())
        save(window, app, out / "login-offline-night.png")
        login.password.setText("training")
        login.do_unlock()
        page = window.terminal
        wait(app, lambda: any(r.ret is not None for r in page.model.rows))
        row = next(i for i, r in enumerate(page.model.rows) if r.hit)
        page.table.selectRow(row)
        save(window, app, out / "main-offline-night.png")
        controller.shutdown()
        window.close()
    finally:
        if gateway.poll() is None:
            gateway.terminate()
            gateway.wait(10)
    return 0 if "--no-returns" in sys.argv else acceptance_shots(out)


if __name__ == "__main__":
    sys.exit(main())
