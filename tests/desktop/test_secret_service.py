"""The OS keystore for real: gnome-keyring's Secret Service on a private session bus (what
``dbus-run-session`` gives a desktop), the real ``keyring`` SecretService backend, the real
training gateway. Sign-in, send, sync, offline unlock and wipe; a locked collection is reported
as locked, with what to do."""

from __future__ import annotations

import gc
import json
import time
from pathlib import Path

import keyring
import pytest

from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.errors import KeystoreLockedError, NoProfileError
from tests.conftest import start_gateway
from tests.desktop.conftest import SecretService

pytestmark = pytest.mark.e2e


def _signed_in(url: str) -> Terminal:
    settings = Settings()
    settings.set("gateway_url", url)
    settings.save()
    assert settings.get("keystore") == "os"
    terminal = Terminal(settings)
    terminal.login("officer1", "training", _otp(url))
    return terminal


def _otp(url: str) -> str:
    import httpx

    accounts = httpx.get(f"{url}/v1/training/demo-accounts", timeout=5).json()["accounts"]
    return str(next(a for a in accounts if a["user_id"] == "officer1")["otp_now"])


def test_sign_in_send_sync_offline_unlock_and_wipe_with_the_secret_service(
        secret_service: SecretService, tmp_path: Path, mdt_home: Path) -> None:
    from keyring.backends.SecretService import Keyring as SecretServiceKeyring

    assert isinstance(keyring.get_keyring(), SecretServiceKeyring)
    gateway = start_gateway(tmp_path / "gateway")
    try:
        terminal = _signed_in(gateway.url)
        try:
            blob = json.loads(keyring.get_password("MDT", "officer1") or "{}")
            assert blob.get("kdf") in ("scrypt", "argon2id")  # the wrapped key, in the keystore
            assert "ciphertext" in blob
            terminal.send("QV", {"LIC": "TRN4821", "LIS": "VA"})
            deadline = time.monotonic() + 20
            while not terminal.recent_returns():
                terminal.sync_once()
                assert time.monotonic() < deadline, "no return came"
                time.sleep(0.1)
            returns = terminal.recent_returns()
        finally:
            terminal.close()
    finally:
        gateway.stop()  # from here on the terminal is offline
    keyrings = secret_service.home / ".local" / "share" / "keyrings"
    assert (keyrings / "login.keyring").exists()  # kept by gnome-keyring, encrypted
    assert b"ciphertext" not in (keyrings / "login.keyring").read_bytes()

    offline = Terminal(Settings())
    try:
        operator = offline.unlock("officer1", "training")
        assert operator.user_id == "officer1"
        assert [r.id for r in offline.recent_returns()] == [r.id for r in returns]
        offline.wipe("officer1")
    finally:
        offline.close()
    assert keyring.get_password("MDT", "officer1") is None  # the key left the Secret Service
    assert not (mdt_home / "data" / "profiles" / "officer1").exists()
    again = Terminal(Settings())
    try:
        with pytest.raises(NoProfileError):
            again.unlock("officer1", "training")
    finally:
        again.close()


# keyring 25.7.0's SecretService backend leaves its D-Bus socket open when it raises
# KeyringLocked (get_preferred_collection raises before its ``closing``): collected here.
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_locked_collection_is_reported_as_locked_with_what_to_do(
        secret_service: SecretService, tmp_path: Path) -> None:
    gateway = start_gateway(tmp_path / "gateway")
    try:
        _signed_in(gateway.url).close()
    finally:
        gateway.stop()
    secret_service.lock_all()  # the fault, forced every time: the login keyring is locked
    assert secret_service.is_locked()
    terminal = Terminal(Settings())
    try:
        started = time.monotonic()
        with pytest.raises(KeystoreLockedError) as caught:
            terminal.unlock("officer1", "training")
        assert time.monotonic() - started < 30  # no prompt waits for ever
    finally:
        terminal.close()
    message = str(caught.value)
    assert "locked" in message and "Unlock it" in message and "No OS keystore" not in message
    assert secret_service.is_locked()
    del caught
    gc.collect()


SESSION_ONE = """
printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
python -c 'import keyring; print("backend:", type(keyring.get_keyring()).__module__)'
python -m mdt login --gateway "$GATEWAY" --user officer1
python -m mdt send QV LIC=TRN4821 LIS=VA
for i in $(seq 1 50); do
  python -m mdt sync --once >/dev/null
  python -m mdt show --json | grep -q TRN4821 && break
  sleep 0.2
done
python -m mdt show --json > "$OUT/online.json"
"""
SESSION_TWO = """
printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null
python -m mdt show --json > "$OUT/offline.json"
python -m mdt wipe --user officer1 --yes
python -c 'import keyring; print("after wipe:", keyring.get_password("MDT", "officer1"))'
"""


def test_the_shipped_cli_keeps_its_key_in_the_secret_service_under_dbus_run_session(
        tmp_path: Path) -> None:
    """No test keyring at all: two desktop sessions (``dbus-run-session``, gnome-keyring
    unlocked at login as PAM does), the CLI's own choice of keystore."""
    import os
    import subprocess
    import sys

    from tests.desktop.conftest import require

    require("dbus-daemon", "gnome-keyring-daemon")
    home, out = tmp_path / "home", tmp_path / "out"
    (home / ".local" / "share" / "keyrings").mkdir(parents=True)
    out.mkdir()
    env = {"PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "HOME": str(home),
           "XDG_RUNTIME_DIR": str(tmp_path), "MDT_HOME": str(tmp_path / "mdt"),
           "MDT_PASSWORD": "training", "KEYRING_PASSWORD": "login-keyring-password",
           "OUT": str(out), "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(
               Path(__file__).resolve().parents[2])}
    gateway = start_gateway(tmp_path / "gateway")
    try:
        env["GATEWAY"] = gateway.url
        env["MDT_OTP"] = _otp(gateway.url)
        one = subprocess.run(["dbus-run-session", "--", "sh", "-ec", SESSION_ONE], env=env,
                             capture_output=True, text=True, timeout=180)
    finally:
        gateway.stop()
    assert one.returncode == 0, one.stdout + one.stderr
    assert "backend: keyring.backends.SecretService" in one.stdout
    assert (home / ".local" / "share" / "keyrings" / "login.keyring").exists()
    online = json.loads((out / "online.json").read_text())
    assert any("TRN4821" in json.dumps(r) for r in online)
    two = subprocess.run(["dbus-run-session", "--", "sh", "-ec", SESSION_TWO], env=env,
                         capture_output=True, text=True, timeout=180)  # the gateway is down
    assert two.returncode == 0, two.stdout + two.stderr
    offline = json.loads((out / "offline.json").read_text())
    assert [r["id"] for r in offline] == [r["id"] for r in online] and offline
    assert "after wipe: None" in two.stdout
    assert not (tmp_path / "mdt" / "data" / "profiles" / "officer1").exists()
