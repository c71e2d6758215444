"""Quarantined inbox events: what the switch sent that this terminal could not apply. No Qt.

An event that fails the protocol's models (:mod:`mdt.net.events`), or that breaks the inbox's
order (a ``seq`` jump, a repeat with other content), is not applied and not dropped either: its
raw body is kept here, inside the encrypted cache only (never in a log), with the reason, and the
operator sees it as "an unreadable message from the switch", the raw text one key away. Keeping
it, moving the cursor past it (when its ``seq`` is the next one) and the audit record are one
transaction, like applying an event.

:class:`Quarantine` is the repository (``cache.repos.quarantine``); the module's functions take an
open :class:`mdt.store.cache.Cache` (on its writer thread) and call it. The table is made by the
schema step to version 4 (:mod:`mdt.store.schema`).
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol

from mdt.core.traffic import QUARANTINE_KINDS, quarantine_title
from mdt.store.audit import AuditLog
from mdt.store.connection import CacheConnection, sorted_errors
from mdt.store.schema import SCHEMA_V4
from mdt.store.times import iso_us, utc_now

if TYPE_CHECKING:
    from mdt.store.inbox import Inbox

__all__ = ["SCHEMA_V4", "Quarantine", "QuarantinedEvent", "acknowledge", "count_open", "erase",
           "get", "keep", "list_quarantined"]

MAX_RAW = 2_000_000  # characters kept of one raw body (the client refuses bigger events anyway)
OPERATOR_WORDS = QUARANTINE_KINDS["unreadable"]
KINDS = tuple(QUARANTINE_KINDS)


@dataclass(frozen=True)
class QuarantinedEvent:
    id: str
    received_at: str
    kind: str  # "unreadable" (failed the models) or "protocol" (seq out of order)
    reason: str
    seq: int | None
    event_id: str | None
    event_type: str | None
    acknowledged_at: str | None
    acknowledged_by: str | None
    raw: str = ""

    @property
    def title(self) -> str:
        return quarantine_title(self.kind, self.seq, self.reason)

    def to_dict(self, with_raw: bool = False) -> dict[str, Any]:
        out = {"id": self.id, "received_at": self.received_at, "kind": self.kind,
               "reason": self.reason, "seq": self.seq, "event_id": self.event_id,
               "event_type": self.event_type, "acknowledged_at": self.acknowledged_at,
               "acknowledged_by": self.acknowledged_by, "title": self.title}
        if with_raw:
            out["raw"] = self.raw
        return out


_COLUMNS = ("id, received_at, kind, reason, seq, event_id, event_type, acknowledged_at, "
            "acknowledged_by")


def _row(row: Any, raw: str = "") -> QuarantinedEvent:
    names = [n.strip() for n in _COLUMNS.split(",")]
    return QuarantinedEvent(**dict(zip(names, row, strict=True)), raw=raw)


class Quarantine:
    """The quarantine table; keeping an event moves the inbox cursor and audits it in the same
    transaction."""

    def __init__(self, db: CacheConnection, audit: AuditLog, inbox: Inbox) -> None:
        self.db = db
        self.audit = audit
        self.inbox = inbox

    @sorted_errors
    def keep(self, raw: str, reason: str, *, kind: str = "unreadable", seq: int | None = None,
             event_id: str | None = None, event_type: str | None = None,
             advance_to: int | None = None, who: str = "sync", device: str = "") -> bool:
        """Keep one event the client did not apply; move the cursor to ``advance_to`` (if given)
        and audit it, all in one transaction. The same raw body twice is kept once (returns
        False)."""
        if kind not in KINDS:
            raise ValueError(f"quarantine kind {kind!r}")
        raw = raw[:MAX_RAW]
        digest = hashlib.sha256(f"{kind}\n{reason if kind == 'protocol' else ''}\n{raw}".encode(
            "utf-8", "backslashreplace")).hexdigest()
        stored_raw = raw.encode("utf-8", "backslashreplace").decode("utf-8")
        with self.db.transaction():
            if self.db.one("SELECT 1 FROM quarantine WHERE digest = ?", (digest,)):
                if advance_to is not None:
                    self.inbox.advance_cursor(advance_to)
                return False
            self.db.execute(
                "INSERT INTO quarantine(id, received_at, kind, reason, raw, digest, seq, "
                "event_id, event_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (str(uuid.uuid4()), iso_us(datetime.now(UTC)), kind, reason, stored_raw, digest,
                 seq, event_id, event_type))
            # The audit names the event, never its contents.
            self.audit.append(
                "inbox-quarantine", kind, who=who, source="client", device=device,
                detail=f"event seq {seq if seq is not None else '?'} type {event_type or '?'}: "
                       f"{reason}"[:2000])
            if advance_to is not None:
                self.inbox.advance_cursor(advance_to)
        return True

    @sorted_errors
    def newest(self, *, open_only: bool = True, limit: int = 100) -> list[QuarantinedEvent]:
        """Quarantined events, newest first (without their raw bodies)."""
        where = "WHERE acknowledged_at IS NULL" if open_only else ""
        rows = self.db.execute(
            f"SELECT {_COLUMNS} FROM quarantine {where} ORDER BY received_at DESC, rowid DESC "
            "LIMIT ?", (limit,)).fetchall()
        return [_row(r) for r in rows]

    @sorted_errors
    def get(self, quarantine_id: str) -> QuarantinedEvent | None:
        """One quarantined event with its raw body (an id prefix of 6 or more characters will
        do)."""
        rows = self.db.execute(
            f"SELECT {_COLUMNS}, raw FROM quarantine WHERE id = ? OR (length(?) >= 6 AND id LIKE "
            "?) LIMIT 2", (quarantine_id, quarantine_id, quarantine_id + "%")).fetchall()
        if len(rows) != 1:
            return None
        *columns, raw = rows[0]
        return _row(columns, raw)

    @sorted_errors
    def count_open(self) -> int:
        return int(self.db.one("SELECT count(*) FROM quarantine WHERE acknowledged_at IS NULL"))

    @sorted_errors
    def has_seq(self, seq: int) -> bool:
        """Was an event with inbox number ``seq`` kept aside?"""
        return self.db.one("SELECT 1 FROM quarantine WHERE seq = ? LIMIT 1", (seq,)) is not None

    @sorted_errors
    def acknowledge(self, quarantine_id: str, who: str, device: str = "") -> bool:
        """The operator has seen it (audited); it stays kept, only leaves the open list."""
        found = self.get(quarantine_id)
        if found is None or found.acknowledged_at:
            return False
        with self.db.transaction():
            self.db.execute(
                "UPDATE quarantine SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?",
                (utc_now(), who, found.id))
            self.audit.append("inbox-quarantine-ack", "success", who=who, source="client",
                              device=device, detail=f"quarantined event {found.id}")
        return True

    @sorted_errors
    def erase(self, older_than_hours: float | None = None, now: datetime | None = None) -> int:
        """Retention for what was kept aside, like the cached returns: quarantined events older
        than ``older_than_hours`` before ``now`` (the gateway's clock, as retention's; all of
        them with None) are deleted (secure_delete zeroes the pages). Returns how many went."""
        cutoff = "9999" if older_than_hours is None else iso_us(
            (now or datetime.now(UTC)) - timedelta(hours=older_than_hours))
        with self.db.transaction():
            cur = self.db.execute("DELETE FROM quarantine WHERE received_at < ?", (cutoff,))
        return int(cur.rowcount or 0)


# -- the module's functions, on an open Cache (kept for their callers) ----------------------------
class _Repositories(Protocol):
    @property
    def quarantine(self) -> Quarantine: ...


class Cache(Protocol):
    """What these functions need of :class:`mdt.store.cache.Cache` (its repositories): no import
    of the cache module, which imports this one."""

    @property
    def repos(self) -> _Repositories: ...


def keep(cache: Cache, raw: str, reason: str, *, kind: str = "unreadable",
         seq: int | None = None, event_id: str | None = None, event_type: str | None = None,
         advance_to: int | None = None, who: str = "sync", device: str = "") -> bool:
    """:meth:`Quarantine.keep`."""
    return cache.repos.quarantine.keep(raw, reason, kind=kind, seq=seq, event_id=event_id,
                                       event_type=event_type, advance_to=advance_to, who=who,
                                       device=device)


def list_quarantined(cache: Cache, *, open_only: bool = True,
                     limit: int = 100) -> list[QuarantinedEvent]:
    """:meth:`Quarantine.newest`."""
    return cache.repos.quarantine.newest(open_only=open_only, limit=limit)


def get(cache: Cache, quarantine_id: str) -> QuarantinedEvent | None:
    """:meth:`Quarantine.get`."""
    return cache.repos.quarantine.get(quarantine_id)


def count_open(cache: Cache) -> int:
    return cache.repos.quarantine.count_open()


def acknowledge(cache: Cache, quarantine_id: str, who: str, device: str = "") -> bool:
    """:meth:`Quarantine.acknowledge`."""
    return cache.repos.quarantine.acknowledge(quarantine_id, who, device)


def erase(cache: Cache, older_than_hours: float | None = None,
          now: datetime | None = None) -> int:
    """:meth:`Quarantine.erase`."""
    return cache.repos.quarantine.erase(older_than_hours, now)
