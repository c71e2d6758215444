"""Alerts in the real GUI (offscreen) against the real training gateway: the alert bar that a
critical alert cannot leave without an acknowledgement, its sound repeating until then (window
minimised too), the YQ built from the hit with its countdown, and the dispatcher's agency queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from mdt.core.confirmation import IncomingRequest
from mdt.settings import Settings
from mdt.ui.alert_bar import AlertBar
from mdt.ui.alerts_view import AlertHistoryModel
from mdt.ui.application import create_window
from mdt.ui.confirmation_view import IncomingQueueModel
from mdt.ui.main_window import MainWindow
from mdt.ui.theme import apply_theme
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


@pytest.fixture
def slow_confirming_gateway(gateway_with: Callable[..., Gateway]) -> Gateway:
    """LESC answers a YQ after 3 s: long enough to see the countdown first."""
    return gateway_with("--confirm-delay", "3")


def signed_in(qtbot: QtBot, gateway: Gateway, user: str) -> tuple[Any, MainWindow]:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "day")
    settings = Settings()
    settings.set("gateway_url", gateway.url)
    settings.set("operator_phone", "410-555-0112")
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    login = window.login
    qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
    login.use_demo_account(user)
    qtbot.waitUntil(lambda: bool(login.otp.text()), timeout=5000)
    login.do_sign_in()
    # (terminal_ready first: asking for window.terminal would make the page at once, while it
    # is being made a part per turn of the event loop.)
    qtbot.waitUntil(lambda: window.terminal_ready and "YQ" in window.terminal.views,
                    timeout=15000)
    return controller, window


def alert_up(window: MainWindow) -> bool:
    """An alert is on screen: on the bar, or (about the return in view) in that return's
    header, which then carries its acknowledge button (one banner for one hit)."""
    bar = window.alert_bar
    return bar.current is not None and (bar.isVisible() or window.terminal.ack_here.isVisible())


def test_critical_hit_stays_until_acknowledged_then_yq_and_countdown(
        qtbot: QtBot, slow_confirming_gateway: Gateway, gui_thread_guard: list[str]) -> None:
    controller, window = signed_in(qtbot, slow_confirming_gateway, "officer1")
    bar, page = window.alert_bar, window.terminal
    window.sounder._repeat.setInterval(100)  # the critical sound repeats (8 s in service)
    try:
        page.command.setText("QW NAM/ZANMIR, SOREN T.DOB/19790704")
        page.run_command()
        qtbot.waitUntil(lambda: alert_up(window), timeout=15000)
        # The hit's return is in view (the alert may be read a turn of the event loop before
        # the return is shown, and be on the bar for that turn): its header carries the alert,
        # the bar leaves it there; another tab, and the bar takes it back.
        qtbot.waitUntil(lambda: page.ack_here.isVisible() and not bar.isVisible(), timeout=5000)
        assert page.ack_here.text() == "Acknowledge (Ctrl+K)"
        page.show_part(page.forms_panel)
        assert bar.isVisible() and not page.ack_here.isVisible()
        page.show_part(page.returns_panel)
        assert page.ack_here.isVisible() and not bar.isVisible()
        assert bar.severity.text().startswith("CRITICAL")
        assert "IMMIGRATION VIOLATOR HIT" in bar.title.text()
        assert "Deported felon" in bar.detail.text() and "AGENCY POLICY" in bar.detail.text()
        assert window.sounder.played[0] == "critical" and window.sounder.repeating

        # Nothing but an acknowledgement takes it away.
        qtbot.keyClick(bar, Qt.Key.Key_Escape)
        qtbot.keyClick(page.command, Qt.Key.Key_Escape)
        dialog = window.open_alerts()
        qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=5000)
        assert dialog.model.data(dialog.model.index(0, 5)) == "NOT ACKNOWLEDGED"
        dialog.reject()
        assert alert_up(window)
        assert not any(isinstance(child, type(bar.ack)) and "Dismiss" in child.text()
                       for child in bar.findChildren(type(bar.ack)))

        # The sound repeats while the window is minimised.
        window.showMinimized()
        heard = len(window.sounder.played)
        qtbot.waitUntil(lambda: len(window.sounder.played) >= heard + 3, timeout=5000)
        window.showNormal()

        # One action builds the YQ from the hit; Enter sends it; the countdown shows beside it.
        row = next(i for i, r in enumerate(page.model.rows) if r.hit)
        page.table.selectRow(row)
        qtbot.waitUntil(lambda: page.hit_panel.isVisible() and bool(page.hit_panel.lines),
                        timeout=5000)
        line = page.hit_panel.lines[0]
        assert "Not confirmed yet" in line.state.text()
        assert "AGENCY POLICY" in line.policy.text()
        qtbot.mouseClick(line.urgent, Qt.MouseButton.LeftButton)
        form = page.views["YQ"]
        qtbot.waitUntil(lambda: form.values().get("NIC") == line.nic, timeout=5000)
        values = form.values()
        assert (values["RTY"], values["PRI"], values["RNO"]) == ("WP", "U", "1")
        assert values["NAM"] == "ZANMIR, SOREN T" and values["PHO"] == "410-555-0112"
        assert form.dest is not None and form.dest.text() == "VTICE0900"
        form.send()
        qtbot.waitUntil(lambda: "left" in page.hit_panel.lines[0].state.text(), timeout=15000)
        assert "urgent" in page.hit_panel.lines[0].state.text()
        qtbot.waitUntil(lambda: "answer to my YQ" in window.next_deadline.text(), timeout=10000)
        assert "left" in window.next_deadline.text()  # the status bar's clock
        qtbot.waitUntil(lambda: "CONFIRMED by" in page.hit_panel.lines[0].state.text(),
                        timeout=15000)

        # Acknowledge: the critical hit goes; the YR (high) is next; the sound stops.
        ivf_id = next(a["id"] for a in bar.alerts if a["kind"] == "ivf_hit")
        while bar.current is not None and bar.current["id"] != ivf_id:
            bar.acknowledge_current()  # earlier alerts of this test, if any
            qtbot.wait(50)
        qtbot.mouseClick(page.ack_here if bar.is_deferred() else bar.ack,
                         Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: all(a["id"] != ivf_id for a in bar.alerts), timeout=5000)
        qtbot.waitUntil(lambda: not window.sounder.repeating, timeout=5000)
        assert bar.current is None or bar.current["severity"] != "critical"
        dialog = window.open_alerts()
        qtbot.waitUntil(lambda: any(a["id"] == ivf_id and a["acked_by"] == "officer1"
                                    for a in dialog.model.alerts), timeout=5000)
        dialog.close()
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()


def _inject(gateway: Gateway, events: list[dict[str, Any]]) -> None:
    account = gateway.demo_account("trainer1")
    token = httpx.post(f"{gateway.url}/v1/sessions", timeout=10, json={
        "user_id": "trainer1", "password": account["password"], "otp": account["otp_now"],
        "device_id": "test"}).json()["token"]
    answer = httpx.post(f"{gateway.url}/v1/training/events", timeout=10,
                        headers={"Authorization": f"Bearer {token}"},
                        json={"ori": "MD1012600", "events": events})
    assert answer.status_code < 300, answer.text


def test_dispatcher_queue_sorted_louder_repeats_and_answered_in_time(
        qtbot: QtBot, gateway: Gateway, gui_thread_guard: list[str]) -> None:
    controller, window = signed_in(qtbot, gateway, "dispatch1")
    page = window.terminal
    try:
        # A dispatcher's layout: the queue and the unit list beside the returns and the form.
        assert page.layout_kind == "dispatcher" and page.tabs is None
        assert page.queue.isVisible() and page.units.isVisible()
        assert page.forms_panel.isVisible() and page.returns_panel.isVisible()
        qtbot.waitUntil(lambda: page.units.model.rowCount() >= 3, timeout=10000)
        units = {u["user_id"]: u for u in page.units.model.units}
        assert set(units) == {"officer1", "officer2", "dispatch1"}  # MD1012600's terminals
        assert units["dispatch1"]["signed_in"] is True
        assert "signed in" in page.units.heading.text()
        base = {"type": "hit_confirmation_request", "requesting_ori": "VA0290000",
                "requesting_name": "DEPUTY PAT PRACTICE", "phone": "703-555-0129", "pri": "U"}
        _inject(gateway, [
            {**base, "rty": "SV", "rno": "1", "oca": "26-004513", "nic": "V260000002",
             "respond_in": 540, "data_set": {"LIC": "TRN5007", "LIS": "MD"}},
            {**base, "rty": "WP", "rno": "2", "oca": "26-000777", "nic": "W260000011",
             "respond_in": 200, "data_set": {"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312"}}])
        model = page.queue.model
        qtbot.waitUntil(lambda: model.rowCount() == 2, timeout=15000)
        assert [item.nic for item in model.items] == ["W260000011", "V260000002"]
        assert model.data(model.index(0, 1)) == "2ND REQUEST"
        assert model.data(model.index(0, 1), Qt.ItemDataRole.FontRole).bold()
        assert "left" in model.data(model.index(0, 0))
        assert "2 waiting" in page.queue.heading.text()
        assert window.alert_bar.title.text().startswith("SECOND REQUEST")

        page.queue.table.selectRow(1)
        qtbot.mouseClick(page.queue.confirm, Qt.MouseButton.LeftButton)
        form = page.views["YR"]
        qtbot.waitUntil(lambda: form.values().get("NIC") == "V260000002", timeout=5000)
        assert form.values()["CST"] == "Y" and form.values()["LIC"] == "TRN5007"
        assert form.dest is not None and form.dest.text() == "VA0290000"
        form.send()
        qtbot.waitUntil(lambda: any(i.nic == "V260000002" and i.answered_by
                                    for i in model.items), timeout=15000)
        answered = next(r for r, i in enumerate(model.items) if i.nic == "V260000002")
        assert model.data(model.index(answered, 8)) == "answered: confirmed"
        qtbot.waitUntil(lambda: "1 waiting" in page.queue.heading.text(), timeout=5000)

        # A message to a unit: the AM form opens addressed to our ORI, naming the unit.
        row = next(r for r, u in enumerate(page.units.model.units) if u["user_id"] == "officer1")
        page.units.table.selectRow(row)
        qtbot.mouseClick(page.units.message, Qt.MouseButton.LeftButton)
        am = page.views["AM"]
        assert am.values()["TXT"].startswith("ATTN CAR 12:")
        assert am.dest is not None and am.dest.text() == "MD1012600"

        # Switch to the officer layout and back (Ctrl+Shift+D): the same widgets, re-laid.
        window.toggle_layout()
        assert page.layout_kind == "officer" and page.tabs is not None
        assert not page.units.isVisible()
        window.toggle_layout()
        assert page.layout_kind == "dispatcher" and page.queue.isVisible()
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()


def test_models_pass_qtmodeltester(qtmodeltester: Any) -> None:
    history = AlertHistoryModel()
    history.set_alerts([
        {"id": "a", "kind": "hit", "severity": "critical", "title": "HIT", "body": {},
         "created_at": "2026-11-24T20:00:00Z", "deadline": None, "acked_by": None,
         "acked_at": None},
        {"id": "b", "kind": "strange", "severity": "info", "title": "?", "body": {},
         "created_at": "2026-11-24T20:01:00Z", "deadline": "2026-11-24T20:11:00Z",
         "acked_by": "officer1", "acked_at": "2026-11-24T20:02:00Z"}])
    qtmodeltester.check(history)
    from datetime import UTC, datetime, timedelta

    now = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    queue = IncomingQueueModel()
    queue.set_items([
        IncomingRequest({"nic": "V1", "rty": "SV", "pri": "U", "data_set": {"LIC": "A1"}},
                        ["r1"], 2, now - timedelta(minutes=1), "x"),
        IncomingRequest({"nic": "V2", "rty": "WP", "pri": "R", "data_set": {}}, ["r2"], 1,
                        None, "x", {"fields": {"CST": "N"}})], now)
    qtmodeltester.check(queue)
    assert queue.data(queue.index(0, 8)) == "OVERDUE — answer now"
    assert queue.data(queue.index(1, 8)) == "answered: not confirmed"


def test_alert_bar_shows_the_loudest_first_and_escape_does_nothing(qtbot: QtBot) -> None:
    bar = AlertBar()
    qtbot.addWidget(bar)
    alerts = [
        {"id": "i", "kind": "admin", "severity": "info", "title": "Message", "body": {},
         "created_at": "2026-11-24T20:00:00Z", "deadline": None},
        {"id": "c", "kind": "incoming_yq", "severity": "critical", "title": "Confirm",
         "body": {"rno": 3}, "created_at": "2026-11-24T19:00:00Z",
         "deadline": "2000-01-01T00:00:00Z"}]
    bar.set_alerts(alerts, 0.0)
    bar.show()
    assert bar.current is not None and bar.current["id"] == "c"
    assert bar.countdown.text().startswith("OVERDUE")
    assert bar.property("request") == 3  # a third request is drawn louder
    assert bar.more.text() == "All alerts (+1)"
    with qtbot.assertNotEmitted(bar.acknowledge_requested):
        qtbot.keyClick(bar, Qt.Key.Key_Escape)
    assert bar.isVisible()
    with qtbot.waitSignal(bar.acknowledge_requested) as signal:
        bar.ack.click()
    assert signal.args == ["c"]
    bar.set_alerts([], 0.0)
    assert not bar.isVisible()


def test_desktop_notification_names_the_kind_never_the_person(qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QWidget

    from mdt.ui.alert_sound import DesktopNotifier

    window = QWidget()
    qtbot.addWidget(window)
    notifier = DesktopNotifier(window)
    notifier.notify([{"id": "a", "kind": "ivf_hit", "severity": "critical",
                      "title": "IMMIGRATION VIOLATOR HIT — Deported felon: ZANMIR, SOREN T"}])
    assert notifier.sent == ["Immigration violator hit — open the terminal"]
    assert "ZANMIR" not in " ".join(notifier.sent)


def test_sounds_differ_by_severity_and_read_aloud_says_high_ones(qtbot: QtBot) -> None:
    from mdt.desktop.speech import Engine
    from mdt.ui.alert_sound import AlertSounder, SoundPlayer, Speaker

    class Recording(Engine):
        name = "recording"

        def _say(self, text: str, urgent: bool) -> None:
            pass

    player = SoundPlayer()
    assert {p.name for p in player.sounds.values()} == {"critical.wav", "high.wav", "info.wav"}
    assert len({p.read_bytes() for p in player.sounds.values()}) == 3  # three distinct sounds
    speaker = Speaker(Recording())
    sounder = AlertSounder(player, speaker=speaker, read_aloud=lambda: True)
    new = sounder.update([{"id": "1", "kind": "admin", "severity": "info", "title": "Note"}])
    assert [a["id"] for a in new] == ["1"] and sounder.played == ["info"]
    assert not sounder.repeating
    sounder.update([{"id": "1", "kind": "admin", "severity": "info", "title": "Note"},
                    {"id": "2", "kind": "yr", "severity": "high", "title": "YR CONFIRMED"}])
    assert sounder.played == ["info", "high"]  # each alert sounds once
    assert sounder.spoken == ["Hit confirmation response."]  # info alerts are not read
    sounder.update([{"id": "3", "kind": "detainer", "severity": "critical", "title": "D"}])
    assert sounder.played[-1] == "critical" and sounder.repeating
    sounder.update([])  # acknowledged: the repeating stops
    assert not sounder.repeating
