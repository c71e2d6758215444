"""The encrypted offline cache: SQLCipher 4 through ``sqlcipher3``. No Qt.

One :class:`Cache` is one connection, used on the one thread that opened it (the app runs a writer
thread, :mod:`mdt.store.writer_thread`; readers open their own). WAL lets them work side by side.
The raw 256-bit key comes from :class:`~mdt.store.keys.KeyVault`. ``sqlite-utils`` is used on the
already-keyed connection (``sqlite_utils.Database(path)`` would open plain sqlite3).

Stored: the messages sent (with their outbox state), every inbox event applied (with the cursor,
in the same transaction), the returns with their raw text and records, a meta table, and a
hash-chained audit log.
"""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jellyfish
import sqlcipher3
import sqlite_utils

from mdt.store.errors import (
    CacheBugError,
    CacheError,
    CacheLockedError,
    CorruptCacheError,
    DiskFullError,
    NotADatabaseError,
    WrongKeyError,
)

SCHEMA_VERSION = 2

SCHEMA_V1 = """
CREATE TABLE messages (
    id TEXT PRIMARY KEY, mke TEXT NOT NULL, dest TEXT NOT NULL, fields TEXT NOT NULL,
    text TEXT NOT NULL, purpose TEXT, created_at TEXT NOT NULL, seq INTEGER NOT NULL,
    state TEXT NOT NULL, state_detail TEXT, state_at TEXT, accepted_at TEXT);
CREATE INDEX messages_state ON messages(state, seq);
CREATE TABLE events (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, type TEXT NOT NULL, created_at TEXT,
    in_reply_to TEXT, body TEXT NOT NULL, applied_at TEXT NOT NULL);
CREATE TABLE returns (
    id TEXT PRIMARY KEY, message_id TEXT, mke TEXT, source TEXT, text TEXT NOT NULL,
    records TEXT NOT NULL, hit INTEGER NOT NULL, part INTEGER NOT NULL, parts INTEGER NOT NULL,
    received_at TEXT NOT NULL);
CREATE INDEX returns_received ON returns(received_at);
CREATE INDEX returns_message ON returns(message_id);
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE audit (
    n INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, at TEXT NOT NULL,
    action TEXT NOT NULL, outcome TEXT NOT NULL, who TEXT NOT NULL, source TEXT NOT NULL,
    device TEXT NOT NULL, detail TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL,
    shipped INTEGER NOT NULL DEFAULT 0);
"""

SCHEMA_V2 = """
CREATE TABLE record_index (
    return_id TEXT NOT NULL, n INTEGER NOT NULL, received_at TEXT NOT NULL, message_id TEXT,
    file TEXT NOT NULL, hit INTEGER NOT NULL, name TEXT, name_key TEXT, dob TEXT, plate TEXT,
    vin TEXT, arn TEXT, nic TEXT, oln TEXT, PRIMARY KEY (return_id, n));
CREATE INDEX record_index_name ON record_index(name, received_at);
CREATE INDEX record_index_name_key ON record_index(name_key, received_at);
CREATE INDEX record_index_plate ON record_index(plate);
CREATE INDEX record_index_vin ON record_index(vin);
CREATE INDEX record_index_arn ON record_index(arn);
CREATE INDEX record_index_nic ON record_index(nic);
CREATE INDEX record_index_oln ON record_index(oln);
CREATE INDEX record_index_dob ON record_index(dob, received_at);
CREATE INDEX record_index_received ON record_index(received_at);
CREATE VIRTUAL TABLE record_text USING fts5(return_id UNINDEXED, n UNINDEXED, body);
CREATE INDEX audit_shipped ON audit(shipped, n);
CREATE TABLE alerts (
    id TEXT PRIMARY KEY, kind TEXT NOT NULL, severity TEXT NOT NULL, title TEXT NOT NULL,
    body TEXT NOT NULL, event_id TEXT, message_id TEXT, deadline TEXT, created_at TEXT NOT NULL,
    acked_by TEXT, acked_at TEXT, ack_note TEXT);
CREATE INDEX alerts_open ON alerts(acked_at, deadline);
"""


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _to_v1(conn: Any) -> None:
    for statement in _statements(SCHEMA_V1):
        conn.execute(statement)


def _to_v2(conn: Any) -> None:
    """Search over cached records: an index of identifiers and a full-text table, filled from
    the returns already cached."""
    for statement in _statements(SCHEMA_V2):
        conn.execute(statement)
    rows = conn.execute("SELECT id, message_id, records, received_at FROM returns").fetchall()
    for return_id, message_id, records, received_at in rows:
        _index_records(conn, return_id, message_id, json.loads(records), received_at)


# Each step takes the schema from version N to N+1; index 0 creates version 1.
MIGRATIONS: list[Callable[[Any], None]] = [_to_v1, _to_v2]


def name_key(name: str) -> str:
    """How NCIC-style matching hears a name: Soundex of the last name (as NCIC's name search
    does) + the first initial."""
    last, _, rest = name.upper().partition(",")
    first = rest.split()[0][:1] if rest.split() else ""
    return f"{jellyfish.soundex(last.strip())}|{first}" if last.strip() else ""


def _digits_arn(value: str) -> str:
    value = value.upper().strip()
    for prefix in ("AR-", "A"):
        if value.startswith(prefix):
            value = value[len(prefix):]
    return value if value.isdigit() else ""


def _index_records(conn: Any, return_id: str, message_id: str | None,
                   records: list[dict[str, Any]], received_at: str) -> None:
    for n, record in enumerate(records):
        fields = {str(k).upper(): str(v).strip().upper()
                  for k, v in (record.get("fields") or {}).items()}
        name = fields.get("NAM", "")
        mnu = fields.get("MNU", "")
        arn = _digits_arn(fields.get("ARN", "")) or (_digits_arn(mnu) if mnu.startswith("AR-")
                                                     else "")
        conn.execute(
            "INSERT OR REPLACE INTO record_index(return_id, n, received_at, message_id, file, hit, "
            "name, name_key, dob, plate, vin, arn, nic, oln) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (return_id, n, received_at, message_id, str(record.get("file") or ""),
             int(bool(record.get("hit"))), name or None, name_key(name) or None,
             fields.get("DOB") or None, fields.get("LIC") or None, fields.get("VIN") or None,
             arn or None, (record.get("nic") or fields.get("NIC") or "").upper() or None,
             fields.get("OLN") or None))
        body = " ".join([str(record.get("file") or ""), *(f"{k} {v}" for k, v in fields.items()),
                         *(str(c) for c in record.get("caveats") or [])])
        conn.execute("INSERT INTO record_text(return_id, n, body) VALUES (?, ?, ?)",
                     (return_id, n, body))

GENESIS = "0" * 64


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
    received_at: str
    query: dict[str, Any] | None = None


@dataclass
class SearchHit:
    """One cached record that matches a search, with how it matched and where it came from."""

    return_id: str
    record: int
    rank: int  # 0 exact identifier, 1 exact name, 2 sounds alike, 3 free text
    how: str
    file: str
    hit: bool
    received_at: str
    fields: dict[str, str]
    query: dict[str, Any] | None


SearchCursor = tuple[int, str, str, int]  # rank, received_at, return id, record


@dataclass
class CheckReport:
    ok: bool
    problems: list[str] = field(default_factory=list)


@dataclass
class AuditReport:
    ok: bool
    checked: int
    problems: list[str] = field(default_factory=list)


def _classify(exc: Exception, path: Path) -> CacheError:
    """Sort a SQLCipher failure into the error a person can act on."""
    text = str(exc).lower()
    if "file is not a database" in text or "file is encrypted" in text:
        return WrongKeyError()
    if "database disk image is malformed" in text or "malformed" in text:
        return CorruptCacheError()
    if "locked" in text or "busy" in text:
        return CacheLockedError()
    if "disk is full" in text or "database or disk is full" in text:
        return DiskFullError()
    if "unable to open" in text:
        return CacheError(f"The cache file {path} cannot be opened (check the folder and its "
                          "permissions).")
    return CacheBugError()


def move_aside(path: Path) -> Path:
    """Rename a damaged cache (and its -wal / -shm) out of the way, keeping it for inspection."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(path) + suffix)
        if source.exists():
            shutil.move(str(source), str(target) + suffix)
    return target


def _audit_hash(prev_hash: str, row: dict[str, Any]) -> str:
    body = json.dumps({k: row[k] for k in ("id", "at", "action", "outcome", "who", "source",
                                           "device", "detail")}, sort_keys=True)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


class Cache:
    def __init__(self, conn: Any, path: Path) -> None:
        self._conn = conn
        self.path = path
        # sqlite-utils on the keyed connection, for introspection and ad-hoc reads (tools,
        # tests); writes go through explicit transactions below.
        self.db = sqlite_utils.Database(conn)

    # -- opening ---------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, key: bytes, *, create: bool = False) -> Cache:
        path = Path(path)
        if len(key) != 32:
            raise WrongKeyError("The cache key must be 256 bits.")
        exists = path.exists() and path.stat().st_size > 0
        if not exists and not create:
            raise CacheError(f"There is no cache at {path}.")
        if exists:
            with open(path, "rb") as handle:
                head = handle.read(16)
            if head.startswith(b"SQLite format 3"):
                raise NotADatabaseError("The cache file is a plain, unencrypted database; MDT "
                                        "will not use it. Nothing was changed.")
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = sqlcipher3.connect(str(path), timeout=5.0, isolation_level=None)
        except sqlcipher3.Error as exc:
            raise _classify(exc, path) from exc
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")  # no page details on stderr
            conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            conn.execute("PRAGMA cipher_memory_security = OFF")
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.execute("PRAGMA secure_delete = ON")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: fewer pages to decrypt again
        except sqlcipher3.DatabaseError as exc:
            conn.close()
            error = _classify(exc, path)
            if isinstance(error, CorruptCacheError) and exists:
                moved = move_aside(path)
                raise CorruptCacheError(
                    f"The cache is damaged. It was moved aside to {moved.name} (nothing was "
                    "overwritten); a new, empty cache will be made at the next sign-in.",
                    moved_to=moved) from exc
            # A wrong key and a file that is not a database look alike; both change nothing.
            raise error from exc
        cache = cls(conn, path)
        try:
            cache._migrate()
        except CorruptCacheError as exc:
            conn.close()
            moved = move_aside(path)
            raise CorruptCacheError(
                f"The cache is damaged. It was moved aside to {moved.name}.", moved_to=moved
            ) from exc
        return cache

    def _migrate(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise CacheError(f"This cache was written by a newer MDT (schema {version}); "
                             "update MDT to open it.")
        if version == 0:
            # Before the first table: freed pages can then be handed back to the file system.
            self._conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        while version < SCHEMA_VERSION:
            step = MIGRATIONS[version]
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                step(self._conn)
                version += 1
                self._conn.execute(f"PRAGMA user_version = {version}")
                self._conn.execute("COMMIT")
            except sqlcipher3.Error as exc:
                self._conn.execute("ROLLBACK")
                raise _classify(exc, self.path) from exc

    def close(self) -> None:
        self._conn.close()

    def _tx(self) -> _Transaction:
        return _Transaction(self)

    def _one(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # -- meta ------------------------------------------------------------------------------------
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        value = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else str(value)

    def set_meta(self, key: str, value: str) -> None:
        with self._tx():
            self._conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) "
                               "DO UPDATE SET value = excluded.value", (key, value))

    # -- messages and the outbox -----------------------------------------------------------------
    def add_outgoing(self, message: dict[str, Any]) -> None:
        with self._tx():
            seq = int(self._one("SELECT coalesce(max(seq), 0) + 1 FROM messages"))
            self._conn.execute(
                "INSERT OR IGNORE INTO messages(id, mke, dest, fields, text, purpose, created_at, "
                "seq, state, state_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                (str(message["id"]), str(message["mke"]), json.dumps(message.get("dest") or []),
                 json.dumps(message.get("fields") or {}), str(message.get("text") or ""),
                 message.get("purpose"), str(message.get("created_at") or utc_now()), seq,
                 utc_now()))

    @staticmethod
    def _message(row: Any) -> dict[str, Any]:
        keys = ("id", "mke", "dest", "fields", "text", "purpose", "created_at", "state",
                "state_detail", "state_at", "accepted_at")
        message = dict(zip(keys, row, strict=True))
        message["dest"] = json.loads(message["dest"])
        message["fields"] = json.loads(message["fields"])
        return message

    _MESSAGE_COLUMNS = ("id, mke, dest, fields, text, purpose, created_at, state, state_detail, "
                        "state_at, accepted_at")

    def outbox(self) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages WHERE state = 'queued' ORDER BY seq")
        return [self._message(r) for r in rows]

    def set_message_state(self, message_id: str, state: str, detail: str | None = None,
                          at: str | None = None) -> None:
        with self._tx():
            self._set_state(message_id, state, detail, at)

    def _set_state(self, message_id: str, state: str, detail: str | None,
                   at: str | None = None) -> None:
        accepted = at if state == "accepted" else None
        self._conn.execute(
            "UPDATE messages SET state = ?, state_detail = ?, state_at = ?, "
            "accepted_at = coalesce(?, accepted_at) WHERE id = ?",
            (state, detail, at or utc_now(), accepted, message_id))

    def cancel_message(self, message_id: str) -> bool:
        with self._tx():
            cur = self._conn.execute(
                "UPDATE messages SET state = 'cancelled', state_at = ? "
                "WHERE id = ? AND state = 'queued'", (utc_now(), message_id))
            return bool(cur.rowcount)

    def get_message(self, message_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        return self._message(row) if row else None

    def list_messages(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = self._conn.execute(
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ?", (limit,))
        return [self._message(r) for r in rows]

    # -- the inbox -------------------------------------------------------------------------------
    def inbox_cursor(self) -> int:
        return int(self.get_meta("inbox_cursor", "0") or 0)

    def apply_event(self, event: dict[str, Any]) -> bool:
        event_id, seq, kind = str(event["id"]), int(event["seq"]), str(event["type"])
        with self._tx():
            if self._one("SELECT 1 FROM events WHERE id = ?", (event_id,)):
                self._advance_cursor(seq)
                return False
            reply_to = event.get("in_reply_to")
            self._conn.execute(
                "INSERT INTO events(id, seq, type, created_at, in_reply_to, body, applied_at) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)",
                (event_id, seq, kind, event.get("created_at"), reply_to, json.dumps(event),
                 utc_now()))
            if kind in ("response", "delayed_hit"):
                received = utc_now()
                records = event.get("records") or []
                part, parts = int(event.get("part") or 1), int(event.get("parts") or 1)
                self._conn.execute(
                    "INSERT INTO returns(id, message_id, mke, source, text, records, hit, part, "
                    "parts, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (event_id, reply_to, str(event.get("mke") or ""),
                     str(event.get("source") or ""), str(event.get("text") or ""),
                     json.dumps(records), int(any(bool(r.get("hit")) for r in records)), part,
                     parts, received))
                _index_records(self._conn, event_id, reply_to, records, received)
                if reply_to:
                    detail = None
                    if parts > 1:  # parts may come in any order: count what is here
                        have = int(self._one("SELECT count(DISTINCT part) FROM returns "
                                             "WHERE message_id = ?", (reply_to,)))
                        detail = f"{have} of {parts} parts" + ("" if have >= parts else
                                                                " — more to come")
                    self._set_state(str(reply_to), "answered", detail)
            elif kind == "ack" and reply_to:
                self._conn.execute(
                    "UPDATE messages SET state = 'acknowledged', state_at = ? "
                    "WHERE id = ? AND state NOT IN ('answered', 'status')",
                    (utc_now(), reply_to))
            elif kind == "status" and reply_to:
                detail = str(event.get("text") or event.get("status") or "")
                self._set_state(str(reply_to), "status", detail)
            self._advance_cursor(seq)
        return True

    def _advance_cursor(self, seq: int) -> None:
        self._conn.execute(
            "INSERT INTO meta(key, value) VALUES ('inbox_cursor', ?) ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
            (str(seq),))

    # -- returns ---------------------------------------------------------------------------------
    def _return(self, row: Any) -> StoredReturn:
        (rid, message_id, mke, source, text, records, hit, part, parts, received_at) = row
        query = self.get_message(message_id) if message_id else None
        return StoredReturn(id=rid, message_id=message_id, mke=mke or "", source=source or "",
                            text=text, records=json.loads(records), hit=bool(hit), part=part,
                            parts=parts, received_at=received_at, query=query)

    _RETURN_COLUMNS = "id, message_id, mke, source, text, records, hit, part, parts, received_at"

    def list_returns(self, limit: int = 50) -> list[StoredReturn]:
        rows = self._conn.execute(
            f"SELECT {self._RETURN_COLUMNS} FROM returns ORDER BY received_at DESC, rowid DESC "
            "LIMIT ?", (limit,)).fetchall()
        return [self._return(r) for r in rows]

    def get_return(self, return_id: str) -> StoredReturn | None:
        row = self._conn.execute(
            f"SELECT {self._RETURN_COLUMNS} FROM returns WHERE id = ?", (return_id,)).fetchone()
        return self._return(row) if row else None

    # -- alerts ----------------------------------------------------------------------------------
    def add_alert(self, alert: dict[str, Any]) -> bool:
        """Keep an alert (hit, detainer, hit confirmation ...); the same id twice is one alert."""
        with self._tx():
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO alerts(id, kind, severity, title, body, event_id, "
                "message_id, deadline, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (str(alert["id"]), str(alert["kind"]), str(alert["severity"]),
                 str(alert["title"]), json.dumps(alert.get("body") or {}), alert.get("event_id"),
                 alert.get("message_id"), alert.get("deadline"),
                 str(alert.get("created_at") or utc_now())))
            return bool(cur.rowcount)

    def ack_alert(self, alert_id: str, who: str, note: str = "", device: str = "") -> bool:
        """Record who acknowledged an alert and when, in the alert and in the audit log, at once."""
        with self._tx():
            cur = self._conn.execute(
                "UPDATE alerts SET acked_by = ?, acked_at = ?, ack_note = ? "
                "WHERE id = ? AND acked_at IS NULL", (who, utc_now(), note, alert_id))
            if cur.rowcount:
                self._append_audit("alert-ack", "success", who=who, source="client",
                                   device=device, detail=f"alert {alert_id} {note}".strip())
            return bool(cur.rowcount)

    def list_alerts(self, *, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        columns = ("id", "kind", "severity", "title", "body", "event_id", "message_id",
                   "deadline", "created_at", "acked_by", "acked_at", "ack_note")
        where = "WHERE acked_at IS NULL" if open_only else ""
        rows = self._conn.execute(
            f"SELECT {', '.join(columns)} FROM alerts {where} "
            "ORDER BY acked_at IS NOT NULL, coalesce(deadline, created_at), created_at LIMIT ?",
            (limit,))
        alerts = []
        for row in rows:
            alert = dict(zip(columns, row, strict=True))
            alert["body"] = json.loads(alert["body"])
            alerts.append(alert)
        return alerts

    # -- offline search --------------------------------------------------------------------------
    def search(self, text: str, limit: int = 50, after: SearchCursor | None = None
               ) -> tuple[list[SearchHit], SearchCursor | None]:
        """Cached records matching ``text``: a plate, VIN, NIC, A-number, OLN, a name
        (``LAST, FIRST`` — also names that sound alike, as NCIC matches them), a date of birth,
        or any words. Exact identifiers first, then exact names, then sound-alikes, then text;
        newest first within each. Keyset-paged: pass the returned cursor as ``after``."""
        query = " ".join(text.upper().split())
        if not query:
            return [], None
        dob_match = re.search(r"\b(\d{8})\b", query)
        dob = dob_match.group(1) if dob_match else None
        name = query.replace(dob, "").strip(" ,") if dob and "," in query else query
        name = name if "," in name else ""
        ident = query.replace(" ", "")
        arn = _digits_arn(ident)
        tokens = [t for t in re.split(r"[^A-Z0-9]+", query) if t]
        # A name is looked up by name (exact, then by sound); free text is for everything else,
        # so "SMITH, JOHN" does not also drag in every record that mentions JOHN.
        fts = "" if name else " ".join(f'"{t}"' for t in tokens)
        params: dict[str, Any] = {"ident": ident, "arn": arn or None, "name": name or None,
                                  "key": name_key(name) if name else None, "dob": dob,
                                  "fts": fts or None, "limit": limit}
        identifiers = [("plate", "plate = :ident", "plate"), ("VIN", "vin = :ident", "vin"),
                       ("NIC", "nic = :ident", "nic"), ("A-number", "arn = :arn", "arn"),
                       ("licence number", "oln = :ident", "oln")]
        branches: list[tuple[int, str, str]] = [(0, how, cond) for how, cond, _ in identifiers]
        if name:
            branches.append((1, "name", "name = :name AND (:dob IS NULL OR dob = :dob)"))
            branches.append((2, "sounds like", "name_key = :key AND name != :name "
                                               "AND (:dob IS NULL OR dob = :dob)"))
        elif dob:
            branches.append((1, "date of birth", "dob = :dob"))
        if after is not None:
            params.update(zip(("a_rank", "a_at", "a_id", "a_n"), after, strict=True))

        def keyset(rank: int, prefix: str = "") -> str:
            if after is None or rank > after[0]:
                return "1"
            if rank < after[0]:
                return "0"
            return (f"({prefix}received_at < :a_at OR ({prefix}received_at = :a_at AND "
                    f"({prefix}return_id > :a_id OR ({prefix}return_id = :a_id AND "
                    f"{prefix}n > :a_n))))")

        # Each branch brings at most one page, newest first (an index serves each), so a common
        # name costs a page, not every record that sounds like it.
        selects = [
            f"SELECT * FROM (SELECT {rank} AS rank, return_id, n, '{how}' AS how, received_at "
            f"FROM record_index WHERE {cond} AND {keyset(rank)} "
            "ORDER BY received_at DESC, return_id, n LIMIT :limit)"
            for rank, how, cond in branches]
        if fts:
            known = " OR ".join(f"ri.{col} = :{'arn' if col == 'arn' else 'ident'}"
                                for _, _, col in identifiers)
            selects.append(
                "SELECT * FROM (SELECT 3 AS rank, t.return_id, CAST(t.n AS INTEGER) AS n, "
                "'text' AS how, ri.received_at FROM record_text t JOIN record_index ri "
                "ON ri.return_id = t.return_id AND ri.n = t.n "
                f"WHERE record_text MATCH :fts AND NOT coalesce({known}, 0) AND {keyset(3, 'ri.')} "
                "ORDER BY ri.received_at DESC, t.return_id, t.n LIMIT :limit)")
        sql = (f"WITH m AS ({' UNION ALL '.join(selects)}) "
               "SELECT min(m.rank) AS rank, m.return_id, m.n, m.how, ri.file, ri.hit, "
               "ri.received_at, r.records, r.message_id FROM m "
               "JOIN record_index ri ON ri.return_id = m.return_id AND ri.n = m.n "
               "JOIN returns r ON r.id = m.return_id "
               "GROUP BY m.return_id, m.n "
               "ORDER BY rank, ri.received_at DESC, m.return_id, m.n LIMIT :limit")
        try:
            rows = self._conn.execute(sql, params).fetchall()
        except sqlcipher3.OperationalError as exc:
            raise _classify(exc, self.path) from exc
        hits = []
        for rank, return_id, n, how, file, hit, received_at, records, message_id in rows:
            record = json.loads(records)[n]
            hits.append(SearchHit(return_id=return_id, record=n, rank=rank, how=how, file=file,
                                  hit=bool(hit), received_at=received_at,
                                  fields=dict(record.get("fields") or {}),
                                  query=self.get_message(message_id) if message_id else None))
        cursor = None
        if len(hits) == limit:
            last = hits[-1]
            cursor = (last.rank, last.received_at, last.return_id, last.record)
        return hits, cursor

    # -- retention -------------------------------------------------------------------------------
    def expire(self, max_age_hours: float = 12.0, now: datetime | None = None) -> int:
        """Delete cached returns, events and finished queries older than ``max_age_hours`` (one
        shift by default), and audit records the gateway already holds. Queries still waiting to
        go out are kept. Really deletes: secure_delete zeroes the pages, and the freed pages go
        back to the file system. Returns how many returns went."""
        cutoff = ((now or datetime.now(UTC)) - timedelta(hours=max_age_hours)).isoformat(
            timespec="milliseconds").replace("+00:00", "Z")
        return self._erase(cutoff)

    def erase_cached(self) -> int:
        """Erase on logout (an agency setting): every return, event and finished query."""
        return self._erase("9999")

    def _erase(self, cutoff: str) -> int:
        with self._tx():
            gone = [r[0] for r in self._conn.execute(
                "SELECT id FROM returns WHERE received_at < ?", (cutoff,))]
            for return_id in gone:
                self._conn.execute("DELETE FROM record_text WHERE return_id = ?", (return_id,))
            self._conn.execute("DELETE FROM record_index WHERE received_at < ?", (cutoff,))
            self._conn.execute("DELETE FROM returns WHERE received_at < ?", (cutoff,))
            self._conn.execute("DELETE FROM events WHERE applied_at < ?", (cutoff,))
            self._conn.execute("DELETE FROM messages WHERE created_at < ? AND state != 'queued'",
                               (cutoff,))
            last = self._conn.execute(
                "SELECT n, hash FROM audit WHERE shipped = 1 AND at < ? ORDER BY n DESC LIMIT 1",
                (cutoff,)).fetchone()
            if last:
                # The chain now starts after the pruned records: remember where it was cut.
                self._conn.execute("INSERT INTO meta(key, value) VALUES ('audit_anchor', ?) "
                                   "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                                   (last[1],))
                self._conn.execute("DELETE FROM audit WHERE n <= ? AND shipped = 1", (last[0],))
        self.reclaim()
        return len(gone)

    def reclaim(self) -> None:
        """Give freed pages back to the file system (and out of the WAL)."""
        mode = int(self._one("PRAGMA auto_vacuum") or 0)
        if mode == 2:
            self._conn.execute("PRAGMA incremental_vacuum")
        else:
            self._conn.execute("VACUUM")
        self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    # -- audit shipping --------------------------------------------------------------------------
    def audit_unshipped(self, limit: int = 500) -> list[dict[str, Any]]:
        columns = ("id", "at", "action", "outcome", "who", "source", "device", "detail")
        rows = self._conn.execute(
            f"SELECT {', '.join(columns)} FROM audit WHERE shipped = 0 ORDER BY n LIMIT ?",
            (limit,))
        return [dict(zip(columns, r, strict=True)) for r in rows]

    def mark_audit_shipped(self, ids: list[str]) -> None:
        with self._tx():
            self._conn.executemany("UPDATE audit SET shipped = 1 WHERE id = ?",
                                   [(i,) for i in ids])

    # -- checks ----------------------------------------------------------------------------------
    def check(self) -> CheckReport:
        """SQLite's integrity check over every page (each page's HMAC is verified on the way) and
        the audit chain."""
        problems: list[str] = []
        try:
            result = [r[0] for r in self._conn.execute("PRAGMA integrity_check")]
        except sqlcipher3.DatabaseError as exc:
            result = [str(exc)]
        if result != ["ok"]:
            problems.append("The cache file is damaged: " + "; ".join(result[:5]))
        try:
            problems.extend(self.verify_audit().problems)
        except sqlcipher3.DatabaseError as exc:
            problems.append(f"The audit log cannot be read: {exc}")
        return CheckReport(ok=not problems, problems=problems)

    # -- audit -----------------------------------------------------------------------------------
    def audit(self, action: str, outcome: str, *, who: str, source: str = "client",
              device: str = "", detail: str = "") -> None:
        with self._tx():
            self._append_audit(action, outcome, who=who, source=source, device=device,
                               detail=detail)

    def _append_audit(self, action: str, outcome: str, *, who: str, source: str, device: str,
                      detail: str) -> None:
        """Inside a transaction: one more link in the chain."""
        prev = (self._one("SELECT hash FROM audit ORDER BY n DESC LIMIT 1")
                or self.get_meta("audit_anchor") or GENESIS)
        row = {"id": str(uuid.uuid4()), "at": utc_now(), "action": action,
               "outcome": outcome, "who": who, "source": source, "device": device,
               "detail": detail}
        row["prev_hash"] = prev
        row["hash"] = _audit_hash(prev, row)
        names = list(row)
        self._conn.execute(
            f"INSERT INTO audit({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            tuple(row[k] for k in names))

    def verify_audit(self) -> AuditReport:
        problems: list[str] = []
        prev = self.get_meta("audit_anchor") or GENESIS
        count = 0
        columns = ("n", "id", "at", "action", "outcome", "who", "source", "device", "detail",
                   "prev_hash", "hash")
        for values in self._conn.execute(f"SELECT {', '.join(columns)} FROM audit ORDER BY n"):
            row = dict(zip(columns, values, strict=True))
            count += 1
            if row["prev_hash"] != prev:
                problems.append(f"Audit record {row['n']} ({row['action']} at {row['at']}) does "
                                "not follow the record before it: one was removed, inserted or "
                                "moved.")
            if _audit_hash(row["prev_hash"], row) != row["hash"]:
                problems.append(f"Audit record {row['n']} ({row['action']} at {row['at']}) was "
                                "edited.")
            prev = row["hash"]
        return AuditReport(ok=not problems, checked=count, problems=problems)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), with errors sorted."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def __enter__(self) -> None:
        try:
            self.cache._conn.execute("BEGIN IMMEDIATE")
        except sqlcipher3.Error as exc:
            raise _classify(exc, self.cache.path) from exc

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        conn = self.cache._conn
        if exc_type is None:
            try:
                conn.execute("COMMIT")
            except sqlcipher3.Error as error:
                conn.execute("ROLLBACK")
                raise _classify(error, self.cache.path) from error
        else:
            conn.execute("ROLLBACK")
            if isinstance(exc, sqlcipher3.Error):
                raise _classify(exc, self.cache.path) from exc
