"""The trainer's endpoints and the demo accounts (training gateways only): faults, injected
events, entered records, the class's activity, and a reset."""

from __future__ import annotations

import json
import time
from typing import Any

from fastapi import APIRouter, Depends, Query

from mdt.core.clock import from_iso
from mdt.net.events import EventInvalid, depth_of, validate_event
from mock_server.accounts import DEMO_PASSWORD
from mock_server.api.deps import ExerciseDep, GatewayDep, Trainer, training_only
from mock_server.errors import ApiError
from mock_server.faults import Faults
from mock_server.models import EntryBody, FaultsBody, InjectBody, ResetBody
from mock_server.scenarios import INJECTABLE

router = APIRouter(dependencies=[Depends(training_only)])


def _servable(value: Any) -> str | None:
    """Why the gateway could not store and serve this JSON value (None when it can)."""
    try:
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return "text with a lone surrogate (not UTF-8)"
    except (ValueError, RecursionError):
        return "not JSON the gateway can serve"
    if depth_of(value, limit=33) > 32:
        return "nested more than 32 deep"
    return None


@router.get("/v1/training/demo-accounts")
async def demo_accounts(gw: GatewayDep) -> dict[str, Any]:
    """The trainee demo accounts with what signing in needs. Never a trainer's secrets (a
    trainer is listed by name only); beyond loopback only if the trainer published them."""
    if not gw.config.publish_accounts:
        raise ApiError(403, "not_published", "The trainer has not published the demo "
                       "accounts on this gateway: ask the trainer for your sign-in.")
    listed: list[dict[str, Any]] = []
    for a in gw.state.accounts():
        if not a.demo:
            continue
        entry: dict[str, Any] = {"user_id": a.user_id, "name": a.name, "role": a.role,
                                 "ori": a.ori, "unit": a.unit}
        if a.role != "trainer":
            entry |= {"password": DEMO_PASSWORD, "otp_secret": a.otp_secret,
                      **gw.next_code(a)}
        listed.append(entry)
    return {"accounts": listed}


@router.put("/v1/training/faults")
async def put_faults(body: FaultsBody, _trainer: Trainer, gw: GatewayDep) -> dict[str, Any]:
    values = body.model_dump(exclude={"user"})
    values["destinations_down"] = [d.upper() for d in values["destinations_down"]]
    gw.set_faults(Faults(**values), body.user)
    return {"user": body.user, **gw.faults.for_user(body.user).to_dict()}


@router.get("/v1/training/faults")
async def get_faults(_trainer: Trainer, gw: GatewayDep) -> dict[str, Any]:
    return {"gateway": gw.faults.base.to_dict(),
            "users": {u: f.to_dict() for u, f in gw.faults.per_user.items()}}


@router.post("/v1/training/events")
async def inject(body: InjectBody, _trainer: Trainer, gw: GatewayDep,
                 exercise: ExerciseDep) -> dict[str, Any]:
    """A trainer makes something happen now (or after ``delay``): to one user, or to every
    terminal of an ORI."""
    recipients = exercise.recipients({"user": body.user}) if body.user else []
    if body.ori:  # the user and every terminal of the ORI
        recipients += [r for r in exercise.recipients({"ori": body.ori}) if r not in recipients]
    if not recipients:
        raise ApiError(422, "validation", "Name a known user or ORI.", "user")
    for event in body.events:
        if event.get("type") not in INJECTABLE:
            raise ApiError(422, "validation", f"Events may be of types {', '.join(INJECTABLE)}.",
                           "type")
        unservable = _servable(event)
        if unservable:
            raise ApiError(422, "validation", f"events: {unservable}.", "events")
        if not body.unchecked:  # the event contract, as the clients check it
            try:
                validate_event({**event, "seq": 1, "id": "injected"})
            except EventInvalid as exc:
                raise ApiError(422, "validation", f"events: {exc.reason} (set unchecked "
                               "for a poison drill).", "events") from None
    items = exercise.prepare_events(body.events, recipients, time.time() + body.delay)
    gw.state.schedule_many(items)
    gw.wake_scheduler()
    return {"scheduled": len(items), "recipients": recipients}


@router.post("/v1/training/records", status_code=201)
async def enter_record(body: EntryBody, _trainer: Trainer, exercise: ExerciseDep
                       ) -> dict[str, Any]:
    """Enter a new NCIC record (stolen vehicle, wanted person, stolen gun): new queries find
    it, and earlier queries it matches get a delayed hit."""
    entry = {**{str(k).lower(): v for k, v in body.record.items()}, "kind": body.kind}
    try:
        entered, hits = exercise.enter(entry)
    except ValueError as exc:
        raise ApiError(422, "validation", f"The record needs {str(exc).upper()}.",
                       str(exc).upper()) from exc
    return {"entered": entered, "delayed_hits": hits}


@router.get("/v1/training/activity")
async def activity(_trainer: Trainer, exercise: ExerciseDep,
                   since: str | None = Query(default=None, max_length=40,
                                             json_schema_extra={"format": "date-time"}),
                   limit: int = Query(default=100, ge=1, le=1000)) -> dict[str, Any]:
    start = None
    if since:
        try:
            start = from_iso(since.upper()).timestamp()
        except ValueError as exc:
            raise ApiError(422, "validation", "since: an ISO 8601 time.", "since") from exc
    return exercise.activity(start, limit)


@router.post("/v1/training/reset")
async def reset(_trainer: Trainer, exercise: ExerciseDep, body: ResetBody | None = None
                ) -> dict[str, Any]:
    return exercise.reset(body or ResetBody())
