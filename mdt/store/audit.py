"""The audit log: hash-chained records of what was done, by whom, when and where (the chain
itself: :mod:`mdt.core.audit_chain`), shipped to the gateway and then pruned by retention. No Qt.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from mdt.core.audit_chain import CHAINED_FIELDS, GENESIS, audit_hash, chain_problems
from mdt.store.connection import CacheConnection, sorted_errors
from mdt.store.meta import MetaRepository
from mdt.store.times import utc_now

__all__ = ["AuditLog", "AuditReport"]


@dataclass
class AuditReport:
    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)


class AuditLog:
    def __init__(self, db: CacheConnection, meta: MetaRepository) -> None:
        self.db = db
        self.meta = meta

    @sorted_errors
    def record(self, action: str, outcome: str, *, who: str, source: str = "client",
               device: str = "", detail: str = "") -> None:
        """One audit record: what (action), how it went (outcome), who, when (now, UTC), where
        (device) and from which source, chained to the record before it."""
        with self.db.transaction():
            self.append(action, outcome, who=who, source=source, device=device, detail=detail)

    @sorted_errors
    def record_many(self, records: list[tuple[str, str, str, str]], *, who: str,
                    device: str = "", source: str = "client") -> None:
        """Several audit records (action, outcome, detail, at) in one transaction: those held in
        memory while the cache could not be written keep the times they happened at."""
        with self.db.transaction():
            for action, outcome, detail, at in records:
                self.append(action, outcome, who=who, source=source, device=device,
                            detail=detail, at=at)

    def append(self, action: str, outcome: str, *, who: str, source: str, device: str,
               detail: str, record_id: str | None = None, at: str | None = None) -> None:
        """Inside a transaction (``db.transaction()``): one more link in the chain, and the
        chain's new head. For a change that must be audited in the same transaction."""
        prev = (self.db.one("SELECT hash FROM audit ORDER BY n DESC LIMIT 1")
                or self.db.one("SELECT value FROM meta WHERE key = 'audit_anchor'") or GENESIS)
        row = {"id": record_id or str(uuid.uuid4()), "at": at or utc_now(), "action": action,
               "outcome": outcome, "who": who, "source": source, "device": device,
               "detail": detail}
        row["prev_hash"] = prev
        row["hash"] = audit_hash(prev, row)
        names = list(row)
        self.db.execute(
            f"INSERT INTO audit({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            tuple(row[k] for k in names))
        self.meta.put("audit_head", row["hash"])

    @sorted_errors
    def unshipped(self, limit: int = 500) -> list[dict[str, Any]]:
        """Audit records not yet acknowledged by the gateway, oldest first."""
        rows = self.db.execute(
            f"SELECT {', '.join(CHAINED_FIELDS)} FROM audit WHERE shipped = 0 ORDER BY n LIMIT ?",
            (limit,))
        return [dict(zip(CHAINED_FIELDS, r, strict=True)) for r in rows]

    @sorted_errors
    def mark_shipped(self, ids: list[str]) -> None:
        """The gateway acknowledged these records: retention may now prune them."""
        with self.db.transaction():
            self.db.conn.executemany("UPDATE audit SET shipped = 1 WHERE id = ?",
                                     [(i,) for i in ids])

    @sorted_errors
    def verify(self) -> AuditReport:
        """Walk the chain: name every record that was edited, removed, inserted or moved."""
        columns = ("n", *CHAINED_FIELDS, "prev_hash", "hash")
        rows = [dict(zip(columns, values, strict=True)) for values in self.db.execute(
            f"SELECT {', '.join(columns)} FROM audit ORDER BY n")]
        problems = chain_problems(rows, anchor=self.meta.get("audit_anchor"),
                                  anchor_n=int(self.meta.get("audit_anchor_n") or 0),
                                  head=self.meta.get("audit_head"))
        return AuditReport(ok=not problems, checked=len(rows), problems=problems)
