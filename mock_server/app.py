"""The training gateway's HTTP API (``docs/protocol.md``), a FastAPI app.

Everything runs on the server's one event loop (the SQLite state is used only there). Answers are
scheduled as deliveries with a due time and moved into inboxes by one background task, so a
restart still delivers what was promised; live SSE streams are woken per recipient.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pyotp
from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from mock_server import __version__
from mock_server.faults import FaultBook, FaultMiddleware, Faults
from mock_server.state import DEMO_PASSWORD, Account, State, iso
from mock_server.switch import Switch
from mock_server.world import World

log = logging.getLogger("mdt-gateway")


@dataclass
class GatewayConfig:
    data_dir: Path
    latency: float = 0.8
    iar_delay: float = 20.0
    seed: int = 1
    heartbeat: float = 15.0
    token_ttl: float = 12 * 3600.0
    text_only: bool = False
    training: bool = True
    max_failures: int = 5
    failure_window: float = 900.0
    forms_dir: Path | None = None  # form definitions to serve; default: the project's resources
    faults: Faults = field(default_factory=Faults)


def default_forms_dir() -> Path:
    return Path(__file__).resolve().parent.parent / "resources" / "forms"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"error": err}


class LoginBody(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=256)
    otp: str = Field(max_length=16)
    device_id: str = Field(default="", max_length=128)


class MessageBody(BaseModel):
    id: uuid.UUID
    mke: str = Field(min_length=2, max_length=4)
    dest: list[str] = Field(default_factory=list, max_length=10)
    fields: dict[str, str] = Field(default_factory=dict)
    text: str = Field(default="", max_length=20000)
    created_at: str = Field(default="", max_length=64)
    purpose: str | None = Field(default=None, max_length=4)


class AuditRecord(BaseModel):
    id: uuid.UUID
    at: str = Field(max_length=64)
    action: str = Field(max_length=64)
    outcome: str = Field(max_length=64)
    who: str = Field(max_length=64)
    source: str = Field(max_length=64)
    device: str = Field(max_length=128)
    detail: str = Field(max_length=2000)


class AuditBatch(BaseModel):
    records: list[AuditRecord] = Field(max_length=1000)


class FaultsBody(BaseModel):
    user: str | None = Field(default=None, max_length=64)
    error_rate: float = Field(default=0.0, ge=0, le=1)
    drop_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    latency: float = Field(default=0.0, ge=0, le=600)
    offline: bool = False
    text_only: bool = False
    destinations_down: list[str] = Field(default_factory=list, max_length=20)
    parts_out_of_order: bool = False


INJECTABLE = ("admin", "detainer", "hit_confirmation_request", "hit_confirmation_response",
              "delayed_hit", "status")


class InjectBody(BaseModel):
    user: str | None = Field(default=None, max_length=64)
    ori: str | None = Field(default=None, max_length=9)
    delay: float = Field(default=0.0, ge=0, le=86400)
    events: list[dict[str, Any]] = Field(min_length=1, max_length=5000)


class AckBody(BaseModel):
    upto: int = Field(ge=0)


class Gateway:
    """The app's state and behaviour; one per server process."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.state = State(config.data_dir / "gateway.sqlite")
        self.world = World(config.seed)
        self.switch = Switch(self.world, latency=config.latency, iar_delay=config.iar_delay)
        self.faults = FaultBook(config.faults, config.seed)
        self._waiters: dict[str, asyncio.Event] = {}
        self._scheduler_wake: asyncio.Event | None = None

    # -- inbox notification ----------------------------------------------------------------------
    def _notify(self, recipient: str) -> None:
        event = self._waiters.get(recipient)
        if event is not None:
            event.set()

    def waiter(self, recipient: str) -> asyncio.Event:
        return self._waiters.setdefault(recipient, asyncio.Event())

    def _stamp(self, body: dict[str, Any], recipient: str) -> dict[str, Any]:
        body = {**body, "created_at": iso(time.time()), "training": self.config.training}
        text_only = self.config.text_only or self.faults.for_user(recipient).text_only
        if text_only and "records" in body:
            body.pop("records")
        return body

    def user_id_of(self, authorization: str) -> str | None:
        """For the fault middleware: whose request is this (None when not known)."""
        if not authorization.startswith("Bearer "):
            return None
        found = self.state.session(authorization[len("Bearer "):].strip())
        return found[0] if found else None

    def set_faults(self, faults: Faults, user_id: str | None) -> None:
        before = set(self.faults.for_user(user_id).destinations_down)
        self.faults.set(faults, user_id)
        back_up = before - set(faults.destinations_down)
        if back_up:  # what waited for those destinations goes out now
            self.state.release_held(sorted(back_up), time.time())
            if self._scheduler_wake is not None:
                self._scheduler_wake.set()

    async def scheduler(self) -> None:
        """Moves due deliveries into inboxes; sleeps until the next one is due."""
        self._scheduler_wake = asyncio.Event()
        while True:
            for recipient, _event in self.state.deliver_due(time.time()):
                self._notify(recipient)
            due = self.state.next_due()
            timeout = None if due is None else max(0.0, due - time.time())
            self._scheduler_wake.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._scheduler_wake.wait(), timeout)

    # -- auth ------------------------------------------------------------------------------------
    def user_for(self, authorization: str | None) -> Account:
        if not authorization or not authorization.startswith("Bearer "):
            raise ApiError(401, "unauthorized", "Log in first (no session token).")
        found = self.state.session(authorization[len("Bearer "):].strip())
        if found is None:
            raise ApiError(401, "unauthorized", "This session token is not known.")
        user_id, expires, revoked = found
        if revoked:
            raise ApiError(401, "unauthorized", "This session was logged out.")
        if expires < time.time():
            raise ApiError(401, "token_expired", "Your session has expired. Log in again.")
        account = self.state.account(user_id)
        if account is None:
            raise ApiError(401, "unauthorized", "This account no longer exists.")
        return account

    def login(self, body: LoginBody) -> dict[str, Any]:
        now = time.time()
        failures = self.state.recent_failures(body.user_id, self.config.failure_window, now)
        if len(failures) >= self.config.max_failures:
            raise ApiError(423, "account_locked",
                           "Too many failed logins: this account is locked for 15 minutes.")
        account = self.state.account(body.user_id)
        good = account is not None and self.state.check_password(body.user_id, body.password) \
            and pyotp.TOTP(account.otp_secret).verify(body.otp.strip(), valid_window=1)
        if not good or account is None:
            self.state.add_failure(body.user_id, now)
            raise ApiError(401, "bad_credentials",
                           "The user id, password or one-time code is wrong.")
        self.state.clear_failures(body.user_id)
        token, expires = self.state.new_session(account.user_id, body.device_id,
                                                self.config.token_ttl)
        return {"token": token, "expires_at": iso(expires), "user": account.public(),
                "training": self.config.training}

    # -- messages --------------------------------------------------------------------------------
    def accept(self, account: Account, body: MessageBody, idempotency_key: str | None
               ) -> dict[str, Any]:
        message = body.model_dump(mode="json")
        if idempotency_key and idempotency_key != message["id"]:
            raise ApiError(422, "validation", "Idempotency-Key must equal the message id.", "id")
        digest = hashlib.sha256(json.dumps(message, sort_keys=True).encode()).hexdigest()
        known = self.state.message(message["id"])
        if known is not None:
            user_id, known_digest, answer = known
            if user_id != account.user_id or known_digest != digest:
                raise ApiError(409, "idempotency_conflict",
                               "This message id was already used for a different message.", "id")
            return answer
        answer = {"id": message["id"], "status": "accepted", "accepted_at": iso(time.time())}
        self.state.add_message(message["id"], account.user_id, digest, answer, message)
        now = time.time()
        faults = self.faults.for_user(account.user_id)
        down = [d for d in message["dest"] if d.upper() in faults.destinations_down]
        deliveries = self.switch.route(message, account, self.state.accounts())
        if faults.parts_out_of_order:
            delays = sorted((d.delay for d in deliveries), reverse=True)
            for delivery, delay in zip(deliveries, delays, strict=True):
                delivery.delay = delay
        for delivery in deliveries:
            event = self._stamp(delivery.body, delivery.recipient)
            if down and delivery.recipient == account.user_id and event["type"] == "response":
                self.state.schedule(now + 10 * 365 * 86400, delivery.recipient, event,
                                    held_for=down[0].upper())
                continue
            self.state.schedule(now + delivery.delay + faults.latency, delivery.recipient, event)
        if down:
            self.state.schedule(now, account.user_id, self._stamp({
                "type": "status", "in_reply_to": message["id"], "status": "destination_down",
                "text": f"STATUS/DESTINATION {', '.join(down).upper()} DOWN - WILL FORWARD",
                "reason": "destination down"}, account.user_id))
        if self._scheduler_wake is not None:
            self._scheduler_wake.set()
        return answer


def create_app(config: GatewayConfig) -> FastAPI:
    gateway = Gateway(config)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(gateway.scheduler())
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    app = FastAPI(title="MDT training gateway", version=__version__, lifespan=lifespan,
                  description="The message-switch gateway contract of MDT (docs/protocol.md).")
    app.state.gateway = gateway
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(FaultMiddleware, book=gateway.faults, user_of=gateway.user_id_of)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        loc = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "header")]
        field = loc[-1] if loc else None
        if field and field.isdigit() and len(loc) > 1:
            field = loc[-2]
        message = f"{field or 'request'}: {first.get('msg', 'invalid')}"
        return JSONResponse(error_body("validation", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "bad_request")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def server_error(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("server_error", "The gateway failed; try again."),
                            status_code=500)

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "time": iso(time.time()), "version": __version__,
                "training": config.training}

    @app.post("/v1/sessions", status_code=201)
    async def login(body: LoginBody) -> dict[str, Any]:
        return gateway.login(body)

    @app.delete("/v1/sessions/current", status_code=204)
    async def logout(authorization: str | None = Header(default=None)) -> Response:
        gateway.user_for(authorization)
        assert authorization is not None
        gateway.state.revoke(authorization[len("Bearer "):].strip())
        return Response(status_code=204)

    @app.post("/v1/messages", status_code=202)
    async def send(body: MessageBody, authorization: str | None = Header(default=None),
                   idempotency_key: str | None = Header(default=None)) -> dict[str, Any]:
        account = gateway.user_for(authorization)
        return gateway.accept(account, body, idempotency_key)

    @app.get("/v1/inbox")
    async def inbox(after: int = Query(default=0, ge=0),
                    limit: int = Query(default=200, ge=1, le=1000),
                    authorization: str | None = Header(default=None)) -> dict[str, Any]:
        account = gateway.user_for(authorization)
        events = gateway.state.events_after(account.user_id, after, limit)
        return {"events": events, "next_after": events[-1]["seq"] if events else after}

    @app.get("/v1/inbox/stream")
    async def stream(request: Request, authorization: str | None = Header(default=None),
                     last_event_id: str | None = Header(default=None)) -> EventSourceResponse:
        account = gateway.user_for(authorization)
        try:
            cursor = max(0, int(last_event_id or 0))
        except ValueError as exc:
            raise ApiError(422, "validation", "Last-Event-ID must be a number.",
                           "Last-Event-ID") from exc
        waiter = gateway.waiter(account.user_id)

        async def events() -> AsyncIterator[dict[str, str]]:
            nonlocal cursor
            while True:
                waiter.clear()
                batch = gateway.state.events_after(account.user_id, cursor, 200)
                for event in batch:
                    cursor = event["seq"]
                    item = {"id": str(event["seq"]), "event": event["type"],
                            "data": json.dumps(event)}
                    yield item
                    faults = gateway.faults.for_user(account.user_id)
                    if gateway.faults.roll(faults.duplicate_rate):
                        yield item  # delivered twice: the client must apply it once
                if not batch:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(waiter.wait(), timeout=config.heartbeat)

        return EventSourceResponse(events(), ping=int(max(1, config.heartbeat)))

    @app.post("/v1/inbox/ack")
    async def ack(body: AckBody, authorization: str | None = Header(default=None)
                  ) -> dict[str, int]:
        account = gateway.user_for(authorization)
        gateway.state.ack(account.user_id, body.upto)
        return {"upto": gateway.state.acked(account.user_id)}

    @app.post("/v1/audit")
    async def audit(body: AuditBatch, authorization: str | None = Header(default=None)
                    ) -> dict[str, Any]:
        account = gateway.user_for(authorization)
        records = [r.model_dump(mode="json") for r in body.records]
        stored = gateway.state.add_audit(account.user_id, records)
        return {"accepted": [r["id"] for r in records], "new": stored}

    @app.get("/v1/forms")
    async def forms(authorization: str | None = Header(default=None),
                    if_none_match: str | None = Header(default=None)) -> Response:
        gateway.user_for(authorization)
        folder = config.forms_dir or default_forms_dir()
        definitions = [json.loads(p.read_text(encoding="utf-8"))
                       for p in sorted(folder.glob("*.json"))]
        body = json.dumps({"forms": definitions}, sort_keys=True).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if if_none_match == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag})

    @app.get("/v1/codes/{table}")
    async def codes(table: str, authorization: str | None = Header(default=None),
                    if_none_match: str | None = Header(default=None)) -> Response:
        gateway.user_for(authorization)
        folder = default_forms_dir().parent / "codes"
        path = folder / f"{table}.csv"
        if not table.isalnum() or not path.exists():
            raise ApiError(404, "not_found", f"No code table {table!r}.")
        with open(path, encoding="utf-8", newline="") as handle:
            rows = [{"code": r["code"], "description": r["description"]}
                    for r in csv.DictReader(handle) if r.get("code")]
        body = json.dumps({"table": table, "codes": rows}, sort_keys=True).encode()
        etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
        if if_none_match == etag:
            return Response(status_code=304, headers={"ETag": etag})
        return Response(body, media_type="application/json", headers={"ETag": etag})

    def trainer(authorization: str | None) -> Account:
        if not config.training:
            raise ApiError(404, "not_found", "Not a training gateway.")
        account = gateway.user_for(authorization)
        if account.role != "trainer":
            raise ApiError(403, "forbidden", "Only a trainer may do this.")
        return account

    @app.put("/v1/training/faults")
    async def put_faults(body: FaultsBody, authorization: str | None = Header(default=None)
                         ) -> dict[str, Any]:
        trainer(authorization)
        values = body.model_dump(exclude={"user"})
        values["destinations_down"] = [d.upper() for d in values["destinations_down"]]
        gateway.set_faults(Faults(**values), body.user)
        return {"user": body.user, **gateway.faults.for_user(body.user).to_dict()}

    @app.get("/v1/training/faults")
    async def get_faults(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        trainer(authorization)
        return {"gateway": gateway.faults.base.to_dict(),
                "users": {u: f.to_dict() for u, f in gateway.faults.per_user.items()}}

    @app.post("/v1/training/events")
    async def inject(body: InjectBody, authorization: str | None = Header(default=None)
                     ) -> dict[str, Any]:
        """A trainer makes something happen now (or after ``delay``): to one user, or to every
        terminal of an ORI."""
        trainer(authorization)
        accounts = gateway.state.accounts()
        recipients = [a.user_id for a in accounts
                      if a.user_id == body.user or (body.ori and a.ori == body.ori)]
        if not recipients:
            raise ApiError(422, "validation", "Name a known user or ORI.", "user")
        for event in body.events:
            if event.get("type") not in INJECTABLE:
                raise ApiError(422, "validation", f"Events may be of types {', '.join(INJECTABLE)}.",
                               "type")
        due = time.time() + body.delay
        gateway.state.schedule_many([
            (due, recipient, gateway._stamp(
                {k: v for k, v in event.items() if k not in ("seq", "id", "training")},
                recipient))
            for recipient in recipients for event in body.events])
        if gateway._scheduler_wake is not None:
            gateway._scheduler_wake.set()
        return {"scheduled": len(recipients) * len(body.events), "recipients": recipients}

    @app.get("/v1/training/demo-accounts")
    async def demo_accounts() -> dict[str, Any]:
        if not config.training:
            raise ApiError(404, "not_found", "Not a training gateway.")
        return {"accounts": [
            {"user_id": a.user_id, "password": DEMO_PASSWORD, "name": a.name, "role": a.role,
             "ori": a.ori, "unit": a.unit, "otp_secret": a.otp_secret,
             "otp_now": pyotp.TOTP(a.otp_secret).now()} for a in gateway.state.accounts()]}

    return app
