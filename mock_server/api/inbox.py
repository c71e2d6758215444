"""The inbox: pages after a cursor, the live stream (SSE), and the client's receipts."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query
from sse_starlette import EventSourceResponse, ServerSentEvent

from mdt.net.events import InboxPage
from mock_server.api.deps import GatewayDep, SessionDep, SignedIn
from mock_server.errors import ApiError
from mock_server.models import MAX_SEQ, AckAnswer, AckBody

router = APIRouter()


@router.get("/v1/inbox", response_model=None, responses={200: {
    "model": InboxPage, "description": "Events after the cursor, oldest first (the event "
    "models are the client's own, mdt.net.events)"}})
async def inbox(account: SignedIn, gw: GatewayDep,
                after: int = Query(default=0, ge=0, le=MAX_SEQ),
                limit: int = Query(default=200, ge=1, le=1000)) -> dict[str, Any]:
    events = gw.state.events_after(account.user_id, after, limit)
    if events:
        gw.state.fetched(account.user_id, events[-1]["seq"])
    return {"events": events, "next_after": events[-1]["seq"] if events else after}


@router.get("/v1/inbox/stream")
async def stream(caller: SessionDep, gw: GatewayDep,
                 last_event_id: Annotated[str | None, Header()] = None) -> EventSourceResponse:
    try:
        cursor = min(MAX_SEQ, max(0, int((last_event_id or "0").strip() or 0)))
    except ValueError as exc:
        raise ApiError(422, "validation", "Last-Event-ID must be a number.",
                       "Last-Event-ID") from exc
    user_id = caller.account.user_id
    heartbeat = gw.config.heartbeat

    async def events() -> AsyncIterator[ServerSentEvent]:
        nonlocal cursor
        with gw.subscription(user_id) as wake:
            while True:
                wake.clear()
                try:  # a session logged out or expired ends its stream, at once
                    gw.account_for(caller.token)
                except ApiError:
                    return
                batch = gw.state.events_after(user_id, cursor, 200)
                for event in batch:
                    cursor = event["seq"]
                    item = ServerSentEvent(json.dumps(event), id=str(event["seq"]),
                                           event=event["type"])
                    yield item
                    if gw.faults.roll(gw.faults.for_user(user_id).duplicate_rate):
                        yield item  # delivered twice: the client must apply it once
                if batch:
                    gw.state.fetched(user_id, cursor)
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(wake.wait(), timeout=max(1.0, heartbeat))

    return EventSourceResponse(
        events(), ping=max(0.05, heartbeat),
        ping_message_factory=lambda: ServerSentEvent(comment="heartbeat"),
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@router.post("/v1/inbox/ack", response_model=AckAnswer)
async def ack(body: AckBody, account: SignedIn, gw: GatewayDep) -> dict[str, int]:
    last = gw.state.last_seq(account.user_id)
    if body.upto > last:  # a receipt for events that do not exist is a client's bug
        raise ApiError(409, "ack_beyond_inbox",
                       f"upto {body.upto} is beyond the last event of this inbox ({last}).",
                       "upto")
    gw.state.ack(account.user_id, body.upto)
    return {"upto": gw.state.acked(account.user_id)}
