"""``make run`` twice: the training gateway comes back on the same port with the same data (or
the running one is found again), and the run says which keystore holds the key."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import httpx
import keyring
import pytest
from keyring.backends import fail

from mdt import devrun
from mdt.settings import Settings
from tests.conftest import start_gateway
from tests.desktop.conftest import SecretService


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_the_gateway_comes_back_on_the_same_port_with_its_data(mdt_home: Path) -> None:
    port = _free_port()
    (devrun.gateway_dir() / "gateway.json").write_text(json.dumps({"port": port}))
    first, url = devrun.start_training_gateway()
    assert first is not None and url == f"http://127.0.0.1:{port}"
    try:
        again, same = devrun.start_training_gateway()  # a second make run while it runs
        assert again is None and same == url  # found again, not a second gateway
        assert httpx.get(f"{url}/v1/health", timeout=5).json()["training"] is True
    finally:
        devrun._stop(first)
    state = sorted(p.name for p in devrun.gateway_dir().iterdir())
    second, url2 = devrun.start_training_gateway()  # the next day
    try:
        assert url2 == url and second is not None
        assert set(state) <= {p.name for p in devrun.gateway_dir().iterdir()}
    finally:
        devrun._stop(second)
    other = devrun.gateway_dir().parent / "someone-else"  # another gateway on the saved port
    stranger = start_gateway(other)
    saved_now = json.loads((devrun.gateway_dir() / "gateway.json").read_text())
    (devrun.gateway_dir() / "gateway.json").write_text(json.dumps(
        {**saved_now, "port": int(stranger.url.rsplit(":", 1)[1])}))
    try:
        mine, url_mine = devrun.start_training_gateway()
        assert mine is not None and url_mine != stranger.url  # never another folder's gateway
        devrun._stop(mine)
    finally:
        stranger.stop()
    (devrun.gateway_dir() / "gateway.json").write_text(json.dumps({"port": port}))
    with socket.socket() as squatter:  # something else took the port: a new one, kept
        squatter.bind(("127.0.0.1", port))
        squatter.listen()
        third, url3 = devrun.start_training_gateway()
        try:
            assert third is not None and url3 != url
            assert devrun.saved_port() == int(url3.rsplit(":", 1)[1])
        finally:
            devrun._stop(third)


def test_make_run_says_which_keystore_and_where_the_setting_lives(
        mdt_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    said = devrun.keystore_in_use()  # the test's keystore stands in for an OS one
    assert said.startswith("Keystore: the OS keystore, conftest (MemoryKeyring)")
    assert str(Settings().path) in said and Settings().get("keystore") == "os"
    monkeypatch.setattr(keyring, "get_keyring", lambda: fail.Keyring())
    said = devrun.keystore_in_use()
    assert said.startswith("No OS keystore here") and str(Settings().path) in said
    assert Settings().get("keystore") == "wrapped-file"
    again = devrun.keystore_in_use()
    assert again.startswith("Keystore: the password-wrapped key file")


def test_with_a_secret_service_make_run_uses_it(secret_service: SecretService,
                                                mdt_home: Path) -> None:
    said = devrun.keystore_in_use()
    assert said.startswith("Keystore: the OS keystore, SecretService (Keyring)"), said
    assert Settings().get("keystore") == "os"
