"""The key vault: a random key wrapped under the password, held by the keystore; wrong
passwords counted and locked out (5 in 15 minutes); no keystore means a clear refusal."""

from __future__ import annotations

import json
from pathlib import Path

import keyring
import keyring.errors
import pytest
from keyring.backends import fail, null

from mdt.store.errors import (
    KeystoreDamagedError,
    KeystoreUnavailableError,
    NoProfileError,
    ProfileLockedError,
    WrongPassphraseError,
)
from mdt.store.keys import Argon2Params, KeyVault, ScryptParams, WrappedKeyFile
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


def test_the_blob_in_the_keystore_holds_only_what_unwrapping_needs(
        memory_keyring: MemoryKeyring) -> None:
    vault = KeyVault(kdf="scrypt", kdf_params=FAST)
    key = vault.create_profile("officer1", "correct horse")
    assert list(memory_keyring.entries) == [("MDT", "officer1")]
    blob = json.loads(memory_keyring.entries[("MDT", "officer1")])
    assert blob["version"] == 2 and blob["kdf"] == "scrypt"
    assert blob["kdf_params"] == {"n": 2**10, "r": 8, "p": 1}
    assert {"salt", "nonce", "ciphertext", "failures"} <= set(blob)
    assert key.hex() not in json.dumps(blob) and "correct horse" not in json.dumps(blob)
    # The default: memory-hard Argon2id (128 MiB, 3 passes), no longer scrypt.
    assert KeyVault().kdf_params == Argon2Params(iterations=3, lanes=4, memory_cost=128 * 1024)


def test_the_lockout_runs_from_the_fifth_failure_by_the_injected_clock() -> None:
    clock = Clock()
    vault = KeyVault(kdf=FAST, clock=clock)
    vault.create_profile("officer1", "right")
    for _ in range(4):
        with pytest.raises(WrongPassphraseError):
            vault.unlock("officer1", "wrong")
        clock.now += 120  # the 5th comes 8 minutes after the 1st: still inside 15 minutes
    with pytest.raises(ProfileLockedError) as info:
        vault.unlock("officer1", "wrong")
    assert info.value.until == clock.now + 900
    assert "15 minutes" in info.value.user_message
    clock.now += 899
    with pytest.raises(ProfileLockedError):
        vault.unlock("officer1", "right")
    clock.now += 1
    vault.unlock("officer1", "right")
    with pytest.raises(WrongPassphraseError) as again:  # a fresh count after the lockout
        vault.unlock("officer1", "wrong")
    assert again.value.attempts_left == 4


def test_the_lockout_holds_across_vault_objects() -> None:
    """The counters live with the wrapped key, not in the object: a restart does not reset them."""
    clock = Clock()
    KeyVault(kdf=FAST, clock=clock).create_profile("officer1", "right")
    for _ in range(5):
        with pytest.raises(WrongPassphraseError if _ < 4 else ProfileLockedError):
            KeyVault(kdf=FAST, clock=clock).unlock("officer1", "wrong")
    with pytest.raises(ProfileLockedError):
        KeyVault(kdf=FAST, clock=clock).unlock("officer1", "right")


def test_a_right_password_clears_the_count() -> None:
    clock = Clock()
    vault = KeyVault(kdf=FAST, clock=clock)
    vault.create_profile("officer1", "right")
    for _ in range(3):
        with pytest.raises(WrongPassphraseError):
            vault.unlock("officer1", "wrong")
    vault.unlock("officer1", "right")
    with pytest.raises(WrongPassphraseError) as info:
        vault.unlock("officer1", "wrong")
    assert info.value.attempts_left == 4
    assert len(vault.take_failures("officer1")) == 4  # all still go to the audit log
    assert vault.take_failures("officer1") == []


def test_a_wrong_old_password_does_not_change_it() -> None:
    vault = KeyVault(kdf=FAST)
    key = vault.create_profile("officer1", "old")
    with pytest.raises(WrongPassphraseError):
        vault.change_passphrase("officer1", "nope", "new")
    assert vault.unlock("officer1", "old") == key


class NullLike(MemoryKeyring):
    """A keystore that says yes and keeps nothing."""

    def set_password(self, service: str, username: str, password: str) -> None:
        pass


class Broken(MemoryKeyring):
    def get_password(self, service: str, username: str) -> str | None:
        raise keyring.errors.KeyringLocked("collection locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise keyring.errors.PasswordSetError("D-Bus says no")

    def delete_password(self, service: str, username: str) -> None:
        raise keyring.errors.KeyringError("D-Bus says no")


@pytest.mark.parametrize("backend", [fail.Keyring, null.Keyring, NullLike, Broken])
def test_every_kind_of_missing_keystore_is_the_same_clear_refusal(backend: type) -> None:
    keyring.set_keyring(backend())
    vault = KeyVault(kdf=FAST)
    with pytest.raises(KeystoreUnavailableError) as info:
        vault.create_profile("officer1", "pw")
    assert info.value.kind == "environment" and "keystore" in info.value.user_message
    if backend is not NullLike:  # that one reads fine (it just has nothing)
        for call in (lambda: vault.unlock("officer1", "pw"), lambda: vault.has_profile("x"),
                     lambda: vault.destroy("officer1")):
            with pytest.raises(KeystoreUnavailableError):
                call()


def test_a_damaged_entry_is_said_so_and_never_replaced_quietly(
        memory_keyring: MemoryKeyring) -> None:
    memory_keyring.entries[("MDT", "officer1")] = "{not json"
    vault = KeyVault(kdf=FAST)
    assert vault.has_profile("officer1")  # something is there
    with pytest.raises(KeystoreDamagedError, match="damaged"):
        vault.unlock("officer1", "pw")
    memory_keyring.entries[("MDT", "officer1")] = json.dumps(
        {"version": 2, "kdf": "scrypt", "kdf_params": {"n": 2**30, "r": 8, "p": 1},
         "salt": "", "nonce": "", "ciphertext": ""})
    with pytest.raises(KeystoreDamagedError):  # an absurd cost is refused, not run
        vault.unlock("officer1", "pw")


def test_a_wrapped_key_belongs_to_its_profile(memory_keyring: MemoryKeyring) -> None:
    vault = KeyVault(kdf=FAST)
    vault.create_profile("officer1", "pw")
    vault.create_profile("officer2", "other")
    memory_keyring.entries[("MDT", "officer2")] = memory_keyring.entries[("MDT", "officer1")]
    with pytest.raises(WrongPassphraseError):  # copied across, it does not open
        vault.unlock("officer2", "pw")


def test_argon2id_when_the_agency_asks_and_an_upgrade_on_unlock(
        memory_keyring: MemoryKeyring) -> None:
    cheap = Argon2Params(iterations=1, lanes=1, memory_cost=64)
    vault = KeyVault(kdf="argon2id", kdf_params=cheap)
    key = vault.create_profile("officer1", "pw")
    assert json.loads(memory_keyring.entries[("MDT", "officer1")])["kdf"] == "argon2id"
    assert vault.unlock("officer1", "pw") == key
    old = KeyVault(kdf=FAST).create_profile("officer2", "pw")
    assert vault.unlock("officer2", "pw") == old  # scrypt-wrapped: opened, then re-wrapped
    assert json.loads(memory_keyring.entries[("MDT", "officer2")])["kdf"] == "argon2id"
    assert KeyVault(kdf=FAST).unlock("officer2", "pw") == old  # never wrapped back down
    with pytest.raises(ValueError, match="unknown KDF"):
        KeyVault(kdf="md5")


def test_a_key_kept_by_an_older_version_is_found_and_moved(
        memory_keyring: MemoryKeyring) -> None:
    legacy = KeyVault("MDT cache key", kdf=FAST)
    key = legacy.create_profile("officer1", "pw")
    vault = KeyVault(kdf=FAST)
    assert vault.unlock("officer1", "pw") == key
    assert list(memory_keyring.entries) == [("MDT", "officer1")]


def test_a_version_1_blob_still_unlocks_and_is_rewrapped(memory_keyring: MemoryKeyring) -> None:
    import base64
    import os

    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    key, salt, nonce = os.urandom(32), os.urandom(16), os.urandom(12)
    kek = Scrypt(salt=salt, length=32, n=2**10, r=8, p=1).derive(b"pw")
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    memory_keyring.entries[("MDT", "officer1")] = json.dumps({
        "version": 1, "kdf": "scrypt", "n": 2**10, "r": 8, "p": 1, "salt": b64(salt),
        "nonce": b64(nonce), "wrapped": b64(AESGCM(kek).encrypt(nonce, key, b"mdt-cache-key-v1")),
        "failures": []})
    vault = KeyVault(kdf=FAST)
    assert vault.unlock("officer1", "pw") == key
    assert json.loads(memory_keyring.entries[("MDT", "officer1")])["version"] == 2
    assert vault.unlock("officer1", "pw") == key
