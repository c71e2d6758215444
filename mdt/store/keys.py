"""The cache key: a random 256-bit key per user profile, wrapped under the user's password.

The raw key encrypts the SQLCipher cache (fast to open: no slow KDF on the database itself). It
is wrapped with AES-256-GCM under a key derived from the password with scrypt, and the wrapped
blob is held by the OS keystore through ``keyring``; it is never written to disk in the clear.
Changing the password re-wraps the key and leaves the database alone. Five wrong passwords in
15 minutes lock the profile for 15 minutes (CJIS). No Qt.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import keyring
import keyring.errors
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mdt.store.errors import (
    KeystoreUnavailableError,
    NoProfileError,
    ProfileLockedError,
    ProfileWipedError,
    WrongPassphraseError,
)

BLOB_VERSION = 1


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**15
    r: int = 8
    p: int = 1


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"))


class Keystore(Protocol):
    """Where wrapped keys are held: the ``keyring`` module (the OS keystore) or a
    :class:`WrappedKeyFile`."""

    def get_password(self, service: str, username: str) -> str | None: ...

    def set_password(self, service: str, username: str, password: str) -> None: ...

    def delete_password(self, service: str, username: str) -> None: ...


class WrappedKeyFile:
    """An agency-allowed fallback when no OS keystore exists (``keystore = "wrapped-file"``).

    It holds only *wrapped* keys (AES-GCM under scrypt of the password), never a usable key;
    the file is written atomically with owner-only permissions. Weaker than an OS keystore (the
    wrapped key can be copied for an offline password guess), so it is off unless set."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise keyring.errors.KeyringError(f"wrapped-key file unreadable: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def _save(self, data: dict[str, str]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.path)

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        data = self._load()
        data[f"{service}/{username}"] = password
        self._save(data)

    def delete_password(self, service: str, username: str) -> None:
        data = self._load()
        if data.pop(f"{service}/{username}", None) is None:
            raise keyring.errors.PasswordDeleteError(username)
        self._save(data)


class KeyVault:
    def __init__(self, service: str = "MDT cache key", *, clock: Callable[[], float] = time.time,
                 max_failures: int = 5, failure_window: float = 900.0,
                 lockout: float = 900.0, kdf: ScryptParams | None = None,
                 keystore: Keystore | None = None, wipe_after: int = 0) -> None:
        self.wipe_after = wipe_after  # 0: never; else wrong passwords in a row that destroy the key
        self.keystore: Keystore = keystore if keystore is not None else keyring
        self.service = service
        self.clock = clock
        self.max_failures = max_failures
        self.failure_window = failure_window
        self.lockout = lockout
        self.kdf = kdf or ScryptParams()

    # -- the keystore ----------------------------------------------------------------------------
    def _read(self, profile: str) -> dict[str, Any] | None:
        try:
            text = self.keystore.get_password(self.service, profile)
        except (keyring.errors.KeyringError, RuntimeError) as exc:
            raise KeystoreUnavailableError() from exc
        if text is None:
            return None
        try:
            blob = json.loads(text)
        except ValueError:
            return None
        return blob if isinstance(blob, dict) else None

    def _write(self, profile: str, blob: dict[str, Any]) -> None:
        try:
            self.keystore.set_password(self.service, profile, json.dumps(blob))
        except (keyring.errors.KeyringError, RuntimeError) as exc:
            raise KeystoreUnavailableError() from exc

    # -- wrapping --------------------------------------------------------------------------------
    def _derive(self, passphrase: str, salt: bytes, params: ScryptParams) -> bytes:
        return Scrypt(salt=salt, length=32, n=params.n, r=params.r, p=params.p).derive(
            passphrase.encode("utf-8"))

    def _wrap(self, key: bytes, passphrase: str) -> dict[str, Any]:
        salt, nonce = os.urandom(16), os.urandom(12)
        kek = self._derive(passphrase, salt, self.kdf)
        wrapped = AESGCM(kek).encrypt(nonce, key, b"mdt-cache-key-v1")
        return {"version": BLOB_VERSION, "kdf": "scrypt", "n": self.kdf.n, "r": self.kdf.r,
                "p": self.kdf.p, "salt": _b64(salt), "nonce": _b64(nonce),
                "wrapped": _b64(wrapped), "failures": []}

    def _unwrap(self, blob: dict[str, Any], passphrase: str) -> bytes | None:
        params = ScryptParams(int(blob["n"]), int(blob["r"]), int(blob["p"]))
        kek = self._derive(passphrase, _unb64(blob["salt"]), params)
        try:
            return AESGCM(kek).decrypt(_unb64(blob["nonce"]), _unb64(blob["wrapped"]),
                                       b"mdt-cache-key-v1")
        except InvalidTag:
            return None

    # -- the API ---------------------------------------------------------------------------------
    def has_profile(self, profile: str) -> bool:
        return self._read(profile) is not None

    def create_profile(self, profile: str, passphrase: str) -> bytes:
        key = os.urandom(32)
        self._write(profile, self._wrap(key, passphrase))
        return key

    def unlock(self, profile: str, passphrase: str) -> bytes:
        blob = self._read(profile)
        if blob is None:
            raise NoProfileError()
        now = self.clock()
        failures = [t for t in blob.get("failures", []) if now - t < self.failure_window]
        if len(failures) >= self.max_failures:
            until = failures[0] + self.lockout
            if now < until:
                raise ProfileLockedError(until)
            failures = []
        key = self._unwrap(blob, passphrase)
        if key is None:
            failures.append(now)
            blob["failures"] = failures
            blob["unaudited"] = [*blob.get("unaudited", []), now][-50:]
            if self.wipe_after and len(blob["unaudited"]) >= self.wipe_after:
                self.destroy(profile)
                raise ProfileWipedError(len(blob["unaudited"]))
            self._write(profile, blob)
            left = self.max_failures - len(failures)
            if left <= 0:
                raise ProfileLockedError(failures[0] + self.lockout)
            raise WrongPassphraseError(left)
        if blob.get("failures"):
            blob["failures"] = []
            self._write(profile, blob)
        return key


    def take_failures(self, profile: str) -> list[str]:
        """Wrong-password times recorded since the last look (ISO UTC), to audit once the cache
        is open; the lockout counter itself is not reset by this."""
        blob = self._read(profile)
        if blob is None or not blob.get("unaudited"):
            return []
        times = [datetime.fromtimestamp(t, UTC).isoformat(timespec="seconds").replace(
            "+00:00", "Z") for t in blob["unaudited"]]
        blob["unaudited"] = []
        self._write(profile, blob)
        return times

    def change_passphrase(self, profile: str, old: str, new: str) -> None:
        key = self.unlock(profile, old)
        self._write(profile, self._wrap(key, new))

    def destroy(self, profile: str) -> None:
        try:
            self.keystore.delete_password(self.service, profile)
        except keyring.errors.PasswordDeleteError:
            pass
        except (keyring.errors.KeyringError, RuntimeError) as exc:
            raise KeystoreUnavailableError() from exc
