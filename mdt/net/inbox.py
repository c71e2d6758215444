"""The inbox side of the sync engine: every event checked against the protocol's models, then
applied durably in order (one transaction each, the cursor with it) or kept aside
(quarantined); the receipt (ack) only after the commit. See :mod:`mdt.net.sync`. No Qt."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from functools import partial
from typing import Any

from mdt.core.returns import parse_return
from mdt.net.events import MAX_EVENT_BYTES, EventInvalid, readable_header, validate_event
from mdt.net.gateway import GatewayClient, GatewayUnreachable
from mdt.net.sync_state import Round
from mdt.store import quarantine
from mdt.store.cache import Cache
from mdt.store.errors import CacheBugError
from mdt.store.writer_thread import CacheWriter

log = logging.getLogger("mdt.net.sync")

RECORD_EVENTS = ("response", "delayed_hit")
MAX_GAP = 1000  # a seq jump the gateway confirms, up to this, is reported and then applied


def prepare_event(event: dict[str, Any]) -> dict[str, Any]:
    """Give a record-carrying event structured records, parsed from its text when it has none."""
    if event.get("type") in RECORD_EVENTS and not isinstance(event.get("records"), list):
        parsed = parse_return(str(event.get("text") or ""))
        event = {**event, "records": [r.to_dict() for r in parsed.records],
                 "records_from_text": True, "parse_warnings": list(parsed.warnings)}
    return event


def _apply(event: dict[str, Any], cache: Cache) -> bool:
    return cache.apply_event(event)


def _stored_at(seq: int, cache: Cache) -> dict[str, Any] | None:
    """The event applied with this seq, if any (to tell a harmless repeat from a conflict)."""
    row = cache._conn.execute("SELECT body FROM events WHERE seq = ? LIMIT 1", (seq,)).fetchone()
    return json.loads(row[0]) if row else None


def _dump(raw: Any) -> str:
    try:
        return json.dumps(raw, ensure_ascii=False)
    except (ValueError, TypeError, RecursionError):
        return repr(raw)[:MAX_EVENT_BYTES]


class _Gap(Exception):
    """The stream jumped past the cursor: ask the inbox again from the cursor."""


class Inbox:
    """The engine's inbox: its cursor, its receipts, what it kept aside."""

    def __init__(self, client: GatewayClient, writer: CacheWriter, round_: Round, *,
                 tell: Callable[..., None], contact: Callable[[], None], who: str = "sync",
                 device: str = "") -> None:
        self.client = client
        self.writer = writer
        self.round = round_
        self._tell = tell
        self._contact = contact
        self.who, self.device = who, device
        self.cursor = 0
        self.acked = 0  # the highest receipt the gateway took from this engine
        self.quarantined = 0
        self.protocol_errors: list[str] = []
        self._last_limit = 0  # the page size of the last inbox request
        self._too_deep = 0  # events too deep to decode, this catch-up

    # -- inbox ---------------------------------------------------------------------------------
    async def read_cursor(self) -> int:
        self.round.phase = "cache"
        self.cursor = await self.writer.run(lambda c: c.inbox_cursor())
        return self.cursor

    async def quarantine(self, raw_text: str, reason: str, *, kind: str = "unreadable",
                          seq: int | None = None, event_id: str | None = None,
                          event_type: str | None = None, advance: bool = False) -> bool:
        self.round.phase = "cache"
        advance_to = seq if advance and seq is not None else None
        new = await self.writer.run(partial(
            quarantine.keep, raw=raw_text, reason=reason, kind=kind, seq=seq,
            event_id=event_id, event_type=event_type, advance_to=advance_to, who=self.who,
            device=self.device))
        if advance_to is not None:
            self.cursor = max(self.cursor, advance_to)
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

    async def take(self, raw: Any, *, raw_text: str | None = None, sse_id: str = "",
                    unreadable: str = "", live: bool = False, gap_confirmed: bool = False,
                    hint_seq: int | None = None) -> dict[str, Any] | None:
        """Check, then apply (or quarantine) one event; returns it when it was new."""
        text = raw_text if raw_text is not None else _dump(raw)
        nxt = self.cursor + 1
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
            await self.quarantine(text, exc.reason, seq=seq, event_id=exc.event_id,
                                   event_type=exc.event_type, advance=seq == nxt)
            return None
        seq = int(event["seq"])
        if seq < nxt:  # a repeat: harmless when it is the same event
            self.round.phase = "cache"
            stored = await self.writer.run(partial(_stored_at, seq))
            same = stored is not None and stored == json.loads(json.dumps(prepare_event(event)))
            if not same:
                known = stored is not None or await self.writer.run(
                    lambda c: bool(c._conn.execute("SELECT 1 FROM quarantine WHERE seq = ?",
                                                   (seq,)).fetchone()))
                reason = (f"seq {seq} came again with other content" if known else
                          f"seq {seq} is behind the inbox (at {self.cursor})")
                await self.quarantine(text, reason, kind="protocol", seq=seq,
                                       event_id=str(event["id"]), event_type=str(event["type"]))
            return None
        if seq > nxt:
            if live:
                raise _Gap
            reason = (f"seq jumped from {self.cursor} to {seq}: inbox #{nxt}"
                      + (f" to #{seq - 1}" if seq - 1 > nxt else "") + " never came")
            if not gap_confirmed or seq - nxt >= MAX_GAP:
                reason += "" if seq - nxt < MAX_GAP else "; the event was not applied"
                await self.quarantine(text, reason, kind="protocol", seq=seq,
                                       event_id=str(event["id"]), event_type=str(event["type"]))
                return None
            await self.quarantine("", reason, kind="protocol", seq=seq,
                                   event_id=str(event["id"]), event_type=str(event["type"]))
        prepared = prepare_event(event)
        self.round.phase = "cache"
        try:
            fresh = await self.writer.run(partial(_apply, prepared))
        except (CacheBugError, TypeError, ValueError, KeyError, AttributeError) as exc:
            # valid by the models, but the cache could not apply it: keep it aside too
            await self.quarantine(text, f"could not be applied ({type(exc).__name__})",
                                   seq=seq, event_id=str(event["id"]),
                                   event_type=str(event["type"]), advance=True)
            return None
        self.cursor = max(self.cursor, seq)
        return prepared if fresh else None

    async def apply(self, events: list[Any]) -> list[dict[str, Any]]:
        """Apply events durably, in order; returns those that were new."""
        await self.read_cursor()
        return await self.apply_batch(events, gap_confirmed=False)

    async def apply_batch(self, events: list[Any], *, gap_confirmed: bool
                           ) -> list[dict[str, Any]]:
        fresh: list[dict[str, Any]] = []
        for n, raw in enumerate(events):
            # An event whose seq cannot be read, followed by the one after next: by the gap-free
            # seq it is the next one (the cursor may move past it).
            after, _, _ = readable_header(events[n + 1]) if n + 1 < len(events) else (None,) * 3
            hint = self.cursor + 1 if after == self.cursor + 2 else None
            event = await self.take(raw, gap_confirmed=gap_confirmed, hint_seq=hint)
            if event is not None:
                fresh.append(event)
        self.round.progress += len(fresh)
        if fresh:
            self._tell("events_applied", fresh)
        return fresh

    async def page(self, cursor: int, page_size: int) -> Any:
        """One inbox page; a page too deep to decode is asked one event at a time, and one event
        too deep to decode is, by the protocol's gap-free seq, the next one: it is quarantined."""
        self.round.phase = "inbox"
        self._last_limit = page_size
        try:
            page = await self.client.inbox(cursor, page_size)
        except GatewayUnreachable as exc:
            if exc.code != "too_deep":
                raise
            if page_size > 1:
                return await self.page(cursor, 1)
            self._too_deep += 1
            if self._too_deep > 50:  # a gateway sending nothing else: back off, do not churn
                raise
            await self.quarantine(exc.raw or "(JSON nested too deep to decode)",
                                   "nested too deep to decode", seq=cursor + 1, advance=True)
            return None
        self._contact()
        return page

    async def catch_up(self, page_size: int = 500) -> int:
        """Fetch and apply everything after the cursor; ack what was stored. Returns the count."""
        applied = 0
        self._too_deep = 0
        cursor = start = await self.read_cursor()
        for _ in range(100_000):  # bounded: a gateway answering without end is stopped
            page = await self.page(cursor, page_size)
            if page is None:  # one undecodable event was kept aside
                cursor = self.cursor
                continue
            if not page.events:
                break
            applied += len(await self.apply_batch(page.events, gap_confirmed=True))
            if self.cursor <= cursor:  # nothing advanced: a gateway answering nonsense
                break
            cursor = self.cursor
            if len(page.events) < min(page_size, self._last_limit):
                break
        if cursor > start or (cursor and self.acked < cursor):
            await self.ack(cursor)  # a receipt refused before is sent again
        return applied

    async def ack(self, upto: int) -> None:
        self.round.phase = "ack"
        await self.client.ack(upto)
        self.acked = max(self.acked, upto)
