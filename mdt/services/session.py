"""Who is signed in, and the cache's two threads: the store port every service reads and writes
through. Opening the cache (with the recovery of a damaged one) is here too. No Qt.

The writer thread takes every write; the reader thread (``PRAGMA query_only``) serves the
screens' look-ups while the writer writes (WAL). Services get this object and call
:meth:`Session.require` (the writer) or :meth:`Session.read` (the reader); none keeps a
connection of its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdt import paths
from mdt.core.message import OperatorProfile

if TYPE_CHECKING:
    from mdt.store.writer_thread import CacheWriter

log = logging.getLogger(__name__)


@dataclass
class Operator:
    """Who is signed in: from the gateway at login, kept beside the cache for offline unlocks.

    The operator's own identity is not criminal-justice data; it is kept in ``profile.json``."""

    user_id: str
    name: str
    role: str
    ori: str
    unit: str = ""
    training: bool = False
    gateway_url: str = ""

    def profile(self, phone: str = "") -> OperatorProfile:
        return OperatorProfile(user_id=self.user_id, name=self.name, ori=self.ori, unit=self.unit,
                               atn=self.name.upper()[:30], phn=phone)

    @classmethod
    def from_saved(cls, saved: dict[str, Any]) -> Operator:
        """From ``profile.json``; keys older versions kept (``token_expires_at``) are ignored."""
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in saved.items() if k in known})


class NotSignedIn(RuntimeError):
    """An action that needs an unlocked profile was asked for before login/unlock."""


def profile_file(user_id: str) -> Path:
    return paths.profile_dir(user_id) / "profile.json"


def cache_path(user_id: str) -> Path:
    return paths.profile_dir(user_id) / "cache.db"


class Session:
    """The signed-in state: the operator, the open cache's threads and key, and what the last
    sign-in must tell the person (:attr:`notices`) and write to the audit log once it can
    (:attr:`pending_audit`)."""

    def __init__(self) -> None:
        self.operator: Operator | None = None
        self.writer: CacheWriter | None = None
        self.reader: CacheWriter | None = None
        self.key: bytes | None = None  # the open cache's key (re-wrapped after a password change)
        self.notices: list[str] = []
        self.pending_audit: list[tuple[str, str, str]] = []

    def require(self) -> tuple[Operator, CacheWriter]:
        if self.operator is None or self.writer is None:
            raise NotSignedIn("Sign in or unlock first.")
        return self.operator, self.writer

    def read(self) -> CacheWriter:
        """The reader thread (the writer while the reader is not open)."""
        _, writer = self.require()
        return self.reader or writer

    def take_pending_audit(self) -> list[tuple[str, str, str]]:
        pending, self.pending_audit = self.pending_audit, []
        return pending

    # -- opening and closing ---------------------------------------------------------------------
    def open(self, operator: Operator, key: bytes, *, create: bool) -> None:
        """Open the profile's cache on its writer and reader threads. A cache found damaged is
        set aside and a new one made at once, with what could be read from the old one
        (:mod:`mdt.store.salvage`); a missing cache file (its key still here) is made anew. What
        happened is in :attr:`notices` for the person and in :attr:`pending_audit`."""
        from mdt.store.cache import move_aside
        from mdt.store.errors import CorruptCacheError, WrongKeyError
        from mdt.store.writer_thread import CacheWriter

        self.close()
        path = cache_path(operator.user_id)
        if not create and not path.exists():
            create = True
            self.notices.append("There was no cache file for this profile on this terminal (it "
                                "was removed): a new, empty cache was made.")
            self.pending_audit.append(("cache-recover", "new-cache", "the cache file was missing"))
        try:
            writer = CacheWriter(path, key, create=create)
        except CorruptCacheError as exc:
            writer = self._recover(path, key, exc)
        except WrongKeyError:
            # The vault unwrapped this profile's key with the right password, and the file will
            # not open with it: its first page is damaged, or the file was replaced. Either way
            # it is not this profile's cache any more; keep it aside, start anew.
            moved = move_aside(path)
            writer = CacheWriter(path, key, create=True)
            self.notices.append(
                f"This terminal's cache could not be read with this profile's key (its first "
                f"page is damaged, or the file was replaced). It was set aside as {moved.name} "
                "and a new cache was made; nothing could be kept from it. Returns still held by "
                "the gateway will come again.")
            self.pending_audit.append(("cache-recover", "unreadable",
                                       f"cache set aside as {moved.name}: not this key's"))
        self.writer = writer
        self.reader = CacheWriter(path, key, name="mdt-cache-reader", read_only=True)
        self.key = key
        self.operator = operator

    def _recover(self, path: Path, key: bytes, damage: Exception) -> CacheWriter:
        from mdt.store.salvage import salvage_into
        from mdt.store.writer_thread import CacheWriter

        moved = getattr(damage, "moved_to", None)
        writer = CacheWriter(path, key, create=True)
        if moved is None:  # not moved (nothing was there to move): a new cache is all there is
            self.notices.append(getattr(damage, "user_message", str(damage)))
            return writer
        report = writer.call(lambda c: salvage_into(c, moved, key))
        self.notices.append(report.sentence())
        kept = ", ".join(f"{n} {words[1]}" for words, n in report.kept.items() if n) or "nothing"
        self.pending_audit.append(("cache-recover", "salvaged",
                                   f"damaged cache set aside as {moved.name}; kept {kept}; "
                                   f"unreadable: {', '.join(report.unreadable) or 'none'}"))
        log.warning("cache damaged: set aside, %s", kept)
        return writer

    def close(self) -> None:
        """Close the cache's threads; nobody is signed in after this."""
        for worker in (self.reader, self.writer):
            if worker is not None:
                worker.close()
        self.reader = self.writer = None
        self.operator = None
        self.key = None
