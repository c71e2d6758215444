"""The key vault: a random key wrapped under the password, held by the keystore; wrong
passwords counted and locked out (5 in 15 minutes); no keystore means a clear refusal."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from mdt.store.errors import (
    KeystoreUnavailableError,
    NoProfileError,
    ProfileLockedError,
    WrongPassphraseError,
)
from mdt.store.keys import KeyVault, ScryptParams, WrappedKeyFile
from tests.conftest import MemoryKeyring

FAST = ScryptParams(n=2**10, r=8, p=1)


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_create_then_unlock_gives_the_same_random_key(memory_keyring: MemoryKeyring) -> None:
    vault = KeyVault(kdf=FAST)
    key = vault.create_profile("officer1", "correct horse")
    assert len(key) == 32 and vault.has_profile("officer1")
    assert vault.unlock("officer1", "correct horse") == key
    other = KeyVault(kdf=FAST).create_profile("officer2", "correct horse")
    assert other != key  # random per profile, not derived from the password
    stored = next(iter(memory_keyring.entries.values()))
    assert key.hex() not in stored and "correct horse" not in stored


def test_wrong_passwords_count_down_then_lock_for_15_minutes() -> None:
    clock = Clock()
    vault = KeyVault(kdf=FAST, clock=clock)
    key = vault.create_profile("officer1", "right")
    for left in (4, 3, 2, 1):
        with pytest.raises(WrongPassphraseError) as info:
            vault.unlock("officer1", "wrong")
        assert info.value.attempts_left == left
        assert f"{left} attempt" in info.value.user_message
    with pytest.raises(ProfileLockedError):
        vault.unlock("officer1", "wrong")
    with pytest.raises(ProfileLockedError, match="locked"):
        vault.unlock("officer1", "right")  # even the right one, while locked
    clock.now += 901
    assert vault.unlock("officer1", "right") == key


def test_failures_older_than_the_window_do_not_count() -> None:
    clock = Clock()
    vault = KeyVault(kdf=FAST, clock=clock)
    vault.create_profile("officer1", "right")
    for _ in range(4):
        with pytest.raises(WrongPassphraseError):
            vault.unlock("officer1", "wrong")
    clock.now += 1000
    with pytest.raises(WrongPassphraseError) as info:
        vault.unlock("officer1", "wrong")
    assert info.value.attempts_left == 4


def test_changing_the_password_rewraps_the_same_key() -> None:
    vault = KeyVault(kdf=FAST)
    key = vault.create_profile("officer1", "old")
    vault.change_passphrase("officer1", "old", "new")
    assert vault.unlock("officer1", "new") == key
    with pytest.raises(WrongPassphraseError):
        vault.unlock("officer1", "old")


def test_no_profile_and_destroy() -> None:
    vault = KeyVault(kdf=FAST)
    with pytest.raises(NoProfileError):
        vault.unlock("nobody", "x")
    vault.create_profile("officer1", "pw")
    vault.destroy("officer1")
    assert not vault.has_profile("officer1")


def test_no_keystore_is_a_clear_refusal_not_a_plain_file(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    vault = KeyVault(kdf=FAST)
    with pytest.raises(KeystoreUnavailableError, match="keystore"):
        vault.create_profile("officer1", "pw")
    assert not list(tmp_path.rglob("*.json"))


def test_the_agency_allowed_file_holds_only_wrapped_keys(tmp_path: Path) -> None:
    keyring.set_keyring(fail.Keyring())
    path = tmp_path / "wrapped-keys.json"
    vault = KeyVault(kdf=FAST, keystore=WrappedKeyFile(path))
    key = vault.create_profile("officer1", "pw")
    assert KeyVault(kdf=FAST, keystore=WrappedKeyFile(path)).unlock("officer1", "pw") == key
    text = path.read_text()
    assert key.hex() not in text and "pw" not in json.loads(text).values()
    assert path.stat().st_mode & 0o077 == 0  # owner only
