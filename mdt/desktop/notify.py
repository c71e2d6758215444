"""Desktop notifications through the freedesktop notification service on the session bus
(``org.freedesktop.Notifications``, which GNOME, KDE, XFCE and others all provide). No Qt.

A notification names the kind of alert only, never whom or what it is about: notification
daemons keep their own history, outside the encrypted cache. The D-Bus call runs on a thread of
its own, so the GUI never waits for the desktop; :attr:`FreedesktopNotifier.sent` keeps what
was sent and the id the service gave it.
"""

from __future__ import annotations

import os
import queue
import threading
from dataclasses import dataclass
from typing import Any

__all__ = ["FreedesktopNotifier", "Notification", "session_bus_available"]

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
URGENCY = {"info": 0, "high": 1, "critical": 2}  # low, normal, critical (the spec's bytes)


@dataclass
class Notification:
    summary: str
    body: str
    severity: str
    id: int | None = None
    error: str = ""


def session_bus_available() -> bool:
    """Whether this session has a D-Bus session bus to talk to (Linux desktops do)."""
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS") and not os.path.exists(
            f"/run/user/{os.getuid() if hasattr(os, 'getuid') else 0}/bus"):
        return False
    try:
        import jeepney  # noqa: F401
    except ImportError:
        return False
    return True


class FreedesktopNotifier:
    """Sends notifications over D-Bus, one at a time, on a worker thread."""

    app_name = "MDT"
    timeout_ms = 15000

    def __init__(self) -> None:
        self.sent: list[Notification] = []
        self._queue: queue.Queue[Notification | None] = queue.Queue()
        self._connection: Any = None
        self._idle = threading.Event()
        self._idle.set()
        self._thread = threading.Thread(target=self._run, name="mdt-notify", daemon=True)
        self._thread.start()

    def notify(self, summary: str, body: str, severity: str = "info") -> Notification:
        note = Notification(summary, body, severity)
        self._idle.clear()
        self._queue.put(note)
        return note

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every notification asked for so far was sent (tests, shutdown)."""
        return self._idle.wait(timeout)

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join(5)

    def _run(self) -> None:
        while True:
            note = self._queue.get()
            if note is None:
                break
            try:
                note.id = self._send(note)
            except Exception as exc:  # the desktop may have no notification service
                note.error = f"{type(exc).__name__}: {exc}"
                if self._connection is not None:  # a new connection next time
                    self._connection.close()
                    self._connection = None
            self.sent.append(note)
            if self._queue.empty():
                self._idle.set()
        if self._connection is not None:
            self._connection.close()

    def _send(self, note: Notification) -> int:
        from jeepney import DBusAddress, new_method_call
        from jeepney.io.blocking import open_dbus_connection

        if self._connection is None:
            self._connection = open_dbus_connection(bus="SESSION")
        address = DBusAddress(OBJECT_PATH, bus_name=BUS_NAME, interface=BUS_NAME)
        hints = {"urgency": ("y", URGENCY.get(note.severity, 1)),
                 "category": ("s", "im.received"),
                 "desktop-entry": ("s", "mdt")}
        message = new_method_call(address, "Notify", "susssasa{sv}i", (
            self.app_name, 0, "dialog-warning" if note.severity == "critical" else
            "dialog-information", note.summary, note.body, [], hints,
            0 if note.severity == "critical" else self.timeout_ms))
        reply = self._connection.send_and_get_reply(message, timeout=5)
        if reply.header.message_type.name == "error":
            raise RuntimeError(f"{reply.header.fields.get(4, 'D-Bus error')}: {reply.body}")
        return int(reply.body[0])
