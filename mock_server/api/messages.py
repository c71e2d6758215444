"""Messages to the switch, the units of the caller's agency, and the client's audit records."""

from __future__ import annotations

import time
from typing import Annotated, Any

from fastapi import APIRouter, Header

from mock_server.api.deps import GatewayDep, SignedIn
from mock_server.models import AuditBatch, MessageBody
from mock_server.state import iso

router = APIRouter()


@router.post("/v1/messages", status_code=202)
async def send(body: MessageBody, account: SignedIn, gw: GatewayDep,
               idempotency_key: Annotated[str | None, Header()] = None) -> dict[str, Any]:
    return gw.accept(account, body, idempotency_key)


@router.post("/v1/audit")
async def audit(body: AuditBatch, account: SignedIn, gw: GatewayDep) -> dict[str, Any]:
    records = [r.model_dump(mode="json") for r in body.records]
    stored = gw.state.add_audit(account.user_id, records)
    return {"accepted": [r["id"] for r in records], "new": stored}


@router.get("/v1/units")
async def units(account: SignedIn, gw: GatewayDep) -> dict[str, Any]:
    """The terminals of the caller's agency (ORI): for a dispatcher's unit list and for
    addressing an administrative message (AM) to a unit."""
    now = time.time()
    found = []
    for other in gw.state.accounts():
        if other.ori != account.ori or other.role == "trainer":
            continue
        receipts = gw.state.receipts(other.user_id)
        last_login = gw.state.last_login(other.user_id)
        found.append({"user_id": other.user_id, "name": other.name, "unit": other.unit,
                      "role": other.role, "signed_in": gw.state.signed_in(other.user_id, now),
                      "last_login_at": iso(last_login) if last_login else None,
                      "last_contact_at": receipts["fetched_at"]})
    return {"ori": account.ori, "units": found}
