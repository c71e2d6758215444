"""The encrypted offline cache: SQLCipher 4 through ``sqlcipher3``. No Qt.

:class:`Cache` is the facade the rest of MDT calls: one connection
(:class:`~mdt.store.connection.CacheConnection`) and the repositories that work through it, one
per area (``cache.repos``): meta, outbox, inbox, returns, alerts, search, retention, audit,
quarantine. The schema and its migrations are in :mod:`mdt.store.schema`; the domain rules it
applies (identifier keys, which events raise which alerts, the words a person reads) in
:mod:`mdt.core`.

Threads: one :class:`Cache` is one connection, used on the one thread that opened it (sqlcipher3's
``check_same_thread`` stays on: a call from another thread raises a ``CacheBugError``). The app runs
a writer thread and a reader thread (:mod:`mdt.store.writer_thread`), each with its own ``Cache`` on
the same file; WAL lets the reader read while the writer writes. The raw 256-bit key comes from
:class:`~mdt.store.keys.KeyVault`.

Stored: the messages sent (with their outbox state), every inbox event applied (with the cursor,
in the same transaction), the returns with their raw text and records, an index of the records'
identifiers and an FTS5 table for offline search, alerts, a meta table, and a hash-chained audit
log. Every SQLite failure leaves as a :class:`~mdt.store.errors.CacheError` sorted into
"environment" or "bug".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdt.core.audit_chain import GENESIS
from mdt.core.identifiers import name_key, normalize_dob, normalize_ident, normalize_name, sound_key
from mdt.core.traffic import MESSAGE_STATES, RETURN_EVENTS
from mdt.store.alerts import Alerts
from mdt.store.audit import AuditLog, AuditReport
from mdt.store.connection import COMMIT_HOOKS, CacheConnection
from mdt.store.connection import classify as _classify  # noqa: F401  (importable from here)
from mdt.store.connection import connect as _connect  # noqa: F401
from mdt.store.connection import probe_key as _probe_key  # noqa: F401
from mdt.store.errors import CacheError
from mdt.store.files import (
    classify_os_error,
    damage_marker,
    damaged_copies,
    disk_is_full,
    drive_is_read_only,
    move_aside,
)
from mdt.store.inbox import Inbox
from mdt.store.meta import RESERVED_META, MetaRepository
from mdt.store.outbox import MESSAGE_KEYS, Outbox
from mdt.store.quarantine import Quarantine, QuarantinedEvent
from mdt.store.retention import CheckReport, Retention
from mdt.store.returns import Returns, StoredReturn
from mdt.store.schema import SCHEMA_VERSION
from mdt.store.search import Search, SearchCursor, SearchHit
from mdt.store.times import iso_us as _iso_us  # noqa: F401
from mdt.store.times import utc_now

if TYPE_CHECKING:
    import sqlite_utils

__all__ = ["COMMIT_HOOKS", "GENESIS", "MESSAGE_STATES", "RESERVED_META", "RETURN_EVENTS",
           "SCHEMA_VERSION", "AuditReport", "Cache", "CheckReport", "Repositories", "SearchCursor",
           "SearchHit", "StoredReturn", "classify_os_error", "damage_marker", "damaged_copies",
           "disk_is_full", "drive_is_read_only", "move_aside", "name_key", "normalize_dob",
           "normalize_ident", "normalize_name", "sound_key", "utc_now"]

@dataclass(frozen=True)
class Repositories:
    """The repositories of one cache connection, one per area."""

    meta: MetaRepository
    audit: AuditLog
    outbox: Outbox
    alerts: Alerts
    inbox: Inbox
    returns: Returns
    search: Search
    retention: Retention
    quarantine: Quarantine

    @classmethod
    def on(cls, db: CacheConnection) -> Repositories:
        meta = MetaRepository(db)
        audit = AuditLog(db, meta)
        outbox = Outbox(db)
        alerts = Alerts(db, audit)
        inbox = Inbox(db, meta, outbox, alerts, audit)
        return cls(meta=meta, audit=audit, outbox=outbox, alerts=alerts, inbox=inbox,
                   returns=Returns(db), search=Search(db), retention=Retention(db, meta, audit),
                   quarantine=Quarantine(db, audit, inbox))


class Cache:
    """One connection to one encrypted cache file, for use on one thread (see the module doc).
    Each method is its repository's (``cache.repos``), with the same errors."""

    BULK_ERASE_ROWS = 1000  # above this many records, retention erases in bulk
    _MESSAGE_KEYS = MESSAGE_KEYS

    def __init__(self, conn: Any, path: Path, *, key: bytes = b"", read_only: bool = False,
                 write_blocked: CacheError | None = None) -> None:
        self._init(CacheConnection(conn, path, key=key, read_only=read_only,
                                   write_blocked=write_blocked))

    def _init(self, connection: CacheConnection) -> None:
        self.connection = connection
        connection.hook_target = self  # commit hooks (crash tests) get the Cache
        self.repos = Repositories.on(connection)
        self._utils: tuple[Any, sqlite_utils.Database] | None = None

    @classmethod
    def open(cls, path: Path, key: bytes, *, create: bool = False,
             read_only: bool = False) -> Cache:
        """Open (or with ``create`` make) the cache at ``path`` with the raw 256-bit ``key``.

        Raises WrongKeyError (nothing is written), NotADatabaseError, CorruptCacheError (the file
        was moved aside, ``moved_to``), CacheLockedError, or CacheError (no cache there, a newer
        schema). When the cache can be read but not written (a full disk, a read-only file or
        drive) it opens read-only: reads work, and every write raises that reason
        (:attr:`write_blocked`) until writing works again. ``read_only`` opens it read-only on
        purpose (``PRAGMA query_only``: the screens' reader)."""
        cache = cls.__new__(cls)
        cache._init(CacheConnection.open(path, key, create=create, read_only=read_only))
        return cache

    # -- the connection --------------------------------------------------------------------------
    @property
    def path(self) -> Path:
        return self.connection.path

    @property
    def read_only(self) -> bool:
        return self.connection.read_only

    @property
    def write_blocked(self) -> CacheError | None:
        """Why writing fails now (a full disk ...), or None."""
        return self.connection.write_blocked

    @property
    def _conn(self) -> Any:
        """The sqlcipher3 connection itself (tests and tools; it changes on a reconnect)."""
        return self.connection.conn

    @property
    def db(self) -> sqlite_utils.Database:
        """``sqlite-utils`` on the keyed connection, for introspection and ad-hoc reads in tools
        and tests (imported only here: ``sqlite_utils.Database(path)`` would open plain sqlite3
        and fail on the encrypted file)."""
        import sqlite_utils

        if self._utils is None or self._utils[0] is not self.connection.conn:
            self._utils = (self.connection.conn, sqlite_utils.Database(self.connection.conn))
        return self._utils[1]

    def _fail(self, exc: Exception) -> CacheError:
        return self.connection.fail(exc)

    def _migrate(self) -> None:
        self.connection.migrate()

    def schema_version(self) -> int:
        return int(self.connection.one("PRAGMA user_version"))

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- meta ------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        return self.repos.meta.get(key, default)

    def set_meta(self, key: str, value: str) -> None:
        self.repos.meta.set(key, value)

    # -- messages and the outbox -----------------------------------------------------------------
    def add_outgoing(self, message: dict[str, Any]) -> None:
        """Queue a protocol message (state ``queued``); the same id again changes nothing."""
        self.repos.outbox.add(message)

    def outbox(self) -> list[dict[str, Any]]:
        """Messages still queued, oldest first."""
        return self.repos.outbox.queued()

    def set_message_state(self, message_id: str, state: str, detail: str | None = None,
                          at: str | None = None) -> None:
        """:meth:`mdt.store.outbox.Outbox.set_state`."""
        self.repos.outbox.set_state(message_id, state, detail, at)

    def cancel_message(self, message_id: str) -> bool:
        """Cancel a message that is still queued; False once it has gone (or is unknown)."""
        return self.repos.outbox.cancel(message_id)

    def get_message(self, message_id: str) -> dict[str, Any] | None:
        return self.repos.outbox.get(message_id)

    def list_messages(self, limit: int = 100) -> list[dict[str, Any]]:
        """Messages sent or queued, newest first."""
        return self.repos.outbox.newest(limit)

    def confirmation_traffic(self, limit: int = 2000
                             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """:meth:`mdt.store.outbox.Outbox.confirmation_traffic`."""
        return self.repos.outbox.confirmation_traffic(limit)

    # -- the inbox -------------------------------------------------------------------------------
    def inbox_cursor(self) -> int:
        """The highest inbox seq durably applied (0 at the start)."""
        return self.repos.inbox.cursor()

    def apply_event(self, event: dict[str, Any]) -> bool:
        """:meth:`mdt.store.inbox.Inbox.apply`: one event, its effects and the cursor in ONE
        transaction; an event id already applied changes nothing and returns False."""
        return self.repos.inbox.apply(event)

    def list_events(self, types: tuple[str, ...] | None = None,
                    limit: int = 200) -> list[dict[str, Any]]:
        """Raw events as received, newest first."""
        return self.repos.inbox.events(types, limit)

    def event_at(self, seq: int) -> dict[str, Any] | None:
        """The event applied with inbox number ``seq``, as received, or None."""
        return self.repos.inbox.event_at(seq)

    def restore(self, *, messages: list[tuple[Any, ...]], alerts: list[tuple[Any, ...]],
                audit: list[tuple[Any, ...]], meta: list[tuple[str, str]],
                events: list[tuple[dict[str, Any], str]]) -> None:
        """:meth:`mdt.store.inbox.Inbox.restore` (what :mod:`mdt.store.salvage` kept)."""
        self.repos.inbox.restore(messages=messages, alerts=alerts, audit=audit, meta=meta,
                                 events=events)

    # -- returns ---------------------------------------------------------------------------------
    def list_returns(self, limit: int = 50,
                     before: StoredReturn | str | None = None) -> list[StoredReturn]:
        """Returns newest first, keyset-paged (``before``: the last one you have, or its id)."""
        return self.repos.returns.newest(limit, before)

    def get_return(self, return_id: str) -> StoredReturn | None:
        return self.repos.returns.get(return_id)

    # -- alerts ----------------------------------------------------------------------------------
    def add_alert(self, alert: dict[str, Any]) -> bool:
        """Keep an alert (hit, detainer, hit confirmation ...); the same id twice is one alert."""
        return self.repos.alerts.add(alert)

    def ack_alert(self, alert_id: str, who: str, note: str = "", device: str = "") -> bool:
        """Record who acknowledged an alert and when, in the alert and in the audit log, at once."""
        return self.repos.alerts.ack(alert_id, who, note, device)

    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        return self.repos.alerts.get(alert_id)

    def list_alerts(self, *, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        """Open alerts first (soonest deadline first), then the acknowledged ones."""
        return self.repos.alerts.in_order(open_only=open_only, limit=limit)

    # -- offline search --------------------------------------------------------------------------
    def search(self, query: str, limit: int = 50, after: SearchCursor | None = None
               ) -> tuple[list[SearchHit], SearchCursor | None]:
        """:meth:`mdt.store.search.Search.search`."""
        return self.repos.search.search(query, limit, after)

    # -- retention -------------------------------------------------------------------------------
    def expire(self, max_age_hours: float = 12.0, now: datetime | None = None) -> int:
        """:meth:`mdt.store.retention.Retention.expire`; returns how many returns went."""
        return self.repos.retention.expire(max_age_hours, now, bulk_rows=self.BULK_ERASE_ROWS)

    def erase_cached(self) -> int:
        """Erase on logout (an agency setting); returns how many returns went."""
        return self.repos.retention.erase_cached(bulk_rows=self.BULK_ERASE_ROWS)

    def reclaim(self) -> None:
        """Give freed pages back to the file system and empty the WAL."""
        self.repos.retention.reclaim()

    def check(self) -> CheckReport:
        """SQLite's integrity check over every page and the audit chain."""
        return self.repos.retention.check()

    # -- audit -----------------------------------------------------------------------------------
    def audit(self, action: str, outcome: str, *, who: str, source: str = "client",
              device: str = "", detail: str = "") -> None:
        """One audit record, chained to the record before it."""
        self.repos.audit.record(action, outcome, who=who, source=source, device=device,
                                detail=detail)

    def audit_records(self, records: list[tuple[str, str, str, str]], *, who: str,
                      device: str = "", source: str = "client") -> None:
        """Several audit records (action, outcome, detail, at) in one transaction."""
        self.repos.audit.record_many(records, who=who, device=device, source=source)

    def audit_unshipped(self, limit: int = 500) -> list[dict[str, Any]]:
        """Audit records not yet acknowledged by the gateway, oldest first."""
        return self.repos.audit.unshipped(limit)

    def mark_audit_shipped(self, ids: list[str]) -> None:
        """The gateway acknowledged these records: retention may now prune them."""
        self.repos.audit.mark_shipped(ids)

    def verify_audit(self) -> AuditReport:
        """Walk the chain: name every record that was edited, removed, inserted or moved."""
        return self.repos.audit.verify()

    # -- quarantine (:mod:`mdt.store.quarantine`) ------------------------------------------------
    def keep_quarantined(self, raw: str, reason: str, *, kind: str = "unreadable",
                         seq: int | None = None, event_id: str | None = None,
                         event_type: str | None = None, advance_to: int | None = None,
                         who: str = "sync", device: str = "") -> bool:
        """:meth:`mdt.store.quarantine.Quarantine.keep`."""
        return self.repos.quarantine.keep(raw, reason, kind=kind, seq=seq, event_id=event_id,
                                          event_type=event_type, advance_to=advance_to, who=who,
                                          device=device)

    def list_quarantined(self, *, open_only: bool = True,
                         limit: int = 100) -> list[QuarantinedEvent]:
        return self.repos.quarantine.newest(open_only=open_only, limit=limit)

    def get_quarantined(self, quarantine_id: str) -> QuarantinedEvent | None:
        return self.repos.quarantine.get(quarantine_id)

    def count_quarantined(self) -> int:
        return self.repos.quarantine.count_open()

    def is_quarantined(self, seq: int) -> bool:
        """Was an event with inbox number ``seq`` kept aside?"""
        return self.repos.quarantine.has_seq(seq)

    def acknowledge_quarantined(self, quarantine_id: str, who: str, device: str = "") -> bool:
        return self.repos.quarantine.acknowledge(quarantine_id, who, device)

    def erase_quarantined(self, older_than_hours: float | None = None,
                          now: datetime | None = None) -> int:
        return self.repos.quarantine.erase(older_than_hours, now)

