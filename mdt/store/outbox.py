"""The messages this terminal sent or queued, with their state (the outbox is those still
``queued``). What the states are: :mod:`mdt.core.traffic`. No Qt."""

from __future__ import annotations

import json
from typing import Any

from mdt.core.traffic import ACCEPT_DOES_NOT_OVERRIDE, ACK_DOES_NOT_OVERRIDE, MESSAGE_STATES
from mdt.store.connection import CacheConnection, sorted_errors
from mdt.store.times import utc_now

__all__ = ["MESSAGE_COLUMNS", "MESSAGE_KEYS", "Outbox", "message_from_row"]

MESSAGE_KEYS = ("id", "mke", "dest", "fields", "text", "purpose", "created_at", "state",
                "state_detail", "state_at", "sent_at", "accepted_at")
MESSAGE_COLUMNS = ", ".join(MESSAGE_KEYS)


def message_from_row(row: Any) -> dict[str, Any]:
    """A ``messages`` row (:data:`MESSAGE_KEYS`, in that order) as the message dict."""
    message = dict(zip(MESSAGE_KEYS, row, strict=True))
    message["dest"] = json.loads(message["dest"])
    message["fields"] = json.loads(message["fields"])
    return message


class Outbox:
    def __init__(self, db: CacheConnection) -> None:
        self.db = db

    @sorted_errors
    def add(self, message: dict[str, Any]) -> None:
        """Queue a protocol message (state ``queued``); the same id again changes nothing."""
        with self.db.transaction():
            self.put(message)

    def put(self, message: dict[str, Any]) -> None:
        """Inside a transaction: :meth:`add`."""
        seq = int(self.db.one("SELECT coalesce(max(seq), 0) + 1 FROM messages"))
        self.db.execute(
            "INSERT OR IGNORE INTO messages(id, mke, dest, fields, text, purpose, created_at, "
            "seq, state, state_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
            (str(message["id"]), str(message["mke"]), json.dumps(message.get("dest") or []),
             json.dumps(message.get("fields") or {}), str(message.get("text") or ""),
             message.get("purpose"), str(message.get("created_at") or utc_now()), seq,
             utc_now()))

    @sorted_errors
    def queued(self) -> list[dict[str, Any]]:
        """Messages still queued, oldest first."""
        rows = self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE state = 'queued' ORDER BY seq")
        return [message_from_row(r) for r in rows]

    @sorted_errors
    def set_state(self, message_id: str, state: str, detail: str | None = None,
                  at: str | None = None) -> None:
        """Move a message to ``state`` (one of :data:`MESSAGE_STATES`); ``at`` is when (now by
        default). ``sending`` / ``accepted`` also set ``sent_at``; ``accepted`` sets
        ``accepted_at``."""
        if state not in MESSAGE_STATES:
            raise ValueError(f"unknown message state {state!r}")
        with self.db.transaction():
            self.put_state(message_id, state, detail, at)

    def put_state(self, message_id: str, state: str, detail: str | None,
                  at: str | None = None) -> None:
        """Inside a transaction: :meth:`set_state`."""
        when = at or utc_now()
        kept = ", ".join(f"'{s}'" for s in ACCEPT_DOES_NOT_OVERRIDE)
        further = f"(? = 'accepted' AND state IN ({kept}))"  # answered before the 202 came
        self.db.execute(
            f"UPDATE messages SET state = CASE WHEN {further} THEN state ELSE ? END, "
            f"state_detail = CASE WHEN {further} THEN state_detail ELSE ? END, "
            f"state_at = CASE WHEN {further} THEN state_at ELSE ? END, "
            "sent_at = CASE WHEN ? IN ('sending', 'accepted') THEN coalesce(sent_at, ?) "
            "ELSE sent_at END, "
            "accepted_at = CASE WHEN ? = 'accepted' THEN ? ELSE accepted_at END WHERE id = ?",
            (state, state, state, detail, state, when, state, when, state, when, message_id))

    def put_acknowledged(self, message_id: str) -> None:
        """Inside a transaction: the switch acknowledged the message (unless it got further)."""
        kept = ", ".join(f"'{s}'" for s in ACK_DOES_NOT_OVERRIDE)
        self.db.execute(
            "UPDATE messages SET state = 'acknowledged', state_at = ? "
            f"WHERE id = ? AND state NOT IN ({kept})", (utc_now(), message_id))

    @sorted_errors
    def cancel(self, message_id: str) -> bool:
        """Cancel a message that is still queued; False once it has gone (or is unknown)."""
        with self.db.transaction():
            cur = self.db.execute(
                "UPDATE messages SET state = 'cancelled', state_detail = NULL, state_at = ? "
                "WHERE id = ? AND state = 'queued'", (utc_now(), message_id))
            return bool(cur.rowcount)

    @sorted_errors
    def get(self, message_id: str) -> dict[str, Any] | None:
        row = self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        return message_from_row(row) if row else None

    @sorted_errors
    def newest(self, limit: int = 100) -> list[dict[str, Any]]:
        """Messages sent or queued, newest first."""
        rows = self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ?", (limit,))
        return [message_from_row(r) for r in rows]

    @sorted_errors
    def confirmation_traffic(self, limit: int = 2000
                             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """What hit confirmation needs, both directions: my YQ and YR messages (oldest first)
        and the events about them (the switch's acks of my YQs, YRs to me, YQs to my agency)."""
        messages = [message_from_row(r) for r in self.db.execute(
            f"SELECT {MESSAGE_COLUMNS} FROM messages WHERE mke IN ('YQ', 'YR') ORDER BY seq "
            "LIMIT ?", (limit,))]
        rows = self.db.execute(
            "SELECT body FROM events WHERE type IN ('hit_confirmation_request', "
            "'hit_confirmation_response') OR (type = 'ack' AND in_reply_to IN "
            "(SELECT id FROM messages WHERE mke = 'YQ')) ORDER BY seq LIMIT ?", (limit,))
        return messages, [json.loads(r[0]) for r in rows]
