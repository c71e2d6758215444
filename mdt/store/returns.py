"""Returns kept in the cache (responses and delayed hits, with their raw text and records),
newest first, keyset-paged; each with the query it answers, fetched in the same statement. No
Qt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mdt.store.connection import CacheConnection, sorted_errors
from mdt.store.outbox import MESSAGE_KEYS, message_from_row

__all__ = ["Returns", "StoredReturn"]


@dataclass
class StoredReturn:
    id: str
    message_id: str | None
    mke: str
    source: str
    text: str
    records: list[dict[str, Any]]
    hit: bool
    part: int
    parts: int
    received_at: str  # ISO 8601 UTC to the microsecond, when this terminal stored it
    query: dict[str, Any] | None = None  # the message it answers (get_message), if cached
    seq: int = 0  # the inbox sequence number it came with (orders returns stored together)


_RETURN_KEYS = ("id", "message_id", "mke", "source", "text", "records", "hit", "part", "parts",
                "received_at", "seq")
# A return and the message it answers (NULLs when it answers none, or one no longer cached):
# one statement, not one more per row.
_SELECT = (f"SELECT {', '.join('r.' + k for k in _RETURN_KEYS)}, "
           f"{', '.join('m.' + k for k in MESSAGE_KEYS)} "
           "FROM returns r LEFT JOIN messages m ON m.id = r.message_id")
_NEWEST = "ORDER BY r.received_at DESC, r.seq DESC, r.id DESC"


def _stored(row: Any) -> StoredReturn:
    (rid, message_id, mke, source, text, records, hit, part, parts, received_at,
     seq) = row[:len(_RETURN_KEYS)]
    message = row[len(_RETURN_KEYS):]
    query = message_from_row(message) if message_id and message[0] is not None else None
    return StoredReturn(id=rid, message_id=message_id, mke=mke or "", source=source or "",
                        text=text, records=json.loads(records), hit=bool(hit), part=part,
                        parts=parts, received_at=received_at, query=query, seq=int(seq or 0))


class Returns:
    def __init__(self, db: CacheConnection) -> None:
        self.db = db

    @sorted_errors
    def newest(self, limit: int = 50,
               before: StoredReturn | str | None = None) -> list[StoredReturn]:
        """Returns newest first. Keyset paging: pass the last one you have (or its id) as
        ``before`` for the next page; an id no longer cached gives an empty page. Served by the
        index ``returns_order`` (received_at, seq, id), read backwards."""
        if before is None:
            rows = self.db.execute(f"{_SELECT} {_NEWEST} LIMIT ?", (limit,)).fetchall()
        else:
            key = ((before.received_at, before.seq, before.id) if isinstance(before, StoredReturn)
                   else self.db.execute("SELECT received_at, seq, id FROM returns WHERE id = ?",
                                        (before,)).fetchone())
            if key is None:
                return []
            rows = self.db.execute(
                f"{_SELECT} WHERE (r.received_at, r.seq, r.id) < (?, ?, ?) {_NEWEST} LIMIT ?",
                (*key, limit)).fetchall()
        return [_stored(r) for r in rows]

    @sorted_errors
    def get(self, return_id: str) -> StoredReturn | None:
        row = self.db.execute(f"{_SELECT} WHERE r.id = ?", (return_id,)).fetchone()
        return _stored(row) if row else None
