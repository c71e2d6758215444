"""Training features through real HTTP: hit confirmation between agencies (YQ / YR) and by the
switch, administrative messages, records a trainer enters (delayed hits), scenarios, the activity
record and the reset. The module shares one gateway; the reset test runs last."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import httpx
import pytest

from tests.conftest import Gateway
from tests.gateway.helpers import auth, last_seq, message, qv, send, wait_events

pytestmark = pytest.mark.e2e

YQ = {"RTY": "SV", "RNO": "1", "PRI": "U", "OCA": "26-004512", "NIC": "V260000001",
      "LIC": "TRN4821", "LIS": "VA"}


def iso_seconds(value: str) -> float:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def activity(gw: Gateway, trainer: dict[str, str]) -> dict[str, Any]:
    response = httpx.get(f"{gw.url}/v1/training/activity", headers=trainer)
    assert response.status_code == 200
    return dict(response.json())


def test_a_yq_and_its_yr_between_two_agencies(gw: Gateway, trainer_headers: dict[str, str]
                                              ) -> None:
    officer, desk = auth(gw), auth(gw, "dispatch2")
    base, desk_base = last_seq(gw, officer), last_seq(gw, desk)
    yq = message("YQ", YQ | {"PHO": "410-555-0112"}, dest=["VA0290000"])
    sent_at = time.time()
    send(gw, officer, yq)
    (ack,) = wait_events(gw, officer, 1, after=base)
    assert ack["type"] == "ack" and ack["in_reply_to"] == yq["id"]
    (request,) = wait_events(gw, desk, 1, after=desk_base)
    assert request["type"] == "hit_confirmation_request" and request["request_id"] == yq["id"]
    assert request["requesting_ori"] == "MD1012600" and request["phone"] == "410-555-0112"
    assert abs(iso_seconds(request["respond_by"]) - (sent_at + 600)) < 5
    assert request["data_set"] == {"LIC": "TRN4821", "LIS": "VA"}

    yr = message("YR", {"RTY": "SV", "RNO": "1", "OCA": "26-004512", "NIC": "V260000001",
                        "CST": "Y", "LIC": "TRN4821", "LIS": "VA", "REM": "HOLD FOR PICKUP"},
                 dest=["MD1012600"])
    send(gw, desk, yr)
    events = wait_events(gw, officer, 2, after=base)
    response = events[1]
    assert response["type"] == "hit_confirmation_response"
    assert response["in_reply_to"] == yq["id"] and response["status"] == "CONFIRMED"
    assert response["confirming_ori"] == "VA0290000" and response["remarks"] == "HOLD FOR PICKUP"
    assert [e["type"] for e in wait_events(gw, desk, 2, after=desk_base)] == \
        ["hit_confirmation_request", "ack"]
    (tracked,) = [c for c in activity(gw, trainer_headers)["hit_confirmations"]
                  if c["request_id"] == yq["id"]]
    assert tracked["answered_by"] == "dispatch2" and tracked["status"] == "CONFIRMED"
    assert tracked["on_time"] is True and tracked["requester"] == "officer1"


def test_an_agency_nobody_sits_at_answers_through_the_switch(gw: Gateway) -> None:
    officer = auth(gw)
    base = last_seq(gw, officer)
    yq = message("YQ", {"RTY": "SG", "RNO": "1", "PRI": "R", "OCA": "26-004600",
                        "NIC": "G260000001", "SER": "TRG4821", "MAK": "SW"}, dest=["MD0030000"])
    send(gw, officer, yq)
    ack, response = wait_events(gw, officer, 2, after=base)
    assert ack["type"] == "ack"
    assert response["type"] == "hit_confirmation_response" and response["status"] == "CONFIRMED"
    assert response["in_reply_to"] == yq["id"] and response["confirming_ori"] == "MD0030000"


def test_an_administrative_message_reaches_the_other_agency(gw: Gateway) -> None:
    officer, other, desk = auth(gw), auth(gw, "officer3"), auth(gw, "dispatch2")
    bases = [last_seq(gw, h) for h in (officer, other, desk)]
    am = message("AM", {"TXT": "ROAD CLOSED AT EXIT 4"}, dest=["VA0290000"])
    send(gw, officer, am)
    assert [e["type"] for e in wait_events(gw, officer, 1, after=bases[0])] == ["ack"]
    for headers, base in ((other, bases[1]), (desk, bases[2])):
        (event,) = wait_events(gw, headers, 1, after=base)
        assert event["type"] == "admin" and event["from_ori"] == "MD1012600"
        assert event["text"].endswith("ROAD CLOSED AT EXIT 4")


def test_a_record_entered_later_gives_a_delayed_hit(gw: Gateway, trainer_headers: dict[str, str]
                                                    ) -> None:
    officer = auth(gw, "officer2")
    base = last_seq(gw, officer)
    earlier = qv("TRN7730", "MD")
    send(gw, officer, earlier)
    (clean,) = wait_events(gw, officer, 1, after=base)
    assert clean["records"] == []
    entry = {"kind": "stolen_vehicle", "record": {"LIC": "TRN7730", "LIS": "MD",
                                                  "NIC": "V260007730", "ORI": "MD1012600"}}
    refused = httpx.post(f"{gw.url}/v1/training/records", json=entry, headers=officer)
    assert refused.status_code == 403
    no_nic = httpx.post(f"{gw.url}/v1/training/records", headers=trainer_headers,
                        json={"kind": "stolen_vehicle", "record": {"LIC": "X", "LIS": "MD"}})
    assert no_nic.status_code == 422 and no_nic.json()["error"]["field"] == "NIC"
    entered = httpx.post(f"{gw.url}/v1/training/records", json=entry, headers=trainer_headers)
    assert entered.status_code == 201 and entered.json()["delayed_hits"] == 1
    delayed = wait_events(gw, officer, 2, after=base)[1]
    assert delayed["type"] == "delayed_hit" and delayed["in_reply_to"] == earlier["id"]
    assert delayed["records"][0]["nic"] == "V260007730" and delayed["records"][0]["hit"]
    send(gw, officer, qv("TRN7730", "MD"))
    assert wait_events(gw, officer, 3, after=base)[2]["records"][0]["hit"] is True


def test_scenarios_are_listed_started_and_saved(gw: Gateway, trainer_headers: dict[str, str]
                                                ) -> None:
    listed = httpx.get(f"{gw.url}/v1/training/scenarios", headers=trainer_headers).json()
    names = {s["name"]: s for s in listed["scenarios"]}
    assert {"stolen-car-stop", "delayed-hit", "incoming-hit-confirmation"} <= set(names)
    assert names["delayed-hit"]["source"] == "bundled" and names["delayed-hit"]["steps"] == 3

    desk = auth(gw, "dispatch1")
    desk_base = last_seq(gw, desk)
    started = httpx.post(f"{gw.url}/v1/training/scenarios/incoming-hit-confirmation/start",
                         json={"speed": 1000}, headers=trainer_headers)
    assert started.status_code == 200 and started.json()["steps"] == 3
    request, second, reminder = wait_events(gw, desk, 3, after=desk_base)
    assert second["type"] == "hit_confirmation_request" and second["rno"] == "2"
    assert request["type"] == "hit_confirmation_request" and request["request_id"]
    assert iso_seconds(request["respond_by"]) - iso_seconds(request["created_at"]) == \
        pytest.approx(600, abs=1)
    assert reminder["type"] == "admin" and request["training"] is True
    yr = message("YR", {"RTY": "SV", "RNO": "1", "OCA": "26-004513", "NIC": "V260000002",
                        "CST": "N", "LIC": "TRN5007", "LIS": "MD"}, dest=["VA0290000"])
    send(gw, desk, yr)
    assert wait_events(gw, desk, 4, after=desk_base)[3]["type"] == "ack"
    (tracked,) = [c for c in activity(gw, trainer_headers)["hit_confirmations"]
                  if c["request_id"] == request["request_id"]]
    assert tracked["answered_by"] == "dispatch1" and tracked["status"] == "NOT_CONFIRMED"

    broken = httpx.post(f"{gw.url}/v1/training/scenarios", headers=trainer_headers,
                        json={"name": "Bad Name", "steps": []})
    assert broken.status_code == 422 and broken.json()["error"]["field"] == "name"
    custom = {"name": "roll-call", "title": "Roll call",
              "steps": [{"at": 0, "to": "trainees",
                         "event": {"type": "admin", "text": "ROLL CALL AT 0600"}}]}
    saved = httpx.post(f"{gw.url}/v1/training/scenarios", json=custom, headers=trainer_headers)
    assert saved.status_code == 201
    listed = httpx.get(f"{gw.url}/v1/training/scenarios", headers=trainer_headers).json()
    assert {"name": "roll-call", "source": "custom"}.items() <= next(
        s for s in listed["scenarios"] if s["name"] == "roll-call").items()
    only = auth(gw, "officer4")
    only_base, desk_base = last_seq(gw, only), last_seq(gw, desk)
    httpx.post(f"{gw.url}/v1/training/scenarios/roll-call/start", json={"users": ["officer4"]},
               headers=trainer_headers).raise_for_status()
    (event,) = wait_events(gw, only, 1, after=only_base)
    assert event["text"] == "ROLL CALL AT 0600"
    assert wait_events(gw, desk, 1, after=desk_base, timeout=0.3) == []  # not started for them
    missing = httpx.post(f"{gw.url}/v1/training/scenarios/nope/start", headers=trainer_headers)
    assert missing.status_code == 404
    ghosts = httpx.post(f"{gw.url}/v1/training/scenarios/roll-call/start",
                        json={"users": ["ghost"]}, headers=trainer_headers)
    assert ghosts.status_code == 422 and ghosts.json()["error"]["field"] == "users"


def test_a_scenario_enters_records_and_switches_faults(gw: Gateway,
                                                      trainer_headers: dict[str, str]) -> None:
    officer = auth(gw, "officer4")
    base = last_seq(gw, officer)
    earlier = qv("TRN7740", "MD")
    send(gw, officer, earlier)
    assert wait_events(gw, officer, 1, after=base)[0]["records"] == []
    scenario = {"name": "late-record", "steps": [
        {"at": 0, "enter": {"kind": "stolen_vehicle", "lic": "TRN7740", "lis": "MD",
                            "nic": "V260007740"}},
        {"at": 1, "faults": {"user": "officer4", "text_only": True}}]}
    httpx.post(f"{gw.url}/v1/training/scenarios", json=scenario,
               headers=trainer_headers).raise_for_status()
    httpx.post(f"{gw.url}/v1/training/scenarios/late-record/start", json={"speed": 10},
               headers=trainer_headers).raise_for_status()
    delayed = wait_events(gw, officer, 2, after=base)[1]
    assert delayed["type"] == "delayed_hit" and delayed["in_reply_to"] == earlier["id"]
    time.sleep(0.3)
    send(gw, officer, qv("TRN7740", "MD"))
    now = wait_events(gw, officer, 3, after=base)[2]
    assert "records" not in now and "MKE/STOLEN VEHICLE" in now["text"]


def test_activity_shows_what_each_trainee_sent_received_and_acknowledged(
        gw: Gateway, trainer_headers: dict[str, str]) -> None:
    officer = auth(gw, "officer3")
    query = qv("CLN1000", "MD")
    send(gw, officer, query)
    events = wait_events(gw, officer, 1, after=last_seq(gw, officer) - 1)
    upto = events[-1]["seq"]
    httpx.post(f"{gw.url}/v1/inbox/ack", json={"upto": upto}, headers=officer)
    users = {u["user_id"]: u for u in activity(gw, trainer_headers)["users"]}
    mine = users["officer3"]
    assert query["id"] in [m["id"] for m in mine["sent"]]
    assert query["id"] in [e["in_reply_to"] for e in mine["received"]]
    assert mine["fetched_upto"] >= upto and mine["acked_upto"] == upto and mine["acked_at"]
    assert mine["last_login_at"] and mine["role"] == "officer" and mine["pending"] == 0


def test_training_endpoints_are_for_trainers(gw: Gateway) -> None:
    officer = auth(gw)
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "scenarios", None), ("GET", "activity", None), ("POST", "reset", {}),
        ("GET", "faults", None), ("POST", "scenarios/delayed-hit/start", {})]
    for method, path, body in calls:
        response = httpx.request(method, f"{gw.url}/v1/training/{path}", json=body,
                                 headers=officer)
        assert response.status_code == 403, path
        assert response.json()["error"]["code"] == "forbidden"
    assert httpx.get(f"{gw.url}/v1/training/activity").status_code == 401


def test_a_reset_starts_the_class_again(gw: Gateway, trainer_headers: dict[str, str]) -> None:
    officer = auth(gw, "officer3")
    base = last_seq(gw, officer)
    httpx.post(f"{gw.url}/v1/training/events", headers=trainer_headers, json={
        "user": "officer3", "delay": 2, "events": [{"type": "admin", "text": "LATER"}]})
    httpx.post(f"{gw.url}/v1/training/records", headers=trainer_headers, json={
        "kind": "stolen_vehicle", "record": {"LIC": "TRN7731", "LIS": "MD", "NIC": "V260007731"}})
    reset = httpx.post(f"{gw.url}/v1/training/reset", json={"restart": False},
                       headers=trainer_headers)
    assert reset.status_code == 200 and reset.json()["scenario"] is None
    (notice,) = wait_events(gw, officer, 1, after=base)
    assert notice["type"] == "admin" and notice["text"].startswith("TRAINING RESET")
    send(gw, officer, qv("TRN7731", "MD"))  # the entered record is gone again
    events = wait_events(gw, officer, 2, after=base)
    assert events[1]["records"] == [] and events[1]["seq"] == notice["seq"] + 1
    time.sleep(2.2)
    assert len(wait_events(gw, officer, 3, after=base, timeout=0.2)) == 2  # nothing left pending
    assert all(u["sent"] == [] or u["user_id"] == "officer3"
               for u in activity(gw, trainer_headers)["users"])
    restarted = httpx.post(f"{gw.url}/v1/training/reset", json={"scenario": "roll-call"},
                           headers=trainer_headers).json()
    assert restarted["scenario"]["name"] == "roll-call", restarted
