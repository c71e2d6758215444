"""The cache's meta table: small settings kept encrypted with the cache (the gateway clock's
offset, the session token, cached forms) and the keys the cache keeps for itself. No Qt."""

from __future__ import annotations

from mdt.store.connection import CacheConnection, sorted_errors

__all__ = ["RESERVED_META", "MetaRepository"]

# meta keys the cache keeps for itself (set_meta refuses them)
RESERVED_META = frozenset({"inbox_cursor", "audit_anchor", "audit_anchor_n", "audit_head"})


class MetaRepository:
    def __init__(self, db: CacheConnection) -> None:
        self.db = db

    @sorted_errors
    def get(self, key: str, default: str | None = None) -> str | None:
        value = self.db.one("SELECT value FROM meta WHERE key = ?", (key,))
        return default if value is None else str(value)

    @sorted_errors
    def set(self, key: str, value: str) -> None:
        """Keep ``value`` under ``key`` (one of the cache's own keys: ValueError)."""
        if key in RESERVED_META:
            raise ValueError(f"meta key {key!r} is kept by the cache itself")
        with self.db.transaction():
            self.put(key, value)

    def put(self, key: str, value: str) -> None:
        """Inside a transaction: keep ``value`` under ``key``, reserved keys included."""
        self.db.execute("INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) "
                        "DO UPDATE SET value = excluded.value", (key, value))
