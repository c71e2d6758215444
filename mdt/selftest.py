"""``mdt --self-test``: does this installation work? For a fresh build, before it goes to a fleet.

It opens a throwaway encrypted cache (real SQLCipher, a random key, in a temporary folder that is
removed afterwards; never the operator's profile), writes and reads a record, loads the forms
and every code table, shows the main window offscreen with the agency configuration in force, and
quits. Any Qt warning fails it. Exit status 0 when all is well; otherwise 1 and the step that
failed, on standard error. The one line on standard output says what was checked and how long it
took.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from pathlib import Path

# The offscreen platform plugin says it cannot do some window-manager things; that is the
# plugin, not the program.
IGNORED_QT = ("This plugin does not support",)


class SelfTestFailed(RuntimeError):
    pass


def _cache_round_trip(folder: Path) -> str:
    from mdt.store.cache import Cache

    with Cache.open(folder / "selftest.db", secrets.token_bytes(32), create=True) as cache:
        cache.apply_event({"id": "selftest-1", "seq": 1, "type": "response", "mke": "QV",
                           "source": "SELFTEST", "text": "SELF TEST",
                           "records": [{"file": "VEHICLE", "hit": False,
                                        "fields": {"LIC": "TEST123"}}]})
        found = cache.get_return("selftest-1")
        if found is None or found.text != "SELF TEST":
            raise SelfTestFailed("the encrypted cache did not give back what was written")
        version = cache._conn.execute("PRAGMA cipher_version").fetchone()
    raw = (folder / "selftest.db").read_bytes()
    if b"SELF TEST" in raw or b"SQLite format 3" in raw[:16]:
        raise SelfTestFailed("the cache file is not encrypted")
    return f"SQLCipher {version[0] if version else '?'}"


def _forms_and_codes() -> tuple[int, int]:
    from mdt.core.codes import CodeTables
    from mdt.core.forms import FormSet

    forms = FormSet.shipped().all()
    tables = CodeTables.default()
    names = sorted({f.code_table for form in forms for f in form.fields if f.code_table})
    for name in names:
        if not tables[name].entries:
            raise SelfTestFailed(f"the code table {name} is empty")
    return len(forms), len(names)


def run_self_test() -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.perf_counter()
    warnings: list[str] = []
    step = "starting"
    with tempfile.TemporaryDirectory(prefix="mdt-selftest-") as folder:
        os.environ["MDT_HOME"] = str(Path(folder) / "home")  # nothing of the operator's
        try:
            step = "the encrypted cache"
            cipher = _cache_round_trip(Path(folder))
            step = "the forms and code tables"
            forms, tables = _forms_and_codes()
            step = "the agency configuration"
            from mdt.settings import Settings
            from mdt.ui.application import load_agency

            settings = Settings()
            agency = load_agency(settings)
            step = "the main window"
            from PySide6.QtCore import QtMsgType, qInstallMessageHandler
            from PySide6.QtWidgets import QApplication

            def on_message(kind: QtMsgType, _context: object, text: str) -> None:
                if kind != QtMsgType.QtDebugMsg and not text.startswith(IGNORED_QT):
                    warnings.append(text)

            qInstallMessageHandler(on_message)
            app = QApplication.instance() or QApplication(sys.argv[:1])
            assert isinstance(app, QApplication)
            from mdt.ui.application import create_window
            from mdt.ui.theme import apply_theme

            apply_theme(app, settings.theme)
            controller, window = create_window(settings, agency)
            window.show()
            deadline = time.monotonic() + 1.0
            while time.monotonic() < deadline:
                app.processEvents()
                time.sleep(0.01)
            shown = window.isVisible() and window.login.isVisible()
            window.close()
            controller.shutdown()
            app.processEvents()
            if not shown:
                raise SelfTestFailed("the main window did not show")
            if warnings:
                raise SelfTestFailed("Qt warned: " + " | ".join(warnings[:5]))
        except Exception as exc:
            print(f"mdt self-test FAILED at {step}: {exc}", file=sys.stderr)
            return 1
    seconds = time.perf_counter() - started
    print(f"mdt self-test OK: {cipher} cache, {forms} forms, {tables} code tables, main window "
          f"shown offscreen, agency file: {agency.path or 'none'} ({seconds:.2f} s)")
    return 0
