"""The one thread that owns the cache's write connection (and, as a second instance, the
readers' connection).

SQLite allows one writer at a time and a SQLCipher connection must stay on the thread that opened
it, so every write goes through :class:`CacheWriter`: a single worker thread that opens the
:class:`~mdt.store.cache.Cache` itself and runs submitted functions one after another. Callers get a
:class:`concurrent.futures.Future` (``submit``), block for the result (``call``, never from the GUI
thread), or ``await`` it from the network thread's event loop (``run``). No Qt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

from mdt.store.cache import Cache

T = TypeVar("T")


class CacheWriter:
    """One thread, one connection. The terminal runs two: the writer, through which every write
    goes, and a reader for the screens' look-ups (WAL lets it read while the writer writes)."""

    def __init__(self, path: Path, key: bytes, *, create: bool = False,
                 name: str = "mdt-cache-writer", read_only: bool = False) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._cache: Cache | None = None
        # Opening happens on the writer thread; errors (wrong key, corrupt ...) surface here.
        try:
            self._executor.submit(self._open, path, key, create, read_only).result()
        except BaseException:
            self._executor.shutdown(wait=True)
            raise

    def _open(self, path: Path, key: bytes, create: bool, read_only: bool) -> None:
        self._cache = Cache.open(path, key, create=create, read_only=read_only)

    def _with_cache(self, fn: Callable[[Cache], T]) -> T:
        if self._cache is None:
            raise RuntimeError("the cache writer is closed")
        return fn(self._cache)

    def submit(self, fn: Callable[[Cache], T]) -> Future[T]:
        return self._executor.submit(self._with_cache, fn)

    def call(self, fn: Callable[[Cache], T]) -> T:
        """Run ``fn(cache)`` on the writer thread and wait for its result."""
        return self.submit(fn).result()

    async def run(self, fn: Callable[[Cache], T]) -> T:
        """Run ``fn(cache)`` on the writer thread without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(fn))

    def close(self) -> None:
        def _close() -> None:
            if self._cache is not None:
                self._cache.close()
                self._cache = None

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)
