"""The gateway itself: its state, the synthetic world and the switch, sign-in, accepting
messages, and the scheduler that moves answers into inboxes (``docs/protocol.md``).

Everything runs on the server's one event loop (the SQLite state is used only there; each call is
one short statement or transaction). Answers are scheduled as deliveries with a due time and moved
into inboxes by one background task, so a restart still delivers what was promised; every live
SSE stream has its own wake-up flag, set when its recipient's inbox grows.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from mock_server import otp
from mock_server.accounts import Account
from mock_server.config import GatewayConfig, default_forms_dir
from mock_server.errors import ApiError
from mock_server.faults import FaultBook, Faults
from mock_server.models import MAX_FIELD_VALUE, LoginBody, MessageBody
from mock_server.returns import wrap_text
from mock_server.rules import read_forms
from mock_server.state import State, iso
from mock_server.switch import Confirmation, Context, Delivery, Switch
from mock_server.world import World

log = logging.getLogger("mdt-gateway")

WRAPPED_EVENTS = ("response", "delayed_hit", "status")  # the texts --wrap cuts: returns


def bearer_token(authorization: str | None) -> str | None:
    """The session token of an ``Authorization: Bearer TOKEN`` header (None without one)."""
    if not authorization or not authorization.startswith("Bearer "):
        return None
    return authorization[len("Bearer "):].strip()


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
            self._world_built.set_result(self.build_world(entries))
        except BaseException as exc:  # surfaced to the first caller that needs the world
            self._world_built.set_exception(exc)

    def build_world(self, entries: list[dict[str, Any]]) -> World:
        """The synthetic world with the records trainers entered laid over it."""
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
    def notify(self, recipient: str) -> None:
        """Wake the live streams of this recipient (its inbox grew, or its session ended)."""
        for event in self._subscribers.get(recipient, ()):
            event.set()

    @contextlib.contextmanager
    def subscription(self, recipient: str) -> Iterator[asyncio.Event]:
        event = asyncio.Event()
        self._subscribers.setdefault(recipient, set()).add(event)
        try:
            yield event
        finally:
            listeners = self._subscribers[recipient]
            listeners.discard(event)
            if not listeners:
                del self._subscribers[recipient]

    def wake_scheduler(self) -> None:
        """Something new was scheduled: the scheduler looks again at what is due next."""
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
        token = bearer_token(authorization)
        found = self.state.session(token) if token else None
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
            self.wake_scheduler()

    async def scheduler(self, run_action: Callable[[dict[str, Any]], None]) -> None:
        """Moves due deliveries into inboxes and runs due trainer actions (``run_action``, the
        exercise's); sleeps until the next one is due (or until something new is scheduled)."""
        self._scheduler_wake = asyncio.Event()
        while True:
            self._scheduler_wake.clear()
            try:
                now = time.time()
                for action in self.state.take_due_actions(now):
                    run_action(action)
                for recipient in {r for r, _event in self.state.deliver_due(time.time())}:
                    self.notify(recipient)
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
        self.wake_scheduler()

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
        """The account of a request's ``Authorization`` header; :class:`ApiError` 401 saying
        why there is none."""
        return self.account_for(bearer_token(authorization))

    def account_for(self, token: str | None) -> Account:
        """The account signed in with this session token; :class:`ApiError` 401 saying why
        there is none (no token, unknown, logged out, expired ...)."""
        if not token:
            raise ApiError(401, "unauthorized", "Log in first (no session token).")
        found = self.state.session(token)
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
            forms = read_forms(self.config.forms_dir or default_forms_dir())
            self._field_limits = {
                key: {f.tag: f.max_length for f in form.fields if f.max_length is not None}
                for key, form in forms.items()}
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

