"""Helpers for the gateway tests: log in, send, read the inbox and the live stream."""

from __future__ import annotations

import json
import time
import uuid
from typing import Any

import httpx

from tests.conftest import Gateway


def login(gw: Gateway, user: str = "officer1", **overrides: str) -> httpx.Response:
    account = gw.demo_account(user)
    body = {"user_id": user, "password": account["password"],
            "otp": account["otp_now"], "device_id": "test"} | overrides
    return httpx.post(f"{gw.url}/v1/sessions", json=body, timeout=10)


def auth(gw: Gateway, user: str = "officer1") -> dict[str, str]:
    response = login(gw, user)
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def message(mke: str, fields: dict[str, str], dest: list[str] | None = None,
            purpose: str | None = None, msg_id: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": msg_id or str(uuid.uuid4()), "mke": mke, "dest": dest or ["NCIC"], "fields": fields,
        "text": f"{mke}.MD1012600.{','.join(dest or ['NCIC'])}.TXT\n"
                + ".".join(f"{k}/{v}" for k, v in fields.items()),
        "created_at": "2026-11-24T10:00:00.000Z"}
    if purpose:
        body["purpose"] = purpose
    return body


def qv(plate: str, state: str, msg_id: str | None = None) -> dict[str, Any]:
    return message("QV", {"LIC": plate, "LIS": state}, msg_id=msg_id)


def send(gw: Gateway, headers: dict[str, str], body: dict[str, Any]) -> httpx.Response:
    return httpx.post(f"{gw.url}/v1/messages", json=body,
                      headers=headers | {"Idempotency-Key": body["id"]}, timeout=10)


def wait_events(gw: Gateway, headers: dict[str, str], count: int, after: int = 0,
                timeout: float = 10) -> list[dict[str, Any]]:
    """The inbox after ``after`` once it holds at least ``count`` events (or at the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        events = httpx.get(f"{gw.url}/v1/inbox", params={"after": after}, headers=headers,
                           timeout=10).json()["events"]
        if len(events) >= count or time.monotonic() > deadline:
            return events
        time.sleep(0.05)


def read_stream(gw: Gateway, headers: dict[str, str], last_id: int | None, count: int,
                timeout: float = 10) -> list[dict[str, Any]]:
    """The first ``count`` events of the live stream, resumed after ``last_id``."""
    events: list[dict[str, Any]] = []
    extra = {} if last_id is None else {"Last-Event-ID": str(last_id)}
    with httpx.stream("GET", f"{gw.url}/v1/inbox/stream", headers=headers | extra,
                      timeout=timeout) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        for line in response.iter_lines():
            if line.startswith("data:"):
                events.append(json.loads(line[5:]))
                if len(events) == count:
                    break
    return events


def last_seq(gw: Gateway, headers: dict[str, str]) -> int:
    """Where this user's inbox stands now."""
    after = 0
    while True:
        page = httpx.get(f"{gw.url}/v1/inbox", params={"after": after, "limit": 1000},
                         headers=headers, timeout=10).json()
        if not page["events"]:
            return after
        after = page["next_after"]
