"""The sync engine: the outbox goes out, the inbox comes in, nothing is lost. No Qt.

- **Outbox.** A query is committed to the cache in state ``queued`` before any network attempt
  (see :meth:`mdt.services.terminal.Terminal.send`). The engine sends each queued message with its UUID as
  ``Idempotency-Key``; only the gateway's 202 moves it to ``accepted``. A crash or a dropped link
  between the two leaves it ``queued``, and the repeat is harmless: the gateway answers a known id
  with its first outcome.
- **Inbox.** Events are applied to the cache one transaction each, with the cursor (highest
  ``seq``) in the same transaction, so a crash can neither lose nor double-apply one. Catch-up uses
  ``GET /v1/inbox?after=``; live events come from the SSE stream resumed with ``Last-Event-ID``.
  ``POST /v1/inbox/ack`` goes out only after the durable commit.
- **Checked at the boundary.** Every event is checked against the protocol's models
  (:mod:`mdt.net.events`) before anything is applied. One that fails is quarantined (kept
  encrypted with its raw body, audited: :mod:`mdt.store.quarantine`), the cursor moves past it
  when its ``seq`` is the next one, and the next event is applied. A ``seq`` that is not the next
  one is a protocol error: a repeat with other content is quarantined, never applied; a jump is
  asked again from the cursor, and what the gateway still skips is reported (a gap of at most
  :data:`MAX_GAP` is then applied, a bigger one, which would skip every later real event, is not).
- **Connectivity.** ``online`` (an answer, an event or a heartbeat came within the idle timeout),
  ``degraded`` (some calls got through before one failed, or the stream closes at once: retried
  with backoff), ``offline`` (no answer; retried with capped exponential backoff and jitter),
  ``reauth`` (token expired: waits for :meth:`SyncEngine.set_token` and loses nothing queued),
  ``stopped`` (anything else: a refusal, a full disk, a bug; the detail says why and when the
  next try is, and the engine tries again with capped backoff).
- **Supervised and bounded.** :meth:`SyncEngine.run` never ends on an exception; a stream that
  ends at once or sends garbage costs at most one reconnect per backoff step; every call has a
  deadline and a size limit (:class:`mdt.net.gateway.GatewayClient`); the stream has an idle
  timeout that a line that never ends also trips.
- **Clock.** Every round measures the gateway's clock again (health, half the round trip) into
  the :class:`mdt.core.clock.GatewayClock` it was given.

Return texts are parsed here when the gateway sent no structured records (a legacy switch sends
only text), so the cache always stores records.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from mdt.core.clock import GatewayClock
from mdt.core.returns import parse_return
from mdt.net.events import MAX_EVENT_BYTES, EventInvalid, readable_header, validate_event
from mdt.net.gateway import (
    AuthExpired,
    GatewayClient,
    GatewayError,
    GatewayRefused,
    GatewayUnreachable,
)
from mdt.store import quarantine
from mdt.store.cache import Cache
from mdt.store.errors import CacheBugError, CacheError
from mdt.store.writer_thread import CacheWriter

log = logging.getLogger(__name__)

RECORD_EVENTS = ("response", "delayed_hit")
MAX_GAP = 1000  # a seq jump the gateway confirms, up to this, is reported and then applied
CLOCK_META = "gateway_clock_offset"


class Connectivity(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"  # some calls get through, others fail: a poor link, not a dead one
    OFFLINE = "offline"
    REAUTH = "reauth"
    STOPPED = "stopped"


class SyncListener(Protocol):
    """What the engine tells the app layer. Called on the network thread."""

    def connectivity_changed(self, state: Connectivity, detail: str) -> None: ...

    def events_applied(self, events: list[dict[str, Any]]) -> None: ...

    def outbox_changed(self, message_id: str, state: str, detail: str) -> None: ...


@dataclass
class SyncReport:
    sent: int = 0
    failed: int = 0
    applied: int = 0
    cursor: int = 0
    quarantined: int = 0  # unreadable events kept aside this round
    protocol_errors: list[str] = field(default_factory=list)  # sentences, no record data


def prepare_event(event: dict[str, Any]) -> dict[str, Any]:
    """Give a record-carrying event structured records, parsed from its text when it has none."""
    if event.get("type") in RECORD_EVENTS and not isinstance(event.get("records"), list):
        parsed = parse_return(str(event.get("text") or ""))
        event = {**event, "records": [r.to_dict() for r in parsed.records],
                 "records_from_text": True, "parse_warnings": list(parsed.warnings)}
    return event


def _set_state(message_id: str, state: str, detail: str | None, at: str | None,
               cache: Cache) -> None:
    cache.set_message_state(message_id, state, detail, at)


def _apply(event: dict[str, Any], cache: Cache) -> bool:
    return cache.apply_event(event)


def _unshipped(limit: int, cache: Cache) -> list[dict[str, Any]]:
    return cache.audit_unshipped(limit)


def _mark_shipped(ids: list[str], cache: Cache) -> None:
    cache.mark_audit_shipped(ids)



def _stored_at(seq: int, cache: Cache) -> dict[str, Any] | None:
    """The event applied with this seq, if any (to tell a harmless repeat from a conflict)."""
    row = cache._conn.execute("SELECT body FROM events WHERE seq = ? LIMIT 1", (seq,)).fetchone()
    return json.loads(row[0]) if row else None


def _dump(raw: Any) -> str:
    try:
        return json.dumps(raw, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return repr(raw)[:MAX_EVENT_BYTES]


class SyncDeadline(GatewayUnreachable):
    """A whole round (``mdt sync --once``) did not finish in time; nothing was lost."""

    def __init__(self, seconds: float, phase: str = "") -> None:
        what = PHASES.get(phase, "the gateway")
        super().__init__(
            f"Sync stopped: the round did not finish within {seconds:g} s (waiting on {what}; "
            "the gateway is too slow or sends without end). Nothing was lost: what was applied "
            "is kept and what is queued stays queued.", code="deadline")
        self.seconds = seconds
        self.phase = phase


class _Gap(Exception):
    """The stream jumped past the cursor: ask the inbox again from the cursor."""


PHASES = {
    "health": "the health check", "outbox": "a sent message", "inbox": "the inbox",
    "ack": "the delivery receipt (ack)", "audit": "the audit records",
    "stream": "the live inbox stream", "cache": "the cache",
}


def describe_failure(exc: BaseException, phase: str = "") -> tuple[Connectivity, str]:
    """The visible state an exception leaves the sync in, and a sentence that says why (the
    same words in the status bar, ``mdt sync`` and the log; no record data)."""
    what = PHASES.get(phase, "the sync")
    if isinstance(exc, AuthExpired):
        return Connectivity.REAUTH, exc.message
    if isinstance(exc, GatewayUnreachable):
        return Connectivity.OFFLINE, exc.message
    if isinstance(exc, GatewayRefused):
        status = f" ({exc.status})" if exc.status else ""
        return Connectivity.STOPPED, f"Sync stopped: the gateway refused {what}{status}"
    if isinstance(exc, CacheError):
        return Connectivity.STOPPED, f"Sync stopped: {exc.user_message.rstrip('.')}"
    return Connectivity.STOPPED, f"Sync stopped: an internal error ({type(exc).__name__})"


class SyncEngine:
    """Runs on the network thread's event loop; the cache is reached through a :class:`CacheWriter`."""

    def __init__(self, client: GatewayClient, writer: CacheWriter, *,
                 listener: SyncListener | None = None, backoff_cap: float = 30.0,
                 rng: Callable[[], float] = random.random, clock: GatewayClock | None = None,
                 who: str = "sync", device: str = "", idle_timeout: float = 45.0,
                 healthy_after: float = 10.0, refusal_backoff: float = 5.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self.writer = writer
        self.listener = listener
        self.backoff_cap = backoff_cap
        self._rng = rng
        self.clock = clock
        self.who, self.device = who, device
        self.idle_timeout = idle_timeout
        self.healthy_after = healthy_after
        self.refusal_backoff = refusal_backoff
        self._monotonic = monotonic
        self.state = Connectivity.OFFLINE
        self.detail = ""
        self._wake: asyncio.Event | None = None
        self._token_set: asyncio.Event | None = None
        self._stopping = False
        self.progress = 0  # messages accepted + events applied: a link that works at all
        self.phase = ""
        self.last_contact: float | None = None  # monotonic time of the last answer/event/heartbeat
        self.reconnects = 0  # live streams opened
        self.quarantined = 0
        self.protocol_errors: list[str] = []
        self._cursor = 0
        self._acked = 0  # the highest receipt the gateway took from this engine
        self._last_limit = 0  # the page size of the last inbox request
        self._too_deep = 0  # events too deep to decode, this catch-up

    # -- notifications -------------------------------------------------------------------------
    def _tell(self, what: str, *args: Any) -> None:
        """Notify the listener; a listener that fails must not stop the sync."""
        if self.listener is None:
            return
        method = getattr(self.listener, what, None)
        if method is None:  # an older listener without this notification
            return
        try:
            method(*args)
        except Exception as exc:  # the type only: a message could carry record data
            log.error("sync listener %s failed: %s", what, type(exc).__name__)

    def _set_state(self, state: Connectivity, detail: str = "") -> None:
        if state != self.state or detail != self.detail:
            self.state = state
            self.detail = detail
            self._tell("connectivity_changed", state, detail)

    def _outbox_changed(self, message_id: str, state: str, detail: str = "") -> None:
        self._tell("outbox_changed", message_id, state, detail)

    def _contact(self) -> None:
        self.last_contact = self._monotonic()

    # -- outbox --------------------------------------------------------------------------------
    async def flush_outbox(self) -> tuple[int, int]:
        """Send every queued message, oldest first. Returns (accepted, refused).

        Stops at the first network failure (raising it) so order is kept."""
        accepted = refused = 0
        self.phase = "cache"
        queued = await self.writer.run(lambda c: c.outbox())
        for message in queued:
            msg_id = str(message["id"])
            wire = {k: message[k] for k in ("id", "mke", "dest", "fields", "text", "created_at",
                                              "purpose") if message.get(k) is not None}
            self._outbox_changed(msg_id, "sending")
            self.phase = "outbox"
            try:
                answer = await self.client.send_message(wire)
            except GatewayRefused as exc:
                detail = exc.message + (f" (field {exc.field})" if exc.field else "")
                self.phase = "cache"
                await self.writer.run(partial(_set_state, msg_id, "failed", detail, None))
                self._outbox_changed(msg_id, "failed", detail)
                refused += 1
                continue
            except (GatewayUnreachable, AuthExpired):
                self._outbox_changed(msg_id, "queued")
                raise
            self._contact()
            at = str(answer.get("accepted_at") or "")
            self.phase = "cache"
            await self.writer.run(partial(_set_state, msg_id, "accepted", None, at or None))
            self._outbox_changed(msg_id, "accepted")
            accepted += 1
            self.progress += 1
        return accepted, refused

    # -- inbox ---------------------------------------------------------------------------------
    async def _read_cursor(self) -> int:
        self.phase = "cache"
        self._cursor = await self.writer.run(lambda c: c.inbox_cursor())
        return self._cursor

    async def _quarantine(self, raw_text: str, reason: str, *, kind: str = "unreadable",
                          seq: int | None = None, event_id: str | None = None,
                          event_type: str | None = None, advance: bool = False) -> bool:
        self.phase = "cache"
        advance_to = seq if advance and seq is not None else None
        new = await self.writer.run(partial(
            quarantine.keep, raw=raw_text, reason=reason, kind=kind, seq=seq,
            event_id=event_id, event_type=event_type, advance_to=advance_to, who=self.who,
            device=self.device))
        if advance_to is not None:
            self._cursor = max(self._cursor, advance_to)
        if new:
            # the type and the reason only: the raw body stays in the encrypted cache
            log.warning("inbox event seq %s type %s %s: %s", seq if seq is not None else "?",
                        event_type or "?", "quarantined" if kind == "unreadable"
                        else "is a protocol error", reason)
            if kind == "unreadable":
                self.quarantined += 1
            else:
                self.protocol_errors.append(reason)
            self._tell("events_quarantined", [{"seq": seq, "type": event_type, "kind": kind,
                                               "reason": reason}])
        return new

    async def _take(self, raw: Any, *, raw_text: str | None = None, sse_id: str = "",
                    unreadable: str = "", live: bool = False, gap_confirmed: bool = False,
                    hint_seq: int | None = None) -> dict[str, Any] | None:
        """Check, then apply (or quarantine) one event; returns it when it was new."""
        text = raw_text if raw_text is not None else _dump(raw)
        nxt = self._cursor + 1
        try:
            if unreadable:
                raise EventInvalid(unreadable)
            if len(text) > MAX_EVENT_BYTES:
                seq, event_id, kind = readable_header(raw)
                raise EventInvalid(f"larger than {MAX_EVENT_BYTES} bytes", seq=seq,
                                   event_id=event_id, event_type=kind)
            event = validate_event(raw)
        except EventInvalid as exc:
            seq = exc.seq
            if seq is None and sse_id.isdigit() and len(sse_id) < 20:
                seq = int(sse_id)  # the stream's id: is the gateway's seq
            if seq is None:
                seq = hint_seq
            await self._quarantine(text, exc.reason, seq=seq, event_id=exc.event_id,
                                   event_type=exc.event_type, advance=seq == nxt)
            return None
        seq = int(event["seq"])
        if seq < nxt:  # a repeat: harmless when it is the same event
            self.phase = "cache"
            stored = await self.writer.run(partial(_stored_at, seq))
            same = stored is not None and stored == json.loads(json.dumps(prepare_event(event)))
            if not same:
                known = stored is not None or await self.writer.run(
                    lambda c: bool(c._conn.execute("SELECT 1 FROM quarantine WHERE seq = ?",
                                                   (seq,)).fetchone()))
                reason = (f"seq {seq} came again with other content" if known else
                          f"seq {seq} is behind the inbox (at {self._cursor})")
                await self._quarantine(text, reason, kind="protocol", seq=seq,
                                       event_id=str(event["id"]), event_type=str(event["type"]))
            return None
        if seq > nxt:
            if live:
                raise _Gap
            reason = (f"seq jumped from {self._cursor} to {seq}: inbox #{nxt}"
                      + (f" to #{seq - 1}" if seq - 1 > nxt else "") + " never came")
            if not gap_confirmed or seq - nxt >= MAX_GAP:
                reason += "" if seq - nxt < MAX_GAP else "; the event was not applied"
                await self._quarantine(text, reason, kind="protocol", seq=seq,
                                       event_id=str(event["id"]), event_type=str(event["type"]))
                return None
            await self._quarantine("", reason, kind="protocol", seq=seq,
                                   event_id=str(event["id"]), event_type=str(event["type"]))
        prepared = prepare_event(event)
        self.phase = "cache"
        try:
            fresh = await self.writer.run(partial(_apply, prepared))
        except (CacheBugError, TypeError, ValueError, KeyError, AttributeError) as exc:
            # valid by the models, but the cache could not apply it: keep it aside too
            await self._quarantine(text, f"could not be applied ({type(exc).__name__})",
                                   seq=seq, event_id=str(event["id"]),
                                   event_type=str(event["type"]), advance=True)
            return None
        self._cursor = max(self._cursor, seq)
        return prepared if fresh else None

    async def apply(self, events: list[Any]) -> list[dict[str, Any]]:
        """Apply events durably, in order; returns those that were new."""
        await self._read_cursor()
        return await self._apply_batch(events, gap_confirmed=False)

    async def _apply_batch(self, events: list[Any], *, gap_confirmed: bool
                           ) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        for n, raw in enumerate(events):
            # An event whose seq cannot be read, followed by the one after next: by the gap-free
            # seq it is the next one (the cursor may move past it).
            after, _, _ = readable_header(events[n + 1]) if n + 1 < len(events) else (None,) * 3
            hint = self._cursor + 1 if after == self._cursor + 2 else None
            event = await self._take(raw, gap_confirmed=gap_confirmed, hint_seq=hint)
            if event is not None:
                fresh.append(event)
        self.progress += len(fresh)
        if fresh:
            self._tell("events_applied", fresh)
        return fresh

    async def _page(self, cursor: int, page_size: int) -> Any:
        """One inbox page; a page too deep to decode is asked one event at a time, and one event
        too deep to decode is, by the protocol's gap-free seq, the next one: it is quarantined."""
        self.phase = "inbox"
        self._last_limit = page_size
        try:
            page = await self.client.inbox(cursor, page_size)
        except GatewayUnreachable as exc:
            if exc.code != "too_deep":
                raise
            if page_size > 1:
                return await self._page(cursor, 1)
            self._too_deep += 1
            if self._too_deep > 50:  # a gateway sending nothing else: back off, do not churn
                raise
            await self._quarantine(exc.raw or "(JSON nested too deep to decode)",
                                   "nested too deep to decode", seq=cursor + 1, advance=True)
            return None
        self._contact()
        return page

    async def catch_up(self, page_size: int = 500) -> int:
        """Fetch and apply everything after the cursor; ack what was stored. Returns the count."""
        applied = 0
        self._too_deep = 0
        cursor = start = await self._read_cursor()
        for _ in range(100_000):  # bounded: a gateway answering without end is stopped
            page = await self._page(cursor, page_size)
            if page is None:  # one undecodable event was kept aside
                cursor = self._cursor
                continue
            if not page.events:
                break
            applied += len(await self._apply_batch(page.events, gap_confirmed=True))
            if self._cursor <= cursor:  # nothing advanced: a gateway answering nonsense
                break
            cursor = self._cursor
            if len(page.events) < min(page_size, self._last_limit):
                break
        if cursor > start or (cursor and self._acked < cursor):
            await self._ack(cursor)  # a receipt refused before is sent again
        return applied

    async def _ack(self, upto: int) -> None:
        self.phase = "ack"
        await self.client.ack(upto)
        self._acked = max(self._acked, upto)

    async def ship_audit(self, batch: int = 500) -> int:
        """Send the audit records the gateway does not hold yet; mark them shipped only once it
        answered (they may then be pruned by retention, never before)."""
        shipped = 0
        while True:
            self.phase = "cache"
            records = await self.writer.run(partial(_unshipped, batch))
            if not records:
                return shipped
            self.phase = "audit"
            accepted = await self.client.ship_audit(records)
            self.phase = "cache"
            await self.writer.run(partial(_mark_shipped, accepted))
            shipped += len(accepted)
            if len(records) < batch or not accepted:
                return shipped

    async def measure_clock(self) -> None:
        """The gateway's clock, again (half the round trip of one health call)."""
        if self.clock is None:
            return
        self.phase = "health"
        sent = self.clock.elapsed()
        try:
            health = await self.client.health()
        except GatewayRefused as exc:  # a gateway without /v1/health: the last offset stays
            log.info("gateway clock not measured: %s", type(exc).__name__)
            return
        received = self.clock.elapsed()
        self._contact()
        self.clock.observe_monotonic(str(health.get("time") or ""), sent, received)
        kept = self.clock.to_meta()
        self.phase = "cache"
        await self.writer.run(lambda c: c.set_meta(CLOCK_META, kept))

    async def sync_once(self) -> SyncReport:
        """One round: the clock, the outbox, the inbox, then the audit records."""
        quarantined_before, errors_before = self.quarantined, len(self.protocol_errors)
        await self.measure_clock()
        sent, failed = await self.flush_outbox()
        applied = await self.catch_up()
        await self.ship_audit()
        cursor = await self._read_cursor()
        self._contact()
        self._set_state(Connectivity.ONLINE)
        return SyncReport(sent=sent, failed=failed, applied=applied, cursor=cursor,
                          quarantined=self.quarantined - quarantined_before,
                          protocol_errors=self.protocol_errors[errors_before:])

    # -- the long run --------------------------------------------------------------------------
    def poke(self) -> None:
        """Something was queued: send it now. Call on the engine's loop."""
        if self._wake is not None:
            self._wake.set()

    def set_token(self, token: str) -> None:
        """A fresh login: resume after ``reauth``. Call on the engine's loop."""
        self.client.token = token
        if self._token_set is not None:
            self._token_set.set()
        self.poke()  # a stopped engine waiting out its backoff tries at once too

    def stop(self) -> None:
        self._stopping = True
        self.poke()
        if self._token_set is not None:
            self._token_set.set()

    async def _stream(self) -> None:
        await self._read_cursor()
        self.phase = "stream"
        self.reconnects += 1
        async for item in self.client.live(self._cursor, idle_timeout=self.idle_timeout):
            self._contact()
            if item.kind == "heartbeat":
                if self.state != Connectivity.ONLINE:
                    self._set_state(Connectivity.ONLINE)
                continue
            try:
                event = await self._take(item.event, raw_text=item.data, sse_id=item.sse_id,
                                         unreadable=item.reason, live=True)
            except _Gap:  # ask the inbox from the cursor; it handles the jump
                await self.catch_up()
                self.phase = "stream"
                continue
            self.phase = "stream"
            if event is not None:
                self.progress += 1
                self._tell("events_applied", [event])
            if self._cursor > self._acked:
                await self._ack(self._cursor)
                self.phase = "stream"

    async def _outbox_loop(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            await self._wake.wait()
            self._wake.clear()
            await self.flush_outbox()
            await self.ship_audit()

    async def _live(self) -> None:
        tasks = [asyncio.create_task(self._stream()), asyncio.create_task(self._outbox_loop())]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise what ended it
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    def _pause(self, delay: float) -> float:
        return min(self.backoff_cap, delay) * (0.5 + self._rng())

    async def _wait(self, pause: float) -> None:
        assert self._wake is not None
        self._wake.clear()
        with contextlib.suppress(asyncio.TimeoutError):
            # A new query wakes the engine early: try at once, the officer is waiting.
            await asyncio.wait_for(self._wake.wait(), timeout=pause)
        self._wake.set()  # the next round flushes the outbox first anyway

    async def run(self) -> None:
        """Keep in sync until :meth:`stop`: online with a live stream, or retrying. Never ends on
        an exception: each leaves a visible state that says why, and a retry after a capped,
        growing pause."""
        self._wake = asyncio.Event()
        self._token_set = asyncio.Event()
        delay = 1.0  # the backoff for a link that fails or a stream that will not stay open
        refusal = self.refusal_backoff  # the backoff for refusals and local failures
        while not self._stopping:
            progress_before = self.progress
            opened: float | None = None
            try:
                await self.sync_once()
                refusal = self.refusal_backoff
                opened = self._monotonic()
                await self._live()
                if self._stopping:
                    break
                if self._monotonic() - opened >= self.healthy_after:
                    delay = 1.0  # a stream that stayed open, then ended: reconnect at once
                    continue
                pause = self._pause(delay)
                delay = min(self.backoff_cap, delay * 2)
                self._set_state(Connectivity.DEGRADED,
                                f"The live inbox stream closed at once — reconnecting in "
                                f"{pause:.0f} s")
                log.info("sync: the live inbox stream closed at once; reconnecting in %.0f s",
                         pause)
                await self._wait(pause)
            except AuthExpired as exc:
                self._set_state(Connectivity.REAUTH, exc.message)
                self._token_set.clear()
                await self._token_set.wait()
            except GatewayUnreachable as exc:
                in_stream = opened is not None
                lasted = opened is not None and self._monotonic() - opened >= self.healthy_after
                if lasted or (self.progress > progress_before and not in_stream):
                    # a stream that stayed open, or a round that got somewhere before the link
                    # failed (a bad link, not a dead one): try again soon. A stream that fails
                    # at once backs off however busy the inbox is.
                    delay = 1.0
                pause = self._pause(delay)
                delay = min(self.backoff_cap, delay * 2)
                state = Connectivity.DEGRADED if self.progress > progress_before \
                    else Connectivity.OFFLINE
                sentence = f"{exc.message} — retrying in {pause:.0f} s"
                self._set_state(state, sentence)
                log.info("sync %s: %s", state.value, sentence)
                await self._wait(pause)
            except Exception as exc:  # a refusal, a full disk, a bug: never the end of sync
                state, sentence = describe_failure(exc, self.phase)
                pause = min(refusal, max(self.backoff_cap, self.refusal_backoff))
                refusal = min(max(self.backoff_cap, self.refusal_backoff), refusal * 2)
                sentence = f"{sentence} — retrying in {pause:.0f} s"
                self._set_state(state, sentence)
                if isinstance(exc, GatewayError | CacheError) and not isinstance(
                        exc, CacheBugError):
                    log.warning("%s", sentence)
                else:  # a bug: the type and where, never the message (it may hold data)
                    log.error("%s", sentence, exc_info=False)
                await self._wait(pause)
        self._set_state(Connectivity.STOPPED, "Sync ended (signed out).")
