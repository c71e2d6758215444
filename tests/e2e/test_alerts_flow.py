"""Alerts and hit confirmation end to end, headless, against the real training gateway:

- officer: QW on the roster's deported felon → IVF hit with its category and policy prompt →
  urgent YQ built from the hit → YR confirmed → IAQ in custody → detainer alert acknowledged;
  every step visible in the alert desk and audited;
- dispatcher: an incoming YQ for the agency answered with a YR before its deadline;
- escalation: an unanswered YQ asks for RNO 2, and a deadline that passed while the terminal was
  closed shows as overdue at the next (offline) start.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from mdt.core.alerts import AlertKind, ivf_prompt
from mdt.core.confirmation import ConfirmState
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from tests.conftest import Gateway, sync_until

pytestmark = pytest.mark.e2e

FELON = {"NAM": "ZANMIR, SOREN T", "DOB": "19790704"}


@pytest.fixture
def fast_gateway(gateway_with: Callable[..., Gateway]) -> Gateway:
    return gateway_with("--confirm-delay", "0.3", "--iar-delay", "0.3")


def sign_in(gateway: Gateway, user: str) -> Terminal:
    settings = Settings()
    settings.set("gateway_url", gateway.url)
    settings.set("operator_phone", "410-555-0112")
    terminal = Terminal(settings)
    account = gateway.demo_account(user)
    terminal.login(user, account["password"], account["otp_now"])
    return terminal


def open_of(terminal: Terminal, kind: AlertKind) -> list[dict[str, Any]]:
    return [a for a in terminal.alert_desk.snapshot().open_alerts if a["kind"] == kind]


def audit_actions(terminal: Terminal) -> list[tuple[str, str]]:
    report = terminal.verify_audit()
    assert report.ok
    rows = terminal.session.read().call(lambda c: c._conn.execute(
        "SELECT action, detail FROM audit ORDER BY n").fetchall())
    return [(str(a), str(d)) for a, d in rows]


def trainer_token(gateway: Gateway) -> str:
    account = gateway.demo_account("trainer1")
    answer = httpx.post(f"{gateway.url}/v1/sessions", json={
        "user_id": "trainer1", "password": account["password"], "otp": account["otp_now"],
        "device_id": "test"}, timeout=10)
    return str(answer.json()["token"])


def test_deported_felon_hit_confirmed_then_detainer_acknowledged(fast_gateway: Gateway) -> None:
    officer = sign_in(fast_gateway, "officer1")
    try:
        assert abs(officer.alert_desk.clock.offset_seconds) < 5  # measured at sign-in
        query = officer.send("QW", FELON)
        [hit] = sync_until(officer, lambda: open_of(officer, AlertKind.IVF_HIT))
        assert hit["severity"] == "critical" and hit["message_id"] == query["id"]
        assert hit["body"]["category"] == "DEPORTED_FELON"
        assert "Deported felon" in hit["title"]
        assert "LESC" in ivf_prompt(hit["body"]["category"])

        draft = officer.alert_desk.draft_yq(hit["body"]["return_id"],
                                            hit["body"]["record_index"], "U")
        assert draft.dest == ["VTICE0900"]
        assert draft.values["PRI"] == "U" and draft.values["RNO"] == "1"
        assert draft.values["NIC"] == hit["body"]["nic"]
        assert draft.values["PHO"] == "410-555-0112"
        yq = officer.alert_desk.send("YQ", draft)
        assert "PRI/U" in yq["text"] and "RNA/OFFICER TESS TRAINEE" in yq["text"]

        [yr] = sync_until(officer, lambda: open_of(officer, AlertKind.YR))
        assert yr["message_id"] == yq["id"] and "CONFIRMED" in yr["title"]
        snapshot = officer.alert_desk.snapshot()
        confirmation = snapshot.confirmations[hit["body"]["nic"]]
        assert confirmation.state(snapshot.now) is ConfirmState.CONFIRMED
        assert confirmation.answer is not None
        assert confirmation.answer["confirming_ori"] == "VTICE0900"

        assert officer.alert_desk.acknowledge(hit["id"])
        iaq = officer.send("IAQ", {**FELON, "SEX": "M", "POB": "MX", "CUS": "Y", "OFF": "5012",
                                   "ARN": "A200000002"}, purpose="C")
        [detainer] = sync_until(officer, lambda: open_of(officer, AlertKind.DETAINER))
        assert detainer["message_id"] == iaq["id"]  # linked to the query it concerns
        assert detainer["severity"] == "critical" and detainer["deadline"]
        assert detainer["body"]["subject"]["name"] == "ZANMIR, SOREN T"
        assert "notify DHS before release" in detainer["body"]["asks"]
        assert officer.alert_desk.acknowledge(detainer["id"], "booking 26-0042")
        assert not officer.alert_desk.acknowledge(detainer["id"])  # once is the record

        history = {a["id"]: a for a in officer.alert_desk.history()}
        assert history[detainer["id"]]["acked_by"] == "officer1"
        assert history[detainer["id"]]["ack_note"] == "booking 26-0042"
        actions = audit_actions(officer)
        acks = [d for a, d in actions if a == "alert-ack"]
        assert any(hit["id"] in d for d in acks) and any(detainer["id"] in d for d in acks)
        queued = [d for a, d in actions if a == "query"]
        assert any(yq["id"] in d for d in queued)
    finally:
        officer.close()


def test_dispatcher_answers_an_incoming_yq_before_its_deadline(fast_gateway: Gateway) -> None:
    dispatcher = sign_in(fast_gateway, "dispatch1")
    try:
        answer = httpx.post(f"{fast_gateway.url}/v1/training/events", timeout=10, headers={
            "Authorization": f"Bearer {trainer_token(fast_gateway)}"}, json={
            "ori": "MD1012600", "events": [{
                "type": "hit_confirmation_request", "rty": "SV", "rno": "1", "pri": "U",
                "oca": "26-004513", "nic": "V260000002", "requesting_ori": "VA0290000",
                "requesting_name": "DEPUTY PAT PRACTICE", "phone": "703-555-0129",
                "respond_in": 600, "data_set": {"LIC": "TRN5007", "LIS": "MD", "VMA": "DODG"}}]})
        assert answer.status_code < 300, answer.text
        [alert] = sync_until(dispatcher, lambda: open_of(dispatcher, AlertKind.INCOMING_YQ))
        assert alert["severity"] == "critical" and alert["deadline"]
        snapshot = dispatcher.alert_desk.snapshot()
        [item] = snapshot.queue
        assert item.nic == "V260000002" and not item.overdue(snapshot.now)
        remaining = item.remaining(snapshot.now)
        assert remaining is not None and timedelta(minutes=9) < remaining <= timedelta(minutes=10)

        draft = dispatcher.alert_desk.draft_yr("V260000002", "Y", remarks="STILL STOLEN. HOLD")
        assert draft.dest == ["VA0290000"]
        assert draft.values["LIC"] == "TRN5007" and draft.values["CST"] == "Y"
        dispatcher.alert_desk.send("YR", draft)
        sync_until(dispatcher, lambda: dispatcher.messages(5)[0]["state"] in (
            "accepted", "acknowledged", "answered"))

        snapshot = dispatcher.alert_desk.snapshot()
        assert snapshot.queue[0].answered_by is not None
        assert not [a for a in snapshot.open_alerts if a["kind"] == AlertKind.INCOMING_YQ]
        [acked] = [a for a in dispatcher.alert_desk.history() if a["id"] == alert["id"]]
        assert acked["acked_by"] == "dispatch1" and "answered by YR" in acked["ack_note"]

        activity = httpx.get(f"{fast_gateway.url}/v1/training/activity", timeout=10, headers={
            "Authorization": f"Bearer {trainer_token(fast_gateway)}"}).json()
        [record] = [c for c in activity["hit_confirmations"] if c["nic"] == "V260000002"]
        assert record["answered_by"] == "dispatch1" and record["on_time"] is True
    finally:
        dispatcher.close()


def test_unanswered_yq_asks_for_rno_2_and_survives_a_restart(fast_gateway: Gateway) -> None:
    """VA0290000 has a dispatcher at its desk (dispatch2), who does not answer: the clock runs
    out; the laptop is closed meanwhile; at the next start, offline, it shows as overdue."""
    officer = sign_in(fast_gateway, "officer1")
    try:
        officer.send("QV", {"LIC": "TRN4821", "LIS": "VA"})
        [hit] = sync_until(officer, lambda: open_of(officer, AlertKind.HIT))
        draft = officer.alert_desk.draft_yq(hit["body"]["return_id"],
                                            hit["body"]["record_index"], "U")
        assert draft.values["RTY"] == "SV" and draft.dest == ["VA0290000"]
        officer.alert_desk.send("YQ", draft)
        nic = draft.values["NIC"]

        def waiting() -> Any:
            snapshot = officer.alert_desk.snapshot()
            found = snapshot.confirmations.get(nic)
            return found and found.state(snapshot.now) is ConfirmState.WAITING and found

        confirmation = sync_until(officer, waiting)
        deadline = confirmation.deadline
        assert deadline is not None
    finally:
        officer.close()

    # Eleven minutes later, the gateway out of reach: unlock offline.
    fast_gateway.stop()
    later = Terminal(Settings())
    try:
        later.unlock("officer1", "training")
        real = later.alert_desk.clock._system
        later.alert_desk.clock._system = lambda: real() + timedelta(minutes=11)
        elapsed = later.alert_desk.clock._monotonic  # the laptop's sleep counts on it too
        later.alert_desk.clock._monotonic = lambda: elapsed() + 11 * 60
        snapshot = later.alert_desk.snapshot()
        confirmation = snapshot.confirmations[nic]
        assert confirmation.state(snapshot.now) is ConfirmState.OVERDUE
        assert confirmation.next_rno(snapshot.now) == 2
        [overdue] = [a for a in snapshot.open_alerts
                     if a["kind"] == AlertKind.CONFIRMATION_OVERDUE]
        assert "RNO 2" in overdue["title"] and overdue["severity"] == "critical"
        second = later.alert_desk.draft_next_request(nic)
        assert second.values["RNO"] == "2" and second.dest == ["VA0290000"]
        later.alert_desk.send("YQ", second)  # queued offline: goes out when the link is back
        snapshot = later.alert_desk.snapshot()
        assert snapshot.confirmations[nic].last.rno == 2
        assert snapshot.confirmations[nic].state(snapshot.now) is ConfirmState.QUEUED
        assert not [a for a in snapshot.open_alerts
                    if a["kind"] == AlertKind.CONFIRMATION_OVERDUE]  # answered by sending
    finally:
        later.close()
