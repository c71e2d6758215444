"""A user profile's cache on this terminal: where it lives, opening it, wiping it. No Qt.

``<data dir>/profiles/<profile>/cache.db`` (``mdt.paths.profile_dir``), with its ``-wal`` and
``-shm``. The key is in the OS keystore (:class:`~mdt.store.keys.KeyVault`).
"""

from __future__ import annotations

from pathlib import Path

from mdt import paths
from mdt.store.cache import Cache
from mdt.store.errors import CacheError
from mdt.store.keys import KeyVault


def cache_path(profile: str) -> Path:
    return paths.profile_dir(profile) / "cache.db"


def open_profile_cache(profile: str, key: bytes, *, create: bool) -> Cache:
    """Open ``profile``'s cache with its raw key, on the calling thread (which then owns it)."""
    return Cache.open(cache_path(profile), key, create=create)


def wipe(profile: str, vault: KeyVault | None = None) -> list[Path]:
    """Destroy a profile on this terminal: its wrapped key first (without it the cache can never
    be decrypted again), then every file in its folder, then the folder. Needs no password: this
    is what a lost or stolen terminal needs. Close every :class:`Cache` on it first (and ship
    the audit log while that is still possible). Returns the files removed.

    When the keystore cannot be reached the files are removed all the same, and the
    KeystoreUnavailableError is raised after."""
    vault = vault or KeyVault()
    failure: CacheError | None = None
    try:
        vault.destroy(profile)
    except CacheError as exc:
        failure = exc
    folder = paths.profile_dir(profile)
    removed = []
    for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
        if path.is_dir():
            path.rmdir()
        else:
            path.unlink()
            removed.append(path)
    folder.rmdir()
    if failure is not None:
        raise failure
    return removed
