"""Retention: erasing what is older than the agency allows (really: secure_delete, FTS5
secure-delete, freed pages given back), on logout, and the checks of the whole file. No Qt.

Giving freed pages back runs in small steps (:meth:`Retention.reclaim_step`: a few hundred pages
of ``PRAGMA incremental_vacuum`` each, then a WAL checkpoint), and only after an erase that
deleted something. On the writer thread (:class:`~mdt.store.writer_thread.CacheWriter` sets
:attr:`Retention.schedule`) each step is a job of its own, so the officer's writes go between
them and nothing on that thread ever sleeps; a cache used on its own reclaims before returning.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import sqlcipher3

from mdt.store.audit import AuditLog
from mdt.store.connection import CacheConnection, sorted_errors
from mdt.store.errors import CacheError
from mdt.store.files import damage_marker
from mdt.store.meta import MetaRepository
from mdt.store.times import iso_us

__all__ = ["CheckReport", "ReclaimStep", "Retention"]

# What one reclaim step asks for next: None, done; 0.0, another step (after what is queued);
# a positive number, another try after that many seconds (a reader holds the WAL for a moment).
ReclaimStep = float | None


@dataclass
class CheckReport:
    ok: bool
    problems: list[str] = field(default_factory=list)
    tables: dict[str, int] = field(default_factory=dict)  # rows per table (no record data)


class Retention:
    RECLAIM_PAGES = 256  # pages given back per step (1 MiB of 4 KiB pages)
    CHECKPOINT_TRIES = 20  # a busy WAL: tries, RECLAIM_RETRY_S apart
    RECLAIM_RETRY_S = 0.05

    def __init__(self, db: CacheConnection, meta: MetaRepository, audit: AuditLog) -> None:
        self.db = db
        self.meta = meta
        self.audit = audit
        # Set by the thread that owns this connection: runs a reclaim step as a job of its own
        # (the step's return value says what comes next). None: reclaim before returning.
        self.schedule: Callable[[Callable[[], ReclaimStep]], None] | None = None
        self._busy_tries = 0
        self._free_before = -1  # the free pages before the last step

    @sorted_errors
    def expire(self, max_age_hours: float = 12.0, now: datetime | None = None,
               bulk_rows: int | None = None) -> int:
        """Delete cached returns, events, alerts and finished queries older than
        ``max_age_hours`` (one shift by default) before ``now`` (the gateway's time: the caller
        passes it), and audit records the gateway already holds. Kept whatever their age: queries
        still waiting to go out, every alert not yet acknowledged or whose deadline has not
        passed, and the return, event and query each such alert belongs to (a detainer's 48-hour
        window outlives a 12-hour retention). Really deletes: secure_delete zeroes the pages, FTS5
        secure-delete drops the words, and freed pages go back to the file system. Returns how
        many returns went."""
        moment = now or datetime.now(UTC)
        self.read_roots()
        return self.erase(iso_us(moment - timedelta(hours=max_age_hours)),
                          keep_running=iso_us(moment), bulk_rows=bulk_rows)

    @sorted_errors
    def read_roots(self) -> None:
        """Read the first pages (the root, then down to the first leaf) of every table and
        index: damage there (the pages a table or index hangs from, whose loss is the loss of all
        it holds) raises CorruptCacheError now. The erase reads by index only what is old, so
        this is what makes retention at sign-in find such damage, without reading (and holding
        in the page cache) every page of a full cache; ``check`` reads them all."""
        for kind, name, table in self.db.conn.execute(
                "SELECT type, name, tbl_name FROM sqlite_schema WHERE rootpage > 0").fetchall():
            how = "NOT INDEXED" if kind == "table" else f'INDEXED BY "{name}"'
            self.db.conn.execute(f'SELECT 1 FROM "{table}" {how} LIMIT 1').fetchall()

    @sorted_errors
    def erase_cached(self, bulk_rows: int | None = None) -> int:
        """Erase on logout (an agency setting): every return, event, alert and finished query;
        shipped audit records. Returns how many returns went."""
        return self.erase("9999", bulk_rows=bulk_rows)

    BULK_ERASE_ROWS = 1000  # above this many records, erase in bulk (see erase)

    # What retention keeps however old: alerts still running, and what they belong to.
    _RUNNING_ALERT = ("(acked_at IS NULL OR coalesce(julianday(deadline) > julianday(:now), 0))")
    _KEPT_RETURN = (f"(id IN (SELECT event_id FROM alerts WHERE event_id IS NOT NULL AND "
                    f"{_RUNNING_ALERT}) OR coalesce(message_id IN (SELECT message_id FROM alerts "
                    f"WHERE message_id IS NOT NULL AND {_RUNNING_ALERT}), 0))")
    # The same, said of a return's indexed records (record_index has its return's message_id):
    # read from the alerts alone, not by scanning every return (a full cache's pages would all
    # be read, and held in the page cache, at each sign-in and every 10 minutes).
    _KEPT_RECORD = _KEPT_RETURN.replace("(id IN", "(return_id IN", 1)

    @sorted_errors
    def erase(self, cutoff: str, keep_running: str | None = None,
              bulk_rows: int | None = None) -> int:
        """Erase what is older than ``cutoff``; with ``keep_running`` (now, ISO UTC) the alerts
        still running at that time and what they belong to stay."""
        params = {"cutoff": cutoff, "now": keep_running or ""}
        kept_return = self._KEPT_RETURN if keep_running else "0"
        old_index = f"received_at < :cutoff AND NOT {self._KEPT_RECORD if keep_running else '0'}"
        changes_before = self.db.conn.total_changes
        with self.db.transaction():
            # FTS5 rows by rowid (return_id is not indexed there: one scan per row otherwise).
            # A few: secure-delete takes each one's words out of the index. Many: plain deletes,
            # then 'optimize' rewrites the index without them (the old pages are zeroed) — the
            # same result, far faster than thousands of secure deletes.
            limit = self.BULK_ERASE_ROWS if bulk_rows is None else bulk_rows
            bulk = int(self.db.one(f"SELECT count(*) FROM record_index WHERE {old_index}",
                                   params)) > limit
            if bulk:
                self.db.conn.execute("INSERT INTO record_text(record_text, rank) "
                                   "VALUES ('secure-delete', 0)")
            self.db.conn.execute("DELETE FROM record_text WHERE rowid IN (SELECT text_rowid FROM "
                               f"record_index WHERE {old_index})", params)
            if bulk:
                self.db.conn.execute("INSERT INTO record_text(record_text) VALUES ('optimize')")
                self.db.conn.execute("INSERT INTO record_text(record_text, rank) "
                                   "VALUES ('secure-delete', 1)")
            self.db.conn.execute(f"DELETE FROM record_index WHERE {old_index}", params)
            gone = self.db.conn.execute(
                f"DELETE FROM returns WHERE received_at < :cutoff AND NOT {kept_return}",
                params).rowcount
            running = self._RUNNING_ALERT if keep_running else "0"
            self.db.conn.execute(
                "DELETE FROM events WHERE applied_at < :cutoff AND id NOT IN "
                f"(SELECT event_id FROM alerts WHERE event_id IS NOT NULL AND {running})", params)
            self.db.conn.execute(
                "DELETE FROM alerts WHERE (created_at < :cutoff OR (event_id IS NOT NULL AND "
                f"event_id NOT IN (SELECT id FROM events))) AND NOT {running}", params)
            self.db.conn.execute(
                "DELETE FROM messages WHERE created_at < :cutoff AND state != 'queued' AND id NOT "
                f"IN (SELECT message_id FROM alerts WHERE message_id IS NOT NULL AND {running})",
                params)
            # Only the unbroken run of old, shipped records at the start of the chain goes.
            keep = self.db.one("SELECT min(n) FROM audit WHERE shipped = 0 OR at >= ?", (cutoff,))
            cut = self.db.conn.execute(
                "SELECT n, hash FROM audit WHERE n < ? ORDER BY n DESC LIMIT 1",
                (keep if keep is not None else 2**62,)).fetchone()
            if cut:
                # The chain now starts after the pruned records: remember where it was cut.
                self.meta.put("audit_anchor", cut[1])
                self.meta.put("audit_anchor_n", str(cut[0]))
                self.db.conn.execute("DELETE FROM audit WHERE n <= ?", (cut[0],))
        if self.db.conn.total_changes != changes_before:  # nothing erased: nothing to give back
            self.reclaim()
        return int(gone)

    @sorted_errors
    def reclaim(self) -> None:
        """Give freed pages back to the file system and empty the WAL (old page versions): step
        by step as jobs of the owning thread when it schedules them, else all before returning."""
        self._busy_tries, self._free_before = 0, -1
        if self.schedule is not None:
            self.schedule(self.reclaim_step)
            return
        while (wait := self.reclaim_step()) is not None:
            if wait:
                time.sleep(wait)  # not the writer thread: that one schedules the steps

    @sorted_errors
    def reclaim_step(self) -> ReclaimStep:
        """One small step of :meth:`reclaim`; what it returns says what comes next."""
        if int(self.db.one("PRAGMA auto_vacuum") or 0) != 2:
            # A cache made before incremental vacuum: one VACUUM, which also makes it incremental
            # (auto_vacuum changes only through a VACUUM), so later reclaims go in steps.
            self.db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            self.db.execute("VACUUM")
            if int(self.db.one("PRAGMA auto_vacuum") or 0) == 2:
                return 0.0
            return self._checkpoint()
        free = int(self.db.one("PRAGMA freelist_count") or 0)
        if free and free != self._free_before:  # (a step that freed nothing: on to the WAL)
            self._free_before = free
            self.db.execute(f"PRAGMA incremental_vacuum({self.RECLAIM_PAGES})").fetchall()
            return 0.0
        return self._checkpoint()

    def _checkpoint(self) -> ReclaimStep:
        """Empty the WAL (the old versions of the pages); a reader holding it: again later."""
        busy = self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
        if busy and self._busy_tries < self.CHECKPOINT_TRIES - 1:
            self._busy_tries += 1
            return self.RECLAIM_RETRY_S
        return None

    @sorted_errors
    def check(self) -> CheckReport:
        """SQLite's integrity check over every page (each page's HMAC is verified on the way) and
        the audit chain. Damaged pages flag the file to be moved aside at the next open."""
        problems: list[str] = []
        try:
            result = [r[0] for r in self.db.execute("PRAGMA integrity_check")]
        except sqlcipher3.DatabaseError as exc:
            result = [str(exc)]
        if result != ["ok"]:
            problems.append("The cache file is damaged: " + "; ".join(result[:5]))
            with contextlib.suppress(OSError):
                damage_marker(self.db.path).touch()
        try:
            problems.extend(self.audit.verify().problems)
        except CacheError as exc:
            problems.append(f"The audit log cannot be read: {exc.user_message}")
        return CheckReport(ok=not problems, problems=problems)
