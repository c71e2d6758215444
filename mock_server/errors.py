"""How the gateway refuses and fails: every answer that is not a success is
``{"error": {"code", "message", "field"?}}`` (``docs/protocol.md``), whatever raised it — the
gateway's own :class:`ApiError`, FastAPI's request validation, Starlette's HTTP errors, or a bug.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

log = logging.getLogger("mdt-gateway")


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"error": err}


class ErrorDetail(BaseModel):
    code: str
    message: str
    field: str | None = None


class ErrorBody(BaseModel):
    """Every refusal and failure: ``{"error": {"code", "message", "field"?}}``."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorBody, "description": words} for status, words in (
        (400, "Bad request"), (401, "Not signed in, or the session expired"),
        (403, "Not allowed for this role"), (404, "Not found (or not a training gateway)"),
        (405, "Method not allowed"), (409, "Conflicts with what the gateway holds"),
        (413, "Too large"), (422, "A field is refused; ``field`` names it"),
        (423, "Account locked (for this source address)"),
        (429, "Too many failed sign-ins from this address"), (500, "The gateway failed"),
        (503, "The gateway is unavailable (a trainer's fault, or overloaded)"))}

# Header names as the protocol spells them (FastAPI reports them in lower case).
_HEADER_NAMES = {"last-event-id": "Last-Event-ID", "idempotency-key": "Idempotency-Key"}
_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 422: "validation"}


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    first = exc.errors()[0] if exc.errors() else {}
    if first.get("type") == "json_invalid":
        return JSONResponse(error_body("validation", "The body is not valid JSON.", "body"),
                            status_code=422)
    loc = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "header")]
    while loc and loc[-1].isdigit() and len(loc) > 1:  # a list item: name the list
        loc.pop()
    field = loc[-1] if loc and not loc[-1].isdigit() else "body"
    field = _HEADER_NAMES.get(field, field)
    message = f"{field}: {first.get('msg', 'invalid')}"
    return JSONResponse(error_body("validation", message, field), status_code=422)


async def _http_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "bad_request")
    return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _server_error(_request: Request, _exc: Exception) -> JSONResponse:
    log.exception("unhandled error")
    return JSONResponse(error_body("server_error", "The gateway failed; try again."),
                        status_code=500)


def install_error_handlers(app: FastAPI) -> None:
    """Every failure of ``app`` answers in the protocol's error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _server_error)
