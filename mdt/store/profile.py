"""Where a user profile's cache lives, and opening it. No Qt."""

from __future__ import annotations

from pathlib import Path

from mdt import paths
from mdt.store.cache import Cache


def cache_path(profile: str) -> Path:
    return paths.profile_dir(profile) / "cache.db"


def open_profile_cache(profile: str, key: bytes, *, create: bool) -> Cache:
    return Cache.open(cache_path(profile), key, create=create)
