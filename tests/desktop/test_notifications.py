"""Desktop notifications over a real D-Bus session bus (a private dbus-daemon): the app's client
sends Notify to org.freedesktop.Notifications; a test service answers, and dbus-monitor
captures the call on the bus. The text names the kind of alert, never the person."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

from pytestqt.qtbot import QtBot

from tests.desktop.conftest import _stop

DAEMON = Path(__file__).with_name("notification_daemon.py")


def test_a_notification_reaches_the_session_bus_naming_the_kind_only(session_bus: str,
                                                                     qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QWidget

    from mdt.ui.alert_sound import DesktopNotifier

    monitor = subprocess.Popen(["dbus-monitor", "--session",
                                "interface='org.freedesktop.Notifications',member='Notify'"],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    daemon = subprocess.Popen([sys.executable, str(DAEMON)], stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    try:
        assert daemon.stdout is not None and monitor.stdout is not None
        assert json.loads(daemon.stdout.readline()) == {"ready": True}
        time.sleep(0.3)  # dbus-monitor has its match rule in place
        window = QWidget()
        qtbot.addWidget(window)
        notifier = DesktopNotifier(window)
        assert notifier.backend == "freedesktop"
        notifier.notify([{"id": "a", "kind": "ivf_hit", "severity": "critical",
                          "title": "IMMIGRATION VIOLATOR HIT — Deported felon: ZANMIR, SOREN T"},
                         {"id": "b", "kind": "caution", "severity": "critical",
                          "title": "HIT — 00 ARMED AND DANGEROUS — vehicle: plate TRN4821 VA"}])
        assert notifier.dbus is not None and notifier.dbus.flush(10)
        sent = notifier.dbus.sent[-1]
        assert sent.error == "" and sent.id == 1  # the id the service gave back
        received = json.loads(daemon.stdout.readline())
        assert received["summary"] == "MDT alert"
        assert received["body"] == "Hit with caution, Immigration violator hit — open the terminal"
        assert received["urgency"] == 2 and received["app"] == "MDT"  # critical
        notifier.close()
    finally:
        _stop(daemon)
        time.sleep(0.2)
        _stop(monitor, keep_output=True)
    assert monitor.stdout is not None
    captured = monitor.stdout.read()
    monitor.stdout.close()
    assert "member=Notify" in captured, captured
    assert 'string "Hit with caution, Immigration violator hit — open the terminal"' in captured
    for private in ("ZANMIR", "SOREN", "TRN4821", "Deported"):
        assert private not in captured


def test_without_a_notification_service_the_failure_is_kept_not_raised(session_bus: str) -> None:
    from mdt.desktop.notify import FreedesktopNotifier

    notifier = FreedesktopNotifier()  # nobody owns org.freedesktop.Notifications on this bus
    notifier.notify("MDT alert", "Detainer — open the terminal", "critical")
    assert notifier.flush(10)
    assert notifier.sent[-1].id is None
    assert "ServiceUnknown" in notifier.sent[-1].error or "ServiceUnknown" in repr(
        notifier.sent[-1])
    notifier.close()
