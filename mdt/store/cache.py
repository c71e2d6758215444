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
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

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

SCHEMA_VERSION = 1

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

# Each step takes the schema from version N-1 to N; index 0 creates version 1.
MIGRATIONS: list[str] = [SCHEMA_V1]

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
        except sqlcipher3.DatabaseError as exc:
            conn.close()
            error = _classify(exc, path)
            if isinstance(error, WrongKeyError) and exists:
                # Wrong key and "not a database" look alike to SQLCipher; both change nothing.
                raise error from exc
            raise error from exc
        cache = cls(conn, path)
        cache._migrate()
        return cache

    def _migrate(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise CacheError(f"This cache was written by a newer MDT (schema {version}); "
                             "update MDT to open it.")
        while version < SCHEMA_VERSION:
            step = MIGRATIONS[version]
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                for statement in [s.strip() for s in step.split(";") if s.strip()]:
                    self._conn.execute(statement)
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
                records = event.get("records") or []
                part, parts = int(event.get("part") or 1), int(event.get("parts") or 1)
                self._conn.execute(
                    "INSERT INTO returns(id, message_id, mke, source, text, records, hit, part, "
                    "parts, received_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (event_id, reply_to, str(event.get("mke") or ""),
                     str(event.get("source") or ""), str(event.get("text") or ""),
                     json.dumps(records), int(any(bool(r.get("hit")) for r in records)), part,
                     parts, utc_now()))
                if reply_to:
                    detail = f"part {part} of {parts}" if parts > 1 else None
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

    # -- audit -----------------------------------------------------------------------------------
    def audit(self, action: str, outcome: str, *, who: str, source: str = "client",
              device: str = "", detail: str = "") -> None:
        with self._tx():
            prev = self._one("SELECT hash FROM audit ORDER BY n DESC LIMIT 1") or GENESIS
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
        prev = GENESIS
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
