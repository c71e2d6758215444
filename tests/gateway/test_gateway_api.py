"""The training gateway through real HTTP on 127.0.0.1: login and lockout, idempotent messages,
inbox paging, the SSE stream resumed with Last-Event-ID, restarts, error shapes, modes."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from tests.conftest import Gateway, start_gateway

pytestmark = pytest.mark.e2e


def login(gw: Gateway, user: str = "officer1", **overrides: str) -> httpx.Response:
    account = gw.demo_account(user)
    body = {"user_id": user, "password": account["password"],
            "otp": pyotp.TOTP(account["otp_secret"]).now(), "device_id": "test"} | overrides
    return httpx.post(f"{gw.url}/v1/sessions", json=body, timeout=10)


def auth(gw: Gateway, user: str = "officer1") -> dict[str, str]:
    response = login(gw, user)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def qv(plate: str, state: str, msg_id: str | None = None) -> dict[str, Any]:
    return {"id": msg_id or str(uuid.uuid4()), "mke": "QV", "dest": ["NCIC"],
            "fields": {"LIC": plate, "LIS": state},
            "text": f"QV.MD1012600.NCIC.TXT\nLIC/{plate}.LIS/{state}",
            "created_at": "2026-11-24T10:00:00.000Z"}


def send(gw: Gateway, headers: dict[str, str], message: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{gw.url}/v1/messages", json=message,
                      headers=headers | {"Idempotency-Key": message["id"]}, timeout=10)


def wait_events(gw: Gateway, headers: dict[str, str], count: int, after: int = 0,
                timeout: float = 10) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while True:
        events = httpx.get(f"{gw.url}/v1/inbox", params={"after": after}, headers=headers,
                           timeout=10).json()["events"]
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def test_health_says_training(gateway: Gateway) -> None:
    body = httpx.get(f"{gateway.url}/v1/health").json()
    assert body["status"] == "ok" and body["training"] is True and body["time"].endswith("Z")


def test_login_gives_a_session_with_the_user(gateway: Gateway) -> None:
    body = login(gateway).json()
    assert body["user"] == {"id": "officer1", "name": "Officer Tess Trainee", "role": "officer",
                            "ori": "MD1012600", "unit": "Car 12"}
    assert body["training"] is True and body["token"]


@pytest.mark.parametrize("bad", [{"password": "nope"}, {"otp": "000000"}, {"user_id": "ghost"}])
def test_bad_credentials_are_401_with_json(gateway: Gateway, bad: dict[str, str]) -> None:
    response = login(gateway, **bad)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_credentials"


def test_five_failures_lock_the_account(gateway: Gateway) -> None:
    for _ in range(5):
        assert login(gateway, password="wrong").status_code == 401
    locked = login(gateway)  # even with the right password now
    assert locked.status_code == 423 and locked.json()["error"]["code"] == "account_locked"
    assert login(gateway, "officer2").status_code == 201  # others are not affected


def test_logout_ends_the_token(gateway: Gateway) -> None:
    headers = auth(gateway)
    assert httpx.delete(f"{gateway.url}/v1/sessions/current", headers=headers).status_code == 204
    response = httpx.get(f"{gateway.url}/v1/inbox", headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"


def test_expired_tokens_say_token_expired(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--token-ttl", "0.5")
    try:
        headers = auth(gw)
        time.sleep(0.8)
        response = httpx.get(f"{gw.url}/v1/inbox", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_expired"
    finally:
        gw.stop()


def test_stolen_and_clean_plates(gateway: Gateway) -> None:
    headers = auth(gateway)
    stolen, clean = qv("TRN4821", "VA"), qv("CLN1000", "MD")
    assert send(gateway, headers, stolen).status_code == 202
    assert send(gateway, headers, clean).status_code == 202
    events = {e["in_reply_to"]: e for e in wait_events(gateway, headers, 2)}
    hit, miss = events[stolen["id"]], events[clean["id"]]
    assert hit["type"] == "response" and hit["training"] is True
    assert hit["records"][0]["file"] == "VEHICLE" and hit["records"][0]["hit"] is True
    assert "MKE/STOLEN VEHICLE" in hit["text"] and "PROBABLE CAUSE" in hit["text"]
    assert miss["records"] == [] and "NO NCIC WANT LIC/CLN1000 LIS/MD" in miss["text"]


def test_the_same_message_twice_is_answered_once(gateway: Gateway) -> None:
    headers = auth(gateway)
    message = qv("TRN4821", "VA")
    first, second = send(gateway, headers, message), send(gateway, headers, message)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    time.sleep(0.5)
    events = wait_events(gateway, headers, 1)
    assert [e["in_reply_to"] for e in events] == [message["id"]]


def test_a_reused_id_with_another_body_is_409(gateway: Gateway) -> None:
    headers = auth(gateway)
    message = qv("TRN4821", "VA")
    send(gateway, headers, message)
    changed = message | {"fields": {"LIC": "CLN1000", "LIS": "MD"}}
    response = send(gateway, headers, changed)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"


def test_validation_errors_name_the_field(gateway: Gateway) -> None:
    headers = auth(gateway)
    message = qv("TRN4821", "VA") | {"id": "not-a-uuid"}
    response = httpx.post(f"{gateway.url}/v1/messages", json=message, headers=headers)
    assert response.status_code == 422
    assert response.json()["error"] == {"code": "validation", "field": "id",
                                        "message": response.json()["error"]["message"]}
    no_fields = httpx.post(f"{gateway.url}/v1/messages", content=b"{]", headers=headers | {
        "Content-Type": "application/json"})
    assert no_fields.status_code == 422 and "error" in no_fields.json()


def test_unknown_keys_are_refused_by_the_switch(gateway: Gateway) -> None:
    headers = auth(gateway)
    message = qv("TRN4821", "VA") | {"mke": "ZZ"}
    assert send(gateway, headers, message).status_code == 202
    (event,) = wait_events(gateway, headers, 1)
    assert event["type"] == "status" and event["status"] == "rejected"


def test_inbox_pages_and_acks(gateway: Gateway) -> None:
    headers = auth(gateway)
    for n in range(5):
        send(gateway, headers, qv(f"ZZZ{n:04d}", "MD"))
    events = wait_events(gateway, headers, 5)
    assert [e["seq"] for e in events] == [1, 2, 3, 4, 5]  # gap-free, in order
    page = httpx.get(f"{gateway.url}/v1/inbox", params={"after": 2, "limit": 2},
                     headers=headers).json()
    assert [e["seq"] for e in page["events"]] == [3, 4] and page["next_after"] == 4
    empty = httpx.get(f"{gateway.url}/v1/inbox", params={"after": 5}, headers=headers).json()
    assert empty == {"events": [], "next_after": 5}
    assert httpx.post(f"{gateway.url}/v1/inbox/ack", json={"upto": 5},
                      headers=headers).json() == {"upto": 5}


def read_stream(gw: Gateway, headers: dict[str, str], last_id: int, count: int
                ) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    with httpx.stream("GET", f"{gw.url}/v1/inbox/stream",
                      headers=headers | {"Last-Event-ID": str(last_id)}, timeout=10) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if len(events) == count:
                    break
    return events


def test_the_stream_resumes_from_last_event_id(gateway: Gateway) -> None:
    headers = auth(gateway)
    for n in range(4):
        send(gateway, headers, qv(f"ZZZ{n:04d}", "MD"))
    wait_events(gateway, headers, 4)
    assert [e["seq"] for e in read_stream(gateway, headers, 0, 2)] == [1, 2]
    # The connection dropped after 2: resume where it stopped.
    assert [e["seq"] for e in read_stream(gateway, headers, 2, 2)] == [3, 4]


def test_the_stream_delivers_new_events_live(gateway: Gateway) -> None:
    import threading

    headers = auth(gateway)
    got: list[dict[str, Any]] = []
    reader = threading.Thread(target=lambda: got.extend(read_stream(gateway, headers, 0, 1)))
    reader.start()
    time.sleep(0.3)
    message = qv("TRN4821", "VA")
    send(gateway, headers, message)
    reader.join(10)
    assert got and got[0]["in_reply_to"] == message["id"]


def test_a_restart_keeps_inboxes_and_idempotency(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw")
    headers = auth(gw)
    first = qv("TRN4821", "VA")
    send(gw, headers, first)
    wait_events(gw, headers, 1)
    gw.stop()
    again = start_gateway(tmp_path / "gw")
    try:
        headers = auth(again)
        assert send(again, headers, first).status_code == 202  # known id: same answer
        send(again, headers, qv("CLN1000", "MD"))
        events = wait_events(again, headers, 2)
        assert [e["seq"] for e in events] == [1, 2]
        assert events[0]["in_reply_to"] == first["id"]
        assert [e["seq"] for e in read_stream(again, headers, 1, 1)] == [2]
    finally:
        again.stop()


def test_a_scheduled_answer_survives_a_restart(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--latency", "1.5")
    headers = auth(gw)
    message = qv("TRN4821", "VA")
    send(gw, headers, message)
    gw.stop()  # before the answer was due
    again = start_gateway(tmp_path / "gw", "--latency", "1.5")
    try:
        events = wait_events(again, auth(again), 1)
        assert [e["in_reply_to"] for e in events] == [message["id"]]
    finally:
        again.stop()


def test_text_only_mode_sends_no_records(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--text-only")
    try:
        headers = auth(gw)
        send(gw, headers, qv("TRN4821", "VA"))
        (event,) = wait_events(gw, headers, 1)
        assert "records" not in event and "MKE/STOLEN VEHICLE" in event["text"]
    finally:
        gw.stop()


def test_a_live_gateway_has_no_training_endpoints(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--live")
    try:
        assert httpx.get(f"{gw.url}/v1/health").json()["training"] is False
        response = httpx.get(f"{gw.url}/v1/training/demo-accounts")
        assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    finally:
        gw.stop()


def test_iaq_is_acknowledged_at_once_then_answered(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--iar-delay", "0.5")
    try:
        headers = auth(gw)
        message = {"id": str(uuid.uuid4()), "mke": "IAQ", "dest": ["AX"], "purpose": "C",
                   "fields": {"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M",
                              "ARN": "A200000002"}, "text": "IAQ", "created_at": ""}
        send(gw, headers, message)
        events = wait_events(gw, headers, 2)
        assert [e["type"] for e in events] == ["ack", "response"]
        assert events[1]["mke"] == "IAR" and events[1]["records"][0]["file"] == "LESC"
    finally:
        gw.stop()


def test_gateway_cli_lists_accounts_codes_and_roster() -> None:
    import subprocess
    import sys

    def run(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "mock_server", *args], capture_output=True,
                              text=True, timeout=60, check=True).stdout

    assert "officer1" in run("accounts") and "dispatch1" in run("accounts")
    assert run("otp", "officer1").strip().isdigit()
    roster = run("roster")
    assert "QV LIC/TRN4821.LIS/VA" in roster and "Deported felon" in roster


def test_forms_are_served_with_an_etag(gateway: Gateway) -> None:
    headers = auth(gateway)
    first = httpx.get(f"{gateway.url}/v1/forms", headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    assert {f["mke"] for f in first.json()["forms"]} >= {"QV", "QW", "IAQ", "YQ"}
    again = httpx.get(f"{gateway.url}/v1/forms",
                      headers=headers | {"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_audit_batches_are_idempotent_per_record(gateway: Gateway) -> None:
    headers = auth(gateway)
    record = {"id": str(uuid.uuid4()), "at": "2026-11-24T10:00:00.000Z", "action": "query",
              "outcome": "queued", "who": "officer1", "source": "client", "device": "car-12",
              "detail": "QV"}
    first = httpx.post(f"{gateway.url}/v1/audit", json={"records": [record]}, headers=headers)
    again = httpx.post(f"{gateway.url}/v1/audit", json={"records": [record]}, headers=headers)
    assert first.json() == {"accepted": [record["id"]], "new": 1}
    assert again.json() == {"accepted": [record["id"]], "new": 0}
    bad = httpx.post(f"{gateway.url}/v1/audit", json={"records": [record | {"id": "x"}]},
                     headers=headers)
    assert bad.status_code == 422
