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
import logging
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from mdt.core.clock import GatewayClock
from mdt.net.gateway import (
    AuthExpired,
    GatewayClient,
    GatewayError,
    GatewayRefused,
    GatewayUnreachable,
)
from mdt.net.inbox import MAX_GAP, RECORD_EVENTS, Inbox, _Gap, prepare_event
from mdt.net.sync_state import (
    PHASES,
    Connectivity,
    Round,
    SyncDeadline,
    SyncListener,
    SyncReport,
    describe_failure,
)
from mdt.store.cache import Cache
from mdt.store.errors import CacheBugError, CacheError
from mdt.store.writer_thread import CacheWriter

log = logging.getLogger(__name__)

CLOCK_META = "gateway_clock_offset"
__all__ = ["MAX_GAP", "PHASES", "RECORD_EVENTS", "Connectivity", "SyncDeadline", "SyncEngine",
           "SyncListener", "SyncReport", "describe_failure", "prepare_event"]


def _set_state(message_id: str, state: str, detail: str | None, at: str | None,
               cache: Cache) -> None:
    cache.set_message_state(message_id, state, detail, at)


def _unshipped(limit: int, cache: Cache) -> list[dict[str, Any]]:
    return cache.audit_unshipped(limit)


def _mark_shipped(ids: list[str], cache: Cache) -> None:
    cache.mark_audit_shipped(ids)


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
        self.round = Round()
        self.last_contact: float | None = None  # monotonic time of the last answer/event/heartbeat
        self.reconnects = 0  # live streams opened
        self.inbox = Inbox(client, writer, self.round, tell=self._tell, contact=self._contact,
                           who=who, device=device)

    @property
    def phase(self) -> str:
        """Where the round is (the sentence when it stops names it)."""
        return self.round.phase

    @phase.setter
    def phase(self, phase: str) -> None:
        self.round.phase = phase

    @property
    def progress(self) -> int:
        """Messages accepted + events applied: a link that works at all."""
        return self.round.progress

    @progress.setter
    def progress(self, progress: int) -> None:
        self.round.progress = progress

    @property
    def quarantined(self) -> int:
        return self.inbox.quarantined

    @property
    def protocol_errors(self) -> list[str]:
        return self.inbox.protocol_errors

    async def apply(self, events: list[Any]) -> list[dict[str, Any]]:
        """Apply events durably, in order; returns those that were new."""
        return await self.inbox.apply(events)

    async def catch_up(self, page_size: int = 500) -> int:
        """Fetch and apply everything after the cursor; ack what was stored. Returns the count."""
        return await self.inbox.catch_up(page_size)

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
        cursor = await self.inbox.read_cursor()
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
        inbox = self.inbox
        await inbox.read_cursor()
        self.phase = "stream"
        self.reconnects += 1
        async for item in self.client.live(inbox.cursor, idle_timeout=self.idle_timeout):
            self._contact()
            if item.kind == "heartbeat":
                if self.state != Connectivity.ONLINE:
                    self._set_state(Connectivity.ONLINE)
                continue
            try:
                event = await inbox.take(item.event, raw_text=item.data, sse_id=item.sse_id,
                                         unreadable=item.reason, live=True)
            except _Gap:  # ask the inbox from the cursor; it handles the jump
                await self.catch_up()
                self.phase = "stream"
                continue
            self.phase = "stream"
            if event is not None:
                self.progress += 1
                self._tell("events_applied", [event])
            if inbox.cursor > inbox.acked:
                await inbox.ack(inbox.cursor)
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
