"""The training gateway's faults, through real HTTP: 503s, connections dropped mid-answer after
the work was done, duplicated live events, destinations down (and back), trainer-only control."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import httpx
import pytest

from tests.conftest import Gateway, start_gateway
from tests.gateway.test_gateway_api import auth, qv, read_stream, send, wait_events

pytestmark = pytest.mark.e2e


_TRAINERS: dict[str, dict[str, str]] = {}


def set_faults(gw: Gateway, **faults: object) -> httpx.Response:
    """As the trainer (signed in once, before any fault applies: training calls are exempt)."""
    if gw.url not in _TRAINERS:
        _TRAINERS[gw.url] = auth(gw, "trainer1")
    return httpx.put(f"{gw.url}/v1/training/faults", json=faults, headers=_TRAINERS[gw.url])


def test_only_a_trainer_sets_faults(gateway: Gateway) -> None:
    set_faults(gateway)
    response = httpx.put(f"{gateway.url}/v1/training/faults", json={"error_rate": 1},
                         headers=auth(gateway))
    assert response.status_code == 403 and response.json()["error"]["code"] == "forbidden"
    assert set_faults(gateway, error_rate=0.5).json()["error_rate"] == 0.5
    assert set_faults(gateway, error_rate=2).status_code == 422


def test_offline_for_one_user_only(gateway: Gateway) -> None:
    headers, other = auth(gateway), auth(gateway, "officer2")
    set_faults(gateway)
    set_faults(gateway, user="officer1", offline=True)
    down = httpx.get(f"{gateway.url}/v1/inbox", headers=headers)
    assert down.status_code == 503 and down.json()["error"]["code"] == "unavailable"
    assert httpx.get(f"{gateway.url}/v1/inbox", headers=other).status_code == 200
    set_faults(gateway, user="officer1")
    assert httpx.get(f"{gateway.url}/v1/inbox", headers=headers).status_code == 200


def test_a_dropped_answer_still_did_the_work_once(gateway: Gateway) -> None:
    headers = auth(gateway)
    set_faults(gateway)
    set_faults(gateway, drop_rate=1.0)
    message = qv("TRN4821", "VA")
    with pytest.raises(httpx.HTTPError):
        send(gateway, headers, message)
    set_faults(gateway)
    assert send(gateway, headers, message).status_code == 202  # the retry: same answer
    events = wait_events(gateway, headers, 1)
    time.sleep(0.3)
    assert [e["in_reply_to"] for e in wait_events(gateway, headers, 1)] == [message["id"]]
    assert len(events) == 1


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


def test_a_destination_down_forwards_later(gateway: Gateway) -> None:
    headers = auth(gateway)
    set_faults(gateway, destinations_down=["va"])
    message = {"id": str(uuid.uuid4()), "mke": "RQ", "dest": ["VA"], "fields": {"LIC": "TRN4821"},
               "text": "RQ.MD1012600.VA.TXT\nLIC/TRN4821", "created_at": ""}
    send(gateway, headers, message)
    (status,) = wait_events(gateway, headers, 1)
    assert status["type"] == "status" and status["status"] == "destination_down"
    assert "WILL FORWARD" in status["text"]
    time.sleep(0.3)
    assert len(wait_events(gateway, headers, 1)) == 1  # held while VA is down
    set_faults(gateway)
    events = wait_events(gateway, headers, 2)
    assert [e["type"] for e in events] == ["status", "response"] and events[1]["source"] == "VA"


def test_a_trainer_injects_events_for_a_user_or_an_ori(gateway: Gateway) -> None:
    officer, dispatcher = auth(gateway), auth(gateway, "dispatch1")
    set_faults(gateway)
    trainer = _TRAINERS[gateway.url]
    refused = httpx.post(f"{gateway.url}/v1/training/events", headers=officer,
                         json={"user": "officer1", "events": [{"type": "admin", "text": "x"}]})
    assert refused.status_code == 403
    bad = httpx.post(f"{gateway.url}/v1/training/events", headers=trainer,
                     json={"user": "officer1", "events": [{"type": "response", "text": "x"}]})
    assert bad.status_code == 422
    done = httpx.post(f"{gateway.url}/v1/training/events", headers=trainer, json={
        "ori": "MD1012600", "events": [{"type": "admin", "text": "ROLL CALL AT 0600"}]}).json()
    assert {"officer1", "officer2", "dispatch1", "trainer1"} <= set(done["recipients"])
    for headers in (officer, dispatcher):
        (event,) = wait_events(gateway, headers, 1)
        assert event["type"] == "admin" and event["text"] == "ROLL CALL AT 0600"
        assert event["training"] is True
