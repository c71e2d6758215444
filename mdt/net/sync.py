"""The sync engine: the outbox goes out, the inbox comes in, nothing is lost. No Qt.

- **Outbox.** A query is committed to the cache in state ``queued`` before any network attempt
  (see :meth:`mdt.terminal.Terminal.send`). The engine sends each queued message with its UUID as
  ``Idempotency-Key``; only the gateway's 202 moves it to ``accepted``. A crash or a dropped link
  between the two leaves it ``queued``, and the repeat is harmless: the gateway answers a known id
  with its first outcome.
- **Inbox.** Events are applied to the cache one transaction each, with the cursor (highest
  ``seq``) in the same transaction, so a crash can neither lose nor double-apply one. Catch-up uses
  ``GET /v1/inbox?after=``; live events come from the SSE stream resumed with ``Last-Event-ID``.
  ``POST /v1/inbox/ack`` goes out only after the durable commit.
- **Connectivity.** ``online`` (stream open), ``degraded`` (some calls got through before one
  failed: retried soon), ``offline`` (no answer; retried with capped exponential backoff and
  jitter), ``reauth`` (token expired: waits for :meth:`SyncEngine.set_token` and loses nothing
  queued).

Return texts are parsed here when the gateway sent no structured records (a legacy switch sends
only text), so the cache always stores records.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any, Protocol

from mdt.core.returns import parse_return
from mdt.net.gateway import AuthExpired, GatewayClient, GatewayRefused, GatewayUnreachable
from mdt.store.cache import Cache
from mdt.store.writer_thread import CacheWriter

log = logging.getLogger(__name__)

RECORD_EVENTS = ("response", "delayed_hit")


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


def _valid_event(event: dict[str, Any]) -> bool:
    return isinstance(event.get("seq"), int) and isinstance(event.get("id"), str) \
        and isinstance(event.get("type"), str)


class SyncEngine:
    """Runs on the network thread's event loop; the cache is reached through a :class:`CacheWriter`."""

    def __init__(self, client: GatewayClient, writer: CacheWriter, *,
                 listener: SyncListener | None = None, backoff_cap: float = 30.0,
                 rng: Callable[[], float] = random.random) -> None:
        self.client = client
        self.writer = writer
        self.listener = listener
        self.backoff_cap = backoff_cap
        self._rng = rng
        self.state = Connectivity.OFFLINE
        self._wake: asyncio.Event | None = None
        self._token_set: asyncio.Event | None = None
        self._stopping = False
        self.progress = 0  # messages accepted + events applied: a link that works at all

    # -- notifications -------------------------------------------------------------------------
    def _tell(self, what: str, *args: Any) -> None:
        """Notify the listener; a listener that fails must not stop the sync."""
        if self.listener is None:
            return
        try:
            getattr(self.listener, what)(*args)
        except Exception as exc:  # the type only: a message could carry record data
            log.error("sync listener %s failed: %s", what, type(exc).__name__)

    def _set_state(self, state: Connectivity, detail: str = "") -> None:
        if state != self.state or detail:
            self.state = state
            self._tell("connectivity_changed", state, detail)

    def _outbox_changed(self, message_id: str, state: str, detail: str = "") -> None:
        self._tell("outbox_changed", message_id, state, detail)

    # -- outbox --------------------------------------------------------------------------------
    async def flush_outbox(self) -> tuple[int, int]:
        """Send every queued message, oldest first. Returns (accepted, refused).

        Stops at the first network failure (raising it) so order is kept."""
        accepted = refused = 0
        queued = await self.writer.run(lambda c: c.outbox())
        for message in queued:
            msg_id = str(message["id"])
            wire = {k: message[k] for k in ("id", "mke", "dest", "fields", "text", "created_at",
                                              "purpose") if message.get(k) is not None}
            self._outbox_changed(msg_id, "sending")
            try:
                answer = await self.client.send_message(wire)
            except GatewayRefused as exc:
                detail = exc.message + (f" (field {exc.field})" if exc.field else "")
                await self.writer.run(partial(_set_state, msg_id, "failed", detail, None))
                self._outbox_changed(msg_id, "failed", detail)
                refused += 1
                continue
            except (GatewayUnreachable, AuthExpired):
                self._outbox_changed(msg_id, "queued")
                raise
            at = str(answer.get("accepted_at") or "")
            await self.writer.run(partial(_set_state, msg_id, "accepted", None, at or None))
            self._outbox_changed(msg_id, "accepted")
            accepted += 1
            self.progress += 1
        return accepted, refused

    # -- inbox ---------------------------------------------------------------------------------
    async def apply(self, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Apply events durably, in order; returns those that were new."""
        fresh: list[dict[str, Any]] = []
        for raw in events:
            if not _valid_event(raw):
                log.warning("ignored an inbox event without seq/id/type")
                continue
            event = prepare_event(raw)
            if await self.writer.run(partial(_apply, event)):
                fresh.append(event)
        self.progress += len(fresh)
        if fresh:
            self._tell("events_applied", fresh)
        return fresh

    async def catch_up(self, page_size: int = 500) -> int:
        """Fetch and apply everything after the cursor; ack what was stored. Returns the count."""
        applied = 0
        cursor = await self.writer.run(lambda c: c.inbox_cursor())
        start = cursor
        while True:
            page = await self.client.inbox(cursor, page_size)
            if not page.events:
                break
            applied += len(await self.apply(page.events))
            new_cursor = await self.writer.run(lambda c: c.inbox_cursor())
            if new_cursor <= cursor:  # nothing advanced: a gateway answering nonsense
                break
            cursor = new_cursor
        if cursor > start:
            await self.client.ack(cursor)
        return applied

    async def ship_audit(self, batch: int = 500) -> int:
        """Send the audit records the gateway does not hold yet; mark them shipped only once it
        answered (they may then be pruned by retention, never before)."""
        shipped = 0
        while True:
            records = await self.writer.run(partial(_unshipped, batch))
            if not records:
                return shipped
            accepted = await self.client.ship_audit(records)
            await self.writer.run(partial(_mark_shipped, accepted))
            shipped += len(accepted)
            if len(records) < batch or not accepted:
                return shipped

    async def sync_once(self) -> SyncReport:
        """One round: send the outbox, then catch up the inbox, then ship the audit records."""
        sent, failed = await self.flush_outbox()
        applied = await self.catch_up()
        await self.ship_audit()
        cursor = await self.writer.run(lambda c: c.inbox_cursor())
        self._set_state(Connectivity.ONLINE)
        return SyncReport(sent=sent, failed=failed, applied=applied, cursor=cursor)

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

    def stop(self) -> None:
        self._stopping = True
        self.poke()
        if self._token_set is not None:
            self._token_set.set()

    async def _stream(self) -> None:
        cursor = await self.writer.run(lambda c: c.inbox_cursor())
        async for event in self.client.stream(cursor):
            if await self.apply([event]):
                new_cursor = await self.writer.run(lambda c: c.inbox_cursor())
                await self.client.ack(new_cursor)

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

    async def run(self) -> None:
        """Keep in sync until :meth:`stop`: online with a live stream, or retrying."""
        self._wake = asyncio.Event()
        self._token_set = asyncio.Event()
        delay = 1.0
        while not self._stopping:
            progress_before = self.progress
            try:
                await self.sync_once()
                delay = 1.0
                await self._live()
                if self._stopping:
                    break
                # The stream ended cleanly (gateway restart): reconnect at once.
            except AuthExpired as exc:
                self._set_state(Connectivity.REAUTH, exc.message)
                self._token_set.clear()
                await self._token_set.wait()
            except GatewayUnreachable as exc:
                if self.progress > progress_before:
                    delay = 1.0  # a bad link, not a dead one: keep trying soon
                    self._set_state(Connectivity.DEGRADED, exc.message)
                else:
                    self._set_state(Connectivity.OFFLINE, exc.message)
                pause = min(self.backoff_cap, delay) * (0.5 + self._rng())
                delay = min(self.backoff_cap, delay * 2)
                self._wake.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    # A new query wakes the engine early: try at once, the officer is waiting.
                    await asyncio.wait_for(self._wake.wait(), timeout=pause)
                self._wake.set()  # the next round flushes the outbox first anyway
        self._set_state(Connectivity.STOPPED)
