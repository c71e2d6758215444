"""Signing in and out, and the profiles on this terminal: online login, offline unlock, re-login,
a password changed elsewhere, the lock screen's password, sign-out and wipe. No Qt.

The cache passphrase is the account password: the first online login on a terminal creates the
user's profile (a fresh random key wrapped under it); later logins, online or offline, unwrap it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from mdt import paths
from mdt.agency_config import AgencyConfig, check_training_allowed
from mdt.atomic import atomic_write_text
from mdt.services.audit import AuditLog
from mdt.services.gateway_time import GatewayTime
from mdt.services.network import Network
from mdt.services.reference import ReferenceData
from mdt.services.retention import Retention
from mdt.services.session import Operator, Session, profile_file
from mdt.services.syncing import Syncing
from mdt.services.tokens import SessionTokens
from mdt.settings import Settings
from mdt.store.errors import NoProfileError, PasswordChangedError, ProfileWipedError

if TYPE_CHECKING:
    from mdt.net.gateway import GatewaySession
    from mdt.store.keys import KeyVault

log = logging.getLogger(__name__)


def make_vault(settings: Settings) -> KeyVault:
    """The key vault the settings ask for: the OS keystore, or the agency-allowed file."""
    from mdt.store.keys import KeyVault, WrappedKeyFile

    wipe_after = settings.wipe_after_failures
    if settings.keystore == "wrapped-file":
        return KeyVault(keystore=WrappedKeyFile(paths.data_dir() / "wrapped-keys.json"),
                        wipe_after=wipe_after)
    return KeyVault(wipe_after=wipe_after)


class SignIn:
    def __init__(self, session: Session, network: Network, settings: Settings,
                 agency: AgencyConfig, audit: AuditLog, tokens: SessionTokens,
                 reference: ReferenceData, time: GatewayTime, retention: Retention,
                 syncing: Syncing, vault: KeyVault | None = None) -> None:
        self.session = session
        self.network = network
        self.settings = settings
        self.agency = agency
        self.audit = audit
        self.tokens = tokens
        self.reference = reference
        self.time = time
        self.retention = retention
        self.syncing = syncing
        self._vault = vault
        # A gateway session whose password no longer unwraps the cache key, kept while the
        # person is asked for the previous one (a one-time code cannot be used twice).
        self._password_changed: tuple[tuple[str, str], GatewaySession] | None = None

    @property
    def vault(self) -> KeyVault:
        if self._vault is None:
            self._vault = make_vault(self.settings)
        return self._vault

    # -- signing in ------------------------------------------------------------------------------
    def login(self, user_id: str, password: str, otp: str, *,
              previous_password: str | None = None, start_fresh: bool = False) -> Operator:
        """Online login (password + one-time code), then unlock or create the cache profile.

        A password the gateway accepts never counts as a wrong one here. When it no longer
        unwraps this terminal's key (changed elsewhere), :class:`PasswordChangedError` asks for
        ``previous_password`` once (the cache is kept, re-wrapped under the new password) or
        ``start_fresh`` (the old profile is wiped and a new one made)."""
        paths.check_user_id(user_id)
        pending, self._password_changed = self._password_changed, None
        if pending is not None and pending[0] == (user_id, password) and \
                (previous_password or start_fresh):
            # The answer to "your password was changed": the gateway already signed this
            # person in a moment ago (and its one-time code works once): that session goes on.
            session = pending[1]
        else:
            session = self.network.run(self.network.client.login(
                user_id, password, otp, self.settings.device_id))
        check_training_allowed(self.agency, session.training)  # a live build stays live
        operator = Operator(user_id=paths.check_user_id(session.user.id), name=session.user.name,
                            role=session.user.role, ori=session.user.ori, unit=session.user.unit,
                            training=session.training,
                            gateway_url=self.network.client.base_url)
        self.session.notices = []
        try:
            key, create = self._key_for_login(operator.user_id, password, previous_password,
                                              start_fresh)
        except PasswordChangedError:
            self._password_changed = ((user_id, password), session)
            raise
        self._open(operator, key, create=create)
        self.tokens.save(session.token)
        self.reference.load_cached()
        try:
            self.reference.refresh_forms()
            self.reference.refresh_codes()
        except Exception as exc:  # the shipped / cached ones serve; never block a login on it
            log.info("forms or code tables not refreshed: %s", type(exc).__name__)
        atomic_write_text(profile_file(operator.user_id),
                          json.dumps(asdict(operator), indent=2))
        self.settings.set("last_user", operator.user_id)
        self.settings.save()
        self.audit.record("logon", "success", f"online login to {operator.gateway_url}")
        self.audit.record_pending()
        self.time.measure_and_anchor()  # first: retention runs on the gateway's clock
        self._first_expire()
        return operator

    def _key_for_login(self, user_id: str, password: str, previous: str | None,
                       start_fresh: bool) -> tuple[bytes, bool]:
        """The cache key for a password the gateway has just accepted, and whether the cache is
        new. Nothing here counts toward the lockout or the wipe."""
        vault = self.vault
        if not vault.has_profile(user_id):
            paths.profile_dir(user_id, create=True)
            return vault.create_profile(user_id, password), True
        key = vault.open_verified(user_id, password)
        if key is not None:
            return key, False
        # The gateway took this password and the key's wrap does not: it was changed elsewhere.
        open_key = self.session.key
        if open_key is not None and self.session.operator is not None \
                and self.session.operator.user_id == user_id:
            vault.rewrap(user_id, open_key, password)  # the open cache's key: nothing to ask
            key = open_key
        elif previous:
            key = vault.open_verified(user_id, previous)
            if key is None:
                raise PasswordChangedError(
                    "That is not the previous password either (nothing was counted as a wrong "
                    "password). Try it again, or start fresh: the old cache is then erased.")
            vault.rewrap(user_id, key, password)
        elif start_fresh:
            self.wipe(user_id)
            paths.profile_dir(user_id, create=True)
            self.session.notices.append("Started fresh after the password change: the previous "
                                        "cache on this terminal was erased.")
            self.session.pending_audit.append(("password-change", "fresh-profile",
                                               "the previous cache was erased"))
            return vault.create_profile(user_id, password), True
        else:
            raise PasswordChangedError()
        self.session.notices.append("Your password was changed: this terminal's cache now opens "
                                    "with the new password. Nothing was lost.")
        self.session.pending_audit.append(("password-change", "success", "cache key re-wrapped"))
        return key, False

    def unlock(self, user_id: str, password: str) -> Operator:
        """Offline unlock: the cache opens with the password alone; sync resumes when possible."""
        paths.check_user_id(user_id)
        saved = profile_file(user_id)
        if not self.vault.has_profile(user_id) or not saved.exists():
            raise NoProfileError(
                f"There is no offline profile for '{user_id}' on this terminal. "
                "Sign in online once to create it.")
        try:
            key = self.vault.unlock(user_id, password)
        except ProfileWipedError:
            self.wipe(user_id)  # the key is gone; the files go too
            raise
        operator = Operator.from_saved(json.loads(saved.read_text(encoding="utf-8")))
        paths.check_user_id(operator.user_id)
        self.session.notices = []
        self._open(operator, key, create=False)
        self.reference.load_cached()
        token = self.tokens.load()
        if token:
            self.network.client.token = token
        self.audit.record("unlock", "success", "offline unlock")
        self.audit.record_pending()
        self._first_expire()
        return operator

    def _open(self, operator: Operator, key: bytes, *, create: bool) -> None:
        self.session.open(operator, key, create=create)
        # Wrong passwords typed while the cache was closed go into its audit log now.
        self._audit_unlock_failures(operator.user_id)

    def _audit_unlock_failures(self, user_id: str) -> None:
        for at in self.vault.take_failures(user_id):
            self.audit.record("unlock", "failure", f"wrong password at {at}")

    def _first_expire(self) -> None:
        """Retention at sign-in reads the first pages of every table and index: damage it finds
        is dealt with now (set aside, salvaged, a new cache), not left for the officer's next
        query to stumble on."""
        from mdt.store.errors import (
            CacheIOError,
            CorruptCacheError,
            DiskFullError,
            ReadOnlyCacheError,
        )

        try:
            self.retention.expire()
        except (DiskFullError, ReadOnlyCacheError, CacheIOError) as exc:
            log.warning("retention deferred: the cache cannot be written (%s)",
                        type(exc).__name__)
        except CorruptCacheError:
            operator, key = self.session.operator, self.session.key
            assert operator is not None and key is not None
            self.close_cache()
            self._open(operator, key, create=False)  # the damage flag: set aside, salvage
            self.audit.record_pending()
            self.retention.expire()

    def relogin(self, password: str, otp: str) -> Operator:
        """Log in again after the token expired, keeping the open cache and the queue."""
        operator, _ = self.session.require()
        session = self.network.run(self.network.client.login(
            operator.user_id, password, otp, self.settings.device_id))
        check_training_allowed(self.agency, session.training)
        key = self.session.key
        if key is not None and self.vault.open_verified(operator.user_id, password) is None:
            # Changed at the gateway while this session ran: the open cache's key, re-wrapped.
            self.vault.rewrap(operator.user_id, key, password)
            self.audit.record("password-change", "success", "cache key re-wrapped at re-login")
        self.tokens.save(session.token)
        self.syncing.resume_with_token(session.token)
        self.audit.record("logon", "success", "re-login after the session expired")
        self.time.measure_and_anchor()
        return operator

    def verify_password(self, password: str) -> None:
        """Unlock a locked screen: the password checked offline against the key vault (a KDF:
        run it on a worker). Wrong: raises like a sign-in, counts, and may wipe."""
        operator, _ = self.session.require()
        try:
            self.vault.unlock(operator.user_id, password)
        except ProfileWipedError:
            self.audit.record("unlock", "failure", "screen unlock: profile wiped")
            self.wipe(operator.user_id)
            raise
        except Exception:
            self._audit_unlock_failures(operator.user_id)
            raise
        self.audit.record("unlock", "success", "screen unlocked")

    # -- ending ----------------------------------------------------------------------------------
    def logout(self) -> None:
        """End the gateway session (when reachable) and forget the token."""
        self.session.require()
        client = self.network.existing_client
        if client is not None and client.token:
            try:
                self.network.run(client.logout(), timeout=10)
            except Exception as exc:  # offline logout still ends the local session
                log.info("gateway logout failed: %s", type(exc).__name__)
        self.tokens.save("")
        self.audit.record("logoff", "success")
        if self.settings.erase_on_logout:
            self.retention.erase_on_logout()

    def sign_out(self) -> None:
        """Log out (the agency's erase rule applies), stop syncing and close the cache: the
        terminal is back where it was before sign-in."""
        self.logout()
        self.syncing.stop()
        self.close_cache()

    def wipe(self, user_id: str) -> list[Path]:
        """Destroy a profile: its key (so the cache can never be opened again), then its files
        (:func:`mdt.store.profile.wipe`, the one implementation, for the CLI and the GUI).
        Works without the password: this is what a lost or stolen terminal needs. When no
        keystore can be reached the files still go, and the keystore error is raised after."""
        from mdt.store.profile import wipe

        paths.check_user_id(user_id)
        operator = self.session.operator
        if operator is not None and operator.user_id == user_id:
            self.audit.record("wipe", "success", "profile wiped")
            self.syncing.ship_audit_now()  # the local log goes with the cache: the gateway keeps it
            self.syncing.stop()
            self.close_cache()
        return wipe(user_id, self.vault)

    def close_cache(self) -> None:
        self.session.close()
        self.audit.forget_unwritten()  # this operator's: never into another's cache
        self.time.forget()  # its clock offset is the closed cache's
