"""A password changed at the gateway: the sign-in it accepts is never a wrong password here (no
count, no lockout, no wipe); the previous password once keeps the cache, or the officer starts
fresh; a re-login in a running session re-wraps the open cache's key by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from mdt.cli import EXIT_CACHE, EXIT_OK, run
from mdt.services.session import cache_path
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.errors import PasswordChangedError, WrongPassphraseError
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


def _passwd(gateway: Gateway, password: str) -> None:
    done = subprocess.run([sys.executable, "-m", "mock_server", "passwd", "officer1",
                           "--data-dir", str(gateway.data_dir)], capture_output=True, text=True,
                          env={**os.environ, "MDT_GATEWAY_PASSWORD": password}, timeout=30)
    assert done.returncode == 0, done.stderr


def _otp(gateway: Gateway) -> str:
    return gateway.demo_account("officer1")["otp_now"]


def _failures(terminal: Terminal) -> list[float]:
    blob = terminal.vault._read("officer1")
    assert blob is not None
    return list(blob.get("failures") or []) + list(blob.get("unaudited") or [])


def test_a_password_changed_at_the_gateway_keeps_the_cache_and_counts_nothing(
        gateway: Gateway) -> None:
    config = Settings()
    config.set("gateway_url", gateway.url)
    config.set("wipe_after_failures", 1)  # the harshest agency rule: one wrong password wipes
    config.save()
    terminal = Terminal(config)
    terminal.login("officer1", "training", _otp(gateway))
    queued = terminal.send("QV", {"LIC": "DS00001", "LIS": "MD"})["id"]  # a dead spot: not sent
    terminal.close()

    _passwd(gateway, "changed-password-1")
    changed = Terminal(config)
    try:
        for _ in range(3):  # never a wrong password, however often
            with pytest.raises(PasswordChangedError, match="previous password"):
                changed.login("officer1", "changed-password-1", _otp(gateway))
        with pytest.raises(PasswordChangedError, match="not the previous password either"):
            changed.login("officer1", "changed-password-1", _otp(gateway),
                          previous_password="not-it")
        assert _failures(changed) == [] and cache_path("officer1").exists()
        changed.login("officer1", "changed-password-1", _otp(gateway),
                      previous_password="training")
        assert any("password was changed" in n for n in changed.notices)
        assert any(m["id"] == queued and m["state"] in ("queued", "accepted", "acknowledged",
                                                        "answered") for m in changed.messages())
    finally:
        changed.close()
    offline = Terminal(config)
    try:
        offline.unlock("officer1", "changed-password-1")  # the new password opens it offline
        assert offline.verify_audit().ok
    finally:
        offline.close()


def test_starting_fresh_after_a_password_change(gateway: Gateway) -> None:
    config = Settings()
    config.set("gateway_url", gateway.url)
    config.save()
    terminal = Terminal(config)
    terminal.login("officer1", "training", _otp(gateway))
    terminal.close()
    _passwd(gateway, "changed-password-2")
    fresh = Terminal(config)
    try:
        fresh.login("officer1", "changed-password-2", _otp(gateway), start_fresh=True)
        assert any("Started fresh" in n for n in fresh.notices)
        assert fresh.writer is not None
        rows = fresh.writer.call(lambda c: c._conn.execute(
            "SELECT action, outcome FROM audit").fetchall())
        assert ("password-change", "fresh-profile") in rows
    finally:
        fresh.close()
    again = Terminal(config)
    try:
        with pytest.raises(WrongPassphraseError):
            again.unlock("officer1", "training")  # the old one is gone with the old cache
        again.unlock("officer1", "changed-password-2")
    finally:
        again.close()


def test_a_re_login_in_a_running_session_re_wraps_the_open_cache(gateway: Gateway) -> None:
    config = Settings()
    config.set("gateway_url", gateway.url)
    config.save()
    terminal = Terminal(config)
    try:
        terminal.login("officer1", "training", _otp(gateway))
        _passwd(gateway, "changed-password-3")
        terminal.relogin("changed-password-3", _otp(gateway))  # the token expired meanwhile
    finally:
        terminal.close()
    again = Terminal(config)
    try:
        again.unlock("officer1", "changed-password-3")
    finally:
        again.close()


def test_the_command_line_asks_for_the_previous_password(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
        mdt_home: Path) -> None:
    monkeypatch.setenv("MDT_PASSWORD", "training")
    monkeypatch.setenv("MDT_OTP", _otp(gateway))
    assert run(["login", "--gateway", gateway.url, "--user", "officer1"]) == EXIT_OK
    _passwd(gateway, "changed-password-4")
    monkeypatch.setenv("MDT_PASSWORD", "changed-password-4")
    monkeypatch.setenv("MDT_OTP", _otp(gateway))  # each one-time code signs in once
    capsys.readouterr()
    assert run(["login", "--user", "officer1"]) == EXIT_CACHE
    err = capsys.readouterr().err
    assert "MDT_PREVIOUS_PASSWORD" in err and "--start-fresh" in err
    monkeypatch.setenv("MDT_PREVIOUS_PASSWORD", "training")
    monkeypatch.setenv("MDT_OTP", _otp(gateway))
    assert run(["login", "--user", "officer1"]) == EXIT_OK
    assert "password was changed" in capsys.readouterr().err
