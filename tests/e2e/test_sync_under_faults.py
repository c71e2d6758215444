"""The sync engine against a gateway that drops connections mid-answer, fails with 503 and sends
live events twice: every query is delivered once and every answer applied once."""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from mdt.net.gateway import GatewayError
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from tests.conftest import start_gateway

pytestmark = pytest.mark.e2e


class StateRecorder:
    """A sync listener that keeps the connectivity states it is told."""

    def __init__(self, states: list[str]) -> None:
        self.states = states

    def connectivity_changed(self, state: object, detail: str) -> None:
        self.states.append(str(state))

    def events_applied(self, events: list[dict[str, object]]) -> None:
        pass

    def outbox_changed(self, message_id: str, state: str, detail: str) -> None:
        pass


def test_every_query_delivered_and_answered_once_through_faults(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--drop-rate", "0.2", "--error-rate", "0.1",
                       "--duplicate-rate", "0.5")
    settings = Settings()
    settings.set("gateway_url", gw.url)
    terminal = Terminal(settings)
    conn_states: list[str] = []

    terminal.listener = StateRecorder(conn_states)
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
        assert all(states.get(i) == "answered" for i in sent), (states, conn_states[-5:])
        assert terminal.writer is not None
        applied = terminal.writer.call(lambda c: c._conn.execute(
            "SELECT count(*) FROM events").fetchone()[0])
        returns = terminal.recent_returns(100)
        assert sorted(r.message_id for r in returns) == sorted(sent)  # once each, none lost
        assert "degraded" in conn_states  # the app was told the link was poor, not dead
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

    terminal.listener = StateRecorder(states)
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


def _signed_in(gw: object) -> Terminal:
    settings = Settings()
    settings.set("gateway_url", gw.url)  # type: ignore[attr-defined]
    terminal = Terminal(settings)
    account = gw.demo_account("officer1")  # type: ignore[attr-defined]
    terminal.login("officer1", account["password"], account["otp_now"])
    return terminal


def _wait(condition: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:  # type: ignore[operator]
        time.sleep(0.1)


def test_parts_arriving_last_first_are_assembled(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--latency", "0.3", "--parts-out-of-order")
    terminal = _signed_in(gw)
    try:
        message = terminal.send("DQ", {"OLN": "S100000002"}, dest=["MD", "VA"])
        terminal.start_sync()
        _wait(lambda: terminal.messages(5)[0]["state_detail"] == "2 of 2 parts", 20)
        state = terminal.messages(5)[0]
        assert state["id"] == message["id"] and state["state"] == "answered"
        assert state["state_detail"] == "2 of 2 parts"
        returns = terminal.recent_returns(10)
        assert sorted(r.part for r in returns) == [1, 2]
        assert [r.part for r in sorted(returns, key=lambda r: r.received_at)] == [2, 1]
    finally:
        terminal.close()
        gw.stop()


def test_a_slow_switch_and_a_dead_spot(tmp_path: Path) -> None:
    import httpx

    gw = start_gateway(tmp_path / "gw", "--latency", "10")
    terminal = _signed_in(gw)
    trainer = gw.demo_account("trainer1")
    token = httpx.post(f"{gw.url}/v1/sessions", json={
        "user_id": "trainer1", "password": trainer["password"], "otp": trainer["otp_now"],
        "device_id": "t"}).json()["token"]

    def faults(**values: object) -> None:
        httpx.put(f"{gw.url}/v1/training/faults", headers={"Authorization": f"Bearer {token}"},
                  json={"user": "officer1", **values}).raise_for_status()

    try:
        terminal.start_sync()
        slow = terminal.send("QV", {"LIC": "TRN4821", "LIS": "VA"})
        time.sleep(2)
        assert terminal.messages(5)[0]["state"] == "accepted"  # sent, the answer is 10 s away
        faults(offline=True)  # the car drives into a dead spot
        time.sleep(1)
        queued = terminal.send("QV", {"LIC": "CLN1000", "LIS": "MD"})
        time.sleep(6)
        states = {m["id"]: m["state"] for m in terminal.messages(5)}
        assert states[queued["id"]] == "queued"
        faults()  # coverage again
        _wait(lambda: all(m["state"] == "answered" for m in terminal.messages(5)), 40)
        states = {m["id"]: m["state"] for m in terminal.messages(5)}
        assert states == {slow["id"]: "answered", queued["id"]: "answered"}
        assert len(terminal.recent_returns(10)) == 2
    finally:
        terminal.close()
        gw.stop()
