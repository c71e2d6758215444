"""The cache key: a random 256-bit key per user profile, wrapped under the user's password.

The raw key encrypts the SQLCipher cache (fast to open: no slow KDF on the database itself). It
is wrapped with AES-256-GCM (the profile name bound in as associated data) under a key derived
from the password with Argon2id (memory-hard; keys wrapped with scrypt by earlier versions are
re-wrapped at their next unlock), and the wrapped blob is held by
the OS keystore through the module-level ``keyring`` API (service ``MDT``, user = the profile);
it is never written to disk in the clear. Changing the password re-wraps the key and leaves the
database alone. Five wrong passwords within 15 minutes lock the profile for 15 minutes from the
fifth (CJIS); the counters live in the blob, so restarting does not reset them. No keystore
(``keyring`` raises, or the ``fail`` / ``null`` backend is active) is a KeystoreUnavailableError,
never a fallback to a plain file. No Qt.
"""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

import filelock
import keyring
import keyring.errors
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mdt.core.clock import format_time
from mdt.store.errors import (
    KeystoreDamagedError,
    KeystoreLockedError,
    KeystoreUnavailableError,
    NoProfileError,
    ProfileLockedError,
    ProfileWipedError,
    WrongPassphraseError,
)

BLOB_VERSION = 2  # 1: flat scrypt params, "wrapped", a fixed AAD; 2: "kdf_params", "ciphertext",
#                   the profile name bound into the AAD
KDFS = ("scrypt", "argon2id")
LEGACY_SERVICES = ("MDT cache key",)  # where keys were held before the service was "MDT"


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**15
    r: int = 8
    p: int = 1

    def cost(self) -> int:
        return self.n * self.r * self.p


@dataclass(frozen=True)
class Argon2Params:
    """Argon2id, memory-hard (RFC 9106 §4), tuned so one derivation takes about 250 ms on a
    2-core laptop: 128 MiB, 3 passes, 4 lanes (``benchmarks/kdf.py`` measures it and the
    guesses per second a stolen copy of a wrapped key allows)."""

    iterations: int = 3
    lanes: int = 4
    memory_cost: int = 128 * 1024  # KiB

    def cost(self) -> int:
        return self.iterations * self.memory_cost


KdfParams = ScryptParams | Argon2Params


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.b64decode(text.encode("ascii"), validate=True)


class Keystore(Protocol):
    """Where wrapped keys are held: the ``keyring`` module (the OS keystore) or a
    :class:`WrappedKeyFile`."""

    def get_password(self, service: str, username: str) -> str | None: ...

    def set_password(self, service: str, username: str, password: str) -> None: ...

    def delete_password(self, service: str, username: str) -> None: ...


class WrappedKeyFile:
    """An agency-allowed fallback when no OS keystore exists (``keystore = "wrapped-file"``).

    It holds only *wrapped* keys (AES-GCM under a KDF of the password), never a usable key;
    the file is written atomically with owner-only permissions. Weaker than an OS keystore (the
    wrapped key can be copied for an offline password guess), so it is off unless set. Every
    read-modify-write holds an OS file lock (``filelock``) on ``<file>.lock``: two MDT processes
    creating profiles at once both keep their keys."""

    def __init__(self, path: Path, *, lock_timeout: float = 10.0) -> None:
        self.path = path
        self.lock_timeout = lock_timeout

    def _lock(self) -> filelock.BaseFileLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return filelock.FileLock(str(self.path) + ".lock", timeout=self.lock_timeout, mode=0o600)

    def _load(self) -> dict[str, str]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as exc:
            raise keyring.errors.KeyringError(f"wrapped-key file unreadable: {exc}") from exc
        return data if isinstance(data, dict) else {}

    def _save(self, data: dict[str, str]) -> None:
        from mdt.atomic import atomic_write_text  # the one atomic writer (owner-only, fsync)

        atomic_write_text(self.path, json.dumps(data))

    def get_password(self, service: str, username: str) -> str | None:
        return self._load().get(f"{service}/{username}")

    def set_password(self, service: str, username: str, password: str) -> None:
        try:
            with self._lock():
                data = self._load()
                data[f"{service}/{username}"] = password
                self._save(data)
        except filelock.Timeout as exc:
            raise keyring.errors.KeyringError("wrapped-key file locked by another MDT") from exc

    def delete_password(self, service: str, username: str) -> None:
        try:
            with self._lock():
                data = self._load()
                if data.pop(f"{service}/{username}", None) is None:
                    raise keyring.errors.PasswordDeleteError(username)
                self._save(data)
        except filelock.Timeout as exc:
            raise keyring.errors.KeyringError("wrapped-key file locked by another MDT") from exc


class KeyVault:
    """Wrapped cache keys, one per profile, in the OS keystore.

    ``kdf`` is ``"argon2id"`` (default, :class:`Argon2Params`: memory-hard, about 250 ms) or
    ``"scrypt"`` (n = 2^15, r = 8, p = 1: what earlier versions used; a key wrapped so is
    re-wrapped with Argon2id at its next unlock); ``kdf_params`` overrides the cost (tests pass
    cheap ones). For older callers ``kdf`` may also be a
    :class:`ScryptParams`. ``keystore`` defaults to the module-level ``keyring`` API, so whatever
    ``keyring.set_keyring`` chose applies. Every method does keystore and KDF work: call them off
    the GUI thread."""

    def __init__(self, service: str = "MDT", *, clock: Callable[[], float] = time.time,
                 max_failures: int = 5, failure_window: float = 900.0,
                 kdf: str | ScryptParams = "argon2id", kdf_params: KdfParams | None = None,
                 lockout: float = 900.0, keystore: Keystore | None = None,
                 wipe_after: int = 0) -> None:
        if isinstance(kdf, ScryptParams):
            kdf_params = kdf
            kdf = "scrypt"
        if kdf not in KDFS:
            raise ValueError(f"unknown KDF {kdf!r} (use one of {', '.join(KDFS)})")
        if kdf_params is None:
            kdf_params = ScryptParams() if kdf == "scrypt" else Argon2Params()
        if not isinstance(kdf_params, ScryptParams if kdf == "scrypt" else Argon2Params):
            raise ValueError(f"{type(kdf_params).__name__} does not go with {kdf}")
        self.wipe_after = wipe_after  # 0: never; else wrong passwords in a row that destroy the key
        self.keystore: Keystore = keystore if keystore is not None else keyring
        self.service = service
        self.clock = clock
        self.max_failures = max_failures
        self.failure_window = failure_window
        self.lockout = lockout
        self.kdf_name: str = kdf
        self.kdf_params: KdfParams = kdf_params

    @property
    def kdf(self) -> KdfParams:  # the older name of the cost parameters
        return self.kdf_params

    # -- the keystore ----------------------------------------------------------------------------
    def _keystore(self) -> Keystore:
        """The keystore, refusing the ``fail`` and ``null`` backends: with them nothing would
        be kept (or everything lost) without a word."""
        if self.keystore is keyring:
            from keyring.backends import fail, null

            try:
                backend = keyring.get_keyring()
            except Exception as exc:
                raise KeystoreUnavailableError() from exc
            if isinstance(backend, fail.Keyring | null.Keyring):
                raise KeystoreUnavailableError()
        return self.keystore

    def _get(self, service: str, profile: str) -> str | None:
        try:
            return self._keystore().get_password(service, profile)
        except KeystoreUnavailableError:
            raise
        except keyring.errors.KeyringLocked as exc:  # a locked Secret Service collection
            raise KeystoreLockedError() from exc
        except Exception as exc:  # any backend failure (D-Bus, locked collection ...)
            raise KeystoreUnavailableError() from exc

    def _read(self, profile: str) -> dict[str, Any] | None:
        text = self._get(self.service, profile)
        if text is None and self.service == "MDT":
            for legacy in LEGACY_SERVICES:  # move a key kept under an older service name
                text = self._get(legacy, profile)
                if text is not None:
                    self._set(profile, text)
                    self._delete(legacy, profile)
                    break
        if text is None:
            return None
        try:
            blob = json.loads(text)
        except ValueError:
            blob = None
        if not isinstance(blob, dict) or blob.get("kdf") not in KDFS:
            raise KeystoreDamagedError()
        return blob

    def _set(self, profile: str, text: str) -> None:
        try:
            self._keystore().set_password(self.service, profile, text)
        except KeystoreUnavailableError:
            raise
        except keyring.errors.KeyringLocked as exc:  # a locked Secret Service collection
            raise KeystoreLockedError() from exc
        except Exception as exc:
            raise KeystoreUnavailableError() from exc

    def _write(self, profile: str, blob: dict[str, Any]) -> None:
        self._set(profile, json.dumps(blob))

    def _delete(self, service: str, profile: str) -> None:
        try:
            self._keystore().delete_password(service, profile)
        except keyring.errors.PasswordDeleteError:
            pass
        except KeystoreUnavailableError:
            raise
        except keyring.errors.KeyringLocked as exc:  # a locked Secret Service collection
            raise KeystoreLockedError() from exc
        except Exception as exc:
            raise KeystoreUnavailableError() from exc

    # -- wrapping --------------------------------------------------------------------------------
    @staticmethod
    def _aad(profile: str, version: int) -> bytes:
        return b"mdt-cache-key-v1" if version < 2 else b"mdt-cache-key-v2|" + profile.encode()

    @staticmethod
    def _derive(passphrase: str, salt: bytes, params: KdfParams) -> bytes:
        secret = passphrase.encode("utf-8")
        if isinstance(params, ScryptParams):
            return Scrypt(salt=salt, length=32, n=params.n, r=params.r, p=params.p).derive(secret)
        from cryptography.hazmat.primitives.kdf.argon2 import Argon2id

        return Argon2id(salt=salt, length=32, iterations=params.iterations, lanes=params.lanes,
                        memory_cost=params.memory_cost).derive(secret)

    def _wrap(self, profile: str, key: bytes, passphrase: str) -> dict[str, Any]:
        salt, nonce = os.urandom(16), os.urandom(12)
        kek = self._derive(passphrase, salt, self.kdf_params)
        wrapped = AESGCM(kek).encrypt(nonce, key, self._aad(profile, BLOB_VERSION))
        return {"version": BLOB_VERSION, "kdf": self.kdf_name,
                "kdf_params": asdict(self.kdf_params), "salt": _b64(salt),
                "nonce": _b64(nonce), "ciphertext": _b64(wrapped), "failures": [],
                "locked_until": None, "unaudited": []}

    @staticmethod
    def _params(blob: dict[str, Any]) -> KdfParams:
        """The blob's KDF cost, refused when absurd (a tampered blob must not exhaust memory)."""
        raw = blob.get("kdf_params") or {k: blob[k] for k in ("n", "r", "p") if k in blob}
        try:
            if blob["kdf"] == "scrypt":
                sp = ScryptParams(int(raw["n"]), int(raw["r"]), int(raw["p"]))
                sane = 2 <= sp.n <= 2**20 and 1 <= sp.r <= 32 and 1 <= sp.p <= 16
                params: KdfParams = sp
            else:
                ap = Argon2Params(int(raw["iterations"]), int(raw["lanes"]),
                                  int(raw["memory_cost"]))
                sane = (1 <= ap.iterations <= 64 and 1 <= ap.lanes <= 64
                        and 8 * ap.lanes <= ap.memory_cost <= 4 * 1024 * 1024)
                params = ap
        except (KeyError, TypeError, ValueError) as exc:
            raise KeystoreDamagedError() from exc
        if not sane:
            raise KeystoreDamagedError()
        return params

    def _unwrap(self, profile: str, blob: dict[str, Any], passphrase: str) -> bytes | None:
        params = self._params(blob)
        try:
            salt, nonce = _unb64(blob["salt"]), _unb64(blob["nonce"])
            wrapped = _unb64(blob.get("ciphertext") or blob["wrapped"])
        except (KeyError, TypeError, ValueError) as exc:
            raise KeystoreDamagedError() from exc
        kek = self._derive(passphrase, salt, params)
        try:
            key = AESGCM(kek).decrypt(nonce, wrapped,
                                      self._aad(profile, int(blob.get("version") or 1)))
        except (InvalidTag, ValueError):
            return None
        if len(key) != 32:
            raise KeystoreDamagedError()
        return key

    def _weaker(self, blob: dict[str, Any]) -> bool:
        """Was this key wrapped with a cheaper KDF than this vault now uses (an upgrade)?"""
        if int(blob.get("version") or 1) < BLOB_VERSION:
            return True
        params = self._params(blob)
        if blob["kdf"] != self.kdf_name:
            return self.kdf_name == "argon2id"  # scrypt -> Argon2id, never back
        return params.cost() < self.kdf_params.cost()

    # -- the API ---------------------------------------------------------------------------------
    def has_profile(self, profile: str) -> bool:
        try:
            return self._read(profile) is not None
        except KeystoreDamagedError:
            return True  # something is there: never overwrite it with a new profile by accident

    def create_profile(self, profile: str, passphrase: str) -> bytes:
        """A new random 256-bit cache key for ``profile``, wrapped under ``passphrase`` and held by
        the keystore (an existing one is replaced: the caller decides when that is right)."""
        key = os.urandom(32)
        text = json.dumps(self._wrap(profile, key, passphrase))
        self._set(profile, text)
        if self._get(self.service, profile) != text:  # a keystore that silently keeps nothing
            raise KeystoreUnavailableError()
        return key

    def unlock(self, profile: str, passphrase: str) -> bytes:
        blob = self._read(profile)
        if blob is None:
            raise NoProfileError()
        now = self.clock()
        locked_until = blob.get("locked_until")
        if locked_until is not None and now < float(locked_until):
            raise ProfileLockedError(float(locked_until), now)
        failures = [float(t) for t in blob.get("failures", []) if now - float(t) < self.failure_window]
        if locked_until is not None or len(failures) >= self.max_failures:
            failures = []  # the lockout has run its course: a fresh count
            blob["locked_until"] = None
        key = self._unwrap(profile, blob, passphrase)
        if key is None:
            failures.append(now)
            blob["failures"] = failures
            blob["unaudited"] = [*blob.get("unaudited", []), now][-50:]
            if self.wipe_after and len(blob["unaudited"]) >= self.wipe_after:
                self.destroy(profile)
                raise ProfileWipedError(len(blob["unaudited"]))
            left = self.max_failures - len(failures)
            if left <= 0:
                blob["locked_until"] = now + self.lockout
            self._write(profile, blob)
            if left <= 0:
                raise ProfileLockedError(now + self.lockout, now)
            raise WrongPassphraseError(left)
        self._opened(profile, blob, key, passphrase)
        return key

    def _opened(self, profile: str, blob: dict[str, Any], key: bytes, passphrase: str) -> None:
        """After a right password: a weaker wrap is made anew, and the failure count cleared."""
        if self._weaker(blob):
            fresh = self._wrap(profile, key, passphrase)
            fresh["unaudited"] = blob.get("unaudited", [])
            self._write(profile, fresh)
        elif blob.get("failures") or blob.get("locked_until") is not None:
            blob["failures"], blob["locked_until"] = [], None
            self._write(profile, blob)

    def take_failures(self, profile: str) -> list[str]:
        """Wrong-password times recorded since the last look (ISO UTC), to audit once the cache
        is open; the lockout counter itself is not reset by this."""
        blob = self._read(profile)
        if blob is None or not blob.get("unaudited"):
            return []
        times = [format_time(datetime.fromtimestamp(t, UTC)) for t in blob["unaudited"]]
        blob["unaudited"] = []
        self._write(profile, blob)
        return times

    def open_verified(self, profile: str, passphrase: str) -> bytes | None:
        """The key, for a password the gateway has just accepted: ``None`` when it does not
        unwrap the key (the password was changed elsewhere since this terminal last saw it).
        Never counts as a wrong password and ignores a lockout (the person proved who they are
        online); a success clears the count and upgrades a weaker wrap."""
        blob = self._read(profile)
        if blob is None:
            raise NoProfileError()
        key = self._unwrap(profile, blob, passphrase)
        if key is not None:
            self._opened(profile, blob, key, passphrase)
        return key

    def rewrap(self, profile: str, key: bytes, passphrase: str) -> None:
        """Wrap the same cache ``key`` under a new ``passphrase`` (the database is not touched);
        the wrong-password times not yet audited are kept."""
        blob = self._read(profile) or {}
        fresh = self._wrap(profile, key, passphrase)
        fresh["unaudited"] = blob.get("unaudited", [])
        self._write(profile, fresh)

    def change_passphrase(self, profile: str, old: str, new: str) -> None:
        """Re-wrap the same cache key under ``new``. A wrong ``old`` counts as a wrong
        password (this is the offline path; after a change at the gateway the terminal uses
        :meth:`open_verified` and :meth:`rewrap`, which count nothing)."""
        self.rewrap(profile, self.unlock(profile, old), new)

    def destroy(self, profile: str) -> None:
        """Remove the wrapped key: the cache can never be opened again. No error when absent."""
        self._delete(self.service, profile)
