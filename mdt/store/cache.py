"""The encrypted offline cache: SQLCipher 4 through ``sqlcipher3``. No Qt.

Threads: one :class:`Cache` is one connection, used on the one thread that opened it (sqlcipher3's
``check_same_thread`` stays on: a call from another thread raises a ``CacheBugError``). The app runs
a writer thread and a reader thread (:mod:`mdt.store.writer_thread`), each with its own ``Cache`` on
the same file; WAL lets the reader read while the writer writes. The raw 256-bit key comes from
:class:`~mdt.store.keys.KeyVault`. ``sqlite-utils`` is used on the already-keyed connection
(``sqlite_utils.Database(path)`` would open plain sqlite3 and fail on the encrypted file).

Stored: the messages sent (with their outbox state), every inbox event applied (with the cursor,
in the same transaction), the returns with their raw text and records, an index of the records'
identifiers and an FTS5 table for offline search, alerts, a meta table, and a hash-chained audit
log. Every SQLite failure leaves as a :class:`~mdt.store.errors.CacheError` sorted into
"environment" or "bug".
"""

from __future__ import annotations

import contextlib
import errno
import functools
import hashlib
import json
import os
import re
import shutil
import threading
import time
import urllib.parse
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be renamed there anyway
    fcntl = None  # type: ignore[assignment]

import jellyfish
import sqlcipher3
import sqlite_utils

from mdt.core.alerts import alerts_for_event
from mdt.core.clock import format_time, from_iso
from mdt.store.errors import (
    CacheBugError,
    CacheError,
    CacheIOError,
    CacheLockedError,
    CorruptCacheError,
    DiskFullError,
    NotADatabaseError,
    ReadOnlyCacheError,
    WrongKeyError,
)

SCHEMA_VERSION = 4

MESSAGE_STATES = frozenset({"queued", "sending", "accepted", "acknowledged", "answered", "status",
                            "failed", "cancelled", "unanswered"})
RETURN_EVENTS = ("response", "delayed_hit")
# meta keys the cache keeps for itself (set_meta refuses them)
RESERVED_META = frozenset({"inbox_cursor", "audit_anchor", "audit_anchor_n", "audit_head"})

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
        _index_records(conn, return_id, message_id, json.loads(records), received_at)


# Each step takes the schema from version N to N+1; index 0 creates version 1. A released step is
# never edited: add the next one (and keep a cache file of the old version in tests/data/caches).
MIGRATIONS: list[Callable[[Any], None]] = [_to_v1, _to_v2, _to_v3]


def _to_v4(conn: Any) -> None:
    """Quarantined inbox events (:mod:`mdt.store.quarantine`)."""
    from mdt.store.quarantine import SCHEMA_V4

    for statement in _statements(SCHEMA_V4):
        conn.execute(statement)


MIGRATIONS.append(_to_v4)


# -- normalising what is indexed and what is searched ---------------------------------------------
def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


def _split_name(name: str) -> tuple[str, str]:
    """``LAST, FIRST MIDDLE`` -> (``LAST``, ``FIRST MIDDLE``), upper case, single spaces."""
    last, _, rest = name.upper().partition(",")
    return " ".join(last.split()), " ".join(rest.split())


def normalize_name(name: str) -> str:
    last, rest = _split_name(name)
    return f"{last}, {rest}" if rest else last


def name_key(name: str) -> str:
    """How NCIC-style matching hears a name: Soundex of the last name (as NCIC's name search
    does) + the first initial."""
    last, rest = _split_name(name)
    letters = _letters(last)
    return f"{jellyfish.soundex(letters)}|{rest[:1]}" if letters else ""


def sound_key(name: str) -> str:
    """The second ear: NYSIIS of the last name (KNIGHT ~ NIGHT, which Soundex splits) + the first
    initial."""
    last, rest = _split_name(name)
    letters = _letters(last)
    return f"{jellyfish.nysiis(letters)}|{rest[:1]}" if letters else ""


def normalize_ident(value: str) -> str:
    """Plates, VINs, NICs, licence numbers: upper case, no spaces or dashes."""
    return re.sub(r"[\s\-]", "", value.upper())


def _digits_arn(value: str) -> str:
    """An alien registration number (``A123456789``, ``AR-123456789``, ``A-12345678``) as its
    nine digits; "" when it is not one."""
    value = normalize_ident(value)
    for prefix in ("AR", "A"):
        if value.startswith(prefix):
            value = value[len(prefix):]
            break
    return value.zfill(9) if value.isdigit() and 7 <= len(value) <= 9 else ""


_DATE_FORMS = [(re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), (1, 2, 3)),
               (re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b"), (3, 1, 2)),
               (re.compile(r"\b(\d{4})(\d{2})(\d{2})\b"), (1, 2, 3))]


def _find_date(text: str) -> tuple[str, str] | None:
    """The first date in ``text`` as (``YYYYMMDD``, the text it was written as)."""
    for pattern, (y, m, d) in _DATE_FORMS:
        match = pattern.search(text)
        if match and 1 <= int(match.group(m)) <= 12 and 1 <= int(match.group(d)) <= 31:
            return match.group(y) + match.group(m) + match.group(d), match.group(0)
    return None


def normalize_dob(value: str) -> str:
    found = _find_date(value.strip())
    return found[0] if found else value.strip().upper()


def _index_records(conn: Any, return_id: str, message_id: str | None,
                   records: list[dict[str, Any]], received_at: str) -> None:
    """Index one return's records (schema 3 and later) for :meth:`Cache.search`."""
    for n, record in enumerate(records):
        if not isinstance(record, dict):
            continue
        fields = {str(k).upper(): str(v).strip().upper()
                  for k, v in (record.get("fields") or {}).items() if v is not None}
        name = normalize_name(fields.get("NAM", ""))
        mnu = fields.get("MNU", "")
        arn = _digits_arn(fields.get("ARN", "")) or (
            _digits_arn(mnu) if normalize_ident(mnu).startswith("AR") else "")
        nic = normalize_ident(str(record.get("nic") or fields.get("NIC") or ""))
        narrative = record.get("narrative") or []
        body = " ".join([str(record.get("file") or ""), *(f"{k} {v}" for k, v in fields.items()),
                         *(str(c) for c in record.get("caveats") or []),
                         *(str(n) for n in (narrative if isinstance(narrative, list) else []))])
        text_rowid = conn.execute("INSERT INTO record_text(return_id, n, body) VALUES (?, ?, ?)",
                                  (return_id, n, body)).lastrowid
        conn.execute(
            "INSERT OR REPLACE INTO record_index(return_id, n, received_at, message_id, file, hit, "
            "name, name_key, sound_key, dob, plate, vin, arn, nic, oln, text_rowid) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (return_id, n, received_at, message_id, str(record.get("file") or ""),
             int(bool(record.get("hit"))), name or None, name_key(name) or None,
             sound_key(name) or None, normalize_dob(fields["DOB"]) if fields.get("DOB") else None,
             normalize_ident(fields.get("LIC", "")) or None,
             normalize_ident(fields.get("VIN", "")) or None, arn or None, nic or None,
             normalize_ident(fields.get("OLN", "")) or None, text_rowid))


GENESIS = "0" * 64


def utc_now() -> str:
    return format_time(datetime.now(UTC), "milliseconds")


def _iso_us(moment: datetime) -> str:
    return format_time(moment, "microseconds")


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


@dataclass
class SearchHit:
    """One cached record that matches a search, with how it matched and where it came from."""

    return_id: str
    record: int
    rank: int  # 0 exact identifier, 1 exact name / date of birth, 2 sounds alike, 3 free text
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


# SQLite's primary result codes (https://sqlite.org/rescode.html): the low byte of the extended
# code sqlcipher3 puts on every error it raises.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_READONLY = 5, 6, 7, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 10, 11, 13, 14
SQLITE_NOTADB = 26


def disk_is_full(path: Path) -> bool:
    """Is the file system holding ``path`` out of space (or of inodes)? SQLite reports a full
    disk met while growing the -shm or the WAL as an I/O error, not as SQLITE_FULL."""
    folder = path if path.is_dir() else path.parent
    try:
        stat = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs (Windows) or no folder: not known to be full
        return False
    return stat.f_bavail * stat.f_frsize < 64 * 1024 or (stat.f_files > 0 and stat.f_favail == 0)


def drive_is_read_only(path: Path) -> bool:
    """Is the file system holding ``path`` mounted read-only?"""
    folder = path if path.is_dir() else path.parent
    try:
        return bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except (OSError, AttributeError):
        return False


def _read_only_drive(path: Path) -> ReadOnlyCacheError:
    return ReadOnlyCacheError(f"The drive holding the cache ({path.parent}) is read-only: MDT can "
                              "show what is cached but cannot save. Check the drive.")


def classify_os_error(exc: OSError, path: Path) -> CacheError:
    """An OSError met on the cache's files (not through SQLite), sorted by its errno."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError()
    if exc.errno == errno.EROFS:
        return _read_only_drive(path)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ReadOnlyCacheError(f"MDT may not write the cache file {path} (permissions): it can "
                                  "show what is cached but cannot save. Check the file's owner and "
                                  "permissions.")
    if exc.errno == errno.ENOENT:
        return CacheError(f"The cache folder {path.parent} is missing.")
    return CacheIOError()


def _classify(exc: Exception, path: Path) -> CacheError:
    """Sort a SQLCipher failure, by its SQLite result code, into the error a person can act on
    ("environment") or a bug."""
    if isinstance(exc, OSError):
        return classify_os_error(exc, path)
    code = getattr(exc, "sqlite_errorcode", None)
    if not isinstance(code, int):  # sqlcipher3 raises ProgrammingError itself, without a code
        if isinstance(exc, sqlcipher3.ProgrammingError) and "thread" in str(exc).lower():
            return CacheBugError("MDT used its cache from a thread that did not open it (a bug). "
                                 "Please report it.")
        return CacheBugError()
    primary = code & 0xFF
    if primary == SQLITE_NOTADB:
        return WrongKeyError()
    if primary == SQLITE_CORRUPT:
        return CorruptCacheError()
    if primary in (SQLITE_BUSY, SQLITE_LOCKED):
        return CacheLockedError()
    if primary == SQLITE_FULL:
        return DiskFullError()
    if primary == SQLITE_READONLY:
        if drive_is_read_only(path):
            return _read_only_drive(path)
        return ReadOnlyCacheError(f"The cache file {path} is read-only: MDT can show what is cached "
                                  "but cannot save to it. Check the file's permissions.")
    if primary in (SQLITE_IOERR, SQLITE_CANTOPEN) and drive_is_read_only(path):
        return _read_only_drive(path)  # the -shm or the WAL cannot be made there
    if primary == SQLITE_IOERR:
        return DiskFullError() if disk_is_full(path) else CacheIOError()
    if primary == SQLITE_CANTOPEN:
        if disk_is_full(path):
            return DiskFullError()
        return CacheError(f"The cache file {path} cannot be opened (check the folder and its "
                          "permissions).")
    if primary == SQLITE_NOMEM:
        return CacheError("The computer ran out of memory while using the cache. Close other "
                          "programs, then try again.")
    return CacheBugError()


def damage_marker(path: Path) -> Path:
    """A flag file next to a cache found damaged while open: the next open moves it aside."""
    return path.with_name(path.name + ".damaged")


# Every connection to a cache holds a shared OS lock on ``<cache>.lock`` while it is open (POSIX
# flock: another MDT window, a CLI command, the app's own reader). Setting a damaged cache aside
# takes it exclusively, without waiting: a file that another program still has open is never
# renamed under it (its SQLite would then use the new file's -wal and -shm with its old file).
# Windows cannot rename an open file at all, so there is nothing to add there.
def _lock_path(path: Path) -> Path:
    return path.with_name(path.name + ".lock")


class _FileLock:
    def __init__(self, path: Path, *, exclusive: bool) -> None:
        self.fd: int | None = None
        if fcntl is None:
            return
        try:
            fd = os.open(_lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
        except OSError:
            try:  # a read-only drive (where nothing can be renamed anyway) or a full one
                fd = os.open(_lock_path(path), os.O_RDONLY)
            except OSError:
                return
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB if exclusive else fcntl.LOCK_SH)
        except OSError:
            os.close(fd)
            raise CacheLockedError(
                "The cache is open in another MDT window or program, so it was not set aside "
                "although it is damaged: close the other one, then sign in again.") from None
        self.fd = fd

    def release(self) -> None:
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None


def move_aside(path: Path) -> Path:
    """Rename a damaged cache (and its -wal / -shm) out of the way, keeping it for inspection.
    Refused (CacheLockedError, nothing moved) while any connection, in any process, has it
    open: close every Cache on it first."""
    lock = _FileLock(path, exclusive=True)
    try:
        return _move_aside(path)
    finally:
        lock.release()


def _move_aside(path: Path) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = path.with_name(f"{path.name}.damaged-{stamp}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.name}.damaged-{stamp}-{n}")
    for suffix in ("", "-wal", "-shm"):
        source = Path(str(path) + suffix)
        if source.exists():
            shutil.move(str(source), str(target) + suffix)
    damage_marker(path).unlink(missing_ok=True)
    return target


def damaged_copies(path: Path) -> list[tuple[Path, datetime]]:
    """The damaged caches set aside next to ``path`` (:func:`move_aside`), with when."""
    found = []
    for copy in path.parent.glob(f"{path.name}.damaged-*"):
        if copy.name.endswith(("-wal", "-shm")):
            continue
        stamp = copy.name[len(path.name) + len(".damaged-"):][:16]
        try:
            found.append((copy, datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)))
        except ValueError:
            continue
    return sorted(found, key=lambda item: item[1])


# Paths with a connection open in this process. Python must never open and close a cache file
# that SQLite has open here: closing any descriptor of a file drops every POSIX lock the process
# holds on it, SQLite's too, and another process could then checkpoint and delete the live WAL.
_OPEN_HERE: dict[str, int] = {}
_OPEN_HERE_LOCK = threading.Lock()


def _opened_here(path: Path, delta: int) -> int:
    """Count a connection to ``path`` in this process in (+1) or out (-1); the count before."""
    key = str(path.resolve())
    with _OPEN_HERE_LOCK:
        before = _OPEN_HERE.get(key, 0)
        after = before + delta
        if after > 0:
            _OPEN_HERE[key] = after
        else:
            _OPEN_HERE.pop(key, None)
        return before


def _sniff(path: Path) -> None:
    """Refuse, before SQLCipher touches it, a file that cannot be an encrypted cache. An encrypted
    file is whole pages of bytes that look random; a wrong key and a file that is someone else's
    encrypted data cannot be told apart (both are a WrongKeyError)."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head.startswith(b"SQLite format 3\x00"):
        raise NotADatabaseError("The cache file is a plain, unencrypted database; MDT will not "
                                "use it. Nothing was changed.")
    if size < 512 or size % 512 or len(zlib.compress(head, 6)) < len(head) * 0.95:
        raise NotADatabaseError()


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{urllib.parse.quote(str(path.resolve()))}?{query}"


def _probe_key(path: Path, key: bytes) -> None:
    """Check ``key`` on page 1 of the main file alone, read-only, before a real open. Used when a
    -wal file is present (after a crash, or while another connection writes): SQLite opens a hot
    WAL before the key is checked and, on close, checkpoints it into the file, so even a wrong key
    would change the file (not lose data, but change it). ``immutable=1`` makes SQLite ignore the
    WAL and take no locks, so the probe reads the file as it is and writes nothing anywhere. A page
    1 caught mid-checkpoint by another connection is read again before giving up."""
    failure: CacheError | None = None
    for attempt in range(3):
        try:
            conn = sqlcipher3.connect(_uri(path, mode="ro", immutable="1"), uri=True,
                                      isolation_level=None)
        except sqlcipher3.Error as exc:
            raise _classify(exc, path) from exc
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            conn.execute("PRAGMA cipher_compatibility = 4")
            conn.execute("PRAGMA user_version").fetchone()  # decrypts and checks page 1
            return
        except sqlcipher3.DatabaseError as exc:
            failure = _classify(exc, path)
            failure.__cause__ = exc
        finally:
            conn.close()
        time.sleep(0.02 * (attempt + 1))
    assert failure is not None
    raise failure


def _connect(path: Path, key: bytes, *, new: bool, read_only: bool,
             fallback: bool = False) -> Any:
    """One keyed SQLCipher connection with MDT's settings; errors sorted. ``fallback``: the
    drive cannot be written, so open without creating the -shm (a WAL holding nothing yet is
    ignored; one holding commits is read through a read-only connection)."""
    if fallback:
        wal = Path(str(path) + "-wal")
        hot = wal.exists() and wal.stat().st_size > 0
        target, uri = _uri(path, mode="ro") if hot else _uri(path, mode="ro", immutable="1"), True
    elif read_only:
        target, uri = _uri(path, mode="ro"), True
    else:
        target, uri = str(path), False
    try:
        conn = sqlcipher3.connect(target, timeout=5.0, isolation_level=None,
                                  check_same_thread=True, uri=uri)
    except sqlcipher3.Error as exc:
        raise _classify(exc, path) from exc
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # no page details on stderr
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")  # a raw key: no KDF on open
        conn.execute("PRAGMA cipher_compatibility = 4")  # SQLCipher 4 settings, pinned
        conn.execute("PRAGMA cipher_memory_security = OFF")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # verifies the key
        conn.execute("PRAGMA temp_store = MEMORY")  # no temporary files on disk
        conn.execute("PRAGMA cache_size = -65536")  # 64 MiB: fewer pages to decrypt again
        if read_only or fallback:
            conn.execute("PRAGMA query_only = ON")
            return conn
        if new:  # before the first table: freed pages can go back to the disk
            conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA secure_delete = ON")
        # FULL: every commit is on the disk before MDT says so ("Queued" survives a power cut,
        # not only a kill); NORMAL would sync only at checkpoints. Cost: benchmarks/kill9.py.
        conn.execute("PRAGMA synchronous = FULL")
    except sqlcipher3.Error as exc:
        conn.close()
        raise _classify(exc, path) from exc
    return conn


def _audit_hash(prev_hash: str, row: dict[str, Any]) -> str:
    body = json.dumps({k: row[k] for k in ("id", "at", "action", "outcome", "who", "source",
                                           "device", "detail")}, sort_keys=True)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


P = ParamSpec("P")
R = TypeVar("R")


def _sorted_errors(method: Callable[Concatenate[Cache, P], R]) -> Callable[Concatenate[Cache, P], R]:
    """Turn any SQLCipher failure inside a public method into a sorted CacheError."""

    @functools.wraps(method)
    def wrapper(self: Cache, *args: P.args, **kwargs: P.kwargs) -> R:
        if self.write_blocked is not None:
            self._reconnect()
        try:
            return method(self, *args, **kwargs)
        except sqlcipher3.Error as exc:
            raise self._fail(exc) from exc

    return wrapper


class Cache:
    """One connection to one encrypted cache file, for use on one thread (see the module doc)."""

    def __init__(self, conn: Any, path: Path, *, key: bytes = b"", read_only: bool = False,
                 write_blocked: CacheError | None = None) -> None:
        self._conn = conn
        self.path = path
        self._key = key
        self.read_only = read_only
        self.write_blocked = write_blocked  # why writing fails now (a full disk ...), or None
        self._reconnect_tried = time.monotonic()
        self._lock: _FileLock | None = None  # the shared lock of an open cache (Cache.open)
        self._counted = False  # counted in _OPEN_HERE
        # sqlite-utils on the keyed connection, for introspection and ad-hoc reads (tools,
        # tests); writes go through explicit transactions below.
        self.db = sqlite_utils.Database(conn)

    # -- opening ---------------------------------------------------------------------------------
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
        path = Path(path)
        if len(key) != 32:
            raise WrongKeyError("The cache key must be 256 bits.")
        try:
            exists = path.exists() and path.stat().st_size > 0
            if damage_marker(path).exists() and not exists:
                damage_marker(path).unlink()  # the damaged file is gone already
            if damage_marker(path).exists():
                moved = move_aside(path)
                raise CorruptCacheError(
                    f"The cache was found damaged. It was moved aside to {moved.name} (nothing "
                    "was overwritten).", moved_to=moved)
            if not exists and not create:
                raise CacheError(f"There is no cache at {path}.")
            probed = False
            if exists:
                if not _OPEN_HERE.get(str(path.resolve())):  # (sniffed when first opened)
                    _sniff(path)
                wal = Path(str(path) + "-wal")
                if wal.exists() and wal.stat().st_size > 0:
                    _probe_key(path, key)
                    probed = True
            else:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                # Owner-only from the first byte; SQLite gives the -wal and -shm the same mode.
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
                os.chmod(path, 0o600)
        except OSError as exc:
            raise classify_os_error(exc, path) from exc
        blocked: CacheError | None = None
        lock = _FileLock(path, exclusive=False)
        try:
            conn = _connect(path, key, new=not exists, read_only=read_only)
        except CacheError as error:
            lock.release()
            if isinstance(error, CorruptCacheError | WrongKeyError) and exists:
                if isinstance(error, WrongKeyError) and not probed:
                    raise  # a wrong key and a file that is not ours look alike; nothing changed
                # The key opened page 1, so what fails now is damage (a WAL frame, the schema).
                moved = move_aside(path)
                raise CorruptCacheError(
                    f"The cache is damaged. It was moved aside to {moved.name} (nothing was "
                    "overwritten).", moved_to=moved) from error
            if not exists or not isinstance(error, DiskFullError | ReadOnlyCacheError
                                            | CacheIOError):
                raise
            blocked = error  # cannot write here: still show what is cached
            lock = _FileLock(path, exclusive=False)
            try:
                conn = _connect(path, key, new=False, read_only=True, fallback=True)
            except BaseException:
                lock.release()
                raise
        cache = cls(conn, path, key=key, read_only=read_only, write_blocked=blocked)
        cache._lock = lock
        _opened_here(path, +1)
        cache._counted = True
        if blocked is not None:
            if int(cache._one("PRAGMA user_version") or 0) < SCHEMA_VERSION:
                cache.close()
                raise blocked  # an upgrade must write first
            return cache
        try:
            cache._migrate()
        except CorruptCacheError as exc:
            cache.close()
            moved = move_aside(path)
            raise CorruptCacheError(
                f"The cache is damaged. It was moved aside to {moved.name} (nothing was "
                "overwritten).", moved_to=moved) from exc
        except BaseException:
            cache.close()
            raise
        return cache

    def _reconnect(self) -> None:
        """A cache opened on a drive that could not be written reads through a fallback
        connection that does not see later commits; once the drive takes writes again (tried at
        most once a second) it gets its normal connection back."""
        if isinstance(self.write_blocked, DiskFullError):
            if disk_is_full(self.path):  # one statvfs: no connection tried while still full
                return
        else:
            now = time.monotonic()
            if now - self._reconnect_tried < 1.0:
                return
            self._reconnect_tried = now
        try:
            conn = _connect(self.path, self._key, new=False, read_only=self.read_only)
        except CacheError:
            return
        self._conn.close()
        self._conn = conn
        self.db = sqlite_utils.Database(conn)
        self.write_blocked = None

    def _writable(self) -> None:
        """Before a write: a cache opened read-only because writing failed tries to write again
        (space freed, the drive remounted); still blocked, it raises the reason."""
        if self.read_only:
            raise CacheBugError("MDT tried to write through its read-only cache connection (a "
                                "bug). Please report it.")
        if self.write_blocked is None:
            return
        try:
            conn = _connect(self.path, self._key, new=False, read_only=False)
        except CacheError as error:
            if isinstance(error, DiskFullError | ReadOnlyCacheError | CacheIOError):
                self.write_blocked = error
            raise self.write_blocked from None
        self._conn.close()
        self._conn = conn
        self.db = sqlite_utils.Database(conn)
        self.write_blocked = None

    def _migrate(self) -> None:
        version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
        if version > SCHEMA_VERSION:
            raise CacheError(f"This cache was written by a newer MDT (schema {version}); "
                             "update MDT to open it.")
        while version < SCHEMA_VERSION:
            step = MIGRATIONS[version]
            try:
                self._conn.execute("BEGIN IMMEDIATE")
                step(self._conn)
                version += 1
                self._conn.execute(f"PRAGMA user_version = {version}")
                self._conn.execute("COMMIT")
            except sqlcipher3.Error as exc:
                if self._conn.in_transaction:
                    self._conn.execute("ROLLBACK")
                raise _classify(exc, self.path) from exc

    def schema_version(self) -> int:
        return int(self._one("PRAGMA user_version"))

    def close(self) -> None:
        self._conn.close()
        if self._counted:
            _opened_here(self.path, -1)
            self._counted = False
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> Cache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _fail(self, exc: Exception) -> CacheError:
        error = _classify(exc, self.path)
        if isinstance(error, CorruptCacheError):
            # Cannot move an open file aside: flag it, so the next open does.
            with contextlib.suppress(OSError):
                damage_marker(self.path).touch()
            error = CorruptCacheError(
                "The cache is damaged. Sign out and in again: MDT will then set the damaged file "
                "aside, keep what can still be read from it, and start a new cache.")
        return error

    def _tx(self) -> _Transaction:
        return _Transaction(self)

    def _one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        row = self._conn.execute(sql, params).fetchone()
        return row[0] if row else None

    # -- meta ------------------------------------------------------------------------------------
    @_sorted_errors
    def get_meta(self, key: str, default: str | None = None) -> str | None:
        value = self._one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else str(value)

    @_sorted_errors
    def set_meta(self, key: str, value: str) -> None:
        if key in RESERVED_META:
            raise ValueError(f"meta key {key!r} is kept by the cache itself")
        with self._tx():
            self._put_meta(key, value)

    def _put_meta(self, key: str, value: str) -> None:
        self._conn.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) "
                           "DO UPDATE SET value = excluded.value", (key, value))

    # -- messages and the outbox -----------------------------------------------------------------
    @_sorted_errors
    def add_outgoing(self, message: dict[str, Any]) -> None:
        """Queue a protocol message (state ``queued``); the same id again changes nothing."""
        with self._tx():
            seq = int(self._one("SELECT coalesce(max(seq), 0) + 1 FROM messages"))
            self._conn.execute(
                "INSERT OR IGNORE INTO messages(id, mke, dest, fields, text, purpose, created_at, "
                "seq, state, state_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'queued', ?)",
                (str(message["id"]), str(message["mke"]), json.dumps(message.get("dest") or []),
                 json.dumps(message.get("fields") or {}), str(message.get("text") or ""),
                 message.get("purpose"), str(message.get("created_at") or utc_now()), seq,
                 utc_now()))

    _MESSAGE_KEYS = ("id", "mke", "dest", "fields", "text", "purpose", "created_at", "state",
                     "state_detail", "state_at", "sent_at", "accepted_at")
    _MESSAGE_COLUMNS = ", ".join(_MESSAGE_KEYS)

    @classmethod
    def _message(cls, row: Any) -> dict[str, Any]:
        message = dict(zip(cls._MESSAGE_KEYS, row, strict=True))
        message["dest"] = json.loads(message["dest"])
        message["fields"] = json.loads(message["fields"])
        return message

    @_sorted_errors
    def outbox(self) -> list[dict[str, Any]]:
        """Messages still queued, oldest first."""
        rows = self._conn.execute(
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages WHERE state = 'queued' ORDER BY seq")
        return [self._message(r) for r in rows]

    @_sorted_errors
    def set_message_state(self, message_id: str, state: str, detail: str | None = None,
                          at: str | None = None) -> None:
        """Move a message to ``state`` (one of :data:`MESSAGE_STATES`); ``at`` is when (now by
        default). ``sending`` / ``accepted`` also set ``sent_at``; ``accepted`` sets
        ``accepted_at``."""
        if state not in MESSAGE_STATES:
            raise ValueError(f"unknown message state {state!r}")
        with self._tx():
            self._set_state(message_id, state, detail, at)

    def _set_state(self, message_id: str, state: str, detail: str | None,
                   at: str | None = None) -> None:
        when = at or utc_now()
        self._conn.execute(
            "UPDATE messages SET state = ?, state_detail = ?, state_at = ?, "
            "sent_at = CASE WHEN ? IN ('sending', 'accepted') THEN coalesce(sent_at, ?) "
            "ELSE sent_at END, "
            "accepted_at = CASE WHEN ? = 'accepted' THEN ? ELSE accepted_at END WHERE id = ?",
            (state, detail, when, state, when, state, when, message_id))

    @_sorted_errors
    def cancel_message(self, message_id: str) -> bool:
        """Cancel a message that is still queued; False once it has gone (or is unknown)."""
        with self._tx():
            cur = self._conn.execute(
                "UPDATE messages SET state = 'cancelled', state_detail = NULL, state_at = ? "
                "WHERE id = ? AND state = 'queued'", (utc_now(), message_id))
            return bool(cur.rowcount)

    @_sorted_errors
    def get_message(self, message_id: str) -> dict[str, Any] | None:
        row = self._conn.execute(
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages WHERE id = ?", (message_id,)).fetchone()
        return self._message(row) if row else None

    @_sorted_errors
    def list_messages(self, limit: int = 100) -> list[dict[str, Any]]:
        """Messages sent or queued, newest first."""
        rows = self._conn.execute(
            f"SELECT {self._MESSAGE_COLUMNS} FROM messages ORDER BY seq DESC LIMIT ?", (limit,))
        return [self._message(r) for r in rows]

    # -- the inbox -------------------------------------------------------------------------------
    @_sorted_errors
    def inbox_cursor(self) -> int:
        """The highest inbox seq durably applied (0 at the start)."""
        return int(self.get_meta("inbox_cursor", "0") or 0)

    @_sorted_errors
    def apply_event(self, event: dict[str, Any]) -> bool:
        """Apply one inbox event in ONE transaction: the raw event, its effects and the cursor
        (max(cursor, seq)). An event id already applied changes nothing and returns False."""
        with self._tx():
            return self._apply_event(event)

    def _apply_event(self, event: dict[str, Any], received_at: str | None = None) -> bool:
        """Inside a transaction: :meth:`apply_event`; ``received_at`` keeps an older arrival
        time (a salvaged event keeps its age for retention)."""
        event_id, seq, kind = str(event["id"]), int(event["seq"]), str(event["type"])
        if self._one("SELECT 1 FROM events WHERE id = ?", (event_id,)):
            self._advance_cursor(seq)
            return False
        reply_to = event.get("in_reply_to")
        received = received_at or self._received_now()
        self._conn.execute(
            "INSERT INTO events(id, seq, type, created_at, in_reply_to, body, applied_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (event_id, seq, kind, event.get("created_at"), reply_to, json.dumps(event),
             received))
        for alert in alerts_for_event(event):  # raised with the event, never without it
            self._insert_alert({**alert.to_row(),
                                "created_at": event.get("created_at") or received})
        if kind in RETURN_EVENTS:
            records = [r for r in event.get("records") or [] if isinstance(r, dict)]
            part, parts = int(event.get("part") or 1), int(event.get("parts") or 1)
            self._conn.execute(
                "INSERT INTO returns(id, message_id, mke, source, text, records, hit, part, "
                "parts, received_at, seq) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (event_id, reply_to, str(event.get("mke") or ""),
                 str(event.get("source") or ""), str(event.get("text") or ""),
                 json.dumps(records), int(any(bool(r.get("hit")) for r in records)), part,
                 parts, received, seq))
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

    @_sorted_errors
    def restore(self, *, messages: list[tuple[Any, ...]], alerts: list[tuple[Any, ...]],
                audit: list[tuple[Any, ...]], meta: list[tuple[str, str]],
                events: list[tuple[dict[str, Any], str]]) -> None:
        """Fill this new cache, in one transaction, with what was salvaged from a damaged one
        (:mod:`mdt.store.salvage`): queries, alerts (acknowledgements kept), unshipped audit
        records (re-chained here, same ids), meta, and the events (re-applied with their arrival
        times). The inbox cursor is left at 0, so the gateway sends again what it holds."""
        with self._tx():
            for n, row in enumerate(messages, 1):
                values = dict(zip(self._MESSAGE_KEYS, row, strict=True))
                names = [*values, "seq"]
                self._conn.execute(
                    f"INSERT OR IGNORE INTO messages({', '.join(names)}) "
                    f"VALUES ({', '.join('?' * len(names))})", (*values.values(), n))
            for row in alerts:
                self._conn.execute(
                    "INSERT OR IGNORE INTO alerts(id, kind, severity, title, body, event_id, "
                    "message_id, deadline, created_at, acked_by, acked_at, ack_note) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", row)
            for key, value in meta:
                self._put_meta(str(key), str(value))
            for event, applied_at in events:
                try:
                    self._apply_event(event, received_at=applied_at)
                except (KeyError, TypeError, ValueError):
                    continue  # an event this version cannot apply stays in the damaged copy
            for row in audit:
                self._append_audit(*row[2:4], who=row[4], source=row[5], device=row[6],
                                   detail=row[7], record_id=row[0], at=row[1])
            self._conn.execute("DELETE FROM meta WHERE key = 'inbox_cursor'")

    def _received_now(self) -> str:
        """Now, to the microsecond, and always after the return stored last: newest first is
        the order things arrived in, even for a burst within one millisecond."""
        now = datetime.now(UTC)
        last = self._one("SELECT max(received_at) FROM returns")
        if last:
            before = from_iso(str(last))
            now = max(now, before + timedelta(microseconds=1))
        return _iso_us(now)

    def _advance_cursor(self, seq: int) -> None:
        self._conn.execute(
            "INSERT INTO meta(key, value) VALUES ('inbox_cursor', ?) ON CONFLICT(key) DO UPDATE "
            "SET value = CAST(max(CAST(value AS INTEGER), CAST(excluded.value AS INTEGER)) AS TEXT)",
            (str(seq),))

    @_sorted_errors
    def list_events(self, types: tuple[str, ...] | None = None,
                    limit: int = 200) -> list[dict[str, Any]]:
        """Raw events as received (alerts and other types kept for later), newest first."""
        where = f"WHERE type IN ({', '.join('?' * len(types))})" if types else ""
        rows = self._conn.execute(f"SELECT body FROM events {where} ORDER BY seq DESC LIMIT ?",
                                  (*(types or ()), limit))
        return [json.loads(r[0]) for r in rows]

    # -- returns ---------------------------------------------------------------------------------
    _RETURN_COLUMNS = ("id, message_id, mke, source, text, records, hit, part, parts, "
                       "received_at, seq")

    def _return(self, row: Any) -> StoredReturn:
        (rid, message_id, mke, source, text, records, hit, part, parts, received_at, seq) = row
        query = self.get_message(message_id) if message_id else None
        return StoredReturn(id=rid, message_id=message_id, mke=mke or "", source=source or "",
                            text=text, records=json.loads(records), hit=bool(hit), part=part,
                            parts=parts, received_at=received_at, query=query, seq=int(seq or 0))

    @_sorted_errors
    def list_returns(self, limit: int = 50,
                     before: StoredReturn | str | None = None) -> list[StoredReturn]:
        """Returns newest first. Keyset paging: pass the last one you have (or its id) as
        ``before`` for the next page; an id no longer cached gives an empty page."""
        if before is None:
            rows = self._conn.execute(
                f"SELECT {self._RETURN_COLUMNS} FROM returns "
                "ORDER BY received_at DESC, seq DESC, id DESC LIMIT ?", (limit,)).fetchall()
        else:
            key = ((before.received_at, before.seq, before.id) if isinstance(before, StoredReturn)
                   else self._conn.execute("SELECT received_at, seq, id FROM returns WHERE id = ?",
                                           (before,)).fetchone())
            if key is None:
                return []
            rows = self._conn.execute(
                f"SELECT {self._RETURN_COLUMNS} FROM returns WHERE (received_at, seq, id) < "
                "(?, ?, ?) ORDER BY received_at DESC, seq DESC, id DESC LIMIT ?",
                (*key, limit)).fetchall()
        return [self._return(r) for r in rows]

    @_sorted_errors
    def get_return(self, return_id: str) -> StoredReturn | None:
        row = self._conn.execute(
            f"SELECT {self._RETURN_COLUMNS} FROM returns WHERE id = ?", (return_id,)).fetchone()
        return self._return(row) if row else None

    # -- alerts ----------------------------------------------------------------------------------
    @_sorted_errors
    def add_alert(self, alert: dict[str, Any]) -> bool:
        """Keep an alert (hit, detainer, hit confirmation ...); the same id twice is one alert."""
        with self._tx():
            return self._insert_alert(alert)

    def _insert_alert(self, alert: dict[str, Any]) -> bool:
        cur = self._conn.execute(
            "INSERT OR IGNORE INTO alerts(id, kind, severity, title, body, event_id, "
            "message_id, deadline, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (str(alert["id"]), str(alert["kind"]), str(alert["severity"]),
             str(alert["title"]), json.dumps(alert.get("body") or {}), alert.get("event_id"),
             alert.get("message_id"), alert.get("deadline"),
             str(alert.get("created_at") or utc_now())))
        return bool(cur.rowcount)

    @_sorted_errors
    def ack_alert(self, alert_id: str, who: str, note: str = "", device: str = "") -> bool:
        """Record who acknowledged an alert and when, in the alert and in the audit log, at once."""
        with self._tx():
            cur = self._conn.execute(
                "UPDATE alerts SET acked_by = ?, acked_at = ?, ack_note = ? "
                "WHERE id = ? AND acked_at IS NULL", (who, utc_now(), note, alert_id))
            if cur.rowcount:
                kind, event_id = self._conn.execute(
                    "SELECT kind, event_id FROM alerts WHERE id = ?", (alert_id,)).fetchone()
                # The kind and the event let a trainer's debrief tie the acknowledgement to
                # what the switch sent, without any record data in the detail.
                detail = f"alert {alert_id} kind {kind} event {event_id or '-'}"
                self._append_audit("alert-ack", "success", who=who, source="client",
                                   device=device, detail=f"{detail} {note}".strip())
            return bool(cur.rowcount)

    @_sorted_errors
    def get_alert(self, alert_id: str) -> dict[str, Any] | None:
        found = self._alerts("WHERE id = ?", (alert_id,), 1)
        return found[0] if found else None

    @_sorted_errors
    def list_alerts(self, *, open_only: bool = False, limit: int = 200) -> list[dict[str, Any]]:
        """Open alerts first (soonest deadline first), then the acknowledged ones."""
        return self._alerts("WHERE acked_at IS NULL" if open_only else "", (), limit)

    @_sorted_errors
    def confirmation_traffic(self, limit: int = 2000
                             ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """What hit confirmation needs, both directions: my YQ and YR messages (oldest first)
        and the events about them (the switch's acks of my YQs, YRs to me, YQs to my agency)."""
        columns = self._MESSAGE_COLUMNS
        messages = [self._message(r) for r in self._conn.execute(
            f"SELECT {columns} FROM messages WHERE mke IN ('YQ', 'YR') ORDER BY seq LIMIT ?",
            (limit,))]
        rows = self._conn.execute(
            "SELECT body FROM events WHERE type IN ('hit_confirmation_request', "
            "'hit_confirmation_response') OR (type = 'ack' AND in_reply_to IN "
            "(SELECT id FROM messages WHERE mke = 'YQ')) ORDER BY seq LIMIT ?", (limit,))
        return messages, [json.loads(r[0]) for r in rows]

    def _alerts(self, where: str, params: tuple[Any, ...], limit: int) -> list[dict[str, Any]]:
        columns = ("id", "kind", "severity", "title", "body", "event_id", "message_id",
                   "deadline", "created_at", "acked_by", "acked_at", "ack_note")
        rows = self._conn.execute(
            f"SELECT {', '.join(columns)} FROM alerts {where} "
            "ORDER BY acked_at IS NOT NULL, acked_at DESC, coalesce(deadline, created_at), "
            "created_at LIMIT ?", (*params, limit))
        alerts = []
        for row in rows:
            alert = dict(zip(columns, row, strict=True))
            alert["body"] = json.loads(alert["body"])
            alerts.append(alert)
        return alerts

    # -- offline search --------------------------------------------------------------------------
    @_sorted_errors
    def search(self, query: str, limit: int = 50, after: SearchCursor | None = None
               ) -> tuple[list[SearchHit], SearchCursor | None]:
        """Cached records matching ``query``: a plate, VIN, NIC, A-number (``A…``, ``AR-…``), OLN,
        a name (``LAST, FIRST`` — also names that sound alike, by Soundex or NYSIIS), a date of
        birth (``YYYYMMDD``, ``YYYY-MM-DD``, ``MM/DD/YYYY``; with a name it narrows it), or any
        words (FTS5). Exact identifiers first (rank 0), then the exact name or date of birth (1),
        then sound-alikes (2), then free text (3); newest first within each rank. Keyset-paged:
        pass the returned cursor as ``after``; it is None on the last page."""
        text = " ".join(query.upper().split())
        if not text or limit < 1:
            return [], None
        found = _find_date(text)
        dob = found[0] if found else None
        rest = text.replace(found[1], " ").strip(" ,") if found else text
        name = normalize_name(rest) if "," in text and rest else ""
        ident = normalize_ident(text)
        arn = _digits_arn(text)
        tokens = re.findall(r"[^\W_]+", text)
        last, given = _split_name(name)
        prefix = (f"{name} " if given else f"{last}, ") if name else ""
        skey, nkey = (name_key(name), sound_key(name)) if name else ("", "")
        params: dict[str, Any] = {
            "ident": ident or None, "arn": arn or None, "name": name or None,
            "name_lo": prefix, "name_hi": prefix + "\U0010ffff", "dob": dob,
            "skey": skey or None, "skey_hi": skey + "\U0010ffff",
            "nkey": nkey or None, "nkey_hi": nkey + "\U0010ffff",
            "fetch": limit + 1}
        # (rank, how, condition on record_index); a record is listed under its best rank only.
        branches: list[tuple[int, str, str]] = []
        if not name and ident:
            branches += [(0, "plate", "plate = :ident"), (0, "VIN", "vin = :ident"),
                         (0, "NIC", "nic = :ident"), (0, "licence number", "oln = :ident")]
            if arn:
                branches.append((0, "A-number", "arn = :arn"))
        exact_name = "(name = :name OR (name >= :name_lo AND name < :name_hi))"
        with_dob = "(:dob IS NULL OR dob = :dob)"
        if name:
            branches.append((1, "name", f"{exact_name} AND {with_dob}"))
            # A last name alone ("KOLVEX,") sounds like every first name.
            sounds = [("name_key = :skey", "name_key >= :skey AND name_key < :skey_hi"),
                      ("sound_key = :nkey", "sound_key >= :nkey AND sound_key < :nkey_hi")]
            for full, partial in sounds:
                if skey:
                    branches.append((2, "sounds like", f"{full if given else partial} AND "
                                                       f"{with_dob}"))
        elif dob:
            branches.append((1, "date of birth", "dob = :dob"))

        def better(rank: int) -> str:
            conds = [f"({cond})" for r, _, cond in branches if r < rank]
            return f" AND NOT coalesce({' OR '.join(conds)}, 0)" if conds else ""

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

        # Each branch brings at most one page (+1, to know whether there is more), newest first,
        # from its own index, so a common name costs a page, not every record that sounds like it.
        selects = [
            f"SELECT * FROM (SELECT {rank} AS rank, return_id, n, '{how}' AS how, received_at "
            f"FROM record_index WHERE {cond}{better(rank)} AND {keyset(rank)} "
            "ORDER BY received_at DESC, return_id, n LIMIT :fetch)"
            for rank, how, cond in branches if keyset(rank) != "0"]
        fts = "" if name else " ".join(f'"{t}"' for t in tokens)
        if fts and keyset(3) != "0":
            params["fts"] = fts
            selects.append(
                "SELECT * FROM (SELECT 3 AS rank, t.return_id, CAST(t.n AS INTEGER) AS n, "
                "'text' AS how, ri.received_at FROM record_text t JOIN record_index ri "
                "ON ri.return_id = t.return_id AND ri.n = t.n "
                f"WHERE record_text MATCH :fts{better(3)} AND {keyset(3, 'ri.')} "
                "ORDER BY ri.received_at DESC, t.return_id, t.n LIMIT :fetch)")
        if not selects:
            return [], None
        sql = (f"WITH m AS ({' UNION ALL '.join(selects)}) "
               "SELECT min(m.rank) AS rank, m.return_id, m.n, m.how, ri.file, ri.hit, "
               "ri.received_at, r.records, r.message_id FROM m "
               "JOIN record_index ri ON ri.return_id = m.return_id AND ri.n = m.n "
               "JOIN returns r ON r.id = m.return_id "
               "GROUP BY m.return_id, m.n "
               "ORDER BY rank, ri.received_at DESC, m.return_id, m.n LIMIT :fetch")
        rows = self._conn.execute(sql, params).fetchall()
        hits = []
        for rank, return_id, n, how, file, hit, received_at, records, message_id in rows[:limit]:
            record = json.loads(records)[n]
            hits.append(SearchHit(return_id=return_id, record=n, rank=rank, how=how, file=file,
                                  hit=bool(hit), received_at=received_at,
                                  fields=dict(record.get("fields") or {}),
                                  query=self.get_message(message_id) if message_id else None))
        cursor = None
        if len(rows) > limit:
            last_hit = hits[-1]
            cursor = (last_hit.rank, last_hit.received_at, last_hit.return_id, last_hit.record)
        return hits, cursor

    # -- retention -------------------------------------------------------------------------------
    @_sorted_errors
    def expire(self, max_age_hours: float = 12.0, now: datetime | None = None) -> int:
        """Delete cached returns, events, alerts and finished queries older than
        ``max_age_hours`` (one shift by default) before ``now`` (the gateway's time: the caller
        passes it), and audit records the gateway already holds. Kept whatever their age: queries
        still waiting to go out, every alert not yet acknowledged or whose deadline has not
        passed, and the return, event and query each such alert belongs to (a detainer's 48-hour
        window outlives a 12-hour retention). Really deletes: secure_delete zeroes the pages, FTS5
        secure-delete drops the words, and freed pages go back to the file system. Returns how
        many returns went."""
        moment = now or datetime.now(UTC)
        return self._erase(_iso_us(moment - timedelta(hours=max_age_hours)),
                           keep_running=_iso_us(moment))

    @_sorted_errors
    def erase_cached(self) -> int:
        """Erase on logout (an agency setting): every return, event, alert and finished query;
        shipped audit records. Returns how many returns went."""
        return self._erase("9999")

    BULK_ERASE_ROWS = 1000  # above this many records, erase in bulk (see _erase)

    # What retention keeps however old: alerts still running, and what they belong to.
    _RUNNING_ALERT = ("(acked_at IS NULL OR coalesce(julianday(deadline) > julianday(:now), 0))")
    _KEPT_RETURN = (f"(id IN (SELECT event_id FROM alerts WHERE event_id IS NOT NULL AND "
                    f"{_RUNNING_ALERT}) OR coalesce(message_id IN (SELECT message_id FROM alerts "
                    f"WHERE message_id IS NOT NULL AND {_RUNNING_ALERT}), 0))")

    def _erase(self, cutoff: str, keep_running: str | None = None) -> int:
        """Erase what is older than ``cutoff``; with ``keep_running`` (now, ISO UTC) the alerts
        still running at that time and what they belong to stay."""
        params = {"cutoff": cutoff, "now": keep_running or ""}
        kept_return = self._KEPT_RETURN if keep_running else "0"
        old_index = (f"received_at < :cutoff AND return_id NOT IN (SELECT id FROM returns WHERE "
                     f"{kept_return})")
        changes_before = self._conn.total_changes
        with self._tx():
            # FTS5 rows by rowid (return_id is not indexed there: one scan per row otherwise).
            # A few: secure-delete takes each one's words out of the index. Many: plain deletes,
            # then 'optimize' rewrites the index without them (the old pages are zeroed) — the
            # same result, far faster than thousands of secure deletes.
            bulk = int(self._one(f"SELECT count(*) FROM record_index WHERE {old_index}",
                                 params)) > self.BULK_ERASE_ROWS
            if bulk:
                self._conn.execute("INSERT INTO record_text(record_text, rank) "
                                   "VALUES ('secure-delete', 0)")
            self._conn.execute("DELETE FROM record_text WHERE rowid IN (SELECT text_rowid FROM "
                               f"record_index WHERE {old_index})", params)
            if bulk:
                self._conn.execute("INSERT INTO record_text(record_text) VALUES ('optimize')")
                self._conn.execute("INSERT INTO record_text(record_text, rank) "
                                   "VALUES ('secure-delete', 1)")
            self._conn.execute(f"DELETE FROM record_index WHERE {old_index}", params)
            gone = self._conn.execute(
                f"DELETE FROM returns WHERE received_at < :cutoff AND NOT {kept_return}",
                params).rowcount
            running = self._RUNNING_ALERT if keep_running else "0"
            self._conn.execute(
                "DELETE FROM events WHERE applied_at < :cutoff AND id NOT IN "
                f"(SELECT event_id FROM alerts WHERE event_id IS NOT NULL AND {running})", params)
            self._conn.execute(
                "DELETE FROM alerts WHERE (created_at < :cutoff OR (event_id IS NOT NULL AND "
                f"event_id NOT IN (SELECT id FROM events))) AND NOT {running}", params)
            self._conn.execute(
                "DELETE FROM messages WHERE created_at < :cutoff AND state != 'queued' AND id NOT "
                f"IN (SELECT message_id FROM alerts WHERE message_id IS NOT NULL AND {running})",
                params)
            # Only the unbroken run of old, shipped records at the start of the chain goes.
            keep = self._one("SELECT min(n) FROM audit WHERE shipped = 0 OR at >= ?", (cutoff,))
            cut = self._conn.execute(
                "SELECT n, hash FROM audit WHERE n < ? ORDER BY n DESC LIMIT 1",
                (keep if keep is not None else 2**62,)).fetchone()
            if cut:
                # The chain now starts after the pruned records: remember where it was cut.
                self._put_meta("audit_anchor", cut[1])
                self._put_meta("audit_anchor_n", str(cut[0]))
                self._conn.execute("DELETE FROM audit WHERE n <= ?", (cut[0],))
        if self._conn.total_changes != changes_before:  # nothing erased: nothing to give back
            self.reclaim()
        return int(gone)

    @_sorted_errors
    def reclaim(self) -> None:
        """Give freed pages back to the file system and empty the WAL (old page versions)."""
        mode = int(self._one("PRAGMA auto_vacuum") or 0)
        if mode == 2:
            self._conn.execute("PRAGMA incremental_vacuum").fetchall()
        else:
            self._conn.execute("VACUUM")
        for _ in range(20):  # a reader mid-query holds the WAL for a moment
            busy = self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0]
            if not busy:
                break
            time.sleep(0.05)

    # -- audit shipping --------------------------------------------------------------------------
    @_sorted_errors
    def audit_unshipped(self, limit: int = 500) -> list[dict[str, Any]]:
        """Audit records not yet acknowledged by the gateway, oldest first."""
        columns = ("id", "at", "action", "outcome", "who", "source", "device", "detail")
        rows = self._conn.execute(
            f"SELECT {', '.join(columns)} FROM audit WHERE shipped = 0 ORDER BY n LIMIT ?",
            (limit,))
        return [dict(zip(columns, r, strict=True)) for r in rows]

    @_sorted_errors
    def mark_audit_shipped(self, ids: list[str]) -> None:
        """The gateway acknowledged these records: retention may now prune them."""
        with self._tx():
            self._conn.executemany("UPDATE audit SET shipped = 1 WHERE id = ?",
                                   [(i,) for i in ids])

    # -- checks ----------------------------------------------------------------------------------
    @_sorted_errors
    def check(self) -> CheckReport:
        """SQLite's integrity check over every page (each page's HMAC is verified on the way) and
        the audit chain. Damaged pages flag the file to be moved aside at the next open."""
        problems: list[str] = []
        try:
            result = [r[0] for r in self._conn.execute("PRAGMA integrity_check")]
        except sqlcipher3.DatabaseError as exc:
            result = [str(exc)]
        if result != ["ok"]:
            problems.append("The cache file is damaged: " + "; ".join(result[:5]))
            with contextlib.suppress(OSError):
                damage_marker(self.path).touch()
        try:
            problems.extend(self.verify_audit().problems)
        except CacheError as exc:
            problems.append(f"The audit log cannot be read: {exc.user_message}")
        return CheckReport(ok=not problems, problems=problems)

    # -- audit -----------------------------------------------------------------------------------
    @_sorted_errors
    def audit(self, action: str, outcome: str, *, who: str, source: str = "client",
              device: str = "", detail: str = "") -> None:
        """One audit record: what (action), how it went (outcome), who, when (now, UTC), where
        (device) and from which source, chained to the record before it."""
        with self._tx():
            self._append_audit(action, outcome, who=who, source=source, device=device,
                               detail=detail)

    @_sorted_errors
    def audit_records(self, records: list[tuple[str, str, str, str]], *, who: str,
                      device: str = "", source: str = "client") -> None:
        """Several audit records (action, outcome, detail, at) in one transaction: those held in
        memory while the cache could not be written keep the times they happened at."""
        with self._tx():
            for action, outcome, detail, at in records:
                self._append_audit(action, outcome, who=who, source=source, device=device,
                                   detail=detail, at=at)

    def _append_audit(self, action: str, outcome: str, *, who: str, source: str, device: str,
                      detail: str, record_id: str | None = None, at: str | None = None) -> None:
        """Inside a transaction: one more link in the chain, and the chain's new head."""
        prev = (self._one("SELECT hash FROM audit ORDER BY n DESC LIMIT 1")
                or self._one("SELECT value FROM meta WHERE key = 'audit_anchor'") or GENESIS)
        row = {"id": record_id or str(uuid.uuid4()), "at": at or utc_now(), "action": action,
               "outcome": outcome, "who": who, "source": source, "device": device,
               "detail": detail}
        row["prev_hash"] = prev
        row["hash"] = _audit_hash(prev, row)
        names = list(row)
        self._conn.execute(
            f"INSERT INTO audit({', '.join(names)}) VALUES ({', '.join('?' * len(names))})",
            tuple(row[k] for k in names))
        self._put_meta("audit_head", row["hash"])

    @_sorted_errors
    def verify_audit(self) -> AuditReport:
        """Walk the chain: name every record that was edited, removed, inserted or moved."""
        problems: list[str] = []
        anchor = self.get_meta("audit_anchor")
        head = self.get_meta("audit_head")
        columns = ("n", "id", "at", "action", "outcome", "who", "source", "device", "detail",
                   "prev_hash", "hash")
        rows = [dict(zip(columns, values, strict=True)) for values in self._conn.execute(
            f"SELECT {', '.join(columns)} FROM audit ORDER BY n")]
        by_hash = {row["hash"]: row for row in rows}

        def name(row: dict[str, Any]) -> str:
            return f"Audit record {row['n']} ({row['action']} at {row['at']})"

        prev_hash, prev_n = anchor or GENESIS, int(self.get_meta("audit_anchor_n") or 0)
        for i, row in enumerate(rows):
            if _audit_hash(row["prev_hash"], row) != row["hash"]:
                problems.append(f"{name(row)} was edited: its contents do not match its hash.")
            if row["prev_hash"] != prev_hash:
                two_back = rows[i - 2]["hash"] if i >= 2 else (anchor or GENESIS)
                if i >= 1 and row["prev_hash"] == two_back:
                    problems.append(f"{name(rows[i - 1])} was inserted: the chain goes from the "
                                    f"record before it straight to record {row['n']}.")
                elif row["prev_hash"] in by_hash and by_hash[row["prev_hash"]] is not row:
                    problems.append(f"{name(row)} is out of order: it was written right after "
                                    f"record {by_hash[row['prev_hash']]['n']}.")
                elif row["n"] > prev_n + 1:
                    missing = (f"record {prev_n + 1}" if row["n"] == prev_n + 2
                               else f"records {prev_n + 1} to {row['n'] - 1}")
                    problems.append(f"Audit {missing}, before record {row['n']}, "
                                    "removed: the chain is broken there.")
                else:
                    problems.append(f"{name(row)} does not follow the record before it: one was "
                                    "removed, inserted or moved.")
            prev_hash, prev_n = row["hash"], int(row["n"])
        if head is None:
            if rows or anchor:
                problems.append("Audit records cannot be checked to the end: the log's end "
                                "marker was removed.")
        elif head != prev_hash:
            if head in by_hash:
                problems.append(f"{name(by_hash[head])} was the last one written, but the log "
                                f"now ends with record {rows[-1]['n']}: records were moved.")
            else:
                problems.append(f"Audit records written after record {prev_n or 'the start'} "
                                "were removed: the last one written is missing.")
        return AuditReport(ok=not problems, checked=len(rows), problems=problems)


# -- fault injection (crash tests) ----------------------------------------------------------------
# The crash matrix in tests/reliability forces a crash right after a chosen commit: in-process
# through a commit hook (the files are copied while the writer still holds frames not yet
# checkpointed), and in a real process by MDT_FAULT_KILL_AFTER_COMMIT=N (SIGKILL right after its
# Nth commit). Neither is set in normal use; the check is one integer comparison per commit.
COMMIT_HOOKS: list[Callable[[Cache], None]] = []
_KILL_AFTER_COMMIT = int(os.environ.get("MDT_FAULT_KILL_AFTER_COMMIT", "0") or 0)
_commits = 0


def _committed(cache: Cache) -> None:
    global _commits
    _commits += 1
    for hook in COMMIT_HOOKS:
        hook(cache)
    if _KILL_AFTER_COMMIT and _commits >= _KILL_AFTER_COMMIT:
        os.kill(os.getpid(), 9)


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), with errors sorted."""

    def __init__(self, cache: Cache) -> None:
        self.cache = cache

    def __enter__(self) -> None:
        self.cache._writable()
        try:
            self.cache._conn.execute("BEGIN IMMEDIATE")
        except sqlcipher3.Error as exc:
            raise self.cache._fail(exc) from exc

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        conn = self.cache._conn
        if exc_type is None:
            try:
                conn.execute("COMMIT")
            except sqlcipher3.Error as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self.cache._fail(error) from error
            _committed(self.cache)
        else:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlcipher3.Error):
                raise self.cache._fail(exc) from exc
