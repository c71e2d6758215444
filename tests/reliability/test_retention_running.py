"""Retention keeps what is still running (unacknowledged alerts, deadlines not passed, and the
returns they belong to) and runs on the gateway's clock, which a PC clock set hours ahead does
not move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from mdt.core import trusted_time
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.cache import Cache
from tests.conftest import Gateway, sync_until

KEY = bytes(range(32))


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    return Cache.open(tmp_path / "cache.db", KEY, create=True)


def test_an_unacknowledged_detainer_outlives_retention_with_its_return(cache: Cache) -> None:
    now = datetime.now(UTC)
    cache.add_outgoing({"id": "iaq1", "mke": "IAQ", "fields": {}, "text": "IAQ",
                        "created_at": _iso(now - timedelta(hours=13))})
    cache.apply_event({"seq": 1, "id": "r1", "type": "response", "in_reply_to": "iaq1",
                       "mke": "IAQ", "source": "LESC", "text": "STA/DEPORTED FELON DET/Y",
                       "records": [{"file": "IMMIGRATION", "hit": True, "fields": {
                           "NAM": "ZANMIR, SOREN T"}}]})
    # Lodged 13 hours ago with a 48-hour window: 35 hours left.
    cache.apply_event({"seq": 2, "id": "d1", "type": "detainer", "in_reply_to": "iaq1",
                       "created_at": _iso(now - timedelta(hours=13)), "detainer_id": "DT1",
                       "subject": {"name": "ZANMIR, SOREN T"},
                       "requested_action": {"hold_hours": 48}})
    cache.apply_event({"seq": 3, "id": "r2", "type": "response", "in_reply_to": None,
                       "mke": "QV", "source": "NCIC", "text": "NO RECORD", "records": []})
    detainer = next(a for a in cache.list_alerts() if a["kind"] == "detainer")
    hit = next(a for a in cache.list_alerts() if a["kind"] != "detainer")
    assert cache.ack_alert(hit["id"], who="officer1")
    later = now + timedelta(hours=13)
    cache.expire(12, now=later)
    assert cache.get_alert(detainer["id"]) is not None  # unacknowledged: kept
    assert cache.get_return("r1") is not None and cache.get_message("iaq1") is not None
    assert cache.search("ZANMIR, SOREN T")[0]  # its record is still found offline
    assert cache.get_return("r2") is None  # nothing running on it: gone
    # Acknowledged, its window still open: kept. Window closed: gone with its return.
    assert cache.ack_alert(detainer["id"], who="officer1")
    cache.expire(12, now=later)
    assert cache.get_alert(detainer["id"]) is not None and cache.get_return("r1") is not None
    cache.expire(12, now=now + timedelta(hours=36))
    assert cache.get_alert(detainer["id"]) is None and cache.get_return("r1") is None
    assert cache.verify_audit().ok


@pytest.mark.e2e
def test_a_pc_clock_set_13_hours_ahead_erases_nothing_still_in_use(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch) -> None:
    config = Settings()
    config.set("gateway_url", gateway.url)
    config.save()
    account = gateway.demo_account("officer1")
    terminal = Terminal(config)
    terminal.login("officer1", account["password"], account["otp_now"])  # anchors the clock
    terminal.send("QV", {"LIC": "ZZZ1234", "LIS": "MD"})
    sync_until(terminal, terminal.recent_returns)
    assert terminal.recent_returns()
    terminal.close()
    real = datetime.now(UTC)
    ahead = real + timedelta(hours=13)

    def jumped() -> datetime:
        return ahead

    # The PC clock is 13 hours ahead; the machine did not restart (same boot clock).
    again = Terminal(config)
    again.unlock("officer1", account["password"])
    again.alert_desk.clock._system = jumped  # type: ignore[method-assign]
    assert abs((again.retention_now() - real).total_seconds()) < 300  # type: ignore[operator]
    assert again.expire() == 0 and again.recent_returns()
    # A cold boot, offline, with the clock still 13 hours ahead: at most an hour past the last
    # time the gateway's clock was known.
    monkeypatch.setattr(trusted_time, "boot_reading",
                        lambda: trusted_time.BootReading("another-boot", 5.0))
    assert again.expire() == 0 and again.recent_returns()
    # 13 hours that really passed (the boot clock moved on the same boot): the return goes.
    anchor = trusted_time.anchor_from_text(
        again.writer.call(lambda c: c.get_meta("gateway_clock_anchor")))  # type: ignore[union-attr]
    assert anchor is not None and anchor.boot is not None
    passed = trusted_time.BootReading(anchor.boot.boot_id, anchor.boot.seconds + 13 * 3600)
    monkeypatch.setattr(trusted_time, "boot_reading", lambda: passed)
    assert again.expire() >= 1 and not again.recent_returns()
    again.close()
