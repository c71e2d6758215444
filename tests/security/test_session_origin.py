"""A session belongs to the gateway that issued it: its token, the audit records and the events
never go to or come from another origin; plain http only to this machine (or a training flag)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from mdt.core.origin import GatewayUrlError, check_gateway_url, origin
from mdt.settings import Settings, SettingsError
from tests.conftest import Gateway


class _Recorder(BaseHTTPRequestHandler):
    """Another host: it records every request and answers each with an empty inbox."""

    seen: ClassVar[list[dict[str, str]]] = []

    def _answer(self) -> None:
        self.seen.append({"path": self.path, "auth": self.headers.get("Authorization", "")})
        body = json.dumps({"events": [], "next_after": 0, "status": "ok", "training": True,
                           "time": "2026-12-01T00:00:00Z"}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *_args: object) -> None:
        pass


@pytest.fixture
def other_host() -> Iterator[tuple[str, list[dict[str, str]]]]:
    _Recorder.seen = []
    server = ThreadingHTTPServer(("127.0.0.2", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.2:{server.server_address[1]}", _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


def _mdt(home: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mdt", *args], capture_output=True, text=True,
                          env={**os.environ, "MDT_HOME": str(home), "MDT_PASSWORD": "training",
                               **env}, timeout=60)


@pytest.mark.e2e
def test_the_token_never_goes_to_another_origin(
        gateway: Gateway, other_host: tuple[str, list[dict[str, str]]], tmp_path: Path) -> None:
    url, seen = other_host
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps(
        {"gateway_url": gateway.url, "keystore": "wrapped-file"}))
    login = _mdt(home, "login", "--user", "officer1",
                 MDT_OTP=gateway.demo_account("officer1")["otp_now"])
    assert login.returncode == 0, login.stderr
    queued = _mdt(home, "send", "--queue-only", "QV", "LIC=ZZZ1234", "LIS=MD")
    assert queued.returncode == 0, queued.stderr
    # The gateway URL is changed behind the session's back (a hand-edited settings file).
    settings = json.loads((home / "config" / "settings.json").read_text())
    (home / "config" / "settings.json").write_text(json.dumps(settings | {"gateway_url": url}))
    sync = _mdt(home, "sync", "--once")
    assert sync.returncode != 0 and "Sign in to" in sync.stderr, sync.stderr
    assert not any(r["auth"] for r in seen), seen  # no bearer token reached the other host
    assert not [r for r in seen if r["path"].startswith(("/v1/inbox", "/v1/audit",
                                                         "/v1/messages"))], seen


@pytest.mark.e2e
def test_a_failed_sign_in_to_another_gateway_changes_nothing(
        gateway: Gateway, other_host: tuple[str, list[dict[str, str]]], tmp_path: Path) -> None:
    url, _seen = other_host
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    (home / "config" / "settings.json").write_text(json.dumps(
        {"gateway_url": gateway.url, "keystore": "wrapped-file"}))
    assert _mdt(home, "login", "--user", "officer1",
                MDT_OTP=gateway.demo_account("officer1")["otp_now"]).returncode == 0
    # The other host's "login" answer is not a session: the sign-in fails ...
    failed = _mdt(home, "login", "--gateway", url, "--user", "officer1", MDT_OTP="123456")
    assert failed.returncode != 0
    # ... and the URL was not kept: the real gateway's session goes on.
    assert json.loads((home / "config" / "settings.json").read_text())["gateway_url"] == \
        gateway.url
    assert _mdt(home, "sync", "--once").returncode == 0


@pytest.mark.parametrize("url", ["http://192.0.2.10:8765", "http://switch.agency.example",
                                 "ftp://switch.agency.example", "https://user:pw@switch.example",
                                 "http://10.1.2.3"])
def test_plain_http_to_another_machine_is_refused_everywhere(url: str) -> None:
    with pytest.raises(GatewayUrlError, match="gateway_url"):
        check_gateway_url(url)
    with pytest.raises(SettingsError, match="gateway_url"):
        Settings().set("gateway_url", url)  # the CLI, the GUI flag, the agency file, the dialog


def test_plain_http_is_for_this_machine_or_a_training_class() -> None:
    for local in ("http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765"):
        assert check_gateway_url(local) == local
    assert check_gateway_url("http://192.0.2.10:8765", allow_plain_http=True)
    settings = Settings()
    settings.set("allow_plain_http", True)
    settings.set("gateway_url", "http://192.0.2.10:8765")
    assert origin("https://Switch.Example/") == "https://switch.example:443"
    assert origin("http://127.0.0.1:8765/v1") == "http://127.0.0.1:8765"



class _Redirector(BaseHTTPRequestHandler):
    """A gateway that redirects: 301 to https for the health check, a 302 with a JSON body
    that looks like a session for the login."""

    def do_GET(self) -> None:  # http.server calls it by this name
        self.send_response(301)
        self.send_header("Location", "https://127.0.0.1:1/v1/health")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:  # http.server calls it by this name
        body = json.dumps({"token": "stolen", "expires_at": "2030-01-01T00:00:00Z",
                           "user": {"id": "officer1", "name": "X", "role": "officer",
                                    "ori": "MD1012600"}}).encode()
        self.send_response(302)
        self.send_header("Location", "http://127.0.0.3:9/v1/sessions")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_args: object) -> None:
        pass


def test_redirects_are_reported_never_followed() -> None:
    from mdt.net.gateway import GatewayRefused
    from mdt.services.terminal import Terminal

    server = ThreadingHTTPServer(("127.0.0.1", 0), _Redirector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    config = Settings()
    config.set("gateway_url", f"http://127.0.0.1:{server.server_address[1]}")
    terminal = Terminal(config)
    try:
        with pytest.raises(GatewayRefused, match=r"redirect \(302\).*does not follow") as login:
            terminal.login("officer1", "training", "123456")  # the JSON body is not taken
        assert login.value.code == "redirect"
        with pytest.raises(GatewayRefused, match=r"redirect \(301\).*moved to https"):
            terminal.health()
    finally:
        terminal.close()
        server.shutdown()
        server.server_close()
