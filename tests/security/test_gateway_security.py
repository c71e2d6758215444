"""Attacks on the training gateway and what they get now: a trainee taking over the classroom,
locking an officer out, spraying passwords, a stream that outlives its logout, a copy of the
gateway's file signing someone in. One test per attack; each failed on the code before it."""

from __future__ import annotations

import argparse
import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pyotp
import pytest

from mock_server.__main__ import _publish
from mock_server.accounts import otp_secret_for
from tests.conftest import Gateway, start_gateway

pytestmark = pytest.mark.e2e


def _login(gw: Gateway, user: str, *, password: str | None = None, source: str = "127.0.0.1",
           otp: str | None = None) -> httpx.Response:
    account = gw.demo_account(user)
    body = {"user_id": user, "password": password or account["password"],
            "otp": otp or account["otp_now"], "device_id": "sec"}
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=10) as client:
        return client.post(f"{gw.url}/v1/sessions", json=body)


def test_the_listing_never_gives_away_the_trainer_s_secrets(gateway: Gateway) -> None:
    listed = httpx.get(f"{gateway.url}/v1/training/demo-accounts").json()["accounts"]
    trainer = next(a for a in listed if a["user_id"] == "trainer1")
    assert set(trainer) == {"user_id", "name", "role", "ori", "unit"}
    # Nor can it be computed from the published formula the trainees' secrets use.
    secret = gateway.otp_secret("trainer1")
    assert secret != otp_secret_for("trainer1")
    guessed = pyotp.TOTP(otp_secret_for("trainer1")).now()
    if guessed != pyotp.TOTP(secret).now():  # (one chance in a million to coincide)
        assert _login(gateway, "trainer1", otp=guessed).status_code == 401


def test_a_one_time_code_signs_in_once(gateway: Gateway) -> None:
    code = gateway.demo_account("officer4")["otp_now"]
    assert _login(gateway, "officer4", otp=code).status_code == 201
    replay = _login(gateway, "officer4", otp=code)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "otp_reused"
    assert "signs in once" in replay.json()["error"]["message"]
    # The sign-in page hands out the next unused code, which works.
    assert _login(gateway, "officer4").status_code == 201


def test_trainer_endpoints_refuse_a_trainee(gateway: Gateway) -> None:
    token = _login(gateway, "officer1").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    for method, path in [("PUT", "/v1/training/faults"), ("GET", "/v1/training/faults"),
                         ("POST", "/v1/training/reset"), ("GET", "/v1/training/activity"),
                         ("GET", "/v1/training/debrief")]:
        answer = httpx.request(method, f"{gateway.url}{path}", headers=headers, json={})
        assert answer.status_code == 403, (path, answer.status_code)
        assert answer.json()["error"]["code"] == "forbidden"


def test_beyond_loopback_the_accounts_are_listed_only_if_the_trainer_says_so(
        tmp_path: Path) -> None:
    def args(host: str, publish: bool | None = None) -> argparse.Namespace:
        return argparse.Namespace(host=host, publish_accounts=publish)

    assert _publish(args("127.0.0.1")) and _publish(args("::1"))
    assert not _publish(args("0.0.0.0")) and not _publish(args("192.0.2.10"))
    assert _publish(args("0.0.0.0", True)) and not _publish(args("127.0.0.1", False))
    gw = start_gateway(tmp_path / "gw", "--no-publish-accounts")
    try:
        answer = httpx.get(f"{gw.url}/v1/training/demo-accounts")
        assert answer.status_code == 403 and answer.json()["error"]["code"] == "not_published"
    finally:
        gw.stop()


def test_a_stranger_cannot_lock_an_officer_out(gateway: Gateway) -> None:
    for _ in range(5):
        assert _login(gateway, "officer1", password="guess", source="127.0.0.2"
                      ).status_code == 401
    assert _login(gateway, "officer1", source="127.0.0.2").status_code == 423  # the stranger
    assert _login(gateway, "officer1", source="127.0.0.1").status_code == 201  # the officer


def test_spraying_from_one_address_is_stopped(gateway: Gateway) -> None:
    users = ["officer1", "officer2", "officer3", "officer4", "dispatch1"]
    for user in users:
        for guess in ("password", "123456", "training1", "letmein"):
            assert _login(gateway, user, password=guess, source="127.0.0.3").status_code == 401
    stopped = _login(gateway, "dispatch2", source="127.0.0.3")
    assert stopped.status_code == 429 and stopped.json()["error"]["code"] == "too_many_attempts"
    assert _login(gateway, "dispatch2", source="127.0.0.1").status_code == 201


def test_a_stream_ends_when_its_session_logs_out(gateway: Gateway) -> None:
    token = _login(gateway, "officer2").json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    ended: list[float] = []

    def read() -> None:
        with httpx.stream("GET", f"{gateway.url}/v1/inbox/stream", headers=headers,
                          timeout=30) as stream:
            for _ in stream.iter_lines():
                pass
        ended.append(time.monotonic())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    time.sleep(0.5)
    logged_out = time.monotonic()
    assert httpx.delete(f"{gateway.url}/v1/sessions/current", headers=headers).status_code == 204
    reader.join(5)
    assert ended and ended[0] - logged_out < 1.5, "the stream kept delivering after logout"


def test_a_copy_of_the_gateway_s_file_holds_no_usable_token(gateway: Gateway) -> None:
    token = _login(gateway, "officer3").json()["token"]
    raw = b"".join(p.read_bytes() for p in gateway.data_dir.glob("gateway.sqlite*"))
    assert token.encode() not in raw
    conn = sqlite3.connect(f"file:{gateway.data_dir / 'gateway.sqlite'}?mode=ro", uri=True)
    try:
        kept = [r[0] for r in conn.execute("SELECT token FROM sessions")]
    finally:
        conn.close()
    assert kept and all(k.startswith("sha256:") for k in kept)
    assert httpx.get(f"{gateway.url}/v1/inbox", headers={
        "Authorization": f"Bearer {kept[-1]}"}).status_code == 401  # the hash is no token
    assert httpx.get(f"{gateway.url}/v1/inbox", headers={
        "Authorization": f"Bearer {token}"}).status_code == 200


def test_the_gateway_s_files_are_owner_only(gateway: Gateway) -> None:
    _login(gateway, "officer1")
    files = list(gateway.data_dir.glob("gateway.sqlite*"))
    assert files
    for path in files:
        assert path.stat().st_mode & 0o077 == 0, (path.name, oct(path.stat().st_mode))
