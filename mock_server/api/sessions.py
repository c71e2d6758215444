"""Health, signing in and signing out."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request, Response

from mock_server import __version__
from mock_server.api.deps import GatewayDep, SessionDep
from mock_server.models import LoginBody
from mock_server.state import iso

router = APIRouter()


@router.get("/v1/health")
async def health(gw: GatewayDep) -> dict[str, Any]:
    return {"status": "ok", "time": iso(time.time()), "version": __version__,
            "training": gw.config.training}


@router.post("/v1/sessions", status_code=201)
async def login(body: LoginBody, request: Request, gw: GatewayDep) -> dict[str, Any]:
    return gw.login(body, request.client.host if request.client else "")


@router.delete("/v1/sessions/current", status_code=204)
async def logout(caller: SessionDep, gw: GatewayDep) -> Response:
    gw.state.revoke(caller.token)
    gw.notify(caller.account.user_id)  # its open streams see the logout now and end
    return Response(status_code=204)
