"""The way to the first window: the sign-in page alone, nothing it does not need imported (the
settings' and the agency file's validation, the services, the network stack and the cache come
after it, on a worker), the theme applied before it, a wrong file still stopping the start with
its reason; and the terminal page made a part at a time when signing in starts (or whole, when
asked first)."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from mdt.app import collector
from mdt.settings import Look, Settings
from mdt.ui.application import Start, create_window, load_terminal
from mdt.ui.main_window import MainWindow

# Decided here, not read from the application: what the first window must not wait for.
NOT_BEFORE_THE_FIRST_WINDOW = (
    "pydantic", "pydantic_core", "httpx", "httpcore", "sqlcipher3", "keyring", "asyncio", "ssl",
    "mdt.services", "mdt.store.cache", "mdt.store.writer_thread", "mdt.net", "mdt.agency_config",
    "mdt.app.controller", "mdt.ui.terminal_page", "mdt.ui.form_view", "mdt.ui.returns_view")

# ``mdt`` started as the desktop starts it, watched from inside: at the first window's Show
# event, which of those are loaded, and the theme and the page it shows.
WATCH_THE_FIRST_WINDOW = """
import json, sys
from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QMainWindow
names = json.loads(sys.argv[1])
seen = {}
class FirstShow(QObject):
    def eventFilter(self, watched, event):
        if not seen and isinstance(watched, QMainWindow) and event.type() == QEvent.Type.Show:
            loaded = set(sys.modules)
            seen["loaded"] = [n for n in names
                              if n in loaded or any(m.startswith(n + ".") for m in loaded)]
            seen["theme"] = QApplication.instance().property("mdtTheme")
            seen["page"] = type(watched.pages.currentWidget()).__name__
        return False
app = QApplication(sys.argv[:1])
watch = FirstShow()
app.installEventFilter(watch)
import mdt.__main__
status = mdt.__main__.main(sys.argv[2:])
print("seen: " + json.dumps(seen), flush=True)
sys.exit(status)
"""


def _start(home: Path, *args: str) -> tuple[dict[str, Any], str, int]:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MDT_HOME": str(home)}
    done = subprocess.run(
        [sys.executable, "-c", WATCH_THE_FIRST_WINDOW, json.dumps(NOT_BEFORE_THE_FIRST_WINDOW),
         "--gateway", "http://127.0.0.1:9", "--startup-probe", *args],
        env=env, capture_output=True, text=True, timeout=120, check=False)
    seen = [line for line in done.stdout.splitlines() if line.startswith("seen: ")]
    assert seen, done.stdout + done.stderr[-2000:]
    return json.loads(seen[0][len("seen: "):]), done.stdout, done.returncode


def test_the_first_window_waits_for_no_validation_services_network_or_cache(
        tmp_path: Path) -> None:
    seen, out, status = _start(tmp_path)
    assert status == 0
    assert seen["page"] == "LoginPage"
    assert seen["loaded"] == []
    # The probe (benchmarks/startup.py) says the same: its line is what was loaded at the show.
    probe = next(line for line in out.splitlines() if line.startswith("start-path-modules:"))
    assert probe.split(":", 1)[1].strip() == ""
    # ... and the start then goes on to the sign-in page with its controller.
    assert out.splitlines()[-2:] == ["sign-in-ready", "seen: " + json.dumps(seen)]


def test_a_night_start_shows_a_night_window_first(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.json").write_text(json.dumps({"version": 2, "theme": "night"}))
    seen, _out, status = _start(tmp_path)
    assert status == 0 and seen["theme"] == "night"
    seen, _out, status = _start(tmp_path, "--theme", "day")  # the command line's choice wins
    assert status == 0 and seen["theme"] == "day"


def test_importing_the_gui_loads_none_of_it() -> None:
    code = ("import sys, mdt.ui.application; print(','.join(n for n in "
            f"{NOT_BEFORE_THE_FIRST_WINDOW!r} if n in sys.modules or any("
            "m.startswith(n + '.') for m in sys.modules)))")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    found = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                           text=True, check=True, timeout=60).stdout.strip()
    assert found == ""


def _refused_start(qtbot: QtBot, monkeypatch: pytest.MonkeyPatch) -> tuple[Start, list[int]]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    statuses: list[int] = []
    monkeypatch.setattr(QApplication, "exit", staticmethod(statuses.append))
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    start = Start(app, window, Look(), load_terminal)
    start.begin()
    qtbot.waitUntil(lambda: start.refusal is not None and start.refusal.isVisible(),
                    timeout=20000)
    return start, statuses


@pytest.mark.parametrize(("agency", "settings", "says"), [
    ("[locked]\nretention_hours = 500\n", None, "[locked] retention_hours must be between"),
    (None, {"version": 2, "font_scale": "big"}, "Setting 'font_scale' must be a float"),
])
def test_a_wrong_file_stops_the_start_with_its_reason_over_the_window(
        qtbot: QtBot, monkeypatch: pytest.MonkeyPatch, mdt_home: Path, agency: str | None,
        settings: dict[str, Any] | None, says: str) -> None:
    if agency is not None:
        path = mdt_home / "mdt-agency.toml"
        path.write_text(agency)
        monkeypatch.setenv("MDT_AGENCY_CONFIG", str(path))
    if settings is not None:
        (mdt_home / "config").mkdir(exist_ok=True)
        (mdt_home / "config" / "settings.json").write_text(json.dumps(settings))
    start, statuses = _refused_start(qtbot, monkeypatch)
    box = start.refusal
    assert box is not None and box.windowTitle() == "MDT cannot start"
    assert says in box.text()
    assert start.controller is None and not statuses  # stopped, waiting for the person
    ok = box.button(QMessageBox.StandardButton.Ok)
    assert ok is not None
    ok.click()
    qtbot.waitUntil(lambda: statuses == [2], timeout=5000)
    start.close()


def _deferred(qtbot: QtBot, remembered: str | None = None
              ) -> tuple[MainWindow, Start, list[bool]]:
    """The window as ``mdt`` shows it first (no controller), and its start, not begun; with
    ``remembered``, saved settings name that last user and a gateway that does not answer."""
    if remembered is not None:
        _remember(remembered)
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    ready: list[bool] = []
    return window, Start(app, window, Look(), load_terminal, ready=lambda: ready.append(True)), \
        ready


def _remember(user: str) -> None:
    """Saved settings: the last user id, and a gateway that does not answer."""
    settings = Settings()
    settings.set("last_user", user)
    settings.set("gateway_url", "http://127.0.0.1:9")
    settings.save()


def test_the_sign_in_page_gets_the_validated_settings_after_the_first_window(
        qtbot: QtBot) -> None:
    window, start, ready = _deferred(qtbot, remembered="officer7")
    login = window.login
    try:
        assert login.gateway_label.text() == "Gateway: …"  # nothing unvalidated shown
        assert login.user.text() == ""
        start.begin()
        qtbot.waitUntil(lambda: bool(ready), timeout=20000)
        assert login.gateway_label.text() == "Gateway: http://127.0.0.1:9"
        assert login.user.text() == "officer7"
        qtbot.waitUntil(lambda: "Gateway not reachable" in login.gateway_state.text(),
                        timeout=20000)  # and the gateway is checked
    finally:
        start.close()


def test_the_cursor_waits_where_typing_starts(qtbot: QtBot) -> None:
    """In the first window the user id; once the remembered user id is filled in (attach), the
    password; and so again whenever the sign-in page comes back."""
    window, start, ready = _deferred(qtbot, remembered="officer7")
    login = window.login
    try:
        qtbot.waitUntil(lambda: QApplication.focusWidget() is login.user, timeout=5000)
        start.begin()
        qtbot.waitUntil(lambda: bool(ready), timeout=20000)
        assert login.user.text() == "officer7"
        assert QApplication.focusWidget() is login.password
        login.user.setFocus()  # the cursor put elsewhere on the page
        qtbot.waitUntil(lambda: QApplication.focusWidget() is login.user, timeout=5000)
        window.pages.setCurrentWidget(window.lock_screen)  # another page, then back
        window.lock_screen.password.setFocus()
        qtbot.waitUntil(lambda: QApplication.focusWidget() is window.lock_screen.password,
                        timeout=5000)
        window.pages.setCurrentWidget(login)
        qtbot.waitUntil(lambda: QApplication.focusWidget() is login.password, timeout=5000)
    finally:
        start.close()


def test_a_sign_in_asked_for_before_the_services_goes_on_when_they_come(
        qtbot: QtBot) -> None:
    settings = Settings()
    settings.set("gateway_url", "http://127.0.0.1:9")
    settings.save()
    window, start, ready = _deferred(qtbot)
    login = window.login
    try:
        login.user.setText("officer1")
        login.password.setText("not-the-password")
        login.otp.setText("123456")
        login.do_sign_in()
        assert login.busy and not login.sign_in.isEnabled()  # waiting, busy
        start.begin()
        qtbot.waitUntil(lambda: bool(ready), timeout=20000)
        assert login.user.text() == "officer1"  # what was typed stays
        # It went on: the gateway (nobody there) answered nothing, and the page says so.
        qtbot.waitUntil(lambda: not login.busy and login.error.text() != "", timeout=20000)
        assert login.sign_in.isEnabled()
    finally:
        start.close()


def test_the_first_window_is_the_sign_in_page_and_the_terminal_page_comes_later(
        qtbot: QtBot) -> None:
    settings = Settings()
    settings.set("gateway_url", "http://127.0.0.1:9")  # nobody there: the page still shows
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    try:
        assert window.pages.currentWidget() is window.login
        assert not window.terminal_ready
        window.login.busy_changed.emit(True)  # signing in starts: the page is made meanwhile
        assert collector.paused()  # no full collection walks the half-made page
        qtbot.waitUntil(lambda: window.terminal_ready, timeout=10000)
        assert not collector.paused() and gc.isenabled()  # whole: frozen, collection goes on
        page = window.terminal
        assert page.ready and window.pages.indexOf(page) >= 0
        assert window.pages.currentWidget() is window.login  # made, not shown
    finally:
        controller.shutdown()
        window.close()


def test_a_staged_terminal_page_is_whole_when_asked_for(qtbot: QtBot) -> None:
    from mdt.ui.terminal_page import TerminalPage

    settings = Settings()
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    try:
        page = TerminalPage(controller, staged=True)
        qtbot.addWidget(page)
        steps = 1
        while not page.build_step():
            steps += 1
        assert steps > 5  # no turn of the event loop makes all of it
        assert page.layout_kind == "officer" and page.tabs is not None
        whole = TerminalPage(controller)  # not staged: whole at once
        qtbot.addWidget(whole)
        assert whole.ready and whole.layout_kind == "officer"
    finally:
        controller.shutdown()


def test_the_real_start_is_in_fusion_from_its_qapplication() -> None:
    """``mdt`` makes its QApplication in the Fusion style (``-style``, so no Python QStyle on
    the way to the first window); the theme keeps it and still finds the sheet's images."""
    script = ("from PySide6.QtCore import QDir\n"
              "from mdt.ui.theme import apply_theme, fusion_application\n"
              "app = fusion_application(['mdt'])\n"
              "print(app.style().name())\n"
              "apply_theme(app, 'night')\n"
              "print(bool(QDir.searchPaths('mdtstyles')))\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen",
                               "QT_STYLE_OVERRIDE": "Windows"},  # Fusion all the same
                          timeout=60,
                          check=False)
    assert done.stdout.split() == ["fusion", "True"], done.stderr[-2000:]
