"""Tools for the crash tests: snapshots of a cache taken right after each of its commits, and
what the cache held at that moment (what the user had been told was saved)."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mdt.store import cache as cache_module
from mdt.store.cache import Cache


@dataclass
class CommitState:
    """The cache's content right after one commit: what a crash at that point must keep."""

    flow: str
    n: int
    folder: Path
    wal_bytes: int
    messages: dict[str, str]  # id -> state
    alerts: dict[str, bool]  # id -> acknowledged
    events: set[str]
    returns: set[str]
    audit: int
    cursor: int


def content(cache: Cache) -> dict[str, Any]:
    conn = cache._conn
    return {
        "messages": dict(conn.execute("SELECT id, state FROM messages").fetchall()),
        "alerts": {i: a is not None for i, a in conn.execute("SELECT id, acked_at FROM alerts")},
        "events": {r[0] for r in conn.execute("SELECT id FROM events")},
        "returns": {r[0] for r in conn.execute("SELECT id FROM returns")},
        "audit": int(conn.execute("SELECT count(*) FROM audit").fetchone()[0]),
        "cursor": int(conn.execute("SELECT coalesce((SELECT value FROM meta WHERE key = "
                                   "'inbox_cursor'), 0)").fetchone()[0]),
    }


@dataclass
class Snapshots:
    """A commit hook (``mdt.store.cache.COMMIT_HOOKS``): after every commit of the writer, the
    cache's files are copied as they are on disk at that instant (the main file and a WAL
    holding frames not yet checkpointed, no -shm: exactly what a kill -9 or a power cut there
    leaves, with synchronous=FULL), with the content the commit made visible."""

    folder: Path
    flow: str = ""
    states: list[CommitState] = field(default_factory=list)

    def __call__(self, cache: Cache) -> None:
        if cache.read_only or not self.flow:
            return
        target = self.folder / f"{len(self.states):03d}-{self.flow}"
        target.mkdir(parents=True)
        wal = Path(str(cache.path) + "-wal")
        shutil.copyfile(cache.path, target / "cache.db")
        wal_bytes = 0
        if wal.exists():
            shutil.copyfile(wal, target / "cache.db-wal")
            wal_bytes = wal.stat().st_size
        self.states.append(CommitState(flow=self.flow, n=len(self.states), folder=target,
                                       wal_bytes=wal_bytes, **content(cache)))

    @contextlib.contextmanager
    def recording(self, flow: str) -> Iterator[None]:
        self.flow = flow
        try:
            yield
        finally:
            self.flow = ""


@contextlib.contextmanager
def hooked(snapshots: Snapshots) -> Iterator[Snapshots]:
    cache_module.COMMIT_HOOKS.append(snapshots)
    try:
        yield snapshots
    finally:
        cache_module.COMMIT_HOOKS.remove(snapshots)
