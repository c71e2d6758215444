"""Hit confirmation escalation on the switch: a request from an agency no trainee sits at, left
unanswered past its respond_by, is asked again (RNO 2), then a third time with notice to the CSA
and the FBI (RNO 3); a YR in time stops it. Windows are seconds here (``respond_in``)."""

from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import Gateway
from tests.gateway.helpers import auth, last_seq, message, send, wait_events

REQUEST = {"type": "hit_confirmation_request", "rty": "SV", "rno": "1", "pri": "U",
           "oca": "26-004513", "nic": "V260000002", "requesting_ori": "VA0290000",
           "requesting_name": "DEPUTY PAT PRACTICE", "phone": "703-555-0129",
           "data_set": {"LIC": "TRN5007", "LIS": "MD"},
           "text": "YQ.MD1012600.VA0290000\n\nRTY/SV RNO/1 PRI/U OCA/26-004513 NIC/V260000002"}


def inject(gw: Gateway, request: dict[str, Any]) -> None:
    trainer = auth(gw, "trainer1")
    answer = httpx.post(f"{gw.url}/v1/training/events", headers=trainer, timeout=10,
                        json={"ori": "MD1012600", "events": [request]})
    assert answer.status_code == 200, answer.text


def requests_for(gw: Gateway, desk: dict[str, str], after: int, count: int,
                 timeout: float = 10) -> list[dict[str, Any]]:
    events = wait_events(gw, desk, count, after=after, timeout=timeout)
    return [e for e in events if e["type"] == "hit_confirmation_request"]


def test_unanswered_request_is_asked_again_then_a_third_time(gateway: Gateway) -> None:
    desk = auth(gateway, "dispatch1")
    base = last_seq(gateway, desk)
    inject(gateway, {**REQUEST, "respond_in": 1})
    first, second, third = requests_for(gateway, desk, base, 3)
    assert [r["rno"] for r in (first, second, third)] == ["1", "2", "3"]
    assert second["nic"] == first["nic"] and second["oca"] == first["oca"]
    assert second["repeats"] == first["request_id"] != second["request_id"]
    assert second["remarks"].startswith("SECOND REQUEST")
    assert "CSA AND FBI NOTIFIED" in third["remarks"] and "RNO/3" in third["text"]
    for earlier, later in ((first, second), (second, third)):
        assert later["respond_by"] > earlier["respond_by"]
    time.sleep(1.5)
    assert len(requests_for(gateway, desk, base, 4, timeout=0.5)) == 3  # no fourth request


def test_a_yr_in_time_stops_the_escalation(gateway: Gateway) -> None:
    desk = auth(gateway, "dispatch1")
    base = last_seq(gateway, desk)
    inject(gateway, {**REQUEST, "respond_in": 2})
    (_first,) = requests_for(gateway, desk, base, 1)
    send(gateway, desk, message("YR", {"RTY": "SV", "RNO": "1", "OCA": "26-004513",
                                       "NIC": "V260000002", "CST": "Y", "LIC": "TRN5007",
                                       "LIS": "MD"}, dest=["VA0290000"]))
    time.sleep(3)
    events = wait_events(gateway, desk, 1, after=base, timeout=0.5)
    assert [e["rno"] for e in events if e["type"] == "hit_confirmation_request"] == ["1"]
