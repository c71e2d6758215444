"""The cache's schema: the tables, one migration step per version (kept as released: a step is
never edited, the next one is added, and a cache file of each old version is kept in
``tests/data/caches``), and how a return's records are indexed for search. No Qt.

The version is ``PRAGMA user_version``; each step runs in its own transaction.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from mdt.core.identifiers import record_keys
from mdt.store.errors import CacheError

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "index_records", "migrate"]

SCHEMA_VERSION = 5

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

SCHEMA_V3 = """
ALTER TABLE messages ADD COLUMN sent_at TEXT;
UPDATE messages SET sent_at = accepted_at WHERE accepted_at IS NOT NULL;
ALTER TABLE returns ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE returns SET received_at = substr(received_at, 1, 23) || '000Z'
    WHERE length(received_at) = 24;
UPDATE events SET applied_at = substr(applied_at, 1, 23) || '000Z' WHERE length(applied_at) = 24;
UPDATE returns SET seq = coalesce((SELECT e.seq FROM events e WHERE e.id = returns.id), 0);
DROP INDEX returns_received;
CREATE INDEX returns_order ON returns(received_at, seq, id);
ALTER TABLE record_index ADD COLUMN sound_key TEXT;
ALTER TABLE record_index ADD COLUMN text_rowid INTEGER;
CREATE INDEX record_index_sound_key ON record_index(sound_key, received_at);
CREATE INDEX alerts_created ON alerts(created_at);
INSERT INTO record_text(record_text, rank) VALUES ('secure-delete', 1);
DELETE FROM record_text;
DELETE FROM record_index;
INSERT OR REPLACE INTO meta(key, value)
    SELECT 'audit_head', hash FROM audit ORDER BY n DESC LIMIT 1;
INSERT OR IGNORE INTO meta(key, value) SELECT 'audit_head', value FROM meta
    WHERE key = 'audit_anchor'
"""

# Quarantined inbox events (:mod:`mdt.store.quarantine`).
SCHEMA_V4 = """
CREATE TABLE quarantine (
    id TEXT PRIMARY KEY, received_at TEXT NOT NULL, kind TEXT NOT NULL, reason TEXT NOT NULL,
    raw TEXT NOT NULL, digest TEXT NOT NULL UNIQUE, seq INTEGER, event_id TEXT, event_type TEXT,
    acknowledged_at TEXT, acknowledged_by TEXT);
CREATE INDEX quarantine_open ON quarantine(acknowledged_at, received_at)
"""

# Search that stops early (issue #19): each branch of a search reads its page from one index, in
# the order it lists (newest first, then return and record), without visiting the table; a record
# that a better rank lists is left out by its rowid (in every index); a record's rowid is its FTS5
# rowid, so free text joins the index by rowid alone. Rowids move in two passes (negative, then
# back), so no row ever takes a rowid another still has. And what runs at each sign-in and
# every 10 minutes (retention by age, the newest queries, hit confirmation's traffic) reads its
# rows by index, not by reading every event and query (the GUI's memory held their pages).
SCHEMA_V5 = """
DROP INDEX record_index_name;
DROP INDEX record_index_name_key;
DROP INDEX record_index_sound_key;
DROP INDEX record_index_dob;
UPDATE record_index SET rowid = -text_rowid WHERE text_rowid IS NOT NULL;
UPDATE record_index SET rowid = -rowid WHERE rowid < 0;
CREATE INDEX record_index_name ON record_index(name, received_at DESC, return_id, n, dob);
CREATE INDEX record_index_name_key ON record_index(name_key, received_at DESC, return_id, n, dob);
CREATE INDEX record_index_sound_key ON record_index(sound_key, received_at DESC, return_id, n,
                                                   dob);
CREATE INDEX record_index_dob ON record_index(dob, received_at DESC, return_id, n);
CREATE INDEX events_applied ON events(applied_at);
CREATE INDEX events_type ON events(type, in_reply_to);
CREATE INDEX messages_created ON messages(created_at);
CREATE INDEX messages_seq ON messages(seq);
CREATE INDEX messages_mke ON messages(mke, seq)
"""


def _statements(script: str) -> list[str]:
    return [s.strip() for s in script.split(";") if s.strip()]


def _to_v1(conn: Any) -> None:
    for statement in _statements(SCHEMA_V1):
        conn.execute(statement)


def _to_v2(conn: Any) -> None:
    """Search over cached records: an index of identifiers and a full-text table (filled by the
    step to version 3)."""
    for statement in _statements(SCHEMA_V2):
        conn.execute(statement)


def _to_v3(conn: Any) -> None:
    """When a query was sent; the inbox order of returns (for paging); NYSIIS next to Soundex;
    FTS5 secure-delete (a deleted record's words leave the index at once); the audit log's head
    (so removing its last records shows); every cached record indexed again, normalised."""
    for statement in _statements(SCHEMA_V3):
        conn.execute(statement)
    rows = conn.execute("SELECT id, message_id, records, received_at FROM returns").fetchall()
    for return_id, message_id, records, received_at in rows:
        index_records(conn, return_id, message_id, json.loads(records), received_at)


def _to_v4(conn: Any) -> None:
    """Quarantined inbox events (:mod:`mdt.store.quarantine`)."""
    for statement in _statements(SCHEMA_V4):
        conn.execute(statement)


def _to_v5(conn: Any) -> None:
    """Indexes a search page stops early on (newest first, covering), a record's rowid the
    same as its FTS5 row's, and indexes for what sign-in and retention read."""
    for statement in _statements(SCHEMA_V5):
        conn.execute(statement)


# Each step takes the schema from version N to N+1; index 0 creates version 1. A released step is
# never edited: add the next one (and keep a cache file of the old version in tests/data/caches).
MIGRATIONS: list[Callable[[Any], None]] = [_to_v1, _to_v2, _to_v3, _to_v4, _to_v5]


def migrate(conn: Any) -> None:
    """Run the steps from the file's version up (sqlcipher3 errors go to the caller, sorted
    there); a newer schema than this MDT knows is refused."""
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise CacheError(f"This cache was written by a newer MDT (schema {version}); "
                         "update MDT to open it.")
    while version < SCHEMA_VERSION:
        step = MIGRATIONS[version]
        try:
            conn.execute("BEGIN IMMEDIATE")
            step(conn)
            version += 1
            conn.execute(f"PRAGMA user_version = {version}")
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise


def index_records(conn: Any, return_id: str, message_id: str | None,
                  records: list[dict[str, Any]], received_at: str) -> None:
    """Index one return's records (schema 3 and later) for search (:mod:`mdt.store.search`);
    a record's rowid is its FTS5 row's (schema 5: the migration to 3 runs it before that step
    gives the rows the same rowid)."""
    for n, record in enumerate(records):
        if not isinstance(record, dict):
            continue
        keys = record_keys(record)
        text_rowid = conn.execute("INSERT INTO record_text(return_id, n, body) VALUES (?, ?, ?)",
                                  (return_id, n, keys.body)).lastrowid
        conn.execute(
            "INSERT OR REPLACE INTO record_index(rowid, return_id, n, received_at, message_id, "
            "file, hit, name, name_key, sound_key, dob, plate, vin, arn, nic, oln, text_rowid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (text_rowid, return_id, n, received_at, message_id, keys.file, int(keys.hit), keys.name,
             keys.name_key, keys.sound_key, keys.dob, keys.plate, keys.vin, keys.arn, keys.nic,
             keys.oln, text_rowid))
