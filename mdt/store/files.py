"""The cache's files outside SQLite: what the drive allows (full, read-only), the shared lock
every connection holds, setting a damaged cache aside, and the sniff that refuses a file that
cannot be an encrypted cache before SQLCipher touches it. No Qt, no SQL.
"""

from __future__ import annotations

import errno
import os
import shutil
import threading
import zlib
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: an open file cannot be renamed there anyway
    fcntl = None  # type: ignore[assignment]

from mdt.store.errors import (
    CacheError,
    CacheIOError,
    CacheLockedError,
    DiskFullError,
    NotADatabaseError,
    ReadOnlyCacheError,
)

__all__ = ["FileLock", "classify_os_error", "damage_marker", "damaged_copies", "disk_is_full",
           "drive_is_read_only", "is_open_here", "move_aside", "opened_here", "read_only_drive",
           "sniff"]


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


def read_only_drive(path: Path) -> ReadOnlyCacheError:
    return ReadOnlyCacheError(f"The drive holding the cache ({path.parent}) is read-only: MDT can "
                              "show what is cached but cannot save. Check the drive.")


def classify_os_error(exc: OSError, path: Path) -> CacheError:
    """An OSError met on the cache's files (not through SQLite), sorted by its errno."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError()
    if exc.errno == errno.EROFS:
        return read_only_drive(path)
    if exc.errno in (errno.EACCES, errno.EPERM):
        return ReadOnlyCacheError(f"MDT may not write the cache file {path} (permissions): it can "
                                  "show what is cached but cannot save. Check the file's owner and "
                                  "permissions.")
    if exc.errno == errno.ENOENT:
        return CacheError(f"The cache folder {path.parent} is missing.")
    return CacheIOError()



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


class FileLock:
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
    lock = FileLock(path, exclusive=True)
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


def opened_here(path: Path, delta: int) -> int:
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


def sniff(path: Path) -> None:
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


def is_open_here(path: Path) -> bool:
    """Has this process a connection open to ``path`` now?"""
    with _OPEN_HERE_LOCK:
        return bool(_OPEN_HERE.get(str(path.resolve())))
