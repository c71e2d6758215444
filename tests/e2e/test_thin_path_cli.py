"""The whole path once, headless, against the real training gateway over HTTP on 127.0.0.1:
log in → send a plate query → the answer arrives through the inbox → stored encrypted → shown →
gateway stopped → the return is still there, offline, marked as cached with its age."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from mdt.cli import EXIT_CACHE, EXIT_OK, EXIT_REFUSED, EXIT_UNREACHABLE, run
from mdt.store.cache import Cache
from mdt.store.errors import CacheError
from tests.conftest import Gateway, start_gateway

pytestmark = pytest.mark.e2e

STOLEN_PLATE, STOLEN_STATE = "TRN4821", "VA"
CLEAN_PLATE, CLEAN_STATE = "CLN1000", "MD"


def _login(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, user: str = "officer1") -> int:
    account = gateway.demo_account(user)
    monkeypatch.setenv("MDT_PASSWORD", account["password"])
    monkeypatch.setenv("MDT_OTP", gateway.demo_account(user)["otp_now"])
    return run(["login", "--gateway", gateway.url, "--user", user])


def _show(capsys: pytest.CaptureFixture[str]) -> list[dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    assert run(["show", "--json"]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def _sync_until(capsys: pytest.CaptureFixture[str], count: int, timeout: float = 20) -> list[dict]:  # type: ignore[type-arg]
    deadline = time.monotonic() + timeout
    while True:
        assert run(["sync", "--once"]) == EXIT_OK
        returns = _show(capsys)
        if len(returns) >= count or time.monotonic() > deadline:
            return returns
        time.sleep(0.2)


def test_plate_query_round_trip_then_offline(gateway: Gateway, mdt_home: Path,
                                             monkeypatch: pytest.MonkeyPatch,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert _login(gateway, monkeypatch) == EXIT_OK
    assert "TRAINING gateway" in capsys.readouterr().out

    assert run(["send", "QV", f"LIC={STOLEN_PLATE}", f"LIS={STOLEN_STATE}"]) == EXIT_OK
    out = capsys.readouterr().out
    assert f"LIC/{STOLEN_PLATE}.LIS/{STOLEN_STATE}" in out  # the fixed-format text went out
    assert run(["send", "QV", f"LIC={CLEAN_PLATE}", f"LIS={CLEAN_STATE}"]) == EXIT_OK

    returns = _sync_until(capsys, 2)
    by_plate = {r["query"]["fields"]["LIC"]: r for r in returns}
    stolen, clean = by_plate[STOLEN_PLATE], by_plate[CLEAN_PLATE]
    assert stolen["hit"] is True
    assert any(rec["file"] == "VEHICLE" and rec["hit"] for rec in stolen["records"])
    assert any("PROBABLE CAUSE" in c.upper() for rec in stolen["records"] for c in rec["caveats"])
    assert clean["hit"] is False

    # The human-readable listing says HIT, cached, and how old.
    capsys.readouterr()
    assert run(["show"]) == EXIT_OK
    listing = capsys.readouterr().out
    assert f"[HIT] QV LIC/{STOLEN_PLATE}" in listing
    assert "cached, received" in listing and "ago" in listing

    # The cache files hold no plaintext of what was asked or answered.
    cache_files = list((mdt_home / "data" / "profiles" / "officer1").glob("cache.db*"))
    assert cache_files
    for path in cache_files:
        raw = path.read_bytes()
        for secret in (STOLEN_PLATE, CLEAN_PLATE, "STOLEN VEHICLE", "PROBABLE CAUSE"):
            assert secret.encode() not in raw, f"{secret} in clear in {path.name}"

    # Offline search, and the checks an agency's IT runs.
    capsys.readouterr()
    assert run(["search", "1G4AH59H45G118341", "--json"]) == EXIT_OK
    (found, *_rest) = json.loads(capsys.readouterr().out)
    assert found["how"] == "VIN" and found["hit"] is True
    assert run(["audit", "verify"]) == EXIT_OK
    assert "chain verified" in capsys.readouterr().out
    assert run(["cache", "check"]) == EXIT_OK
    checked = capsys.readouterr().out
    assert "Cache OK" in checked
    # the rows per table (sqlite-utils' introspection on the keyed connection): both returns
    rows = dict(part.rsplit(" ", 1) for part in checked.split("Rows: ")[1].strip().split(" · "))
    assert int(rows["returns"]) == 2 and int(rows["messages"]) >= 2

    # Gateway gone: the client still unlocks and shows the cached returns.
    gateway.stop()
    returns = _show(capsys)
    assert {r["query"]["fields"]["LIC"] for r in returns} == {STOLEN_PLATE, CLEAN_PLATE}
    assert all(r["cached"] and r["received_at"] for r in returns)

    # A query typed offline is kept, not lost, and goes out when the gateway is back; one
    # cancelled while still queued never goes.
    assert run(["send", "QV", "LIC=OFF9999", "LIS=MD"]) == EXIT_OK
    assert "stays queued" in capsys.readouterr().out
    assert run(["send", "QV", "LIC=CAN0001", "LIS=MD", "--queue-only"]) == EXIT_OK
    cancelled = capsys.readouterr().out.split()[2].rstrip(":")
    assert run(["cancel", cancelled]) == EXIT_OK
    assert run(["cancel", cancelled]) == 2  # not waiting any more
    assert run(["sync", "--once"]) == EXIT_UNREACHABLE
    back = start_gateway(gateway.data_dir)
    try:
        assert _login(back, monkeypatch) == EXIT_OK
        returns = _sync_until(capsys, 3)
        plates = {r["query"]["fields"]["LIC"] for r in returns}
        assert "OFF9999" in plates and "CAN0001" not in plates
    finally:
        back.stop()


def test_wrong_password_is_refused_and_nothing_is_created(gateway: Gateway, mdt_home: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MDT_PASSWORD", "not-the-password")
    monkeypatch.setenv("MDT_OTP", gateway.demo_account("officer1")["otp_now"])
    assert run(["login", "--gateway", gateway.url, "--user", "officer1"]) == EXIT_REFUSED
    assert "mdt:" in capsys.readouterr().err
    assert not list((mdt_home / "data").rglob("cache.db"))


def test_offline_unlock_with_wrong_password_fails_clearly(gateway: Gateway,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    assert _login(gateway, monkeypatch) == EXIT_OK
    gateway.stop()
    monkeypatch.setenv("MDT_PASSWORD", "wrong")
    capsys.readouterr()
    assert run(["show"]) == EXIT_CACHE
    assert capsys.readouterr().err.strip()


def test_the_cache_cannot_be_opened_without_its_key(gateway: Gateway, mdt_home: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert _login(gateway, monkeypatch) == EXIT_OK
    assert run(["send", "QV", f"LIC={STOLEN_PLATE}", f"LIS={STOLEN_STATE}"]) == EXIT_OK
    path = mdt_home / "data" / "profiles" / "officer1" / "cache.db"
    before = path.read_bytes()
    with pytest.raises(CacheError) as info:
        Cache.open(path, b"\x00" * 32)
    assert "key" in info.value.user_message.lower()
    assert path.read_bytes() == before  # nothing overwritten


def test_invalid_field_is_named_and_nothing_is_queued(gateway: Gateway,
                                                      monkeypatch: pytest.MonkeyPatch,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    assert _login(gateway, monkeypatch) == EXIT_OK
    capsys.readouterr()
    assert run(["send", "QV", "LIC=ABC1234", "LIS=ZZ"]) == 2
    assert "LIS" in capsys.readouterr().err
    assert _show(capsys) == []


def test_erase_on_logout_leaves_nothing_cached(gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    from mdt.settings import Settings

    assert _login(gateway, monkeypatch) == EXIT_OK
    assert run(["send", "QV", f"LIC={STOLEN_PLATE}", f"LIS={STOLEN_STATE}"]) == EXIT_OK
    assert len(_sync_until(capsys, 1)) == 1
    settings = Settings()
    settings.set("erase_on_logout", True)
    settings.save()
    capsys.readouterr()
    assert run(["logout"]) == EXIT_OK
    assert "erased" in capsys.readouterr().out
    assert _show(capsys) == []
    assert run(["audit", "verify"]) == EXIT_OK  # the audit log is kept
