"""The sync engine against a gateway that drops connections mid-answer, fails with 503 and sends
live events twice: every query is delivered once and every answer applied once."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from mdt.net.gateway import GatewayError
from mdt.settings import Settings
from mdt.terminal import Terminal
from tests.conftest import start_gateway

pytestmark = pytest.mark.e2e


def test_every_query_delivered_and_answered_once_through_faults(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--drop-rate", "0.2", "--error-rate", "0.1",
                       "--duplicate-rate", "0.5")
    settings = Settings()
    settings.set("gateway_url", gw.url)
    terminal = Terminal(settings)
    try:
        for _ in range(20):  # logging in goes through the faults too
            try:
                account = gw.demo_account("officer1")
                terminal.login("officer1", account["password"], account["otp_now"])
                break
            except GatewayError:
                continue
        sent = [terminal.send("QV", {"LIC": f"FLT{n:04d}", "LIS": "MD"})["id"] for n in range(8)]
        terminal.start_sync()  # the long-running engine: stream, retries, backoff
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            states = {m["id"]: m["state"] for m in terminal.messages(100)}
            if all(states.get(i) == "answered" for i in sent):
                break
            time.sleep(0.3)
        assert all(states.get(i) == "answered" for i in sent), states
        assert terminal.writer is not None
        applied = terminal.writer.call(lambda c: c._conn.execute(
            "SELECT count(*) FROM events").fetchone()[0])
        returns = terminal.recent_returns(100)
        assert sorted(r.message_id for r in returns) == sorted(sent)  # once each, none lost
    finally:
        terminal.close()
        gw.stop()
    conn = sqlite3.connect(gw.data_dir / "gateway.sqlite")
    routed = Counter(r[0] for r in conn.execute("SELECT id FROM messages"))
    events = conn.execute("SELECT count(*) FROM events WHERE recipient = 'officer1'").fetchone()[0]
    conn.close()
    assert set(routed) == set(sent) and set(routed.values()) == {1}
    assert applied == events


def test_the_gateway_can_be_changed_while_syncing(tmp_path: Path) -> None:
    first, second = start_gateway(tmp_path / "gw1"), start_gateway(tmp_path / "gw2")
    settings = Settings()
    settings.set("gateway_url", first.url)
    terminal = Terminal(settings)
    states: list[str] = []

    class Listener:
        def connectivity_changed(self, state: object, detail: str) -> None:
            states.append(str(state))

        def events_applied(self, events: list[dict[str, object]]) -> None:
            pass

        def outbox_changed(self, message_id: str, state: str, detail: str) -> None:
            pass

    terminal.listener = Listener()
    try:
        account = first.demo_account("officer1")
        terminal.login("officer1", account["password"], account["otp_now"])
        terminal.start_sync()
        terminal.set_gateway(second.url)
        message = terminal.send("QV", {"LIC": "CLN1000", "LIS": "MD"})
        deadline = time.monotonic() + 20
        while "reauth" not in states and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "reauth" in states  # the new gateway does not know the old token
        terminal.relogin("training", second.demo_account("officer1")["otp_now"])
        while time.monotonic() < deadline:
            if terminal.messages(10)[0]["state"] == "answered":
                break
            time.sleep(0.1)
        assert terminal.messages(10)[0]["id"] == message["id"]
        assert terminal.messages(10)[0]["state"] == "answered"
    finally:
        terminal.close()
        first.stop()
        second.stop()
    conn = sqlite3.connect(second.data_dir / "gateway.sqlite")
    assert [r[0] for r in conn.execute("SELECT id FROM messages")] == [message["id"]]
    conn.close()
