"""The training gateway's faults, through real HTTP: 503s, connections dropped mid-answer after
the work was done, duplicated live events, latency, text only, destinations down (and back),
trainer-only control."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import Gateway, start_gateway
from tests.gateway.helpers import auth, last_seq, qv, read_stream, send, wait_events

pytestmark = pytest.mark.e2e


def test_only_a_trainer_sets_faults(gw: Gateway, trainer_headers: dict[str, str]) -> None:
    response = httpx.put(f"{gw.url}/v1/training/faults", json={"error_rate": 1},
                         headers=auth(gw))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    put = httpx.put(f"{gw.url}/v1/training/faults", json={"error_rate": 0.5},
                    headers=trainer_headers)
    assert put.json()["error_rate"] == 0.5
    shown = httpx.get(f"{gw.url}/v1/training/faults", headers=trainer_headers).json()
    assert shown["gateway"]["error_rate"] == 0.5
    bad = httpx.put(f"{gw.url}/v1/training/faults", json={"error_rate": 2},
                    headers=trainer_headers)
    assert bad.status_code == 422 and bad.json()["error"]["field"] == "error_rate"


def test_offline_for_one_user_only(gw: Gateway, trainer_headers: dict[str, str]) -> None:
    headers, other = auth(gw), auth(gw, "officer2")
    httpx.put(f"{gw.url}/v1/training/faults", json={"user": "officer1", "offline": True},
              headers=trainer_headers)
    down = httpx.get(f"{gw.url}/v1/inbox", headers=headers)
    assert down.status_code == 503 and down.json()["error"]["code"] == "unavailable"
    assert httpx.get(f"{gw.url}/v1/inbox", headers=other).status_code == 200
    assert httpx.get(f"{gw.url}/v1/health").status_code == 200  # health is never faulted
    httpx.put(f"{gw.url}/v1/training/faults", json={"user": "officer1"}, headers=trainer_headers)
    assert httpx.get(f"{gw.url}/v1/inbox", headers=headers).status_code == 200


def test_a_dropped_answer_still_did_the_work_once(gw: Gateway,
                                                  trainer_headers: dict[str, str]) -> None:
    headers = auth(gw)
    base = last_seq(gw, headers)
    httpx.put(f"{gw.url}/v1/training/faults", json={"drop_rate": 1.0}, headers=trainer_headers)
    query = qv("TRN4821", "VA")
    with pytest.raises(httpx.HTTPError):
        send(gw, headers, query)
    httpx.put(f"{gw.url}/v1/training/faults", json={}, headers=trainer_headers)
    assert send(gw, headers, query).status_code == 202  # the retry: the same answer
    wait_events(gw, headers, 1, after=base)
    time.sleep(0.3)
    assert [e["in_reply_to"] for e in wait_events(gw, headers, 1, after=base)] == [query["id"]]


def test_latency_and_text_only_for_one_user(gw: Gateway, trainer_headers: dict[str, str]) -> None:
    headers = auth(gw, "officer2")
    base = last_seq(gw, headers)
    httpx.put(f"{gw.url}/v1/training/faults", headers=trainer_headers,
              json={"user": "officer2", "latency": 0.8, "text_only": True})
    started = time.monotonic()
    send(gw, headers, qv("TRN4821", "VA"))
    assert wait_events(gw, headers, 1, after=base, timeout=0.4) == []
    (event,) = wait_events(gw, headers, 1, after=base)
    assert time.monotonic() - started >= 0.7
    assert "records" not in event and "MKE/STOLEN VEHICLE" in event["text"]


def test_a_destination_down_forwards_later(gw: Gateway, trainer_headers: dict[str, str]) -> None:
    headers = auth(gw)
    base = last_seq(gw, headers)
    httpx.put(f"{gw.url}/v1/training/faults", json={"destinations_down": ["va"]},
              headers=trainer_headers)
    query = {"id": str(uuid.uuid4()), "mke": "RQ", "dest": ["VA"], "fields": {"LIC": "TRN4821"},
             "text": "RQ.MD1012600.VA.TXT\nLIC/TRN4821", "created_at": ""}
    send(gw, headers, query)
    (status,) = wait_events(gw, headers, 1, after=base)
    assert status["type"] == "status" and status["status"] == "destination_down"
    assert status["in_reply_to"] == query["id"] and "WILL FORWARD" in status["text"]
    time.sleep(0.3)
    assert len(wait_events(gw, headers, 1, after=base)) == 1  # held while VA is down
    httpx.put(f"{gw.url}/v1/training/faults", json={}, headers=trainer_headers)
    events = wait_events(gw, headers, 2, after=base)
    assert [e["type"] for e in events] == ["status", "response"] and events[1]["source"] == "VA"
    assert events[1]["records"][0]["file"] == "REG"


def test_a_trainer_injects_events_for_a_user_or_an_ori(gw: Gateway,
                                                       trainer_headers: dict[str, str]) -> None:
    officer, dispatcher = auth(gw), auth(gw, "dispatch1")
    bases = [last_seq(gw, officer), last_seq(gw, dispatcher)]
    refused = httpx.post(f"{gw.url}/v1/training/events", headers=officer,
                         json={"user": "officer1", "events": [{"type": "admin", "text": "x"}]})
    assert refused.status_code == 403
    bad = httpx.post(f"{gw.url}/v1/training/events", headers=trainer_headers,
                     json={"user": "officer1", "events": [{"type": "response", "text": "x"}]})
    assert bad.status_code == 422
    nobody = httpx.post(f"{gw.url}/v1/training/events", headers=trainer_headers,
                        json={"user": "ghost", "events": [{"type": "admin", "text": "x"}]})
    assert nobody.status_code == 422
    done = httpx.post(f"{gw.url}/v1/training/events", headers=trainer_headers, json={
        "ori": "MD1012600", "events": [{"type": "admin", "text": "ROLL CALL AT 0600"}]}).json()
    assert {"officer1", "officer2", "dispatch1", "trainer1"} <= set(done["recipients"])
    for headers, base in zip((officer, dispatcher), bases, strict=True):
        (event,) = wait_events(gw, headers, 1, after=base)
        assert event["type"] == "admin" and event["text"] == "ROLL CALL AT 0600"
        assert event["training"] is True


def test_live_events_may_come_twice(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw", "--duplicate-rate", "1")
    try:
        headers = auth(gw)
        send(gw, headers, qv("TRN4821", "VA"))
        wait_events(gw, headers, 1)
        seqs = [e["seq"] for e in read_stream(gw, headers, 0, 2)]
        assert seqs == [1, 1]
    finally:
        gw.stop()
