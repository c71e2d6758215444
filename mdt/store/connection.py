"""One keyed SQLCipher connection to the cache: opening it (the sniff, the key probe, the
pragmas, the read-only fallback, setting a damaged file aside), its transactions, and every
SQLite failure sorted by its SQLite result code into a :class:`~mdt.store.errors.CacheError`
("environment" or "bug"). No Qt.

A :class:`CacheConnection` is used on the one thread that opened it (sqlcipher3's
``check_same_thread`` stays on). The repositories (:mod:`mdt.store.meta`, :mod:`mdt.store.outbox`,
...) all work through one, which may swap its sqlcipher3 connection underneath them (a drive
that takes writes again).
"""

from __future__ import annotations

import contextlib
import functools
import os
import time
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar, cast

import sqlcipher3

from mdt.store import schema
from mdt.store.errors import (
    CacheBugError,
    CacheError,
    CacheIOError,
    CacheLockedError,
    CorruptCacheError,
    DiskFullError,
    ReadOnlyCacheError,
    WrongKeyError,
)
from mdt.store.files import (
    FileLock,
    classify_os_error,
    damage_marker,
    disk_is_full,
    drive_is_read_only,
    is_open_here,
    move_aside,
    opened_here,
    read_only_drive,
    sniff,
)

__all__ = ["COMMIT_HOOKS", "CacheConnection", "classify", "connect", "probe_key",
           "sorted_errors"]

# SQLite's primary result codes (https://sqlite.org/rescode.html): the low byte of the extended
# code sqlcipher3 puts on every error it raises.
SQLITE_BUSY, SQLITE_LOCKED, SQLITE_NOMEM, SQLITE_READONLY = 5, 6, 7, 8
SQLITE_IOERR, SQLITE_CORRUPT, SQLITE_FULL, SQLITE_CANTOPEN = 10, 11, 13, 14
SQLITE_NOTADB = 26


def classify(exc: Exception, path: Path) -> CacheError:
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
            return read_only_drive(path)
        return ReadOnlyCacheError(f"The cache file {path} is read-only: MDT can show what is cached "
                                  "but cannot save to it. Check the file's permissions.")
    if primary in (SQLITE_IOERR, SQLITE_CANTOPEN) and drive_is_read_only(path):
        return read_only_drive(path)  # the -shm or the WAL cannot be made there
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


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{urllib.parse.quote(str(path.resolve()))}?{query}"


def probe_key(path: Path, key: bytes) -> None:
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
            raise classify(exc, path) from exc
        try:
            conn.execute("PRAGMA cipher_log_level = NONE")
            conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")
            conn.execute("PRAGMA cipher_compatibility = 4")
            conn.execute("PRAGMA user_version").fetchone()  # decrypts and checks page 1
            return
        except sqlcipher3.DatabaseError as exc:
            failure = classify(exc, path)
            failure.__cause__ = exc
        finally:
            conn.close()
        time.sleep(0.02 * (attempt + 1))
    assert failure is not None
    raise failure


def connect(path: Path, key: bytes, *, new: bool, read_only: bool,
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
        raise classify(exc, path) from exc
    try:
        conn.execute("PRAGMA cipher_log_level = NONE")  # no page details on stderr
        conn.execute(f"PRAGMA key = \"x'{key.hex()}'\"")  # a raw key: no KDF on open
        conn.execute("PRAGMA cipher_compatibility = 4")  # SQLCipher 4 settings, pinned
        conn.execute("PRAGMA cipher_memory_security = OFF")
        conn.execute("SELECT count(*) FROM sqlite_master").fetchone()  # verifies the key
        conn.execute("PRAGMA temp_store = MEMORY")  # no temporary files on disk
        # 32 MiB (each connection: the writer and the reader): fewer pages to decrypt again, and
        # the signed-in GUI within 250 MB after a catch-up fills the writer's (issue #19)
        conn.execute("PRAGMA cache_size = -32768")
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
        raise classify(exc, path) from exc
    return conn


# -- fault injection (crash tests) ----------------------------------------------------------------
# The crash matrix in tests/reliability forces a crash right after a chosen commit: in-process
# through a commit hook (the files are copied while the writer still holds frames not yet
# checkpointed), and in a real process by MDT_FAULT_KILL_AFTER_COMMIT=N (SIGKILL right after its
# Nth commit). Neither is set in normal use; the check is one integer comparison per commit. A
# hook gets the connection's ``hook_target`` (the :class:`~mdt.store.cache.Cache` it serves).
COMMIT_HOOKS: list[Callable[[Any], None]] = []
_KILL_AFTER_COMMIT = int(os.environ.get("MDT_FAULT_KILL_AFTER_COMMIT", "0") or 0)
_commits = 0


def _committed(target: Any) -> None:
    global _commits
    _commits += 1
    for hook in COMMIT_HOOKS:
        hook(target)
    if _KILL_AFTER_COMMIT and _commits >= _KILL_AFTER_COMMIT:
        os.kill(os.getpid(), 9)


class Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error), with errors sorted."""

    def __init__(self, db: CacheConnection) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.writable()
        try:
            self.db.conn.execute("BEGIN IMMEDIATE")
        except sqlcipher3.Error as exc:
            raise self.db.fail(exc) from exc

    def __exit__(self, exc_type: Any, exc: Any, tb: Any) -> None:
        conn = self.db.conn
        if exc_type is None:
            try:
                conn.execute("COMMIT")
            except sqlcipher3.Error as error:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise self.db.fail(error) from error
            _committed(self.db.hook_target)
        else:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlcipher3.Error):
                raise self.db.fail(exc) from exc


class CacheConnection:
    """The cache's connection, for one thread: what the repositories share."""

    def __init__(self, conn: Any, path: Path, *, key: bytes = b"", read_only: bool = False,
                 write_blocked: CacheError | None = None) -> None:
        self.conn = conn
        self.path = path
        self.key = key
        self.read_only = read_only
        self.write_blocked = write_blocked  # why writing fails now (a full disk ...), or None
        self.hook_target: Any = self  # what a commit hook is given (the Cache on top)
        self._reconnect_tried = time.monotonic()
        self._lock: FileLock | None = None  # the shared lock of an open cache (open)
        self._counted = False  # counted in the files' open-here count

    @classmethod
    def open(cls, path: Path, key: bytes, *, create: bool = False,
             read_only: bool = False) -> CacheConnection:
        """See :meth:`mdt.store.cache.Cache.open`."""
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
                if not is_open_here(path):  # (sniffed when first opened)
                    sniff(path)
                wal = Path(str(path) + "-wal")
                if wal.exists() and wal.stat().st_size > 0:
                    probe_key(path, key)
                    probed = True
            else:
                path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
                # Owner-only from the first byte; SQLite gives the -wal and -shm the same mode.
                os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
                os.chmod(path, 0o600)
        except OSError as exc:
            raise classify_os_error(exc, path) from exc
        blocked: CacheError | None = None
        lock = FileLock(path, exclusive=False)
        try:
            conn = connect(path, key, new=not exists, read_only=read_only)
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
            lock = FileLock(path, exclusive=False)
            try:
                conn = connect(path, key, new=False, read_only=True, fallback=True)
            except BaseException:
                lock.release()
                raise
        db = cls(conn, path, key=key, read_only=read_only, write_blocked=blocked)
        db._lock = lock
        opened_here(path, +1)
        db._counted = True
        if blocked is not None:
            if int(db.one("PRAGMA user_version") or 0) < schema.SCHEMA_VERSION:
                db.close()
                raise blocked  # an upgrade must write first
            return db
        try:
            db.migrate()
        except CorruptCacheError as exc:
            db.close()
            moved = move_aside(path)
            raise CorruptCacheError(
                f"The cache is damaged. It was moved aside to {moved.name} (nothing was "
                "overwritten).", moved_to=moved) from exc
        except BaseException:
            db.close()
            raise
        return db

    def migrate(self) -> None:
        """Bring the schema up to :data:`~mdt.store.schema.SCHEMA_VERSION`, one step a
        transaction."""
        try:
            schema.migrate(self.conn)
        except sqlcipher3.Error as exc:
            raise classify(exc, self.path) from exc

    def reconnect(self) -> None:
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
            conn = connect(self.path, self.key, new=False, read_only=self.read_only)
        except CacheError:
            return
        self.conn.close()
        self.conn = conn
        self.write_blocked = None

    def writable(self) -> None:
        """Before a write: a cache opened read-only because writing failed tries to write again
        (space freed, the drive remounted); still blocked, it raises the reason."""
        if self.read_only:
            raise CacheBugError("MDT tried to write through its read-only cache connection (a "
                                "bug). Please report it.")
        if self.write_blocked is None:
            return
        try:
            conn = connect(self.path, self.key, new=False, read_only=False)
        except CacheError as error:
            if isinstance(error, DiskFullError | ReadOnlyCacheError | CacheIOError):
                self.write_blocked = error
            raise self.write_blocked from None
        self.conn.close()
        self.conn = conn
        self.write_blocked = None

    def fail(self, exc: Exception) -> CacheError:
        """The sorted error for a failure met while open (damage flags the file first)."""
        error = classify(exc, self.path)
        if isinstance(error, CorruptCacheError):
            # Cannot move an open file aside: flag it, so the next open does.
            with contextlib.suppress(OSError):
                damage_marker(self.path).touch()
            error = CorruptCacheError(
                "The cache is damaged. Sign out and in again: MDT will then set the damaged file "
                "aside, keep what can still be read from it, and start a new cache.")
        return error

    def transaction(self) -> Transaction:
        """``with db.transaction():`` one ``BEGIN IMMEDIATE`` … ``COMMIT``, errors sorted."""
        return Transaction(self)

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        return self.conn.execute(sql, params)

    def one(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> Any:
        """The first column of the first row, or None."""
        row = self.conn.execute(sql, params).fetchone()
        return row[0] if row else None

    def close(self) -> None:
        self.conn.close()
        if self._counted:
            opened_here(self.path, -1)
            self._counted = False
        if self._lock is not None:
            self._lock.release()


class HasConnection(Protocol):
    @property
    def db(self) -> CacheConnection: ...


S = TypeVar("S", bound=HasConnection)
P = ParamSpec("P")
R = TypeVar("R")


def sorted_errors(method: Callable[Concatenate[S, P], R]) -> Callable[Concatenate[S, P], R]:
    """Turn any SQLCipher failure inside a repository's public method into a sorted CacheError
    (a connection that could not write tries its normal one again first)."""

    @functools.wraps(method)
    def wrapper(self: S, *args: P.args, **kwargs: P.kwargs) -> R:
        db = self.db
        if db.write_blocked is not None:
            db.reconnect()
        try:
            return method(self, *args, **kwargs)
        except sqlcipher3.Error as exc:
            raise db.fail(exc) from exc

    return cast("Callable[Concatenate[S, P], R]", wrapper)  # functools.wraps keeps its shape
