"""A profile from end to end: key, cache file in its folder, password change, wipe."""

from __future__ import annotations

from pathlib import Path

import keyring
import pytest
from keyring.backends import fail

from mdt.store.cache import Cache
from mdt.store.errors import KeystoreUnavailableError, NoProfileError, WrongKeyError
from mdt.store.keys import KeyVault, ScryptParams
from mdt.store.profile import cache_path, wipe

FAST = ScryptParams(n=2**10, r=8, p=1)


def open_profile_cache(profile: str, key: bytes, *, create: bool) -> Cache:
    return Cache.open(cache_path(profile), key, create=create)


def test_a_profile_s_cache_lives_in_its_folder_and_survives_a_password_change(
        mdt_home: Path) -> None:
    vault = KeyVault(kdf=FAST)
    key = vault.create_profile("officer.1", "first password")
    cache = open_profile_cache("officer.1", key, create=True)
    assert cache.path == mdt_home / "data" / "profiles" / "officer.1" / "cache.db"
    cache.add_outgoing({"id": "q1", "mke": "QV", "dest": ["NCIC"], "fields": {"LIC": "ABC1234"},
                        "text": "QV"})
    cache.close()
    vault.change_passphrase("officer.1", "first password", "second password")
    again = open_profile_cache("officer.1", vault.unlock("officer.1", "second password"),
                               create=False)
    assert [m["id"] for m in again.outbox()] == ["q1"]
    again.close()
    with pytest.raises(WrongKeyError):
        open_profile_cache("officer.1", bytes(32), create=False)


def test_wipe_destroys_the_key_then_the_files() -> None:
    vault = KeyVault(kdf=FAST)
    key = vault.create_profile("officer1", "pw")
    cache = open_profile_cache("officer1", key, create=True)
    cache.audit("logon", "success", who="officer1")
    cache.close()
    folder = cache_path("officer1").parent
    assert (folder / "cache.db").exists()
    removed = wipe("officer1", vault)
    assert folder / "cache.db" in removed and not folder.exists()
    assert not vault.has_profile("officer1")
    with pytest.raises(NoProfileError):
        vault.unlock("officer1", "pw")


def test_wipe_without_a_keystore_still_removes_the_files() -> None:
    key = KeyVault(kdf=FAST).create_profile("officer1", "pw")
    Cache.open(cache_path("officer1"), key, create=True).close()
    folder = cache_path("officer1").parent
    keyring.set_keyring(fail.Keyring())
    with pytest.raises(KeystoreUnavailableError):
        wipe("officer1", KeyVault(kdf=FAST))
    assert not folder.exists()
