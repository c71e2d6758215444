"""Real damage: found by SQLite's and SQLCipher's own checks, set aside, salvaged into a new cache
at the next sign-in by itself, and the officer told what was kept and what was not."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mdt.core import trusted_time
from mdt.services.session import cache_path
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.cache import Cache
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


def _flip_in_a_page_of(path: Path, key: bytes, table: str) -> int:
    """Overwrite 64 bytes in the middle of the root page of ``table`` (page 1 for the schema),
    with the cache closed and checkpointed: real damage that the page's HMAC catches. Returns the
    page number."""
    cache = Cache.open(path, key)
    try:
        cache.reclaim()  # everything in the main file, the WAL empty
        page = 1 if table == "sqlite_schema" else int(cache._conn.execute(
            "SELECT rootpage FROM sqlite_schema WHERE name = ?", (table,)).fetchone()[0])
    finally:
        cache.close()
    with open(path, "r+b") as handle:
        handle.seek((page - 1) * 4096 + 2000)
        handle.write(os.urandom(64))
    return int(page)


def _settings(gateway: Gateway) -> Settings:
    config = Settings()
    config.set("gateway_url", gateway.url)
    config.save()
    return config


def test_a_damaged_cache_is_set_aside_salvaged_and_the_officer_told(
        gateway: Gateway, mdt_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    account = gateway.demo_account("officer1")
    terminal = Terminal(_settings(gateway))
    terminal.login("officer1", account["password"], account["otp_now"])
    # A stolen car answered (an open hit alert), then a dead spot: two queries queued, unsent.
    terminal.send("QV", {"LIC": "TRN4821", "LIS": "VA"})
    for _ in range(20):
        terminal.sync_once()
        if terminal.alert_desk.snapshot().open_alerts:
            break
    open_alerts = {a["id"] for a in terminal.alert_desk.snapshot().open_alerts}
    assert open_alerts
    queued = [terminal.send("QV", {"LIC": f"DS{n:05d}", "LIS": "MD"})["id"] for n in range(2)]
    for n in range(150):  # enough returns that they fill pages of their own
        terminal.writer.call(lambda c, n=n: c.apply_event(  # type: ignore[union-attr]
            {"seq": 10_000 + n, "id": f"old-{n}", "type": "response", "mke": "QV",
             "source": "NCIC", "text": "NO RECORD " + "X" * 3000, "records": []}))
    unshipped = terminal.writer.call(lambda c: len(c.audit_unshipped(10_000)))  # type: ignore[union-attr]
    key = terminal.session.key
    assert key is not None
    terminal.close()

    path = cache_path("officer1")
    _flip_in_a_page_of(path, key, "events")

    # The next sign-in (offline here: a dead spot) finds it, sets it aside, salvages, and says
    # what was kept: no "there is no cache", no "wipe".
    again = Terminal(_settings(gateway))
    again.unlock("officer1", account["password"])
    try:
        (notice,) = again.notices
        assert "was damaged" in notice and "set aside" in notice and "new cache" in notice
        assert "2 queued queries (they will be sent)" in notice
        assert "open alert" in notice and "Could not be read: some returns" in notice
        aside = sorted(path.parent.glob("cache.db.damaged-*"))
        assert aside and not aside[0].read_bytes().startswith(b"SQLite format 3")  # encrypted
        messages = {m["id"]: m["state"] for m in again.messages(1000)}
        assert all(messages[q] in ("queued", "accepted", "acknowledged", "answered")
                   for q in queued)
        assert open_alerts <= {a["id"] for a in again.alert_desk.snapshot().open_alerts}
        assert again.verify_audit().ok
        assert again.writer is not None
        rows = again.writer.call(lambda c: c._conn.execute(
            "SELECT action, outcome FROM audit").fetchall())
        assert ("cache-recover", "salvaged") in rows
        assert len(rows) >= unshipped
        # The queued queries still go out, once.
        again.sync_once()
        assert not [m for m in again.messages(1000) if m["state"] == "queued"]
        assert again.check().ok
        # Kept aside as long as its records would be, then erased by retention.
        anchor = trusted_time.anchor_from_text(again.writer.call(  # type: ignore[union-attr]
            lambda c: c.get_meta("gateway_clock_anchor")))
        assert anchor is not None and anchor.boot is not None
        later = trusted_time.BootReading(anchor.boot.boot_id, anchor.boot.seconds + 13 * 3600)
        monkeypatch.setattr(trusted_time, "boot_reading", lambda: later)
        again.expire()
        assert not list(path.parent.glob("cache.db.damaged-*"))
    finally:
        again.close()


def test_damage_that_stops_even_the_schema_from_being_read_still_lets_the_officer_in(
        gateway: Gateway) -> None:
    account = gateway.demo_account("officer1")
    terminal = Terminal(_settings(gateway))
    terminal.login("officer1", account["password"], account["otp_now"])
    terminal.send("QV", {"LIC": "DS00009", "LIS": "MD"})
    key = terminal.session.key
    assert key is not None
    terminal.close()
    path = cache_path("officer1")
    _flip_in_a_page_of(path, key, "sqlite_schema")
    again = Terminal(_settings(gateway))
    try:
        again.unlock("officer1", account["password"])  # offline too: no "there is no cache"
        (notice,) = again.notices
        assert "set aside" in notice and "new cache" in notice
        assert again.check().ok
    finally:
        again.close()


def test_a_missing_cache_file_is_made_anew_at_the_next_sign_in(gateway: Gateway) -> None:
    account = gateway.demo_account("officer1")
    terminal = Terminal(_settings(gateway))
    terminal.login("officer1", account["password"], account["otp_now"])
    terminal.close()
    for suffix in ("", "-wal", "-shm"):
        Path(f"{cache_path('officer1')}{suffix}").unlink(missing_ok=True)
    again = Terminal(_settings(gateway))
    try:
        again.login("officer1", account["password"], gateway.demo_account("officer1")["otp_now"])
        assert any("no cache file" in n for n in again.notices)
        assert again.check().ok
    finally:
        again.close()


def test_a_cache_open_elsewhere_is_never_set_aside_under_it(gateway: Gateway) -> None:
    """Another MDT (a second window, a CLI command) has the cache open when this one finds it
    flagged as damaged: nothing is renamed under the other program; once it closes, the next
    sign-in sets the file aside as usual."""
    from mdt.store.cache import Cache, damage_marker
    from mdt.store.errors import CacheLockedError

    account = gateway.demo_account("officer1")
    terminal = Terminal(_settings(gateway))
    terminal.login("officer1", account["password"], account["otp_now"])
    key = terminal.session.key
    assert key is not None
    terminal.close()
    path = cache_path("officer1")
    other = Cache.open(path, key, read_only=True)  # another program holding it open
    damage_marker(path).touch()  # ... and this one found it damaged
    try:
        blocked = Terminal(_settings(gateway))
        try:
            with pytest.raises(CacheLockedError, match="open in another MDT window"):
                blocked.unlock("officer1", account["password"])
        finally:
            blocked.close()
        assert path.exists() and not list(path.parent.glob("cache.db.damaged-*"))
        assert other.list_messages() is not None  # the other one reads on, undisturbed
    finally:
        other.close()
    again = Terminal(_settings(gateway))
    try:
        again.unlock("officer1", account["password"])
        assert any("set aside" in n for n in again.notices)
    finally:
        again.close()
