"""A user profile's files on this terminal, and wiping them: the one wipe, for the CLI and the GUI.
No Qt.

``<data dir>/profiles/<profile>/`` (``mdt.paths.profile_dir``) holds ``cache.db`` with its
``-wal`` and ``-shm``, ``profile.json`` (who the operator is, for offline unlocks) and any damaged
caches set aside (``cache.db.damaged-*``, still encrypted). The key is in the OS keystore
(:class:`~mdt.store.keys.KeyVault`).
"""

from __future__ import annotations

import logging
from pathlib import Path

from mdt import paths
from mdt.store.errors import CacheError
from mdt.store.keys import KeyVault

log = logging.getLogger(__name__)


def cache_path(profile: str) -> Path:
    return paths.profile_dir(profile) / "cache.db"


def wipe(profile: str, vault: KeyVault) -> list[Path]:
    """Destroy a profile on this terminal: its wrapped key first (without it the cache can never
    be decrypted again), then every file in its folder, then the folder. Needs no password: this
    is what a lost or stolen terminal needs. Close every cache on it first (and ship the audit
    log while that is still possible). Returns the files removed.

    When the keystore cannot be reached the files are removed all the same (without the key
    they are noise, and with a keystore back the key alone opens nothing), and the
    KeystoreUnavailableError is raised after."""
    failure: CacheError | None = None
    try:
        vault.destroy(profile)
    except CacheError as exc:
        failure = exc
    folder = paths.profile_dir(profile)
    removed: list[Path] = []
    if folder.exists():
        for path in sorted(folder.rglob("*"), reverse=True):  # files before their folders
            if path.is_dir() and not path.is_symlink():
                path.rmdir()
            else:
                path.unlink()
                removed.append(path)
        folder.rmdir()
    if failure is not None:
        log.warning("profile files wiped; the keystore could not be reached to remove the key")
        raise failure
    return removed
