"""The cache's threads (``mdt/store/writer_thread.py``): the typed proxy runs Cache's methods on
the thread, the reader cannot write, and freed pages are given back in small jobs between the
officer's writes, without the writer thread ever sleeping."""

from __future__ import annotations

import asyncio
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mdt.store.cache import Cache
from mdt.store.errors import CacheBugError
from mdt.store.retention import Retention
from mdt.store.writer_thread import CacheReader, CacheWriter

KEY = bytes(range(32))


def response(seq: int, plate: str = "STEP0001") -> dict:  # type: ignore[type-arg]
    return {"seq": seq, "id": f"event-{seq}", "type": "response", "in_reply_to": None,
            "mke": "QV", "source": "NCIC", "text": "MKE/STOLEN VEHICLE " + "X" * 3000,
            "records": [{"file": "VEHICLE", "hit": False, "fields": {"LIC": f"{plate}{seq}"}}]}


@pytest.fixture
def writer(tmp_path: Path) -> CacheWriter:
    w = CacheWriter(tmp_path / "cache.db", KEY, create=True)
    yield w  # type: ignore[misc]
    w.close()


def test_the_proxy_runs_each_method_on_the_thread(writer: CacheWriter) -> None:
    assert writer.cache.apply_event(response(1)) is True
    assert writer.cache.apply_event(response(1)) is False
    assert [r.id for r in writer.cache.list_returns(10)] == ["event-1"]
    assert writer.cache.inbox_cursor() == 1
    assert writer.cache.read_only is False  # a property, read on the thread
    seen: list[str] = []
    writer.call(lambda c: seen.append(threading.current_thread().name))
    assert seen[0].startswith("mdt-cache-writer") and seen[0] != threading.current_thread().name


def test_the_proxy_refuses_the_connection_and_private_names(writer: CacheWriter) -> None:
    for name in ("_conn", "connection", "repos", "close", "db", "no_such_method"):
        with pytest.raises(AttributeError):
            getattr(writer.cache, name)


def test_invoke_is_checked_against_the_method(writer: CacheWriter) -> None:
    writer.invoke(Cache.set_meta, "forms", "v1")
    assert writer.invoke(Cache.get_meta, "forms") == "v1"
    assert writer.submit_invoke(Cache.get_meta, "missing", "dflt").result() == "dflt"

    async def from_a_loop() -> int:
        return await writer.ainvoke(Cache.inbox_cursor)

    assert asyncio.run(from_a_loop()) == 0
    with pytest.raises(ValueError):  # the method's own errors come back
        writer.invoke(Cache.set_meta, "inbox_cursor", "9")


def test_the_reader_is_query_only(tmp_path: Path, writer: CacheWriter) -> None:
    writer.cache.apply_event(response(1))
    reader = CacheReader(tmp_path / "cache.db", KEY)
    try:
        assert reader.call(lambda c: c._conn.execute("PRAGMA query_only").fetchone()[0]) == 1
        assert [r.id for r in reader.cache.list_returns()] == ["event-1"]
        with pytest.raises(CacheBugError):
            reader.cache.set_meta("forms", "v2")
        writer.cache.apply_event(response(2))
        assert len(reader.cache.list_returns()) == 2  # it sees the writer's commits
    finally:
        reader.close()


def test_reclaim_runs_in_small_jobs_between_writes(writer: CacheWriter,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """After an erase, the freed pages go back a few at a time, each step a job of its own: a
    write submitted meanwhile runs before the reclaim is done; nothing sleeps on the thread."""
    for seq in range(1, 300):
        writer.cache.apply_event(response(seq))
    steps: list[str] = []
    original = Retention.reclaim_step

    def step(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        steps.append("reclaim")
        return original(self, *args, **kwargs)

    slept = []
    real_sleep = time.sleep

    def no_sleep_on_the_writer(seconds: float) -> None:
        if threading.current_thread().name.startswith("mdt-cache-writer"):
            slept.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr(Retention, "RECLAIM_PAGES", 4)
    monkeypatch.setattr(Retention, "reclaim_step", step)
    monkeypatch.setattr(time, "sleep", no_sleep_on_the_writer)
    later = datetime.now(UTC) + timedelta(hours=13)
    gone = writer.cache.expire(12, now=later)
    assert gone == 299
    writer.call(lambda c: steps.append("user write") or c.set_meta("forms", "v3"))
    free = writer.call(lambda c: int(c._conn.execute("PRAGMA freelist_count").fetchone()[0]))
    deadline = time.monotonic() + 30
    while writer.call(lambda c: writer._reclaim is not None) and time.monotonic() < deadline:
        real_sleep(0.01)
    assert "user write" in steps and steps.index("user write") < len(steps) - 1, steps
    assert steps.count("reclaim") > 2  # in steps, not one long job
    assert free > 0  # the write ran while pages were still being given back
    assert writer.call(lambda c: int(c._conn.execute("PRAGMA freelist_count").fetchone()[0])) == 0
    assert slept == []


def test_no_reclaim_when_nothing_was_erased(writer: CacheWriter,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    scheduled: list[object] = []
    writer.call(lambda c: setattr(c.repos.retention, "schedule", scheduled.append))
    assert writer.cache.expire(12) == 0
    assert writer.cache.erase_cached() == 0
    assert scheduled == []
    writer.cache.apply_event(response(1))
    assert writer.cache.erase_cached() == 1
    assert len(scheduled) == 1


def test_close_finishes_a_reclaim_under_way(tmp_path: Path) -> None:
    writer = CacheWriter(tmp_path / "cache.db", KEY, create=True)
    for seq in range(1, 200):
        writer.cache.apply_event(response(seq))
    writer.cache.erase_cached()
    writer.close()
    with Cache.open(tmp_path / "cache.db", KEY) as cache:
        assert int(cache._conn.execute("PRAGMA freelist_count").fetchone()[0]) == 0


def test_an_old_cache_without_incremental_vacuum_is_reclaimed_and_made_incremental(
        tmp_path: Path) -> None:
    """The kept version-1 cache predates incremental vacuum: its first reclaim is one VACUUM,
    which also turns incremental vacuum on, so later reclaims go in steps."""
    source = Path(__file__).parents[1] / "data" / "caches" / "cache-v1.db"
    path = tmp_path / "cache.db"
    path.write_bytes(source.read_bytes())
    writer = CacheWriter(path, KEY)
    try:
        assert writer.call(lambda c: c._conn.execute("PRAGMA auto_vacuum").fetchone()[0]) == 0
        for seq in range(100, 160):
            writer.cache.apply_event(response(seq))
        assert writer.cache.erase_cached() >= 60
    finally:
        writer.close()
    with Cache.open(path, KEY) as cache:
        assert cache._conn.execute("PRAGMA auto_vacuum").fetchone()[0] == 2
        assert int(cache._conn.execute("PRAGMA freelist_count").fetchone()[0]) == 0
        assert cache.list_returns() == [] and cache.verify_audit().ok
