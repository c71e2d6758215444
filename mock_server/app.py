"""The training gateway's HTTP API (``docs/protocol.md``), a FastAPI app.

Everything runs on the server's one event loop (the SQLite state is used only there; each call is
one short statement or transaction). Answers are scheduled as deliveries with a due time and moved
into inboxes by one background task, so a restart still delivers what was promised; every live
SSE stream has its own wake-up flag, set when its recipient's inbox grows.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import csv
import hashlib
import json
import logging
import threading
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, BeforeValidator, Field, StrictBool, StringConstraints
from sse_starlette.sse import EventSourceResponse, ServerSentEvent
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.gzip import GZipMiddleware

from mdt.core.clock import from_iso
from mdt.net.events import EventInvalid, InboxPage, depth_of, validate_event
from mdt.paths import resources_dir
from mock_server import __version__, otp
from mock_server.debrief import register_routes as register_debrief_routes
from mock_server.faults import FaultBook, FaultMiddleware, Faults
from mock_server.scenarios import INJECTABLE, ScenarioError, load_scenarios, validate_scenario
from mock_server.state import DEMO_PASSWORD, Account, State, iso
from mock_server.switch import Confirmation, Context, Delivery, Switch, wrap_text
from mock_server.world import World

log = logging.getLogger("mdt-gateway")

DELAYED_INQUIRY_DAYS = 5  # NCIC compares new records with the inquiries of the last 5 days
WRAPPED_EVENTS = ("response", "delayed_hit", "status")  # the texts --wrap cuts: returns


def _rno(request: dict[str, Any]) -> int:
    """A hit confirmation request's number (1 when it does not say)."""
    value = str(request.get("rno") or "1")
    return int(value) if value.isdigit() else 1


MAX_SEQ = 2**53 - 1  # inbox sequence numbers: exact in JSON everywhere (a double's integers)


@dataclass
class GatewayConfig:
    data_dir: Path
    latency: float = 0.8
    iar_delay: float = 20.0
    confirm_delay: float = 45.0
    seed: int = 1
    heartbeat: float = 15.0
    token_ttl: float = 12 * 3600.0
    text_only: StrictBool = False
    wrap_width: int = 0  # return text cut at this many columns, as a legacy switch's (0: not)
    training: bool = True
    max_failures: int = 5  # per account and source address
    max_source_failures: int = 20  # per source address, across accounts
    failure_window: float = 900.0
    publish_accounts: bool = True  # the demo accounts listed (off by default beyond loopback)
    otp_future_steps: int = 1  # how far ahead the next code may lie (test suites: more)
    forms_dir: Path | None = None  # form definitions to serve; default: the project's resources
    scenarios_dir: Path | None = None  # bundled scenarios; default: the project's resources
    faults: Faults = field(default_factory=Faults)


def default_forms_dir() -> Path:
    return resources_dir() / "forms"


def default_scenarios_dir() -> Path:
    return resources_dir() / "scenarios"


class ApiError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field


def error_body(code: str, message: str, field: str | None = None) -> dict[str, Any]:
    err: dict[str, Any] = {"code": code, "message": message}
    if field:
        err["field"] = field
    return {"error": err}


Dest = Annotated[str, StringConstraints(min_length=1, max_length=16)]


class LoginBody(BaseModel):
    user_id: str = Field(min_length=1, max_length=64)
    password: str = Field(max_length=256)
    otp: str = Field(max_length=16)
    device_id: str = Field(default="", max_length=128)


MAX_FIELD_VALUE = 1000  # the longest field any form allows (AM's TXT); each form's own is checked
Tag = Annotated[str, StringConstraints(min_length=1, max_length=16)]
FieldValue = Annotated[str, StringConstraints(max_length=MAX_FIELD_VALUE)]


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


class MessageBody(BaseModel):
    id: uuid.UUID
    mke: str = Field(min_length=2, max_length=4, pattern=r"^[A-Za-z]{2,4}$")
    dest: list[Dest] = Field(default_factory=list, max_length=10)
    fields: dict[Tag, FieldValue] = Field(default_factory=dict, max_length=100)
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
    offline: StrictBool = False
    text_only: StrictBool = False
    destinations_down: list[Dest] = Field(default_factory=list, max_length=20)
    parts_out_of_order: StrictBool = False


class InjectBody(BaseModel):
    user: str | None = Field(default=None, max_length=64)
    ori: str | None = Field(default=None, max_length=9)
    delay: float = Field(default=0.0, ge=0, le=86400)
    events: list[dict[str, Any]] = Field(min_length=1, max_length=5000)
    # A poison drill: events that break the event contract on purpose reach the trainee's
    # client as they are (it must quarantine them). Text that cannot be stored or served
    # (a lone surrogate, nesting deeper than 32) is refused even then.
    unchecked: StrictBool = False


class EntryBody(BaseModel):
    kind: str = Field(pattern="^(stolen_vehicle|wanted_person|stolen_gun)$")
    record: dict[str, Any] = Field(default_factory=dict)


class StartBody(BaseModel):
    users: list[str] | None = Field(default=None, max_length=200)
    speed: float = Field(default=1.0, gt=0, le=1000)


class ResetBody(BaseModel):
    scenario: str | None = Field(default=None, max_length=64)
    restart: StrictBool = True


def _not_a_bool(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError("must be a number, not true or false")
    return value


Seq = Annotated[int, BeforeValidator(_not_a_bool)]  # 7 and 7.0 are numbers; false is not 0


class AckBody(BaseModel):
    upto: Seq = Field(ge=0, le=MAX_SEQ)


class AckAnswer(BaseModel):
    upto: int


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


class Gateway:
    """The app's state and behaviour; one per server process."""

    def __init__(self, config: GatewayConfig) -> None:
        self.config = config
        self.state = State(config.data_dir / "gateway.sqlite")
        self._field_limits: dict[str, dict[str, int]] | None = None
        self.faults = FaultBook(config.faults, config.seed)
        self._subscribers: dict[str, set[asyncio.Event]] = {}
        self._scheduler_wake: asyncio.Event | None = None
        # The synthetic world takes a moment to build: do it beside the server's start-up; the
        # first call that needs it waits for it.
        self._switch: Switch | None = None
        self._world_built: concurrent.futures.Future[World] = concurrent.futures.Future()
        entries = self.state.entries()
        threading.Thread(target=self._build_in_background, args=(entries,), daemon=True,
                         name="world").start()

    def _build_in_background(self, entries: list[dict[str, Any]]) -> None:
        try:
            self._world_built.set_result(self._build_world(entries))
        except BaseException as exc:  # surfaced to the first caller that needs the world
            self._world_built.set_exception(exc)

    def _build_world(self, entries: list[dict[str, Any]]) -> World:
        world = World(self.config.seed)
        for entry in entries:
            try:
                world.enter(entry)
            except ValueError:
                log.warning("a stored record entry could not be laid over the world: %s", entry)
        return world

    @property
    def switch(self) -> Switch:
        if self._switch is None:
            self._switch = Switch(self._world_built.result(), latency=self.config.latency,
                                  iar_delay=self.config.iar_delay,
                                  confirm_delay=self.config.confirm_delay, seed=self.config.seed)
        return self._switch

    @property
    def world(self) -> World:
        return self.switch.world

    # -- inbox notification ----------------------------------------------------------------------
    def _notify(self, recipient: str) -> None:
        for event in self._subscribers.get(recipient, ()):
            event.set()

    @contextlib.contextmanager
    def subscription(self, recipient: str) -> Any:
        event = asyncio.Event()
        self._subscribers.setdefault(recipient, set()).add(event)
        try:
            yield event
        finally:
            listeners = self._subscribers[recipient]
            listeners.discard(event)
            if not listeners:
                del self._subscribers[recipient]

    def _wake_scheduler(self) -> None:
        if self._scheduler_wake is not None:
            self._scheduler_wake.set()

    def stamp(self, body: dict[str, Any], recipient: str) -> dict[str, Any]:
        body = {k: v for k, v in body.items() if k not in ("seq", "id", "created_at")}
        body["training"] = self.config.training
        text_only = self.config.text_only or self.faults.for_user(recipient).text_only
        if text_only and "records" in body:
            body.pop("records")
        if self.config.wrap_width > 0 and body.get("type") in WRAPPED_EVENTS \
                and isinstance(body.get("text"), str):
            body["text"] = wrap_text(body["text"], self.config.wrap_width)
        return body

    def user_id_of(self, authorization: str) -> str | None:
        """For the fault middleware: whose request is this (None when not known)."""
        if not authorization.startswith("Bearer "):
            return None
        found = self.state.session(authorization[len("Bearer "):].strip())
        return found[0] if found else None

    def _down_anywhere(self) -> set[str]:
        book = self.faults
        return {d for f in (book.base, *book.per_user.values()) for d in f.destinations_down}

    def set_faults(self, faults: Faults, user_id: str | None) -> None:
        before = self._down_anywhere()
        self.faults.set(faults, user_id)
        back_up = before - self._down_anywhere()
        if back_up:  # what waited for those destinations goes out now
            self.state.release_held(sorted(back_up), time.time())
            self._wake_scheduler()

    async def scheduler(self) -> None:
        """Moves due deliveries into inboxes and runs due trainer actions; sleeps until the next
        one is due (or until something new is scheduled)."""
        self._scheduler_wake = asyncio.Event()
        while True:
            self._scheduler_wake.clear()
            try:
                now = time.time()
                for action in self.state.take_due_actions(now):
                    self.run_action(action)
                for recipient in {r for r, _event in self.state.deliver_due(time.time())}:
                    self._notify(recipient)
                due = self.state.next_due()
            except Exception:  # never let one bad row stop every delivery
                log.exception("the delivery scheduler failed; retrying")
                due = time.time() + 0.5
            timeout = None if due is None else max(0.0, due - time.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._scheduler_wake.wait(), timeout)

    def schedule(self, deliveries: list[Delivery], now: float, extra_delay: float = 0.0,
                 held_for: str | None = None) -> None:
        self.state.schedule_many([(now + d.delay + extra_delay, d.recipient,
                                   self.stamp(d.body, d.recipient)) for d in deliveries],
                                 held_for=held_for)
        self._wake_scheduler()

    # -- auth ------------------------------------------------------------------------------------
    def next_code(self, account: Account) -> dict[str, Any]:
        """The next one-time code of a demo account not yet used (the sign-in page's "fresh
        code"): ``otp_now``, or ``otp_fresh_in_s`` when the window has none left yet."""
        code, wait = otp.next_code(account.otp_secret,
                                   last_used=self.state.otp_last_step(account.user_id),
                                   future_steps=self.config.otp_future_steps)
        if code is None:
            return {"otp_now": None, "otp_fresh_in_s": round(wait, 1)}
        return {"otp_now": code}

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
        if account.demo and not self.config.training:
            raise ApiError(401, "unauthorized", "Demo accounts work on a training gateway only.")
        return account

    def login(self, body: LoginBody, source: str = "") -> dict[str, Any]:
        """Password and one-time code. Failures are counted per account *and source address*:
        five from one address lock that account for that address only (a stranger cannot lock
        an officer out of the car's terminal), and twenty from one address across accounts
        stop that address for a while (spraying); see docs/gateway.md."""
        now = time.time()
        window = self.config.failure_window
        spraying = self.state.recent_failures(None, window, now, source=source)
        if len(spraying) >= self.config.max_source_failures:
            minutes = max(1, round((spraying[0] + window - now) / 60))
            raise ApiError(429, "too_many_attempts",
                           f"Too many failed sign-ins from this address: wait about {minutes} "
                           f"minute{'s' if minutes != 1 else ''} before trying again.")
        failures = self.state.recent_failures(body.user_id, window, now, source=source)
        if len(failures) >= self.config.max_failures:
            minutes = max(1, round((failures[0] + window - now) / 60))
            raise ApiError(423, "account_locked",
                           f"Too many failed logins: this account is locked for about "
                           f"{minutes} more minute{'s' if minutes != 1 else ''} from this "
                           "address.")
        account = self.state.account(body.user_id)
        if account is not None and account.demo and not self.config.training:
            raise ApiError(403, "forbidden",
                           "Demo accounts work on a training gateway only, not on a live one.")
        verdict = otp.Verdict(None)
        if account is not None and self.state.check_password(body.user_id, body.password):
            verdict = otp.verify(account.otp_secret, body.otp,
                                 last_used=self.state.otp_last_step(account.user_id),
                                 future_steps=self.config.otp_future_steps, now=now)
            if verdict.step is not None and not self.state.use_otp_step(account.user_id,
                                                                        verdict.step):
                verdict = otp.Verdict(None, reused=True)  # the same code, twice at once
        if verdict.step is None or account is None:
            self.state.add_failure(body.user_id, now, source)
            if verdict.reused:
                raise ApiError(401, "otp_reused",
                               "This one-time code was already used: a code signs in once. "
                               "Wait for the next one.")
            raise ApiError(401, "bad_credentials",
                           "The user id, password or one-time code is wrong.")
        self.state.clear_failures(body.user_id, source)
        token, expires = self.state.new_session(account.user_id, body.device_id,
                                                self.config.token_ttl)
        return {"token": token, "expires_at": iso(expires), "user": account.public(),
                "training": self.config.training}

    # -- messages --------------------------------------------------------------------------------
    def _find_confirmation(self, nic: str, oca: str, requesting_ori: str, answering_ori: str
                           ) -> Confirmation | None:
        row = self.state.find_confirmation(nic, oca, requesting_ori, answering_ori)
        if row is None:
            return None
        return Confirmation(request_id=row[0], requester=row[1], requesting_ori=row[2],
                            dest=row[3], nic=row[4], oca=row[5], pri=row[6], respond_by=row[7])

    def field_limits(self, mke: str) -> dict[str, int]:
        """The longest value each field of a message key may have, from the form definitions
        the gateway serves (a field no form names may be :data:`MAX_FIELD_VALUE` long)."""
        if self._field_limits is None:
            limits: dict[str, dict[str, int]] = {}
            folder = self.config.forms_dir or default_forms_dir()
            for path in sorted(folder.glob("*.json")):
                try:
                    form = json.loads(path.read_text(encoding="utf-8"))
                    limits[str(form["mke"]).upper()] = {
                        str(f["tag"]).upper(): int(f["max_length"]) for f in form["fields"]
                        if isinstance(f.get("max_length"), int)}
                except (OSError, ValueError, KeyError, TypeError):
                    log.warning("form definition %s unreadable; its limits not applied", path.name)
            self._field_limits = limits
        return self._field_limits.get(mke.upper(), {})

    def accept(self, account: Account, body: MessageBody, idempotency_key: str | None
               ) -> dict[str, Any]:
        limits = self.field_limits(body.mke)
        for tag, value in body.fields.items():
            limit = limits.get(tag.upper(), MAX_FIELD_VALUE)
            if len(value) > limit:
                raise ApiError(422, "validation", f"{tag}: at most {limit} characters.", tag)
        message = body.model_dump(mode="json")
        if idempotency_key and idempotency_key.strip().lower() != message["id"]:
            raise ApiError(422, "validation", "Idempotency-Key must equal the message id.",
                           "Idempotency-Key")
        digest = hashlib.sha256(json.dumps(message, sort_keys=True).encode()).hexdigest()
        known = self.state.message(message["id"])
        if known is not None:
            user_id, known_digest, answer = known
            if user_id != account.user_id or known_digest != digest:
                raise ApiError(409, "idempotency_conflict",
                               "This message id was already used for a different message.", "id")
            return answer
        now = time.time()
        answer = {"id": message["id"], "status": "accepted", "accepted_at": iso(now)}
        faults = self.faults.for_user(account.user_id)
        down = [d.upper() for d in message["dest"] if d.upper() in faults.destinations_down]
        ctx = Context(accounts=self.state.accounts(), find_confirmation=self._find_confirmation,
                      now=now)
        routed = self.switch.route(message, account, ctx)
        deliveries = routed.deliveries
        if faults.parts_out_of_order:
            answers = [d for d in deliveries if d.body.get("parts", 1) > 1]
            delays = sorted((d.delay for d in answers), reverse=True)
            for delivery, delay in zip(answers, delays, strict=True):
                delivery.delay = delay
        held: list[Delivery] = []
        if down:
            held = [d for d in deliveries if d.recipient == account.user_id
                    and d.body["type"] in ("response", "delayed_hit")]
            deliveries = [d for d in deliveries if d not in held]
            for d in held:
                d.delay = 0.0
            deliveries.insert(0, Delivery(account.user_id, 0.0, {
                "type": "status", "in_reply_to": message["id"], "status": "destination_down",
                "text": f"STATUS/DESTINATION {', '.join(down)} DOWN - WILL FORWARD",
                "reason": "destination down"}))
        # The message, what it set in motion and its answers are stored together: a crash
        # leaves either all of it (a retry gets the same answer) or none (a retry routes it).
        with self.state.transaction():
            self.state.add_message(message["id"], account.user_id, digest, answer, message)
            if routed.confirmation is not None:
                c = routed.confirmation
                self.state.add_confirmation(c.request_id, c.requester, c.requesting_ori, c.dest,
                                            c.nic, c.oca, c.pri, c.respond_by)
            if routed.answered is not None:
                self.state.answer_confirmation(*routed.answered)
            if held:
                self.schedule(held, now + 10 * 365 * 86400, held_for=down[0])
            self.schedule(deliveries, now, faults.latency)
        return answer

    # -- trainer actions -------------------------------------------------------------------------
    def recipients(self, target: Any, users: list[str] | None = None) -> list[str]:
        """Who a scenario step or an injected event is for: ``"trainees"`` (everyone but the
        trainers, or the users a scenario was started for), ``"all"``, or an object with
        ``user`` / ``users`` / ``ori`` / ``role``."""
        accounts = self.state.accounts()
        if target in (None, "trainees"):
            return [a.user_id for a in accounts if a.role != "trainer"
                    and (users is None or a.user_id in users)]
        if target == "all":
            return [a.user_id for a in accounts]
        if not isinstance(target, dict):
            raise ScenarioError("to: 'trainees', 'all' or {user, users, ori, role}")
        names = set(target.get("users") or []) | ({target["user"]} if target.get("user") else set())
        chosen = [a for a in accounts
                  if (not names or a.user_id in names)
                  and (not target.get("ori") or a.ori == target["ori"])
                  and (not target.get("role") or a.role == target["role"])]
        if not (names or target.get("ori") or target.get("role")):
            chosen = []
        return [a.user_id for a in chosen]

    def prepare_events(self, events: list[dict[str, Any]], recipients: list[str], due: float
                       ) -> list[tuple[float, str, dict[str, Any]]]:
        """Injected events, stamped per recipient. An incoming hit confirmation request gets a
        request id and is remembered, so the dispatcher's YR is tracked (on time or not)."""
        items = []
        accounts = {a.user_id: a for a in self.state.accounts()}
        for event in events:
            body = dict(event)
            if body["type"] == "hit_confirmation_request":
                body.setdefault("request_id", str(uuid.uuid4()))
                pri = str(body.get("pri") or "U").upper()
                respond_in = body.pop("respond_in", None)
                seconds = float(respond_in) if isinstance(respond_in, int | float) \
                    else (600.0 if pri == "U" else 3600.0)
                body["pri"] = pri
                deadline = due + seconds
                try:  # a respond_by given as a time wins
                    deadline = from_iso(str(body["respond_by"])).timestamp()
                except (KeyError, ValueError):
                    body["respond_by"] = iso(deadline)
                oris = sorted({accounts[r].ori for r in recipients if r in accounts})
                self.state.add_confirmation(
                    str(body["request_id"]), None, str(body.get("requesting_ori") or ""), oris,
                    str(body.get("nic") or ""), str(body.get("oca") or ""), pri, deadline)
                if _rno(body) < 3:  # the simulated requester asks again if nobody answers
                    self.state.schedule_actions([(deadline, {"escalate": {
                        "request": body, "recipients": recipients,
                        "window": max(1.0, deadline - due)}})])
            items += [(due, r, self.stamp(body, r)) for r in recipients]
        return items

    def run_action(self, action: dict[str, Any]) -> None:
        """One due scenario step."""
        try:
            if "event" in action:
                recipients = self.recipients(action.get("to"), action.get("users"))
                self.state.schedule_many(self.prepare_events([action["event"]], recipients,
                                                             time.time()))
            elif "enter" in action:
                self.enter(dict(action["enter"]))
            elif "escalate" in action:
                self.escalate(dict(action["escalate"]))
            elif "faults" in action:
                values = dict(action["faults"])
                user = values.pop("user", None)
                self.set_faults(Faults(**values), user)
        except Exception:
            log.exception("a scenario step failed: %s", action)

    def escalate(self, item: dict[str, Any]) -> None:
        """A request from an agency no trainee sits at went unanswered in time: that agency
        sends the next one (RNO 2, then RNO 3 with notice to the CSA and the FBI), with a new
        ``respond_by`` as long as the first one's."""
        request = dict(item["request"])
        if self.state.confirmation_answered(str(request.get("request_id"))):
            return
        rno = _rno(request) + 1
        remarks = str(request.get("remarks") or "")
        notice = {2: "SECOND REQUEST - FIRST NOT ANSWERED IN TIME",
                  3: "THIRD REQUEST - CSA AND FBI NOTIFIED"}[rno]
        text = str(request.get("text") or "")
        request.update({"request_id": str(uuid.uuid4()), "rno": str(rno),
                        "remarks": f"{notice}. {remarks}".strip(". ").strip(),
                        "respond_in": float(item.get("window") or 600.0),
                        "repeats": item["request"].get("request_id"),
                        "text": text.replace(f"RNO/{rno - 1}", f"RNO/{rno}")})
        request.pop("respond_by", None)
        recipients = [str(r) for r in item.get("recipients") or []]
        self.state.schedule_many(self.prepare_events([request], recipients, time.time()))
        self._wake_scheduler()

    def enter(self, entry: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """A trainer enters a record: it is in the world from now on, and every inquiry of the
        last days it matches gets a ``delayed_hit``. Returns (the entry, delayed hits sent)."""
        created = self.world.enter(entry)
        self.state.add_entry(entry)
        now = time.time()
        since = now - DELAYED_INQUIRY_DAYS * 86400
        accounts = {a.user_id: a for a in self.state.accounts()}
        deliveries = []
        for user_id, _at, query in self.state.messages_since(since, keys=("QV", "QW", "QG")):
            account = accounts.get(user_id)
            if account is None:
                continue
            body = self.switch.delayed_hit(query, account.ori, created)
            if body is not None:
                deliveries.append(Delivery(user_id, self.switch.jittered(self.config.latency),
                                           body))
        self.schedule(deliveries, now)
        return entry, len(deliveries)

    def start_scenario(self, name: str, scenario: dict[str, Any], users: list[str] | None,
                       speed: float) -> dict[str, Any]:
        now = time.time()
        actions = []
        for step in scenario["steps"]:
            action = {k: v for k, v in step.items() if k != "at"}
            if users is not None:
                action["users"] = users
            actions.append((now + float(step.get("at", 0)) / speed, action))
        self.state.schedule_actions(actions)
        self.state.add_run(name, {"users": users, "speed": speed})
        self._wake_scheduler()
        last = max((due for due, _a in actions), default=now)
        return {"name": name, "started_at": iso(now), "steps": len(actions), "ends_at": iso(last)}

    def scenarios(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """name -> (source, scenario): bundled ones, then those a trainer saved."""
        found = {name: ("bundled", s) for name, s in
                 load_scenarios(self.config.scenarios_dir or default_scenarios_dir()).items()}
        for name, scenario in self.state.saved_scenarios().items():
            found[name] = ("custom", scenario)
        return found

    def reset(self, body: ResetBody) -> dict[str, Any]:
        now = time.time()
        self.state.reset(now)
        self.faults.set(self.config.faults)
        self.switch.world = self._build_world([])
        started = None
        name = body.scenario
        if name is None and body.restart:
            last = self.state.last_run()
            name = last[0] if last else None
        if name is not None:
            scenarios = self.scenarios()
            if name not in scenarios:
                raise ApiError(404, "not_found", f"No scenario {name!r}.")
            last = self.state.last_run()
            users = last[2].get("users") if last and last[0] == name else None
            speed = float(last[2].get("speed", 1.0)) if last and last[0] == name else 1.0
            started = self.start_scenario(name, scenarios[name][1], users, speed)
        self.schedule([Delivery(a.user_id, 0.0, {
            "type": "admin", "from_ori": "TRAINING", "from_name": "Training gateway",
            "text": "TRAINING RESET - START AGAIN" + (f" - SCENARIO {name.upper()}" if name
                                                     else "")})
            for a in self.state.accounts()], now)
        return {"reset_at": iso(now), "scenario": started}

    def activity(self, since: float | None, limit: int) -> dict[str, Any]:
        if since is None:
            since = float(self.state.get_meta("reset_at", "0") or 0)
        users = []
        for account in self.state.accounts():
            sent = [{"id": m["id"], "mke": m["mke"], "dest": m["dest"], "at": iso(at),
                     "fields": m["fields"]}
                    for _u, at, m in self.state.messages_since(since, account.user_id)][-limit:]
            received = [{"seq": e["seq"], "type": e["type"], "at": e["created_at"],
                         "in_reply_to": e.get("in_reply_to"), "mke": e.get("mke")}
                        for e in self.state.recent_events(account.user_id, since, limit)]
            last_login = self.state.last_login(account.user_id)
            acknowledged = []
            for record in self.state.audit_records(account.user_id, since):
                words = str(record.get("detail") or "").split()
                if record.get("action") == "alert-ack" and "kind" in words:
                    acknowledged.append({"at": record.get("at"),
                                         "kind": words[words.index("kind") + 1],
                                         "event": words[words.index("event") + 1]
                                         if "event" in words else None})
            users.append({"user_id": account.user_id, "name": account.name,
                          "role": account.role, "ori": account.ori,
                          "last_login_at": iso(last_login) if last_login else None,
                          "sent": sent, "received": received,
                          "acknowledged": acknowledged[-limit:],
                          "received_count": self.state.count_events(account.user_id, since),
                          "last_seq": self.state.last_seq(account.user_id),
                          "pending": self.state.pending_count(account.user_id),
                          **self.state.receipts(account.user_id)})
        last = self.state.last_run()
        return {"since": iso(since), "now": iso(time.time()), "users": users,
                "hit_confirmations": self.state.confirmations(since),
                "scenario": {"name": last[0], "started_at": iso(last[1])} if last else None}


def _etag_response(body: bytes, if_none_match: str | None) -> Response:
    etag = '"' + hashlib.sha256(body).hexdigest()[:32] + '"'
    if if_none_match == etag:
        return Response(status_code=304, headers={"ETag": etag})
    return Response(body, media_type="application/json", headers={"ETag": etag})


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
            gateway.state.close()

    app = FastAPI(title="MDT training gateway", version=__version__, lifespan=lifespan,
                  description="The message-switch gateway contract of MDT (docs/protocol.md).",
                  responses=ERROR_RESPONSES)
    app.state.gateway = gateway
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(FaultMiddleware, book=gateway.faults, user_of=gateway.user_id_of)

    @app.exception_handler(ApiError)
    async def api_error(_request: Request, exc: ApiError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message, exc.field), status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_request: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {}
        if first.get("type") == "json_invalid":
            return JSONResponse(error_body("validation", "The body is not valid JSON.", "body"),
                                status_code=422)
        loc = [str(p) for p in first.get("loc", []) if p not in ("body", "query", "header")]
        while loc and loc[-1].isdigit() and len(loc) > 1:  # a list item: name the list
            loc.pop()
        field = loc[-1] if loc and not loc[-1].isdigit() else "body"
        field = {"last-event-id": "Last-Event-ID", "idempotency-key": "Idempotency-Key"}.get(
            field, field)
        message = f"{field}: {first.get('msg', 'invalid')}"
        return JSONResponse(error_body("validation", message, field), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
                405: "method_not_allowed", 422: "validation"}.get(exc.status_code, "bad_request")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_error(_request: Request, _exc: Exception) -> JSONResponse:
        log.exception("unhandled error")
        return JSONResponse(error_body("server_error", "The gateway failed; try again."),
                            status_code=500)

    @app.get("/v1/health")
    async def health() -> dict[str, Any]:
        return {"status": "ok", "time": iso(time.time()), "version": __version__,
                "training": config.training}

    @app.post("/v1/sessions", status_code=201)
    async def login(body: LoginBody, request: Request) -> dict[str, Any]:
        return gateway.login(body, request.client.host if request.client else "")

    @app.delete("/v1/sessions/current", status_code=204)
    async def logout(authorization: str | None = Header(default=None)) -> Response:
        account = gateway.user_for(authorization)
        assert authorization is not None
        gateway.state.revoke(authorization[len("Bearer "):].strip())
        gateway._notify(account.user_id)  # its open streams see the logout now and end
        return Response(status_code=204)

    @app.post("/v1/messages", status_code=202)
    async def send(body: MessageBody, authorization: str | None = Header(default=None),
                   idempotency_key: str | None = Header(default=None)) -> dict[str, Any]:
        account = gateway.user_for(authorization)
        return gateway.accept(account, body, idempotency_key)

    @app.get("/v1/inbox", response_model=None, responses={200: {
        "model": InboxPage, "description": "Events after the cursor, oldest first (the event "
        "models are the client's own, mdt.net.events)"}})
    async def inbox(after: int = Query(default=0, ge=0, le=MAX_SEQ),
                    limit: int = Query(default=200, ge=1, le=1000),
                    authorization: str | None = Header(default=None)) -> dict[str, Any]:
        account = gateway.user_for(authorization)
        events = gateway.state.events_after(account.user_id, after, limit)
        if events:
            gateway.state.fetched(account.user_id, events[-1]["seq"])
        return {"events": events, "next_after": events[-1]["seq"] if events else after}

    @app.get("/v1/inbox/stream")
    async def stream(authorization: str | None = Header(default=None),
                     last_event_id: str | None = Header(default=None)) -> EventSourceResponse:
        account = gateway.user_for(authorization)
        try:
            cursor = min(MAX_SEQ, max(0, int((last_event_id or "0").strip() or 0)))
        except ValueError as exc:
            raise ApiError(422, "validation", "Last-Event-ID must be a number.",
                           "Last-Event-ID") from exc
        user_id = account.user_id

        async def events() -> AsyncIterator[ServerSentEvent]:
            nonlocal cursor
            with gateway.subscription(user_id) as wake:
                while True:
                    wake.clear()
                    try:  # a session logged out or expired ends its stream, at once
                        gateway.user_for(authorization)
                    except ApiError:
                        return
                    batch = gateway.state.events_after(user_id, cursor, 200)
                    for event in batch:
                        cursor = event["seq"]
                        item = ServerSentEvent(json.dumps(event), id=str(event["seq"]),
                                               event=event["type"])
                        yield item
                        if gateway.faults.roll(gateway.faults.for_user(user_id).duplicate_rate):
                            yield item  # delivered twice: the client must apply it once
                    if batch:
                        gateway.state.fetched(user_id, cursor)
                        continue
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), timeout=max(1.0, config.heartbeat))

        return EventSourceResponse(
            events(), ping=max(0.05, config.heartbeat),
            ping_message_factory=lambda: ServerSentEvent(comment="heartbeat"),
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})

    @app.post("/v1/inbox/ack", response_model=AckAnswer)
    async def ack(body: AckBody, authorization: str | None = Header(default=None)
                  ) -> dict[str, int]:
        account = gateway.user_for(authorization)
        last = gateway.state.last_seq(account.user_id)
        if body.upto > last:  # a receipt for events that do not exist is a client's bug
            raise ApiError(409, "ack_beyond_inbox",
                           f"upto {body.upto} is beyond the last event of this inbox ({last}).",
                           "upto")
        gateway.state.ack(account.user_id, body.upto)
        return {"upto": gateway.state.acked(account.user_id)}

    @app.post("/v1/audit")
    async def audit(body: AuditBatch, authorization: str | None = Header(default=None)
                    ) -> dict[str, Any]:
        account = gateway.user_for(authorization)
        records = [r.model_dump(mode="json") for r in body.records]
        stored = gateway.state.add_audit(account.user_id, records)
        return {"accepted": [r["id"] for r in records], "new": stored}

    @app.get("/v1/units")
    async def units(authorization: str | None = Header(default=None)) -> dict[str, Any]:
        """The terminals of the caller's agency (ORI): for a dispatcher's unit list and for
        addressing an administrative message (AM) to a unit."""
        account = gateway.user_for(authorization)
        now = time.time()
        units = []
        for other in gateway.state.accounts():
            if other.ori != account.ori or other.role == "trainer":
                continue
            receipts = gateway.state.receipts(other.user_id)
            last_login = gateway.state.last_login(other.user_id)
            units.append({"user_id": other.user_id, "name": other.name, "unit": other.unit,
                          "role": other.role, "signed_in": gateway.state.signed_in(
                              other.user_id, now),
                          "last_login_at": iso(last_login) if last_login else None,
                          "last_contact_at": receipts["fetched_at"]})
        return {"ori": account.ori, "units": units}

    @app.get("/v1/forms")
    async def forms(authorization: str | None = Header(default=None),
                    if_none_match: str | None = Header(default=None)) -> Response:
        gateway.user_for(authorization)
        folder = config.forms_dir or default_forms_dir()
        definitions = [json.loads(p.read_text(encoding="utf-8"))
                       for p in sorted(folder.glob("*.json"))]
        return _etag_response(json.dumps({"forms": definitions}, sort_keys=True).encode(),
                              if_none_match)

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
        return _etag_response(json.dumps({"table": table, "codes": rows}, sort_keys=True).encode(),
                              if_none_match)

    # -- training only: on a live gateway these routes do not exist (404) --------------------
    if config.training:
        add_training_routes(app, gateway)

    return app


def add_training_routes(app: FastAPI, gateway: Gateway) -> None:
    """The trainer's endpoints and the demo accounts (training gateways only)."""
    config = gateway.config

    def training_only() -> None:
        if not config.training:
            raise ApiError(404, "not_found", "Not a training gateway.")

    def trainer(authorization: str | None) -> Account:
        training_only()
        account = gateway.user_for(authorization)
        if account.role != "trainer":
            raise ApiError(403, "forbidden", "Only a trainer may do this.")
        return account

    register_debrief_routes(app, gateway, trainer)  # debrief, pause and resume

    @app.get("/v1/training/demo-accounts")
    async def demo_accounts() -> dict[str, Any]:
        """The trainee demo accounts with what signing in needs. Never a trainer's secrets (a
        trainer is listed by name only); beyond loopback only if the trainer published them."""
        training_only()
        if not config.publish_accounts:
            raise ApiError(403, "not_published", "The trainer has not published the demo "
                           "accounts on this gateway: ask the trainer for your sign-in.")
        listed: list[dict[str, Any]] = []
        for a in gateway.state.accounts():
            if not a.demo:
                continue
            entry: dict[str, Any] = {"user_id": a.user_id, "name": a.name, "role": a.role,
                                     "ori": a.ori, "unit": a.unit}
            if a.role != "trainer":
                entry |= {"password": DEMO_PASSWORD, "otp_secret": a.otp_secret,
                          **gateway.next_code(a)}
            listed.append(entry)
        return {"accounts": listed}

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
        recipients = gateway.recipients({"user": body.user}) if body.user else []
        if body.ori:  # the user and every terminal of the ORI
            recipients += [r for r in gateway.recipients({"ori": body.ori}) if r not in recipients]
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
        items = gateway.prepare_events(body.events, recipients, time.time() + body.delay)
        gateway.state.schedule_many(items)
        gateway._wake_scheduler()
        return {"scheduled": len(items), "recipients": recipients}

    @app.post("/v1/training/records", status_code=201)
    async def enter_record(body: EntryBody, authorization: str | None = Header(default=None)
                           ) -> dict[str, Any]:
        """Enter a new NCIC record (stolen vehicle, wanted person, stolen gun): new queries find
        it, and earlier queries it matches get a delayed hit."""
        trainer(authorization)
        entry = {**{str(k).lower(): v for k, v in body.record.items()}, "kind": body.kind}
        try:
            entered, hits = gateway.enter(entry)
        except ValueError as exc:
            raise ApiError(422, "validation", f"The record needs {str(exc).upper()}.",
                           str(exc).upper()) from exc
        return {"entered": entered, "delayed_hits": hits}

    @app.get("/v1/training/scenarios")
    async def list_scenarios(authorization: str | None = Header(default=None)
                             ) -> dict[str, Any]:
        trainer(authorization)
        return {"scenarios": [
            {"name": name, "source": source, "title": s.get("title", name),
             "description": s.get("description", ""), "teaches": s.get("teaches", ""),
             "steps": len(s["steps"]),
             "duration": max((float(step.get("at", 0)) for step in s["steps"]), default=0.0)}
            for name, (source, s) in sorted(gateway.scenarios().items())]}

    @app.post("/v1/training/scenarios", status_code=201)
    async def save_scenario(body: dict[str, Any], authorization: str | None = Header(default=None)
                            ) -> dict[str, Any]:
        trainer(authorization)
        try:
            scenario = validate_scenario(body)
        except ScenarioError as exc:
            raise ApiError(422, "validation", str(exc), exc.field) from exc
        gateway.state.save_scenario(scenario["name"], scenario)
        return {"name": scenario["name"], "steps": len(scenario["steps"])}

    @app.post("/v1/training/scenarios/{name}/start")
    async def start_scenario(name: str, body: StartBody | None = None,
                             authorization: str | None = Header(default=None)) -> dict[str, Any]:
        trainer(authorization)
        body = body or StartBody()
        scenarios = gateway.scenarios()
        if name not in scenarios:
            raise ApiError(404, "not_found", f"No scenario {name!r}.")
        if body.users is not None:
            known = {a.user_id for a in gateway.state.accounts()}
            unknown = [u for u in body.users if u not in known]
            if unknown:
                raise ApiError(422, "validation", f"Unknown users: {', '.join(unknown)}.",
                               "users")
        return gateway.start_scenario(name, scenarios[name][1], body.users, body.speed)

    @app.get("/v1/training/activity")
    async def activity(since: str | None = Query(default=None, max_length=40,
                                                 json_schema_extra={"format": "date-time"}),
                       limit: int = Query(default=100, ge=1, le=1000),
                       authorization: str | None = Header(default=None)) -> dict[str, Any]:
        trainer(authorization)
        start = None
        if since:
            try:
                start = from_iso(since.upper()).timestamp()
            except ValueError as exc:
                raise ApiError(422, "validation", "since: an ISO 8601 time.", "since") from exc
        return gateway.activity(start, limit)

    @app.post("/v1/training/reset")
    async def reset(body: ResetBody | None = None,
                    authorization: str | None = Header(default=None)) -> dict[str, Any]:
        trainer(authorization)
        return gateway.reset(body or ResetBody())
