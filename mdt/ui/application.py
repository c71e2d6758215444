"""Starting the GUI: the QApplication, the theme (before any window), the first window, then the
controller.

The first window is the sign-in page alone, shown as soon as Qt can: before it only the
command line is parsed and the theme read (:func:`mdt.settings.first_look`, so a night start
never flashes a light window). The settings (validated: pydantic), the agency file and the
services (:class:`~mdt.services.terminal.Terminal`) load after it, on a worker
(:func:`load_terminal`); the window is then wired to its controller (:class:`Start`). A wrong
agency file or settings file still stops the start, with its reason in a box over the window.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from mdt import __version__
from mdt.app import collector
from mdt.settings import Look, first_look
from mdt.ui.main_window import MainWindow
from mdt.ui.theme import apply_theme, fusion_application

if TYPE_CHECKING:
    import argparse

    from PySide6.QtWidgets import QMessageBox

    from mdt.agency_config import AgencyConfig
    from mdt.app.controller import AppController
    from mdt.app.tasks import TaskRunner
    from mdt.services.terminal import Terminal
    from mdt.settings import Settings

# The GUI thread asks for the interpreter back after each Qt call; with Python's default 5 ms
# switch interval a worker parsing events or a page of returns keeps it that long every time
# (a form view took three times as long to build while a worker ran). 1 ms keeps the GUI
# thread's waits short at a small cost in switches for the workers.
GUI_SWITCH_INTERVAL_S = 0.001

# What has no place before the first window: the probe (``--startup-probe``) reports which of
# these were loaded when the window was shown; tests/qt/test_startup_path.py checks it.
NOT_BEFORE_THE_FIRST_WINDOW = (
    "pydantic", "pydantic_core", "httpx", "httpcore", "rich", "asyncio", "ssl", "sqlcipher3",
    "keyring", "mdt.agency_config", "mdt.app.controller", "mdt.services", "mdt.net",
    "mdt.store.cache", "mdt.store.writer_thread", "mdt.ui.terminal_page")


def loaded_too_early() -> list[str]:
    """Which of :data:`NOT_BEFORE_THE_FIRST_WINDOW` (a package counts with its modules) are
    loaded now."""
    loaded = set(sys.modules)
    return [name for name in NOT_BEFORE_THE_FIRST_WINDOW
            if name in loaded or any(m.startswith(name + ".") for m in loaded)]


def create_window(settings: Settings, agency: AgencyConfig | None = None
                  ) -> tuple[AppController, MainWindow]:
    """The controller and the window wired to it, at once (tests, screenshots, the self-test)."""
    from mdt.app.controller import AppController
    from mdt.services.terminal import Terminal

    sys.setswitchinterval(min(sys.getswitchinterval(), GUI_SWITCH_INTERVAL_S))
    controller = AppController(Terminal(settings, agency=agency))
    window = MainWindow(controller)
    collector.freeze()  # what the start made lives as long as the window (mdt.app.collector)
    return controller, window


def load_agency(settings: Settings) -> AgencyConfig:
    """The agency file, applied to the settings; a wrong one stops the start with its reason."""
    from mdt.agency_config import apply_agency_config, load_agency_config

    config = load_agency_config()
    apply_agency_config(settings, config)
    return config


def load_terminal(gateway: str | None = None, ca_bundle: str | None = None,
                  theme: str | None = None) -> Terminal:
    """On a worker, after the first window: the settings (read and validated), the agency file
    on top, the command line's choices (kept), and the services built on them. Raises
    :class:`~mdt.settings.SettingsError` or :class:`~mdt.agency_config.AgencyConfigError`."""
    from mdt.services.terminal import Terminal
    from mdt.settings import Settings

    settings = Settings()
    agency = load_agency(settings)
    if gateway:
        settings.set("gateway_url", gateway)
        settings.set("ca_bundle", ca_bundle or "")
    if theme:
        settings.set("theme", theme)
    settings.save()
    terminal = Terminal(settings, agency=agency)
    _read_ahead()
    return terminal


def _read_ahead() -> None:
    """What the GUI thread uses next, to wire the window to its controller, loaded here on the
    worker: its modules, and the Python side of the Qt classes it makes or asks for (Qt's
    namespace, Qt's events, the style's QStyle: a class's enums are Python enums made on first use, QStyle's
    ~25 ms; the GUI thread touches none of them until the load is done)."""
    from PySide6.QtCore import QEvent, Qt
    from PySide6.QtGui import QKeySequence, QShortcut
    from PySide6.QtWidgets import (
        QHeaderView,
        QMessageBox,
        QStyle,
        QTableWidget,
        QTableWidgetItem,
    )

    import mdt.app.controller
    import mdt.core.present
    import mdt.desktop.speech
    import mdt.ui.alert_bar
    import mdt.ui.alert_sound
    import mdt.ui.lock_screen  # noqa: F401

    _ = (Qt.AlignmentFlag, QEvent.Type, QKeySequence, QShortcut, QHeaderView, QMessageBox, QStyle,
         QTableWidget, QTableWidgetItem)


class Start:
    """The GUI's start after the first window: :meth:`begin` loads :func:`load_terminal` on a
    worker; then the window gets its controller (and the validated settings' look, where the
    first one differs), or, when a file is wrong, a box over the window with the reason, and
    the end of the start when it is closed (exit status 2; 1 for a bug). (A plain class: a
    dataclass would import :mod:`dataclasses` and compile its methods before the first window.)
    """

    def __init__(self, app: QApplication, window: MainWindow, look: Look,
                 load: Callable[[], Terminal], ready: Callable[[], None] = lambda: None,
                 refused: Callable[[str, int], None] | None = None) -> None:
        self.app, self.window, self.look, self.load = app, window, look, load
        self.ready = ready  # the window has its controller
        self.refused = refused  # instead of the box (the probe)
        self.controller: AppController | None = None
        self.refusal: QMessageBox | None = None  # the box saying why the start stopped
        self._tasks: TaskRunner | None = None

    def begin(self) -> None:
        from mdt.app.tasks import TaskRunner

        self._tasks = TaskRunner(self.window, workers=1)
        self._tasks.run(self.load, self._loaded)

    def _loaded(self, terminal: Any, error: BaseException | None) -> None:
        from mdt.agency_config import AgencyConfigError
        from mdt.settings import SettingsError

        if isinstance(error, AgencyConfigError | SettingsError):
            self._refuse(str(error), 2)
            return
        if error is not None:  # a bug: its type, and the traceback in the program's output
            from mdt.app.errors import describe_error

            logging.getLogger(__name__).error("the start failed", exc_info=error)
            self._refuse(describe_error(error), 1)
            return
        from mdt.app.controller import AppController

        settings = terminal.settings
        look = Look(settings.theme, settings.high_contrast, settings.font_scale)
        if look != self.look:  # the file held a value the first look did not take
            apply_theme(self.app, look.theme, high_contrast=look.high_contrast,
                        font_scale=look.font_scale)
        self.controller = AppController(terminal)
        self.window.attach(self.controller)
        collector.freeze()  # the services and the wired window live as long as it does
        self.ready()

    def _refuse(self, reason: str, status: int) -> None:
        from PySide6.QtWidgets import QMessageBox

        print(f"mdt: {reason}", file=sys.stderr, flush=True)
        if self.refused is not None:
            self.refused(reason, status)
            return
        box = QMessageBox(QMessageBox.Icon.Critical, "MDT cannot start", reason,
                          QMessageBox.StandardButton.Ok, self.window)
        box.setObjectName("StartRefused")
        box.finished.connect(lambda _result: self.app.exit(status))
        box.open()
        self.refusal = box

    def close(self) -> None:
        """When the GUI quits: the settings kept, the load and the controller stopped."""
        if self._tasks is not None:
            self._tasks.shutdown()
        if self.controller is not None:
            self.controller.settings.save()
            self.controller.shutdown()


def run_gui(argv: Sequence[str], parsed: argparse.Namespace | None = None) -> int:
    """``mdt`` / ``mdt gui`` with these arguments (:func:`mdt.entry.parse`; ``parsed``: what it
    made of them already)."""
    from mdt.entry import parse

    args = parsed or parse(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    sys.setswitchinterval(min(sys.getswitchinterval(), GUI_SWITCH_INTERVAL_S))
    app = QApplication.instance() or fusion_application(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("MDT")
    app.setApplicationVersion(__version__)
    look = first_look()
    if args.theme:
        look = Look(args.theme, look.high_contrast, look.font_scale)
    # Before the first window: a night-mode start never flashes a light window.
    apply_theme(app, look.theme, high_contrast=look.high_contrast, font_scale=look.font_scale)
    window = MainWindow()
    window.show()
    window.activateWindow()  # no window manager (a kiosk, Xvfb): keys and F10 reach it at once
    collector.freeze()  # what the start made lives as long as the window (mdt.app.collector)
    start = Start(app, window, look, lambda: load_terminal(args.gateway, args.ca_bundle,
                                                           args.theme))
    if args.startup_probe:
        _probe(app, start)
    QTimer.singleShot(0, window, start.begin)
    try:
        return app.exec()
    finally:
        start.close()


def _probe(app: QApplication, start: Start) -> None:
    """``--startup-probe`` (benchmarks/startup.py): say what was loaded when the first window
    was shown, when it is up, and when the sign-in page has its controller; then quit."""
    print("start-path-modules: " + ",".join(loaded_too_early()), flush=True)
    QTimer.singleShot(0, app, lambda: print("first-window-shown", flush=True))

    def ready() -> None:
        print("sign-in-ready", flush=True)
        QTimer.singleShot(0, app, app.quit)

    start.ready = ready
    start.refused = lambda _reason, status: app.exit(status)
