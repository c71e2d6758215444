"""What can still be read from a damaged cache, kept in the new one. No Qt.

A cache found damaged by SQLite's or SQLCipher's own checks is moved aside (encrypted, with its
-wal; :func:`mdt.store.cache.move_aside`) and a fresh cache is made with the same key. Before the
officer works in it, :func:`salvage_into` copies over what matters and cannot be fetched again:

- every query it holds (the outbox first: queued queries go out; sent ones keep their state),
- the audit records not yet shipped to the gateway (re-chained in the new log, same ids),
- every alert with its acknowledgement and deadline (open ones stay open),
- the inbox events it can read (returns, hits and confirmations are rebuilt from them), and the
  settings kept in the cache (the gateway clock's offset, cached forms).

The inbox cursor starts again from 0: the gateway sends again whatever it still holds, and what
was salvaged is not applied twice (events are known by id). Rows on damaged pages are skipped
(the scan jumps over the damaged rowid range) and counted as lost. The damaged copy stays aside,
encrypted, until retention or a wipe removes it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlcipher3

from mdt.store.cache import RESERVED_META, Cache
from mdt.store.connection import connect as _connect
from mdt.store.errors import CacheError
from mdt.store.outbox import MESSAGE_KEYS


@dataclass
class SalvageReport:
    moved_to: Path
    kept: dict[tuple[str, str], int] = field(default_factory=dict)  # (one, many) -> how many
    unreadable: list[str] = field(default_factory=list)  # what could not be read (whole or part)
    opened: bool = True  # False: not even the damaged file's schema could be read

    def sentence(self) -> str:
        """What the officer is told, in one paragraph."""
        head = (f"This terminal's cache was damaged. It was set aside (still encrypted) as "
                f"{self.moved_to.name} and a new cache was made.")
        again = "Returns the gateway still holds will come again."
        if not self.opened:
            return (f"{head} Nothing could be read from the damaged file: queries queued on this "
                    f"terminal and not yet sent are lost. {again}")
        kept = [_count(n, *words) for words, n in self.kept.items() if n]
        said = f" Kept from it: {', '.join(kept)}." if kept else " Nothing in it needed keeping."
        lost = (f" Could not be read: {', '.join(self.unreadable)}." if self.unreadable
                else " Everything in it could be read.")
        return f"{head}{said}{lost} {again}"


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _rows(conn: Any, table: str, columns: str, where: str = "1") -> tuple[list[tuple[Any, ...]], bool]:
    """The rows of ``table`` that can be read, in rowid order, and whether some could not."""
    rows: list[tuple[Any, ...]] = []
    damaged = False
    after, skip = -(2**63), 1
    try:
        top = conn.execute(f"SELECT max(rowid) FROM {table}").fetchone()[0]
    except sqlcipher3.DatabaseError:
        top, damaged = None, True
    except OverflowError:  # pragma: no cover - a rowid SQLite itself cannot hold
        top = None
    for _ in range(200):  # each round reads on until a damaged page, then jumps past it
        try:
            for row in conn.execute(f"SELECT rowid, {columns} FROM {table} WHERE rowid > ? AND "
                                    f"({where}) ORDER BY rowid", (after,)):
                after, skip = int(row[0]), 1
                rows.append(tuple(row[1:]))
            return rows, damaged
        except sqlcipher3.DatabaseError:
            damaged = True
            if top is not None and after >= top:
                break
            after = max(after, 0) + skip
            skip *= 4
            if (top is not None and after > top) or after >= 2**62:
                break
    return rows, damaged


def _events(conn: Any) -> Iterator[tuple[dict[str, Any], str]]:
    rows, _ = _rows(conn, "events", "body, applied_at")
    for body, applied_at in sorted(rows, key=lambda r: _seq(r[0])):
        try:
            event = json.loads(body)
        except (TypeError, ValueError):
            continue
        if isinstance(event, dict):
            yield event, str(applied_at)


def _seq(body: Any) -> int:
    try:
        return int(json.loads(body).get("seq") or 0)
    except (TypeError, ValueError, AttributeError):
        return 0


def salvage_into(target: Cache, damaged: Path, key: bytes) -> SalvageReport:
    """Copy what can be read from the damaged cache at ``damaged`` into the new, empty
    ``target`` (same key). Never raises for the damaged file's sake."""
    report = SalvageReport(moved_to=damaged)
    try:
        conn = _connect(damaged, key, new=False, read_only=True)
    except CacheError:
        report.opened = False
        return report
    try:
        _salvage(conn, target, report)
    except sqlcipher3.DatabaseError:
        report.opened = bool(report.kept)
        if not report.unreadable:
            report.unreadable.append("the rest of the file")
    finally:
        conn.close()
    return report


def _salvage(conn: Any, target: Cache, report: SalvageReport) -> None:
    columns = ", ".join(MESSAGE_KEYS)
    messages, lost = _rows(conn, "messages", columns)
    if lost:
        report.unreadable.append("some queries")
    alerts_columns = ("id, kind, severity, title, body, event_id, message_id, deadline, "
                      "created_at, acked_by, acked_at, ack_note")
    alerts, lost_alerts = _rows(conn, "alerts", alerts_columns)
    if lost_alerts:
        report.unreadable.append("some alerts")
    audit, lost_audit = _rows(conn, "audit", "id, at, action, outcome, who, source, device, "
                              "detail", "shipped = 0")
    if lost_audit:
        report.unreadable.append("some audit records not yet sent to the gateway")
    meta, _ = _rows(conn, "meta", "key, value")
    events = list(_events(conn))
    _, lost_events = _rows(conn, "events", "id")
    if lost_events:
        report.unreadable.append("some returns and messages from the switch")

    queued = sum(1 for m in messages if m[MESSAGE_KEYS.index("state")] == "queued")
    open_alerts = sum(1 for a in alerts if a[10] is None)
    target.restore(messages=messages, alerts=alerts, audit=audit,
                   meta=[(k, v) for k, v in meta if k not in RESERVED_META], events=events)
    report.kept = {("queued query (it will be sent)", "queued queries (they will be sent)"): queued,
                   ("query already sent", "queries already sent"): len(messages) - queued,
                   ("open alert with its deadline", "open alerts with their deadlines"):
                       open_alerts,
                   ("acknowledged alert", "acknowledged alerts"): len(alerts) - open_alerts,
                   ("audit record not yet sent to the gateway",
                    "audit records not yet sent to the gateway"): len(audit),
                   ("message from the switch", "messages from the switch"): len(events)}
