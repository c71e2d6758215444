"""Quarantined inbox events: what the switch sent that this terminal could not apply. No Qt.

An event that fails the protocol's models (:mod:`mdt.net.events`), or that breaks the inbox's
order (a ``seq`` jump, a repeat with other content), is not applied and not dropped either: its
raw body is kept here, inside the encrypted cache only (never in a log), with the reason, and the
operator sees it as "an unreadable message from the switch", the raw text one key away. Keeping
it, moving the cursor past it (when its ``seq`` is the next one) and the audit record are one
transaction, like applying an event.

The functions take an open :class:`mdt.store.cache.Cache` (on its writer thread); the table is
made by the cache's schema step to version 4.
"""

from __future__ import annotations

import functools
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Concatenate, ParamSpec, TypeVar

import sqlcipher3

if TYPE_CHECKING:
    from mdt.store.cache import Cache

__all__ = ["SCHEMA_V4", "QuarantinedEvent", "acknowledge", "count_open", "erase", "get", "keep",
           "list_quarantined"]

SCHEMA_V4 = """
CREATE TABLE quarantine (
    id TEXT PRIMARY KEY, received_at TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL,
    raw TEXT NOT NULL, digest TEXT NOT NULL UNIQUE, seq INTEGER, event_id TEXT, event_type TEXT,
    acknowledged_at TEXT, acknowledged_by TEXT);
CREATE INDEX quarantine_open ON quarantine(acknowledged_at, received_at)
"""

MAX_RAW = 2_000_000  # characters kept of one raw body (the client refuses bigger events anyway)
OPERATOR_WORDS = "an unreadable message from the switch"
KINDS = ("unreadable", "protocol")


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
        what = OPERATOR_WORDS if self.kind == "unreadable" else \
            "a message from the switch out of order"
        where = f" (inbox #{self.seq})" if self.seq is not None else ""
        return f"{what[0].upper()}{what[1:]}{where}: {self.reason}"

    def to_dict(self, with_raw: bool = False) -> dict[str, Any]:
        out = {"id": self.id, "received_at": self.received_at, "kind": self.kind,
               "reason": self.reason, "seq": self.seq, "event_id": self.event_id,
               "event_type": self.event_type, "acknowledged_at": self.acknowledged_at,
               "acknowledged_by": self.acknowledged_by, "title": self.title}
        if with_raw:
            out["raw"] = self.raw
        return out


P = ParamSpec("P")
R = TypeVar("R")


def _sorted(fn: Callable[Concatenate[Cache, P], R]) -> Callable[Concatenate[Cache, P], R]:
    """SQLCipher failures come out as the cache's sorted errors (a full disk, a damaged file)."""

    @functools.wraps(fn)
    def wrapper(cache: Cache, *args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(cache, *args, **kwargs)
        except sqlcipher3.Error as exc:
            raise cache._fail(exc) from exc

    return wrapper


_COLUMNS = ("id, received_at, kind, reason, seq, event_id, event_type, acknowledged_at, "
            "acknowledged_by")


def _row(row: Any, raw: str = "") -> QuarantinedEvent:
    names = [n.strip() for n in _COLUMNS.split(",")]
    return QuarantinedEvent(**dict(zip(names, row, strict=True)), raw=raw)


@_sorted
def keep(cache: Cache, raw: str, reason: str, *, kind: str = "unreadable",
         seq: int | None = None, event_id: str | None = None, event_type: str | None = None,
         advance_to: int | None = None, who: str = "sync", device: str = "") -> bool:
    """Keep one event the client did not apply; move the cursor to ``advance_to`` (if given) and
    audit it, all in one transaction. The same raw body twice is kept once (returns False)."""
    from datetime import UTC, datetime

    from mdt.store.cache import _iso_us

    if kind not in KINDS:
        raise ValueError(f"quarantine kind {kind!r}")
    raw = raw[:MAX_RAW]
    digest = hashlib.sha256(f"{kind}\n{reason if kind == 'protocol' else ''}\n{raw}".encode(
        "utf-8", "backslashreplace")).hexdigest()
    stored_raw = raw.encode("utf-8", "backslashreplace").decode("utf-8")
    with cache._tx():
        conn = cache._conn
        if conn.execute("SELECT 1 FROM quarantine WHERE digest = ?", (digest,)).fetchone():
            if advance_to is not None:
                cache._advance_cursor(advance_to)
            return False
        conn.execute(
            "INSERT INTO quarantine(id, received_at, kind, reason, raw, digest, seq, event_id, "
            "event_type) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (str(uuid.uuid4()), _iso_us(datetime.now(UTC)), kind, reason, stored_raw, digest, seq,
             event_id, event_type))
        # The audit names the event, never its contents.
        cache._append_audit(
            "inbox-quarantine", kind, who=who, source="client", device=device,
            detail=f"event seq {seq if seq is not None else '?'} type {event_type or '?'}: "
                   f"{reason}"[:2000])
        if advance_to is not None:
            cache._advance_cursor(advance_to)
    return True


@_sorted
def list_quarantined(cache: Cache, *, open_only: bool = True,
                     limit: int = 100) -> list[QuarantinedEvent]:
    """Quarantined events, newest first (without their raw bodies)."""
    where = "WHERE acknowledged_at IS NULL" if open_only else ""
    rows = cache._conn.execute(
        f"SELECT {_COLUMNS} FROM quarantine {where} ORDER BY received_at DESC, rowid DESC "
        "LIMIT ?", (limit,)).fetchall()
    return [_row(r) for r in rows]


@_sorted
def get(cache: Cache, quarantine_id: str) -> QuarantinedEvent | None:
    """One quarantined event with its raw body (an id prefix of 6 or more characters will do)."""
    rows = cache._conn.execute(
        f"SELECT {_COLUMNS}, raw FROM quarantine WHERE id = ? OR (length(?) >= 6 AND id LIKE ?)"
        " LIMIT 2", (quarantine_id, quarantine_id, quarantine_id + "%")).fetchall()
    if len(rows) != 1:
        return None
    *columns, raw = rows[0]
    return _row(columns, raw)


@_sorted
def count_open(cache: Cache) -> int:
    return int(cache._conn.execute(
        "SELECT count(*) FROM quarantine WHERE acknowledged_at IS NULL").fetchone()[0])


@_sorted
def acknowledge(cache: Cache, quarantine_id: str, who: str, device: str = "") -> bool:
    """The operator has seen it (audited); it stays kept, only leaves the open list."""
    from mdt.store.cache import utc_now

    found = get(cache, quarantine_id)
    if found is None or found.acknowledged_at:
        return False
    with cache._tx():
        cache._conn.execute(
            "UPDATE quarantine SET acknowledged_at = ?, acknowledged_by = ? WHERE id = ?",
            (utc_now(), who, found.id))
        cache._append_audit("inbox-quarantine-ack", "success", who=who, source="client",
                            device=device, detail=f"quarantined event {found.id}")
    return True


@_sorted
def erase(cache: Cache, older_than_hours: float | None = None,
          now: datetime | None = None) -> int:
    """Retention for what was kept aside, like the cached returns: quarantined events older than
    ``older_than_hours`` before ``now`` (the gateway's clock, as retention's; all of them with
    None) are deleted (secure_delete zeroes the pages). Returns how many went."""
    from datetime import UTC, timedelta

    from mdt.store.cache import _iso_us

    cutoff = "9999" if older_than_hours is None else _iso_us(
        (now or datetime.now(UTC)) - timedelta(hours=older_than_hours))
    with cache._tx():
        cur = cache._conn.execute("DELETE FROM quarantine WHERE received_at < ?", (cutoff,))
    return int(cur.rowcount or 0)
