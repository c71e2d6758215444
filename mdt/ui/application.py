"""Starting the GUI: the QApplication, the theme (before any window), the controller, the window."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from PySide6.QtWidgets import QApplication, QMessageBox

from mdt import __version__
from mdt.agency_config import (
    AgencyConfig,
    AgencyConfigError,
    apply_agency_config,
    load_agency_config,
)
from mdt.app import collector
from mdt.app.controller import AppController
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.ui.main_window import MainWindow
from mdt.ui.theme import apply_theme

# The GUI thread asks for the interpreter back after each Qt call; with Python's default 5 ms
# switch interval a worker parsing events or a page of returns keeps it that long every time
# (a form view took three times as long to build while a worker ran). 1 ms keeps the GUI
# thread's waits short at a small cost in switches for the workers.
GUI_SWITCH_INTERVAL_S = 0.001


def create_window(settings: Settings, agency: AgencyConfig | None = None
                  ) -> tuple[AppController, MainWindow]:
    sys.setswitchinterval(min(sys.getswitchinterval(), GUI_SWITCH_INTERVAL_S))
    controller = AppController(Terminal(settings, agency=agency))
    window = MainWindow(controller)
    collector.freeze()  # what the start made lives as long as the window (mdt.app.collector)
    return controller, window


def load_agency(settings: Settings) -> AgencyConfig:
    """The agency file, applied to the settings; a wrong one stops the start with its reason."""
    config = load_agency_config()
    apply_agency_config(settings, config)
    return config


def run_gui(argv: Sequence[str]) -> int:
    """``mdt`` / ``mdt gui`` with these arguments (:func:`mdt.entry.parse`)."""
    from mdt.entry import parse

    args = parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings()
    try:
        agency = load_agency(settings)
    except AgencyConfigError as exc:
        print(f"mdt: {exc}", file=sys.stderr)
        app = QApplication.instance() or QApplication(sys.argv[:1])
        QMessageBox.critical(None, "MDT cannot start", str(exc))
        return 2
    if args.gateway:
        settings.set("gateway_url", args.gateway)
        settings.set("ca_bundle", args.ca_bundle or "")
    if args.theme:
        settings.set("theme", args.theme)
    settings.save()
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("MDT")
    app.setApplicationVersion(__version__)
    # Before the first window: a night-mode start never flashes a light window.
    apply_theme(app, settings.theme, high_contrast=settings.high_contrast,
                font_scale=settings.font_scale)
    controller, window = create_window(settings, agency)
    window.show()
    window.activateWindow()  # no window manager (a kiosk, Xvfb): keys and F10 reach it at once
    if args.startup_probe:  # benchmarks/startup.py: say when the first window is up, then quit
        from PySide6.QtCore import QTimer

        # What the start path imported (the network stack and the cache have no place on it).
        heavy = ("httpx", "rich", "asyncio", "ssl", "pydantic", "sqlcipher3", "keyring",
                 "mdt.net.gateway", "mdt.store.cache")
        print("start-path-modules: " + ",".join(m for m in heavy if m in sys.modules),
              flush=True)

        def shown() -> None:
            print("first-window-shown", flush=True)
            app.quit()

        QTimer.singleShot(0, shown)
    try:
        return app.exec()
    finally:
        settings.save()
        controller.shutdown()
