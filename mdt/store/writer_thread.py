"""The one thread that owns the cache's write connection, and the readers' own thread. No Qt.

SQLite allows one writer at a time and a SQLCipher connection must stay on the thread that opened
it, so every write goes through :class:`CacheWriter`: a single worker thread that opens the
:class:`~mdt.store.cache.Cache` itself and runs jobs one after another. The screens read through a
:class:`CacheReader`: the same, on a connection of its own opened ``PRAGMA query_only`` (WAL lets
it read while the writer writes; a write through it is a bug and raises ``CacheBugError``).

Calling it (never from the GUI thread: each call waits for the thread), typed for mypy, in the
spirit of Electrum's ``@sql``:

- ``writer.cache.apply_event(event)``: :attr:`CacheWriter.cache` is a proxy whose methods are
  :class:`~mdt.store.cache.Cache`'s, with the same arguments and results, each run on the thread;
- ``writer.invoke(Cache.apply_event, event)``, ``writer.submit_invoke(...)`` (a
  :class:`concurrent.futures.Future`) and ``await writer.ainvoke(Cache.apply_event, event)`` from
  the network thread's event loop: the same, checked against the method's signature;
- ``writer.call(fn)`` / ``submit(fn)`` / ``await run(fn)`` with ``fn(cache)``, for what needs
  several calls in one job.

Freed pages are given back after an erase in small jobs of their own on the writer thread
(:meth:`mdt.store.retention.Retention.reclaim_step`), so the officer's writes go between them; a
step that must wait (a reader holds the WAL) is queued again by a timer, and the writer thread
never sleeps.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar, cast

from mdt.store.cache import Cache
from mdt.store.errors import CacheError
from mdt.store.retention import ReclaimStep

__all__ = ["CacheReader", "CacheWriter"]

log = logging.getLogger(__name__)

T = TypeVar("T")
P = ParamSpec("P")

# Not reachable through the proxy: the connection and the repositories stay on their thread,
# and opening or closing is the thread's own business.
_NOT_PROXIED = frozenset({"open", "close", "connection", "repos", "db"})


class _OnThread:
    """:attr:`CacheWriter.cache`: each method of :class:`Cache` called through it runs on the
    thread, and its result (or its error) comes back."""

    def __init__(self, owner: CacheWriter) -> None:
        self._owner = owner

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_") or name in _NOT_PROXIED:
            raise AttributeError(f"Cache.{name} is not reachable from another thread")
        attribute = getattr(Cache, name)  # AttributeError for a name Cache does not have
        if not callable(attribute):  # a property or a constant: read it on the thread
            return self._owner.call(lambda cache: getattr(cache, name))

        @functools.wraps(attribute)
        def on_thread(*args: Any, **kwargs: Any) -> Any:
            return self._owner.call(lambda cache: getattr(cache, name)(*args, **kwargs))

        return on_thread

    def __repr__(self) -> str:
        return f"<Cache on {self._owner.name}>"


class CacheWriter:
    """One thread, one connection. The terminal runs two: the writer, through which every write
    goes, and a :class:`CacheReader` for the screens' look-ups."""

    def __init__(self, path: Path, key: bytes, *, create: bool = False,
                 name: str = "mdt-cache-writer", read_only: bool = False) -> None:
        self.name = name
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix=name)
        self._cache: Cache | None = None
        self._reclaim: Callable[[], ReclaimStep] | None = None  # a reclaim under way
        self._proxy = _OnThread(self)
        # Opening happens on the writer thread; errors (wrong key, corrupt ...) surface here.
        try:
            self._executor.submit(self._open, path, key, create, read_only).result()
        except BaseException:
            self._executor.shutdown(wait=True)
            raise

    def _open(self, path: Path, key: bytes, create: bool, read_only: bool) -> None:
        self._cache = Cache.open(path, key, create=create, read_only=read_only)
        if not read_only:
            self._cache.repos.retention.schedule = self._schedule_reclaim

    def _with_cache(self, fn: Callable[[Cache], T]) -> T:
        if self._cache is None:
            raise RuntimeError("the cache writer is closed")
        return fn(self._cache)

    # -- calling it ------------------------------------------------------------------------------
    @property
    def cache(self) -> Cache:
        """The cache as seen from another thread: every method call runs on this thread and
        waits for it (typed as :class:`Cache`, so mypy checks the arguments and results).
        Private names, ``connection``, ``repos``, ``db``, ``open`` and ``close`` are refused."""
        return cast(Cache, self._proxy)

    def submit(self, fn: Callable[[Cache], T]) -> Future[T]:
        return self._executor.submit(self._with_cache, fn)

    def call(self, fn: Callable[[Cache], T]) -> T:
        """Run ``fn(cache)`` on the writer thread and wait for its result."""
        return self.submit(fn).result()

    async def run(self, fn: Callable[[Cache], T]) -> T:
        """Run ``fn(cache)`` on the writer thread without blocking the event loop."""
        return await asyncio.wrap_future(self.submit(fn))

    def submit_invoke(self, method: Callable[Concatenate[Cache, P], T], *args: P.args,
                      **kwargs: P.kwargs) -> Future[T]:
        """``method(cache, *args, **kwargs)`` on the thread (``method`` is a :class:`Cache`
        method, e.g. ``Cache.list_returns``), as a Future."""
        return self.submit(lambda cache: method(cache, *args, **kwargs))

    def invoke(self, method: Callable[Concatenate[Cache, P], T], *args: P.args,
               **kwargs: P.kwargs) -> T:
        """``method(cache, *args, **kwargs)`` on the thread; waits for the result."""
        return self.submit_invoke(method, *args, **kwargs).result()

    async def ainvoke(self, method: Callable[Concatenate[Cache, P], T], *args: P.args,
                      **kwargs: P.kwargs) -> T:
        """``method(cache, *args, **kwargs)`` on the thread, awaited from an event loop."""
        return await asyncio.wrap_future(self.submit_invoke(method, *args, **kwargs))

    # -- reclaiming freed pages in steps ---------------------------------------------------------
    def _schedule_reclaim(self, step: Callable[[], ReclaimStep]) -> None:
        """(On the thread, from an erase.) Run ``step`` as jobs of their own until it is done."""
        under_way = self._reclaim is not None
        self._reclaim = step
        if not under_way:
            self._queue_reclaim()

    def _queue_reclaim(self) -> None:
        with contextlib.suppress(RuntimeError):  # shut down meanwhile: the next erase reclaims
            self._executor.submit(self._reclaim_job)

    def _reclaim_job(self) -> None:
        step = self._reclaim
        if step is None or self._cache is None:
            return
        try:
            wait = step()
        except CacheError as exc:  # a full disk, a busy file: the next erase tries again
            log.warning("giving freed cache pages back failed: %s", type(exc).__name__)
            wait = None
        if wait is None:
            self._reclaim = None
        elif wait == 0:
            self._queue_reclaim()  # behind whatever was queued meanwhile
        else:
            timer = threading.Timer(wait, self._queue_reclaim)  # the timer waits, not the writer
            timer.daemon = True
            timer.start()

    def _finish_reclaim(self) -> None:
        """At close: the steps left, one after another (a busy WAL is left to SQLite's close)."""
        while self._reclaim is not None and self._cache is not None:
            try:
                wait = self._reclaim()
            except CacheError:
                wait = None
            if wait != 0:
                self._reclaim = None

    def close(self) -> None:
        def _close() -> None:
            if self._cache is not None:
                self._finish_reclaim()
                self._cache.close()
                self._cache = None

        self._executor.submit(_close).result()
        self._executor.shutdown(wait=True)


class CacheReader(CacheWriter):
    """The screens' reader: its own thread and connection, ``PRAGMA query_only`` (a write through
    it raises ``CacheBugError``). Called like the writer."""

    def __init__(self, path: Path, key: bytes, *, name: str = "mdt-cache-reader") -> None:
        super().__init__(path, key, name=name, read_only=True)
