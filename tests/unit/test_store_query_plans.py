"""Every look-up the screens make is served by an index (EXPLAIN QUERY PLAN), and a page of
returns or search hits is a fixed number of statements, not one more per row (issue #19)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdt.store.cache import Cache

KEY = bytes(range(32))


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    c = Cache.open(tmp_path / "cache.db", KEY, create=True)
    for i in range(1, 40):
        c.add_outgoing({"id": f"q{i}", "mke": "QW", "dest": ["NCIC"], "fields": {}, "text": "QW"})
        c.apply_event({"seq": i, "id": f"e{i}", "type": "response", "in_reply_to": f"q{i}",
                       "mke": "QW", "source": "NCIC", "text": "",
                       "records": [{"file": "WANTED", "hit": False, "nic": f"W{i:09d}",
                                    "fields": {"NAM": f"ZANDER{i % 7}, ALEX {i}",
                                               "LIC": f"B{i:07d}", "VIN": f"1BENCH{i:011d}",
                                               "MNU": f"AR-{100000000 + i}", "OLN": f"D{i}",
                                               "DOB": f"1970{1 + i % 12:02d}{1 + i % 28:02d}"}}]})
    yield c  # type: ignore[misc]
    c.close()


def _statements(cache: Cache, run) -> list[str]:  # type: ignore[no-untyped-def]
    seen: list[str] = []
    cache._conn.set_trace_callback(seen.append)
    try:
        run()
    finally:
        cache._conn.set_trace_callback(None)
    return [s for s in seen if not s.startswith("--")]  # (FTS5's own statements start so)


def _plan(cache: Cache, sql: str) -> list[str]:
    # The traced text has its parameters bound already.
    return [row[3] for row in cache._conn.execute(f"EXPLAIN QUERY PLAN {sql}")]


def test_returns_pages_use_the_order_index_and_one_statement(cache: Cache) -> None:
    first = cache.list_returns(10)
    assert [r.query["id"] for r in first] == [f"q{i}" for i in range(39, 29, -1)]  # type: ignore[index]
    statements = _statements(cache, lambda: cache.list_returns(10, before=first[-1]))
    assert len(statements) == 1, statements  # the queries come with the returns (a join)
    plan = " ".join(_plan(cache, statements[0]))
    assert "USING INDEX returns_order" in plan and "TEMP B-TREE" not in plan, plan
    by_id = _statements(cache, lambda: cache.list_returns(10, before="e20"))
    assert len(by_id) == 2  # the key of the id given, then the page
    assert "USING INDEX returns_order" in " ".join(_plan(cache, by_id[1]))


@pytest.mark.parametrize("text", ["B0000012", "1BENCH00000000012", "A100000012", "W000000012",
                                  "D12", "ZANDER3, ALEX 3", "ZANDER3,", "19700404",
                                  "ZANDER3, ALEX 19700404"])
def test_each_search_kind_reads_an_index_and_fetches_its_queries_at_once(cache: Cache,
                                                                         text: str) -> None:
    statements = _statements(cache, lambda: cache.search(text, limit=5))
    assert len(statements) == 1, statements
    plan = _plan(cache, statements[0])
    assert not [step for step in plan if step.startswith("SCAN record_index")], plan
    hits, _ = cache.search(text, limit=5)
    assert hits and all(h.query is not None and h.query["mke"] == "QW" for h in hits)
