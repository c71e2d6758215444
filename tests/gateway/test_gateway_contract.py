"""The gateway honours its own contract: a receipt only for events that exist, field sizes from
the form definitions, nothing injected that it could not serve, and an OpenAPI document that
declares every answer it really gives (the event models are the client's own)."""

from __future__ import annotations

import httpx
import pytest

from mdt.net.events import inbox_page_schema
from tests.conftest import Gateway
from tests.gateway.helpers import auth, message

pytestmark = pytest.mark.e2e


def test_an_ack_beyond_the_last_event_is_refused(gw: Gateway) -> None:
    officer = auth(gw, "officer2")
    last = httpx.get(f"{gw.url}/v1/inbox", params={"after": 0, "limit": 1000},
                     headers=officer).json()["events"]
    top = last[-1]["seq"] if last else 0
    beyond = httpx.post(f"{gw.url}/v1/inbox/ack", json={"upto": top + 1}, headers=officer)
    assert beyond.status_code == 409
    assert beyond.json()["error"] == {"code": "ack_beyond_inbox", "field": "upto",
                                      "message": beyond.json()["error"]["message"]}
    assert httpx.post(f"{gw.url}/v1/inbox/ack", json={"upto": top},
                      headers=officer).status_code == 200


def test_field_sizes_come_from_the_form_definitions(gw: Gateway) -> None:
    officer = auth(gw)
    too_long = message("QV", {"LIC": "A" * 11, "LIS": "MD"})  # the QV form: LIC at most 10
    refused = httpx.post(f"{gw.url}/v1/messages", json=too_long, headers=officer | {
        "Idempotency-Key": too_long["id"]})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "LIC"
    huge = message("QV", {"LIC": "A" * 5_000_000, "LIS": "MD"})
    refused = httpx.post(f"{gw.url}/v1/messages", json=huge, timeout=30,
                         headers=officer | {"Idempotency-Key": huge["id"]})
    assert refused.status_code == 422 and refused.json()["error"]["field"] == "LIC"
    assert "A" * 100 not in refused.text  # not echoed back
    many = message("QV", {f"X{n}": "B" * 200_000 for n in range(100)})
    refused = httpx.post(f"{gw.url}/v1/messages", json=many, timeout=30,
                         headers=officer | {"Idempotency-Key": many["id"]})
    assert refused.status_code == 422


def test_what_cannot_be_served_is_refused_at_injection(gw: Gateway,
                                                       trainer_headers: dict[str, str]) -> None:
    headers = {**trainer_headers, "Content-Type": "application/json"}
    for unchecked in (b"false", b"true"):
        lone = httpx.post(f"{gw.url}/v1/training/events", headers=headers, content=(
            b'{"user": "officer3", "unchecked": ' + unchecked + b', "events": [{"type": '
            b'"admin", "text": "LONE \\ud800"}]}'))
        assert lone.status_code == 422, lone.text
        nested: object = 1
        for _ in range(40):
            nested = [nested]
        deep = {"user": "officer3", "unchecked": unchecked == b"true", "events": [
            {"type": "admin", "text": "x", "extra": nested}]}
        assert httpx.post(f"{gw.url}/v1/training/events", headers=trainer_headers,
                          json=deep).status_code == 422
    checked = httpx.post(f"{gw.url}/v1/training/events", headers=trainer_headers, json={
        "user": "officer3", "events": [{"type": "detainer",
                                        "requested_action": {"hold_hours": 1e9}}]})
    assert checked.status_code == 422 and "hold_hours" in checked.json()["error"]["message"]
    inbox = httpx.get(f"{gw.url}/v1/inbox", headers=auth(gw, "officer3"))
    assert inbox.status_code == 200  # the inbox still answers


def test_the_openapi_document_declares_the_real_answers(gw: Gateway) -> None:
    document = httpx.get(f"{gw.url}/openapi.json").json()
    paths = document["paths"]
    for path, methods in paths.items():
        for method, operation in methods.items():
            declared = set(operation["responses"])
            assert {"401", "403", "404", "409", "422", "500", "503"} <= declared, (method, path)
            shape = operation["responses"]["422"]["content"]["application/json"]["schema"]
            assert shape == {"$ref": "#/components/schemas/ErrorBody"}, (method, path)
    assert "HTTPValidationError" not in document["components"]["schemas"]
    inbox = paths["/v1/inbox"]["get"]["responses"]["200"]["content"]["application/json"]
    assert inbox["schema"] == {"$ref": "#/components/schemas/InboxPage"}
    served = document["components"]["schemas"]["InboxPage"]
    ours = inbox_page_schema()
    assert served["required"] == ours["required"]
    assert set(served["properties"]) == set(ours["properties"])
    for model in ("ResponseEvent", "DetainerEvent", "Record", "RequestedAction"):
        assert model in document["components"]["schemas"]  # one source: mdt.net.events
