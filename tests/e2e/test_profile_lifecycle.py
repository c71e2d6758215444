"""Wrong passwords are audited once the cache opens; wipe on demand and after N failures."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdt.cli import EXIT_CACHE, EXIT_OK, EXIT_USAGE, run
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.errors import NoProfileError, ProfileWipedError, WrongPassphraseError
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


def _signed_in_once(gateway: Gateway, **settings: object) -> Settings:
    config = Settings()
    config.set("gateway_url", gateway.url)
    for key, value in settings.items():
        config.set(key, value)
    config.save()
    terminal = Terminal(config)
    try:
        account = gateway.demo_account("officer1")
        terminal.login("officer1", account["password"], account["otp_now"])
    finally:
        terminal.close()
    return config


def test_wrong_passwords_are_audited_at_the_next_unlock(gateway: Gateway) -> None:
    config = _signed_in_once(gateway)
    terminal = Terminal(config)
    try:
        for _ in range(2):
            with pytest.raises(WrongPassphraseError):
                terminal.unlock("officer1", "wrong")
        terminal.unlock("officer1", "training")
        assert terminal.writer is not None
        rows = terminal.writer.call(lambda c: c._conn.execute(
            "SELECT action, outcome FROM audit ORDER BY n").fetchall())
        assert rows.count(("unlock", "failure")) == 2
        assert rows[-1] == ("unlock", "success")
        assert terminal.verify_audit().ok
    finally:
        terminal.close()


def test_wipe_destroys_key_and_files(gateway: Gateway, mdt_home: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    _signed_in_once(gateway)
    folder = mdt_home / "data" / "profiles" / "officer1"
    assert (folder / "cache.db").exists()
    assert run(["wipe", "--user", "officer1"]) == EXIT_USAGE  # asks for --yes
    assert run(["wipe", "--user", "officer1", "--yes"]) == EXIT_OK
    assert not folder.exists()
    terminal = Terminal(Settings())
    try:
        with pytest.raises(NoProfileError):
            terminal.unlock("officer1", "training")
    finally:
        terminal.close()


def test_the_agency_can_wipe_after_n_wrong_passwords(gateway: Gateway, mdt_home: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    _signed_in_once(gateway, wipe_after_failures=3)
    monkeypatch.setenv("MDT_PASSWORD", "wrong")
    assert run(["show", "--user", "officer1"]) == EXIT_CACHE
    assert run(["show", "--user", "officer1"]) == EXIT_CACHE
    terminal = Terminal(Settings())
    try:
        with pytest.raises(ProfileWipedError, match="wiped"):
            terminal.unlock("officer1", "wrong")
    finally:
        terminal.close()
    assert not (mdt_home / "data" / "profiles" / "officer1").exists()


def test_audit_records_reach_the_gateway_once_and_may_then_be_pruned(gateway: Gateway) -> None:
    import sqlite3
    from datetime import UTC, datetime, timedelta

    config = _signed_in_once(gateway)
    terminal = Terminal(config)
    try:
        terminal.unlock("officer1", "training")
        terminal.send("QV", {"LIC": "CLN1000", "LIS": "MD"})
        terminal.sync_once()
        assert terminal.writer is not None
        assert terminal.writer.call(lambda c: c.audit_unshipped()) == []
        conn = sqlite3.connect(gateway.data_dir / "gateway.sqlite")
        actions = sorted(json.loads(r[0])["action"] for r in conn.execute(
            "SELECT body FROM audit WHERE user_id = 'officer1'"))
        conn.close()
        assert {"logon", "unlock", "query"} <= set(actions)
        terminal.sync_once()  # nothing new: nothing sent twice
        conn = sqlite3.connect(gateway.data_dir / "gateway.sqlite")
        assert conn.execute("SELECT count(*) FROM audit").fetchone()[0] == len(actions)
        conn.close()
        later = datetime.now(UTC) + timedelta(hours=13)
        terminal.writer.call(lambda c: c.expire(12, now=later))
        report = terminal.writer.call(lambda c: c.verify_audit())
        assert report.ok and report.checked < len(actions)  # shipped ones could go
    finally:
        terminal.close()
