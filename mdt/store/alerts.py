"""Alerts kept in the cache: raised with the event they belong to (:mod:`mdt.store.inbox`, by
the rules of :mod:`mdt.core.alerts`) or added on their own, acknowledged by a person with the
acknowledgement in the audit log in the same transaction. No Qt."""

from __future__ import annotations

import json
from typing import Any

from mdt.store.audit import AuditLog
from mdt.store.connection import CacheConnection, sorted_errors
from mdt.store.times import utc_now

__all__ = ["ALERT_COLUMNS", "Alerts"]

ALERT_COLUMNS = ("id", "kind", "severity", "title", "body", "event_id", "message_id", "deadline",
                 "created_at", "acked_by", "acked_at", "ack_note")


class Alerts:
    def __init__(self, db: CacheConnection, audit: AuditLog) -> None:
        self.db = db
        self.audit = audit

    @sorted_errors
    def add(self, alert: dict[str, Any]) -> bool:
        """Keep an alert (hit, detainer, hit confirmation ...); the same id twice is one alert."""
        with self.db.transaction():
            return self.insert(alert)

    def insert(self, alert: dict[str, Any]) -> bool:
        """Inside a transaction: :meth:`add`."""
        cur = self.db.execute(
            "INSERT OR IGNORE INTO alerts(id, kind, severity, title, body, event_id, "
            "message_id, deadline, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (str(alert["id"]), str(alert["kind"]), str(alert["severity"]),
             str(alert["title"]), json.dumps(alert.get("body") or {}), alert.get("event_id"),
             alert.get("message_id"), alert.get("deadline"),
             str(alert.get("created_at") or utc_now())))
        return bool(cur.rowcount)

    def restore(self, row: tuple[Any, ...]) -> None:
        """Inside a transaction: an alert as salvaged, every column (:data:`ALERT_COLUMNS`)."""
        self.db.execute(
            f"INSERT OR IGNORE INTO alerts({', '.join(ALERT_COLUMNS)}) "
            f"VALUES ({', '.join('?' * len(ALERT_COLUMNS))})", row)

    @sorted_errors
    def ack(self, alert_id: str, who: str, note: str = "", device: str = "") -> bool:
        """Record who acknowledged an alert and when, in the alert and in the audit log, at once."""
        with self.db.transaction():
            cur = self.db.execute(
                "UPDATE alerts SET acked_by = ?, acked_at = ?, ack_note = ? "
                "WHERE id = ? AND acked_at IS NULL", (who, utc_now(), note, alert_id))
            if cur.rowcount:
                kind, event_id = self.db.execute(
                    "SELECT kind, event_id FROM alerts WHERE id = ?", (alert_id,)).fetchone()
                # The kind and the event let a trainer's debrief tie the acknowledgement to
                # what the switch sent, without any record data in the detail.
                detail = f"alert {alert_id} kind {kind} event {event_id or '-'}"
                self.audit.append("alert-ack", "success", who=who, source="client",
                                  device=device, detail=f"{detail} {note}".strip())
            return bool(cur.rowcount)

    @sorted_errors
    def get(self, alert_id: str) -> dict[str, Any] | None:
        found = self._select("WHERE id = ?", (alert_id,), 1)
        return found[0] if found else None

    @sorted_errors
    def in_order(self, *, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        """Open alerts first (soonest deadline first), then the acknowledged ones."""
        return self._select("WHERE acked_at IS NULL" if open_only else "", (), limit)

    def _select(self, where: str, params: tuple[Any, ...], limit: int) -> list[dict[str, Any]]:
        rows = self.db.execute(
            f"SELECT {', '.join(ALERT_COLUMNS)} FROM alerts {where} "
            "ORDER BY acked_at IS NOT NULL, acked_at DESC, coalesce(deadline, created_at), "
            "created_at LIMIT ?", (*params, limit))
        alerts = []
        for row in rows:
            alert = dict(zip(ALERT_COLUMNS, row, strict=True))
            alert["body"] = json.loads(alert["body"])
            alerts.append(alert)
        return alerts
