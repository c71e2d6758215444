"""Attacks on the terminal and what they get now: escape sequences from the switch, a copy of the
files, a login answer whose user id is a path, offline guessing of a stolen wrapped key."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from mdt.cli import EXIT_OK, printable, run
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.errors import InvalidUserIdError
from mdt.store.keys import Argon2Params, KeyVault, ScryptParams
from tests.conftest import Gateway, MemoryKeyring


def _signed_in(gateway: Gateway) -> Terminal:
    config = Settings()
    config.set("gateway_url", gateway.url)
    config.set("last_user", "officer1")
    config.save()
    terminal = Terminal(config)
    account = gateway.demo_account("officer1")
    terminal.login("officer1", account["password"], account["otp_now"])
    return terminal


@pytest.mark.e2e
def test_escape_sequences_from_the_switch_cannot_drive_the_terminal(
        gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    terminal = _signed_in(gateway)
    hostile = "PLATE FAK\x1b[8mHIDDEN\x1b[2J\x00 \u202eDESREVER"
    assert terminal.writer is not None
    terminal.writer.call(lambda c: c.apply_event(
        {"seq": 9999, "id": "hostile-1", "type": "response", "mke": "QV", "source": "NCIC",
         "text": hostile, "records": [{"file": "VEHICLE", "hit": False,
                                        "fields": {"LIC": "FAK\x1b[8mHIDDEN"},
                                        "caveats": [hostile], "narrative": [hostile]}]}))
    terminal.close()
    monkeypatch.setenv("MDT_PASSWORD", "training")
    capsys.readouterr()
    assert run(["show"]) == EXIT_OK
    out = capsys.readouterr().out
    for raw in ("\x1b", "\x00", "\u202e"):
        assert raw not in out
    assert "\\x1b[8mHIDDEN" in out and "\\u202e" in out  # shown, not obeyed
    assert printable("line one\nline two\tTAB") == "line one\nline two\tTAB"


@pytest.mark.e2e
def test_every_file_the_terminal_writes_is_owner_only(gateway: Gateway, mdt_home: Path) -> None:
    terminal = _signed_in(gateway)
    try:
        terminal.send("QV", {"LIC": "ZZZ1234", "LIS": "MD"})
        terminal.sync_once()
        written = [p for p in mdt_home.rglob("*")]
        assert any(p.name == "cache.db-wal" for p in written)
        for path in written:
            mode = path.stat().st_mode & 0o777
            if path.is_dir():
                assert mode & 0o077 == 0, (path, oct(mode))
            else:
                assert mode & 0o077 == 0, (path, oct(mode))
    finally:
        terminal.close()


class _HostileLogin(BaseHTTPRequestHandler):
    """A gateway that answers a login with a user id that is a path."""

    def do_POST(self) -> None:  # http.server calls it by this name
        body = json.dumps({"token": "t", "expires_at": "2030-01-01T00:00:00Z", "training": True,
                           "user": {"id": "..", "name": "X", "role": "officer",
                                    "ori": "MD1012600"}}).encode()
        self.send_response(201)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def hostile_gateway() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostileLogin)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_login_answer_whose_user_id_is_a_path_is_refused(hostile_gateway: str,
                                                           mdt_home: Path) -> None:
    config = Settings()
    config.set("gateway_url", hostile_gateway)
    terminal = Terminal(config)
    try:
        with pytest.raises(InvalidUserIdError, match="not a valid user id"):
            terminal.login("officer1", "training", "123456")
        with pytest.raises(InvalidUserIdError):
            terminal.unlock("../../etc", "training")  # typed: refused before any path
    finally:
        terminal.close()
    assert not (mdt_home / "data" / "cache.db").exists()
    assert not list((mdt_home / "data").glob("**/cache.db"))


def test_a_stolen_wrapped_key_costs_a_memory_hard_derivation_per_guess(
        memory_keyring: MemoryKeyring) -> None:
    vault = KeyVault()
    assert vault.kdf_name == "argon2id"
    assert isinstance(vault.kdf_params, Argon2Params)
    assert vault.kdf_params.memory_cost >= 64 * 1024  # at least 64 MiB a guess
    # A key wrapped by an earlier version (scrypt) is re-wrapped at its next unlock.
    old = KeyVault(kdf=ScryptParams()).create_profile("officer1", "pw")
    assert json.loads(memory_keyring.entries[("MDT", "officer1")])["kdf"] == "scrypt"
    assert vault.unlock("officer1", "pw") == old
    blob = json.loads(memory_keyring.entries[("MDT", "officer1")])
    assert blob["kdf"] == "argon2id" and blob["kdf_params"]["memory_cost"] >= 64 * 1024
