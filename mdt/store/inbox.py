"""The inbox: every event applied, with its effects and the cursor in the same transaction
(what an event does is decided by :func:`mdt.core.traffic.plan_event`), and refilling a new
cache with what was salvaged from a damaged one. No Qt."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from mdt.core.clock import from_iso
from mdt.core.traffic import parts_detail, plan_event
from mdt.store.alerts import Alerts
from mdt.store.audit import AuditLog
from mdt.store.connection import CacheConnection, sorted_errors
from mdt.store.meta import MetaRepository
from mdt.store.outbox import MESSAGE_KEYS, Outbox
from mdt.store.schema import index_records
from mdt.store.times import iso_us

__all__ = ["Inbox"]


class Inbox:
    def __init__(self, db: CacheConnection, meta: MetaRepository, outbox: Outbox,
                 alerts: Alerts, audit: AuditLog) -> None:
        self.db = db
        self.meta = meta
        self.outbox = outbox
        self.alerts = alerts
        self.audit = audit

    @sorted_errors
    def cursor(self) -> int:
        """The highest inbox seq durably applied (0 at the start)."""
        return int(self.meta.get("inbox_cursor", "0") or 0)

    def advance_cursor(self, seq: int) -> None:
        """Inside a transaction: the cursor becomes max(cursor, ``seq``)."""
        self.db.execute(
            "INSERT INTO meta(key, value) VALUES ('inbox_cursor', ?) ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
            (str(seq),))

    @sorted_errors
    def apply(self, event: dict[str, Any]) -> bool:
        """Apply one inbox event in ONE transaction: the raw event, its effects and the cursor
        (max(cursor, seq)). An event id already applied changes nothing and returns False."""
        with self.db.transaction():
            return self.put(event)

    def put(self, event: dict[str, Any], received_at: str | None = None) -> bool:
        """Inside a transaction: :meth:`apply`; ``received_at`` keeps an older arrival time (a
        salvaged event keeps its age for retention)."""
        event_id, seq, _ = str(event["id"]), int(event["seq"]), str(event["type"])
        if self.db.one("SELECT 1 FROM events WHERE id = ?", (event_id,)):
            self.advance_cursor(seq)
            return False
        plan = plan_event(event)
        received = received_at or self._received_now()
        self.db.execute(
            "INSERT INTO events(id, seq, type, created_at, in_reply_to, body, applied_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (plan.id, plan.seq, plan.type, plan.created_at, plan.reply_to, json.dumps(event),
             received))
        for alert in plan.alerts:  # raised with the event, never without it
            self.alerts.insert({**alert, "created_at": plan.created_at or received})
        if plan.ret is not None:
            ret = plan.ret
            self.db.execute(
                "INSERT INTO returns(id, message_id, mke, source, text, records, hit, part, "
                "parts, received_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (plan.id, plan.reply_to, ret.mke, ret.source, ret.text, json.dumps(ret.records),
                 int(ret.hit), ret.part, ret.parts, received, plan.seq))
            index_records(self.db.conn, plan.id, plan.reply_to, ret.records, received)
            if plan.reply_to:
                have = int(self.db.one("SELECT count(DISTINCT part) FROM returns WHERE "
                                       "message_id = ?", (plan.reply_to,))) if ret.parts > 1 else 1
                self.outbox.put_state(str(plan.reply_to), "answered",
                                      parts_detail(have, ret.parts))
        elif plan.ack and plan.reply_to:
            self.outbox.put_acknowledged(str(plan.reply_to))
        elif plan.status is not None and plan.reply_to:
            self.outbox.put_state(str(plan.reply_to), "status", plan.status)
        self.advance_cursor(plan.seq)
        return True

    def _received_now(self) -> str:
        """Now, to the microsecond, and always after the return stored last: newest first is
        the order things arrived in, even for a burst within one millisecond."""
        now = datetime.now(UTC)
        last = self.db.one("SELECT max(received_at) FROM returns")
        if last:
            before = from_iso(str(last))
            now = max(now, before + timedelta(microseconds=1))
        return iso_us(now)

    @sorted_errors
    def events(self, types: tuple[str, ...] | None = None,
               limit: int = 200) -> list[dict[str, Any]]:
        """Raw events as received (alerts and other types kept for later), newest first."""
        where = f"WHERE type IN ({', '.join('?' * len(types))})" if types else ""
        rows = self.db.execute(f"SELECT body FROM events {where} ORDER BY seq DESC LIMIT ?",
                               (*(types or ()), limit))
        return [json.loads(r[0]) for r in rows]

    @sorted_errors
    def event_at(self, seq: int) -> dict[str, Any] | None:
        """The event applied with inbox number ``seq``, as received, or None."""
        body = self.db.one("SELECT body FROM events WHERE seq = ? LIMIT 1", (seq,))
        return json.loads(body) if body is not None else None

    @sorted_errors
    def restore(self, *, messages: list[tuple[Any, ...]], alerts: list[tuple[Any, ...]],
                audit: list[tuple[Any, ...]], meta: list[tuple[str, str]],
                events: list[tuple[dict[str, Any], str]]) -> None:
        """Fill this new cache, in one transaction, with what was salvaged from a damaged one
        (:mod:`mdt.store.salvage`): queries, alerts (acknowledgements kept), unshipped audit
        records (re-chained here, same ids), meta, and the events (re-applied with their arrival
        times). The inbox cursor is left at 0, so the gateway sends again what it holds."""
        with self.db.transaction():
            for n, row in enumerate(messages, 1):
                values = dict(zip(MESSAGE_KEYS, row, strict=True))
                names = [*values, "seq"]
                self.db.execute(
                    f"INSERT OR IGNORE INTO messages({', '.join(names)}) "
                    f"VALUES ({', '.join('?' * len(names))})", (*values.values(), n))
            for row in alerts:
                self.alerts.restore(row)
            for key, value in meta:
                self.meta.put(str(key), str(value))
            for event, applied_at in events:
                try:
                    self.put(event, received_at=applied_at)
                except (KeyError, TypeError, ValueError):
                    continue  # an event this version cannot apply stays in the damaged copy
            for row in audit:
                self.audit.append(*row[2:4], who=row[4], source=row[5], device=row[6],
                                  detail=row[7], record_id=row[0], at=row[1])
            self.db.execute("DELETE FROM meta WHERE key = 'inbox_cursor'")
