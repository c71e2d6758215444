"""The quarantine of inbox events (``mdt/store/quarantine.py``): kept with the raw text inside
the encrypted cache, once per raw body, audited without data, the cursor moved in the same
transaction; a version 3 cache gains the table on opening."""

from __future__ import annotations

import shutil
from pathlib import Path

from mdt.store import quarantine
from mdt.store.cache import SCHEMA_VERSION, Cache

DATA = Path(__file__).resolve().parent.parent / "data" / "caches"
KEY = bytes(range(32))


def test_a_version_3_cache_gets_the_quarantine(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    shutil.copy(DATA / "cache-v3.db", path)
    with Cache.open(path, KEY) as cache:
        assert cache.schema_version() == SCHEMA_VERSION == 5
        assert quarantine.count_open(cache) == 0
        assert cache.inbox_cursor() == 4  # what v3 held is still there
        assert quarantine.keep(cache, '{"seq": 5, "text": 7}', "text: Input should be a valid "
                               "string", seq=5, event_type="admin", advance_to=5, who="officer1")
        assert cache.inbox_cursor() == 5
        assert cache.verify_audit().ok


def test_kept_once_listed_shown_and_acknowledged(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "c.db", KEY, create=True) as cache:
        raw = '{"seq": 1, "id": "e1", "type": "admin", "text": "SMITH, JOHN \\ud800"}'
        assert quarantine.keep(cache, raw, "text: not UTF-8", seq=1, event_id="e1",
                               event_type="admin", advance_to=1, who="officer1")
        assert not quarantine.keep(cache, raw, "text: not UTF-8", seq=1, advance_to=1)
        assert quarantine.keep(cache, "\ud800 lone", "not JSON")  # a lone surrogate is storable
        [newest, first] = quarantine.list_quarantined(cache)
        assert first.title == ("An unreadable message from the switch (inbox #1): "
                               "text: not UTF-8")
        assert newest.seq is None and cache.inbox_cursor() == 1
        shown = quarantine.get(cache, first.id[:8])
        assert shown is not None and shown.raw == raw
        assert quarantine.acknowledge(cache, first.id, "officer1")
        assert not quarantine.acknowledge(cache, first.id, "officer1")
        assert [q.id for q in quarantine.list_quarantined(cache)] == [newest.id]
        assert len(quarantine.list_quarantined(cache, open_only=False)) == 2
        details = [r[0] for r in cache._conn.execute(
            "SELECT detail FROM audit WHERE action LIKE 'inbox-quarantine%'")]
        assert len(details) == 3 and not any("SMITH" in d for d in details)
        assert cache.verify_audit().ok


def test_retention_erases_what_was_kept_aside(tmp_path: Path) -> None:
    with Cache.open(tmp_path / "c.db", KEY, create=True) as cache:
        assert quarantine.keep(cache, '{"seq": 1, "text": 5}', "text: invalid", seq=1)
        assert quarantine.erase(cache, 12.0) == 0  # younger than a shift: kept
        assert quarantine.erase(cache, 0.0) == 1
        assert quarantine.list_quarantined(cache, open_only=False) == []
        assert quarantine.keep(cache, '{"seq": 2, "text": 5}', "text: invalid", seq=2)
        assert quarantine.erase(cache) == 1  # erase on logout: all of them


def test_the_key_probe_still_tells_right_from_wrong_past_page_1(tmp_path: Path) -> None:
    """Version 4's schema no longer fits on page 1; the key probe (a copy of page 1, used when a
    -wal file is there) must still take the right key and refuse a wrong one."""
    import pytest

    from mdt.store.cache import _probe_key
    from mdt.store.errors import WrongKeyError

    path = tmp_path / "c.db"
    Cache.open(path, KEY, create=True).close()
    _probe_key(path, KEY)
    with pytest.raises(WrongKeyError):
        _probe_key(path, b"\x01" * 32)
