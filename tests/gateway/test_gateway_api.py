"""The training gateway through real HTTP on 127.0.0.1: login and lockout, idempotent messages,
inbox paging, the SSE stream resumed with Last-Event-ID, restarts, error shapes, modes, and the
command line."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any

import httpx
import pyotp
import pytest

from mock_server.accounts import otp_secret_for
from tests.conftest import Gateway, start_gateway
from tests.gateway.helpers import (
    auth,
    last_seq,
    login,
    message,
    qv,
    read_stream,
    send,
    wait_events,
)

pytestmark = pytest.mark.e2e

STOLEN_TEXT = "\n".join([
    "QV.MD1012600.NCIC",
    "",
    "*** WARNING - A HIT IS NOT PROBABLE CAUSE. CONFIRM THE RECORD WITH THE ENTERING AGENCY (ORI) "
    "BEFORE ANY ACTION. ***",
    "",
    "MKE/STOLEN VEHICLE",
    "ORI/VA0290000 LIC/TRN4821 LIS/VA LIY/2027 LIT/PC",
    "VIN/1G4AH59H45G118341 VYR/2005 VMA/BUIC VMO/LES VST/4D VCO/BLK",
    "DOT/20261120 OCA/26-004512 NIC/V260000001"])


def gateway_cli(*args: str, env: dict[str, str] | None = None) -> str:
    return subprocess.run([sys.executable, "-m", "mock_server", *args], capture_output=True,
                          text=True, timeout=60, check=True,
                          env={**os.environ, **(env or {})}).stdout


# -- the shared gateway ----------------------------------------------------------------------------
def test_health_says_training(gw: Gateway) -> None:
    body = httpx.get(f"{gw.url}/v1/health").json()
    assert body["status"] == "ok" and body["training"] is True
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", body["time"])


def test_the_contract_is_served_as_openapi(gw: Gateway) -> None:
    paths = httpx.get(f"{gw.url}/openapi.json").json()["paths"]
    assert {"/v1/health", "/v1/sessions", "/v1/sessions/current", "/v1/messages", "/v1/inbox",
            "/v1/inbox/stream", "/v1/inbox/ack", "/v1/training/demo-accounts",
            "/v1/training/faults", "/v1/training/scenarios", "/v1/training/activity",
            "/v1/training/reset", "/v1/training/events"} <= set(paths)


def test_login_gives_a_session_with_the_user(gw: Gateway) -> None:
    body = login(gw).json()
    assert body["user"] == {"id": "officer1", "name": "Officer Tess Trainee", "role": "officer",
                            "ori": "MD1012600", "unit": "Car 12"}
    assert body["training"] is True and body["token"] and body["expires_at"].endswith("Z")


def test_demo_accounts_cover_three_agencies_and_every_role(gw: Gateway) -> None:
    accounts = httpx.get(f"{gw.url}/v1/training/demo-accounts").json()["accounts"]
    by_id = {a["user_id"]: a for a in accounts}
    assert {"officer1", "officer2", "dispatch1", "officer3", "dispatch2", "officer4",
            "trainer1"} <= set(by_id)
    assert {a["ori"] for a in accounts} >= {"MD1012600", "VA0290000", "MD0030000"}
    assert {a["role"] for a in accounts} == {"officer", "dispatcher", "trainer"}
    assert by_id["officer2"]["unit"] == "Car 14" and by_id["dispatch2"]["role"] == "dispatcher"
    officer = by_id["officer1"]
    assert officer["password"] == "training"
    assert re.fullmatch(r"\d{6}", officer["otp_now"])  # a fresh, unused code: it signs in
    assert login(gw, "officer1", otp=officer["otp_now"]).status_code == 201


@pytest.mark.parametrize("bad", [{"password": "nope"}, {"otp": "000000"}, {"user_id": "ghost"}])
def test_bad_credentials_are_401_with_json(gw: Gateway, bad: dict[str, str]) -> None:
    response = login(gw, "officer2", **bad)
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "bad_credentials"
    assert login(gw, "officer2").status_code == 201  # and a good login clears the count


def test_one_time_codes_of_the_next_and_last_window_are_accepted_once(gateway: Gateway) -> None:
    totp = pyotp.TOTP(gateway.demo_account("officer2")["otp_secret"])
    now = time.time()
    assert login(gateway, "officer2", otp=totp.at(now - 30)).status_code == 201
    assert login(gateway, "officer2", otp=totp.at(now + 30)).status_code == 201
    assert login(gateway, "officer2", otp=totp.at(now - 120)).status_code == 401
    again = login(gateway, "officer2", otp=totp.at(now + 30))  # RFC 6238 §5.2: once
    assert again.status_code == 401 and again.json()["error"]["code"] == "otp_reused"
    assert login(gateway, "officer2").status_code == 201  # the sign-in page's next code


def test_logout_ends_the_token(gw: Gateway) -> None:
    headers = auth(gw)
    assert httpx.delete(f"{gw.url}/v1/sessions/current", headers=headers).status_code == 204
    response = httpx.get(f"{gw.url}/v1/inbox", headers=headers)
    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized"
    nobody = httpx.get(f"{gw.url}/v1/inbox")
    assert nobody.status_code == 401 and nobody.json()["error"]["code"] == "unauthorized"


def test_stolen_and_clean_plates(gw: Gateway) -> None:
    headers = auth(gw)
    base = last_seq(gw, headers)
    stolen, clean = qv("TRN4821", "VA"), qv("CLN1000", "MD")
    assert send(gw, headers, stolen).status_code == 202
    assert send(gw, headers, clean).status_code == 202
    events = {e["in_reply_to"]: e for e in wait_events(gw, headers, 2, after=base)}
    hit, miss = events[stolen["id"]], events[clean["id"]]
    assert hit["type"] == "response" and hit["training"] is True
    assert (hit["mke"], hit["source"], hit["part"], hit["parts"]) == ("QV", "NCIC", 1, 1)
    assert hit["text"] == STOLEN_TEXT
    (record,) = hit["records"]
    assert record["file"] == "VEHICLE" and record["hit"] is True
    assert record["nic"] == "V260000001" and record["category"] is None
    assert record["fields"]["LIC"] == "TRN4821" and record["fields"]["VIN"] == "1G4AH59H45G118341"
    assert any("PROBABLE CAUSE" in c for c in record["caveats"])
    assert miss["records"] == []
    assert miss["text"] == "QV.MD1012600.NCIC\n\nNO NCIC WANT LIC/CLN1000 LIS/MD"


def test_a_vin_finds_the_stolen_car_too(gw: Gateway) -> None:
    headers = auth(gw)
    base = last_seq(gw, headers)
    query = message("QV", {"VIN": "1G4AH59H45G118341"})
    send(gw, headers, query)
    (event,) = wait_events(gw, headers, 1, after=base)
    assert event["records"][0]["fields"]["LIC"] == "TRN4821"


def test_the_same_message_twice_is_answered_once(gw: Gateway) -> None:
    headers = auth(gw)
    base = last_seq(gw, headers)
    query = qv("TRN4821", "VA")
    first, second = send(gw, headers, query), send(gw, headers, query)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert first.json()["id"] == query["id"] and first.json()["status"] == "accepted"
    wait_events(gw, headers, 1, after=base)
    time.sleep(0.3)
    assert [e["in_reply_to"] for e in wait_events(gw, headers, 1, after=base)] == [query["id"]]


def test_a_reused_id_with_another_body_is_409(gw: Gateway) -> None:
    headers = auth(gw)
    query = qv("TRN4821", "VA")
    send(gw, headers, query)
    response = send(gw, headers, query | {"fields": {"LIC": "CLN1000", "LIS": "MD"}})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "idempotency_conflict"
    other_user = send(gw, auth(gw, "officer2"), query)
    assert other_user.status_code == 409


@pytest.mark.parametrize(("change", "field"), [
    ({"id": "not-a-uuid"}, "id"),
    ({"mke": None}, "mke"),
    ({"mke": "Q V"}, "mke"),
    ({"fields": ["LIC", "ABC"]}, "fields"),
    ({"fields": {"LIC": 5}}, "LIC"),
    ({"dest": "NCIC"}, "dest"),
])
def test_validation_errors_name_the_field(gw: Gateway, change: dict[str, Any], field: str
                                          ) -> None:
    body = {k: v for k, v in (qv("TRN4821", "VA") | change).items() if v is not None}
    response = httpx.post(f"{gw.url}/v1/messages", json=body, headers=auth(gw))
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "validation" and error["field"] == field and error["message"]


def test_other_errors_are_json_too(gw: Gateway) -> None:
    headers = auth(gw)
    broken = httpx.post(f"{gw.url}/v1/messages", content=b"{]",
                        headers=headers | {"Content-Type": "application/json"})
    assert broken.status_code == 422 and broken.json()["error"]["field"] == "body"
    query = qv("TRN4821", "VA")
    mismatch = httpx.post(f"{gw.url}/v1/messages", json=query,
                          headers=headers | {"Idempotency-Key": str(uuid.uuid4())})
    assert mismatch.status_code == 422
    assert mismatch.json()["error"]["field"] == "Idempotency-Key"
    paging = httpx.get(f"{gw.url}/v1/inbox", params={"after": -1}, headers=headers)
    assert paging.status_code == 422 and paging.json()["error"]["field"] == "after"
    missing = httpx.get(f"{gw.url}/v1/nothing-here")
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    wrong_method = httpx.put(f"{gw.url}/v1/health")
    assert wrong_method.status_code == 405 and "error" in wrong_method.json()


def test_the_switch_refuses_what_it_cannot_act_on(gw: Gateway) -> None:
    headers = auth(gw)
    base = last_seq(gw, headers)
    unknown, incomplete = qv("TRN4821", "VA") | {"mke": "ZZ"}, message("QV", {"LIC": "TRN4821"})
    for body in (unknown, incomplete):
        assert send(gw, headers, body).status_code == 202  # well-formed: accepted, then refused
    events = {e["in_reply_to"]: e for e in wait_events(gw, headers, 2, after=base)}
    for body, field in ((unknown, "mke"), (incomplete, "LIC")):
        event = events[body["id"]]
        assert event["type"] == "status" and event["status"] == "rejected"
        assert event["field"] == field and event["text"].startswith("REJECT/") and event["reason"]


def test_inbox_pages_and_acks(gw: Gateway) -> None:
    headers = auth(gw, "officer3")
    base = last_seq(gw, headers)
    for n in range(5):
        send(gw, headers, qv(f"ZZZ{n:04d}", "MD"))
    events = wait_events(gw, headers, 5, after=base)
    assert [e["seq"] for e in events] == [base + n for n in range(1, 6)]  # gap-free, in order
    assert all(set(e) >= {"seq", "id", "type", "created_at", "training"} for e in events)
    page = httpx.get(f"{gw.url}/v1/inbox", params={"after": base + 2, "limit": 2},
                     headers=headers).json()
    assert [e["seq"] for e in page["events"]] == [base + 3, base + 4]
    assert page["next_after"] == base + 4
    empty = httpx.get(f"{gw.url}/v1/inbox", params={"after": base + 5}, headers=headers).json()
    assert empty == {"events": [], "next_after": base + 5}
    ack = httpx.post(f"{gw.url}/v1/inbox/ack", json={"upto": base + 5}, headers=headers)
    assert ack.json() == {"upto": base + 5}
    older = httpx.post(f"{gw.url}/v1/inbox/ack", json={"upto": base + 1}, headers=headers)
    assert older.json() == {"upto": base + 5}  # acks never go back


def test_the_stream_resumes_from_last_event_id(gw: Gateway) -> None:
    headers = auth(gw, "officer3")
    base = last_seq(gw, headers)
    for n in range(4):
        send(gw, headers, qv(f"ZZZ{n:04d}", "MD"))
    wait_events(gw, headers, 4, after=base)
    first = read_stream(gw, headers, base, 2)
    assert [e["seq"] for e in first] == [base + 1, base + 2]
    # The connection dropped after 2: resume where it stopped.
    assert [e["seq"] for e in read_stream(gw, headers, base + 2, 2)] == [base + 3, base + 4]
    if base == 0:
        assert [e["seq"] for e in read_stream(gw, headers, None, 1)] == [1]  # no header: from 0


def test_the_stream_delivers_new_events_live_to_every_listener(gw: Gateway) -> None:
    headers = auth(gw, "officer4")
    base = last_seq(gw, headers)
    got: list[list[dict[str, Any]]] = [[], []]
    readers = [threading.Thread(target=lambda box=box: box.extend(
        read_stream(gw, headers, base, 1))) for box in got]  # two devices of one user
    for reader in readers:
        reader.start()
    time.sleep(0.4)
    query = qv("TRN4821", "VA")
    send(gw, headers, query)
    for reader in readers:
        reader.join(10)
    assert [box[0]["in_reply_to"] for box in got] == [query["id"], query["id"]]


def test_the_stream_sends_a_heartbeat_comment(gw: Gateway) -> None:
    headers = auth(gw, "officer4")
    seen: list[str] = []
    with httpx.stream("GET", f"{gw.url}/v1/inbox/stream", timeout=5,
                      headers=headers | {"Last-Event-ID": str(last_seq(gw, headers))}) as stream:
        for line in stream.iter_lines():
            seen.append(line)
            if line.startswith(":"):
                break
    assert seen[-1] == ": heartbeat"


def test_logging_out_ends_the_stream(gw: Gateway) -> None:
    headers = auth(gw, "officer4")
    ended = threading.Event()

    def listen() -> None:
        with httpx.stream("GET", f"{gw.url}/v1/inbox/stream", timeout=10,
                          headers=headers | {"Last-Event-ID": str(last_seq(gw, headers))}) as r:
            for _line in r.iter_lines():
                pass
        ended.set()

    threading.Thread(target=listen, daemon=True).start()
    time.sleep(0.3)
    assert not ended.is_set()
    httpx.delete(f"{gw.url}/v1/sessions/current", headers=headers).raise_for_status()
    assert ended.wait(5)


def test_iaq_is_acknowledged_at_once_then_answered_then_a_detainer(gw: Gateway) -> None:
    headers, desk = auth(gw), auth(gw, "dispatch1")
    base, desk_base = last_seq(gw, headers), last_seq(gw, desk)
    iaq = message("IAQ", {"ATN": "OFC TRAINEE", "PHN": "410-555-0112", "NAM": "ZANMIR, SOREN T",
                          "DOB": "19790704", "SEX": "M", "POB": "AA", "CUS": "Y", "OFF": "0399",
                          "ARN": "A200000002"}, dest=["AX"], purpose="C")
    send(gw, headers, iaq)
    (ack,) = wait_events(gw, headers, 1, after=base, timeout=0.3)  # the IAR comes later
    assert ack["type"] == "ack" and ack["in_reply_to"] == iaq["id"] and "IAQ" in ack["text"]
    events = wait_events(gw, headers, 3, after=base)
    assert [e["type"] for e in events] == ["ack", "response", "detainer"]
    iar, detainer = events[1], events[2]
    assert iar["mke"] == "IAR" and iar["source"] == "VTICE0900"
    assert iar["records"][0]["file"] == "LESC"
    assert iar["text"].startswith("IAR.MD1012600.VTICE0900\n")
    assert detainer["in_reply_to"] == iaq["id"]
    assert detainer["subject"]["a_number"] == "A200000002"
    assert detainer["requested_action"] == {"notify_before_release": True, "hold_hours": 48}
    # The agency's dispatcher is told of the detainer too.
    assert [e["type"] for e in wait_events(gw, desk, 1, after=desk_base)] == ["detainer"]


def test_forms_are_served_with_an_etag(gw: Gateway) -> None:
    headers = auth(gw)
    first = httpx.get(f"{gw.url}/v1/forms", headers=headers)
    assert first.status_code == 200 and first.headers["ETag"]
    assert {f["mke"] for f in first.json()["forms"]} >= {"QV", "QW", "IAQ", "YQ"}
    again = httpx.get(f"{gw.url}/v1/forms",
                      headers=headers | {"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    sex = httpx.get(f"{gw.url}/v1/codes/SEX", headers=headers).json()
    assert {c["code"] for c in sex["codes"]} >= {"F", "M"}


def test_audit_batches_are_idempotent_per_record(gw: Gateway) -> None:
    headers = auth(gw)
    record = {"id": str(uuid.uuid4()), "at": "2026-11-24T10:00:00.000Z", "action": "query",
              "outcome": "queued", "who": "officer1", "source": "client", "device": "car-12",
              "detail": "QV"}
    first = httpx.post(f"{gw.url}/v1/audit", json={"records": [record]}, headers=headers)
    again = httpx.post(f"{gw.url}/v1/audit", json={"records": [record]}, headers=headers)
    assert first.json() == {"accepted": [record["id"]], "new": 1}
    assert again.json() == {"accepted": [record["id"]], "new": 0}
    bad = httpx.post(f"{gw.url}/v1/audit", json={"records": [record | {"id": "x"}]},
                     headers=headers)
    assert bad.status_code == 422


# -- gateways of their own -------------------------------------------------------------------------
def test_five_failures_lock_the_account(gateway: Gateway) -> None:
    for _ in range(5):
        assert login(gateway, password="wrong").status_code == 401
    locked = login(gateway)  # even with the right password now
    assert locked.status_code == 423 and locked.json()["error"]["code"] == "account_locked"
    assert "15 more minutes" in locked.json()["error"]["message"]
    assert login(gateway, "officer2").status_code == 201  # others are not affected


def test_expired_tokens_say_token_expired(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--token-ttl", "0.5")
    try:
        headers = auth(gw)
        time.sleep(0.8)
        response = httpx.get(f"{gw.url}/v1/inbox", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "token_expired"
        assert httpx.get(f"{gw.url}/v1/inbox", headers=auth(gw)).status_code == 200
    finally:
        gw.stop()


def test_a_restart_keeps_inboxes_idempotency_and_what_was_due(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw")
    headers, trainer = auth(gw), auth(gw, "trainer1")
    first = qv("TRN4821", "VA")
    send(gw, headers, first)
    wait_events(gw, headers, 1)
    httpx.put(f"{gw.url}/v1/training/faults", json={"user": "officer1", "latency": 1.0},
              headers=trainer).raise_for_status()
    second = qv("CLN1000", "MD")
    send(gw, headers, second)  # its answer is due in a second ...
    gw.stop()  # ... and the gateway stops before that
    again = start_gateway(tmp_path / "gw")
    try:
        headers = auth(again)
        events = wait_events(again, headers, 2)
        assert [(e["seq"], e["in_reply_to"]) for e in events] == [(1, first["id"]),
                                                                   (2, second["id"])]
        assert send(again, headers, first).status_code == 202  # a known id: the same answer
        time.sleep(0.3)
        assert len(wait_events(again, headers, 3, timeout=0.2)) == 2  # nothing routed again
        assert [e["seq"] for e in read_stream(again, headers, 1, 1)] == [2]
        send(again, headers, qv("ZZZ0001", "MD"))
        assert [e["seq"] for e in wait_events(again, headers, 3)] == [1, 2, 3]
    finally:
        again.stop()


def test_text_only_mode_sends_no_records(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--text-only")
    try:
        headers = auth(gw)
        send(gw, headers, qv("TRN4821", "VA"))
        (event,) = wait_events(gw, headers, 1)
        assert "records" not in event and event["text"] == STOLEN_TEXT
    finally:
        gw.stop()


def test_a_live_gateway_refuses_training_endpoints_and_demo_accounts(tmp_path: Path) -> None:
    data = tmp_path / "gw"
    out = gateway_cli("add-account", "liveofc", "--name", "Officer Lena Live", "--role",
                      "officer", "--ori", "MD1012600", "--unit", "Car 7", "--data-dir", str(data),
                      env={"MDT_GATEWAY_PASSWORD": "correct horse"})
    secret = re.search(r"TOTP secret: ([A-Z2-7]+)", out)
    assert secret is not None
    gw = start_gateway(data, "--live")
    try:
        assert httpx.get(f"{gw.url}/v1/health").json()["training"] is False
        for method, path in [("GET", "demo-accounts"), ("GET", "faults"), ("PUT", "faults"),
                             ("GET", "scenarios"), ("GET", "activity"), ("POST", "reset"),
                             ("POST", "events"), ("POST", "records")]:
            response = httpx.request(method, f"{gw.url}/v1/training/{path}", json={})
            assert response.status_code == 404, path
            assert response.json()["error"]["code"] == "not_found"
        otp = pyotp.TOTP(otp_secret_for("officer1")).now()
        demo = httpx.post(f"{gw.url}/v1/sessions", json={
            "user_id": "officer1", "password": "training", "otp": otp, "device_id": "x"})
        assert demo.status_code == 403 and demo.json()["error"]["code"] == "forbidden"
        session = httpx.post(f"{gw.url}/v1/sessions", json={
            "user_id": "liveofc", "password": "correct horse",
            "otp": pyotp.TOTP(secret.group(1)).now(), "device_id": "x"}).json()
        assert session["training"] is False and session["user"]["unit"] == "Car 7"
        headers = {"Authorization": f"Bearer {session['token']}"}
        send(gw, headers, qv("TRN4821", "VA"))
        (event,) = wait_events(gw, headers, 1)
        assert event["training"] is False and event["records"][0]["hit"] is True
    finally:
        gw.stop()


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_serve_prints_one_line_and_stops_cleanly_on_a_signal(tmp_path: Path, sig: int) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "--port", "0", "--data-dir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.fullmatch(r"mdt-gateway listening on (http://127\.0\.0\.1:(\d+))\n", line)
        assert match and int(match.group(2)) > 0
        assert httpx.get(f"{match.group(1)}/v1/health").status_code == 200
        process.send_signal(sig)
        assert process.wait(timeout=10) == 0
        assert process.stdout.read() == ""  # nothing else on standard output
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def test_gateway_cli_lists_accounts_codes_and_roster() -> None:
    accounts = gateway_cli("accounts")
    for user in ("officer1", "officer2", "dispatch1", "officer3", "dispatch2", "officer4",
                 "trainer1"):
        assert user in accounts
    assert "training" in accounts and otp_secret_for("officer1") in accounts
    assert "mdt-gateway otp USER" in accounts
    code = gateway_cli("otp", "officer1").strip()
    assert re.fullmatch(r"\d{6}", code)
    assert pyotp.TOTP(otp_secret_for("officer1")).verify(code, valid_window=1)
    roster = gateway_cli("roster")
    assert "QV LIC/TRN4821.LIS/VA" in roster and "QV LIC/CLN1000.LIS/MD" in roster
    assert "Deported felon" in roster
