"""What a terminal downloads and keeps for offline use: the form definitions and code tables,
each with an ETag (``If-None-Match`` answers 304 when nothing changed)."""

from __future__ import annotations

import csv
import hashlib
import json
from typing import Annotated

from fastapi import APIRouter, Header, Response

from mock_server.api.deps import GatewayDep, SignedIn
from mock_server.config import codes_dir, default_forms_dir
from mock_server.errors import ApiError

router = APIRouter()


def _etag_response(body: bytes, if_none_match: str | None) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


@router.get("/v1/forms")
async def forms(_account: SignedIn, gw: GatewayDep,
                if_none_match: Annotated[str | None, Header()] = None) -> Response:
    folder = gw.config.forms_dir or default_forms_dir()
    definitions = [json.loads(p.read_text(encoding="utf-8"))
                   for p in sorted(folder.glob("*.json"))]
    return _etag_response(json.dumps({"forms": definitions}, sort_keys=True).encode(),
                          if_none_match)


@router.get("/v1/codes/{table}")
async def codes(table: str, _account: SignedIn,
                if_none_match: Annotated[str | None, Header()] = None) -> Response:
    path = codes_dir() / f"{table}.csv"
    if not table.isalnum() or not path.exists():
        raise ApiError(404, "not_found", f"No code table {table!r}.")
    with open(path, encoding="utf-8", newline="") as handle:
        rows = [{"code": r["code"], "description": r["description"]}
                for r in csv.DictReader(handle) if r.get("code")]
    return _etag_response(json.dumps({"table": table, "codes": rows}, sort_keys=True).encode(),
                          if_none_match)
