"""How alerts reach an operator who is not looking: sounds, a desktop notification, read-aloud.

- Each severity has its own sound (``resources/sounds/<severity>.wav``, made by
  ``scripts/make_sounds.py``; an agency may ship others). A new alert plays its sound once; while
  any critical alert is open the critical sound repeats until someone acknowledges it. Sounds do
  not depend on the window: they play while it is minimised or behind another one.
- The player needs no extra Qt module: ``winsound`` on Windows, the desktop's own player on Linux
  (``paplay`` / ``aplay``) and macOS (``afplay``), started detached from a worker thread so the GUI
  thread never waits, and the system beep where there is none of those.
- A desktop notification says only which kind of alert came, never whom it is about:
  notification daemons keep their own history, outside the encrypted cache. On Linux it goes to
  the freedesktop notification service over D-Bus (:mod:`mdt.desktop.notify`); elsewhere, or
  without a session bus, to the system tray's message (a toast on Windows); always the taskbar's
  attention flag.
- Read-aloud, for an officer who is driving (:mod:`mdt.desktop.speech`): critical and high
  alerts in short sentences ("Hit. Stolen vehicle. Plate T R N 4 8 2 1. Armed and dangerous."),
  a person's data only as far as the setting ``read_aloud_detail`` allows, cut off when the
  alert is acknowledged.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QProcess, QTimer
from PySide6.QtWidgets import QApplication, QSystemTrayIcon, QWidget

from mdt.core.alerts import KIND_WORDS, AlertKind, AlertSeverity
from mdt.desktop.notify import FreedesktopNotifier, session_bus_available
from mdt.desktop.speech import Engine, choose_engine, spoken_text
from mdt.paths import resources_dir

SEVERITIES = ("critical", "high", "info")


def default_sounds() -> dict[str, Path]:
    return {name: resources_dir() / "sounds" / f"{name}.wav" for name in SEVERITIES}


def _find_player() -> list[str] | None:
    for program, args in (("paplay", []), ("aplay", ["-q"]), ("afplay", [])):
        found = shutil.which(program)
        if found:
            return [found, *args]
    return None


class SoundPlayer:
    """Plays a severity's sound without blocking; ``backend`` says how it will be played."""

    def __init__(self, sounds: dict[str, Path] | None = None) -> None:
        self.sounds = {**default_sounds(), **(sounds or {})}
        self._command = None if sys.platform == "win32" else _find_player()
        self.backend = "winsound" if sys.platform == "win32" else (
            Path(self._command[0]).name if self._command else "beep")
        self._launcher: ThreadPoolExecutor | None = None  # starts the player off the GUI thread

    def play(self, severity: str) -> None:
        path = self.sounds.get(severity) or self.sounds["info"]
        if sys.platform == "win32":
            import winsound

            winsound.PlaySound(str(path), winsound.SND_FILENAME | winsound.SND_ASYNC
                               | winsound.SND_NODEFAULT)
        elif self._command:
            # Starting a process (a fork and an exec, ~10 ms) is not the GUI thread's work.
            if self._launcher is None:
                self._launcher = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mdt-sound")
            self._launcher.submit(self._start, self._command, path)
        else:
            QApplication.beep()

    @staticmethod
    def _start(command: list[str], path: Path) -> None:
        if path.exists():
            QProcess.startDetached(command[0], [*command[1:], str(path)])


class Speaker:
    """Reads alerts aloud through the engine :func:`mdt.desktop.speech.choose_engine` finds;
    ``status`` says which one, or why there is none."""

    def __init__(self, engine: Engine | None = None, preference: str = "auto") -> None:
        if engine is None:
            engine, self.status = choose_engine(preference)
        else:
            self.status = f"Read-aloud through {engine.name}."
        self.engine = engine

    @property
    def available(self) -> bool:
        return self.engine is not None

    def say(self, text: str, *, urgent: bool = False) -> bool:
        if self.engine is None:
            return False
        try:
            self.engine.say(text, urgent=urgent)
        except OSError as exc:
            self.status = f"Read-aloud failed: {exc}"
            return False
        return True

    def stop(self) -> None:
        if self.engine is not None:
            self.engine.stop()


class AlertSounder(QObject):
    """Decides what sounds when: once per new alert (the loudest new one), and the critical sound
    again every ``repeat_ms`` while a critical alert is open."""

    def __init__(self, player: SoundPlayer | None = None, *, repeat_ms: int = 8000,
                 speaker: Speaker | None = None, read_aloud: Callable[[], bool] = lambda: False,
                 detail: Callable[[], str] = lambda: "vehicle",
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.player = player or SoundPlayer()
        self.speaker = speaker or Speaker()
        self.read_aloud = read_aloud
        self.detail = detail
        self.played: list[str] = []  # severities, in order: what the operator heard
        self.spoken: list[str] = []
        self._speaking_id: str | None = None  # the alert being read, cut off when acknowledged
        self._heard: set[str] = set()
        self._repeat = QTimer(self)
        self._repeat.setInterval(repeat_ms)
        self._repeat.timeout.connect(lambda: self._play("critical"))

    @property
    def repeating(self) -> bool:
        return self._repeat.isActive()

    def _play(self, severity: str) -> None:
        self.played.append(severity)
        self.player.play(severity)

    def update(self, open_alerts: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
        """Take the open alerts now; returns the ones not seen before."""
        alerts = list(open_alerts)
        new = [a for a in alerts if a["id"] not in self._heard]
        self._heard.update(a["id"] for a in alerts)
        if new:
            loudest = max(new, key=lambda a: AlertSeverity(a["severity"]).rank)
            self._play(str(loudest["severity"]))
            if self.read_aloud() and AlertSeverity(loudest["severity"]).rank >= 2:
                text = spoken_text(loudest, self.detail())
                if self.speaker.say(text, urgent=loudest["severity"] == "critical"):
                    self.spoken.append(text)
                    self._speaking_id = str(loudest["id"])
        if self._speaking_id is not None and self._speaking_id not in {
                str(a["id"]) for a in alerts}:
            self._speaking_id = None  # acknowledged while it was being read: stop at once
            self.speaker.stop()
        if any(a["severity"] == "critical" for a in alerts):
            if not self._repeat.isActive():
                self._repeat.start()
        else:
            self._repeat.stop()
        return new


class DesktopNotifier:
    """Tells the desktop that an alert came: the taskbar flag and a notification naming only
    the kind of alert, through the freedesktop service on Linux (``backend`` "freedesktop") or
    the system tray's message ("tray"), where there is one."""

    def __init__(self, window: QWidget, *, use_dbus: bool | None = None) -> None:
        self.window = window
        self.sent: list[str] = []
        self.tray: QSystemTrayIcon | None = None
        self.dbus: FreedesktopNotifier | None = None
        if use_dbus is None:
            use_dbus = sys.platform.startswith("linux") and session_bus_available()
        if use_dbus:
            self.dbus = FreedesktopNotifier()
            self.backend = "freedesktop"
        elif QSystemTrayIcon.isSystemTrayAvailable():
            self.tray = QSystemTrayIcon(window.windowIcon(), window)
            self.tray.show()
            self.backend = "tray"
        else:
            self.backend = "taskbar"

    def notify(self, alerts: Iterable[dict[str, Any]]) -> None:
        alerts = list(alerts)
        if not alerts:
            return
        kinds = sorted({KIND_WORDS.get(AlertKind(a["kind"]), a["kind"]) for a in alerts})
        text = f"{', '.join(kinds)} — open the terminal"
        self.sent.append(text)
        QApplication.alert(self.window, 0)
        critical = any(a["severity"] == "critical" for a in alerts)
        if self.dbus is not None:
            self.dbus.notify("MDT alert", text, "critical" if critical else "high")
        elif self.tray is not None:
            icon = QSystemTrayIcon.MessageIcon.Critical if critical else \
                QSystemTrayIcon.MessageIcon.Information
            self.tray.showMessage("MDT alert", text, icon, 15000)

    def close(self) -> None:
        if self.dbus is not None:
            self.dbus.close()
