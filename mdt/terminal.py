"""The terminal: one signed-in operator's client, without any GUI. No Qt.

Both faces of MDT drive this class: the headless CLI (``mdt send ...``) calls it directly, and the
Qt application calls it from worker threads (:mod:`mdt.app`). It ties together

- the key vault (:class:`~mdt.store.keys.KeyVault`: the cache key wrapped under the user's
  password, held by the OS keystore),
- the encrypted cache, owned by one writer thread (:class:`~mdt.store.writer_thread.CacheWriter`),
- the gateway client and the sync engine on the network thread
  (:class:`~mdt.net.loop.EventLoopThread`).

The cache passphrase is the account password: the first online login on a terminal creates the
user's profile (a fresh random key wrapped under it); later logins, online or offline, unwrap it.

Methods block: never call them on the GUI thread.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdt import paths
from mdt.agency_config import AgencyConfig, check_training_allowed
from mdt.core.message import OperatorProfile
from mdt.settings import Settings, atomic_write_text
from mdt.store.errors import NoProfileError, PasswordChangedError, ProfileWipedError

# The network, crypto and SQLCipher stacks load on first use, on a worker thread, so the GUI's
# first window does not wait for them.
if TYPE_CHECKING:
    from mdt.alert_desk import AlertDesk
    from mdt.core.codes import CodeTables
    from mdt.core.forms import FormSet
    from mdt.net.gateway import GatewayClient, GatewaySession
    from mdt.net.loop import EventLoopThread
    from mdt.net.sync import SyncEngine, SyncListener, SyncReport
    from mdt.store.cache import StoredReturn
    from mdt.store.keys import KeyVault
    from mdt.store.quarantine import QuarantinedEvent
    from mdt.store.writer_thread import CacheWriter
    from mdt.trainer_desk import TrainerDesk

log = logging.getLogger(__name__)
CLOCK_ANCHOR_META = "gateway_clock_anchor"


@dataclass
class Operator:
    """Who is signed in: from the gateway at login, kept beside the cache for offline unlocks.

    The operator's own identity is not criminal-justice data; it is kept in ``profile.json``."""

    user_id: str
    name: str
    role: str
    ori: str
    unit: str = ""
    training: bool = False
    gateway_url: str = ""
    token_expires_at: str = ""

    def profile(self, phone: str = "") -> OperatorProfile:
        return OperatorProfile(user_id=self.user_id, name=self.name, ori=self.ori, unit=self.unit,
                               atn=self.name.upper()[:30], phn=phone)


class NotSignedIn(RuntimeError):
    """An action that needs an unlocked profile was asked for before login/unlock."""


def _profile_file(user_id: str) -> Path:
    return paths.profile_dir(user_id) / "profile.json"


def cache_path(user_id: str) -> Path:
    return paths.profile_dir(user_id) / "cache.db"


# Retention on a clock nobody has checked since the machine started (a cold boot, offline) may
# run at most this far past the last time the gateway's clock was known: a PC clock set hours
# ahead cannot erase what is still in use (mdt.core.trusted_time).
UNVERIFIED_CLOCK_SLACK_S = 3600.0


def make_vault(settings: Settings) -> KeyVault:
    """The key vault the settings ask for: the OS keystore, or the agency-allowed file."""
    from mdt.store.keys import KeyVault, WrappedKeyFile

    wipe_after = settings.wipe_after_failures
    if settings.get("keystore") == "wrapped-file":
        return KeyVault(keystore=WrappedKeyFile(paths.data_dir() / "wrapped-keys.json"),
                        wipe_after=wipe_after)
    return KeyVault(wipe_after=wipe_after)


class Terminal:
    def __init__(self, settings: Settings | None = None, *, vault: KeyVault | None = None,
                 listener: SyncListener | None = None,
                 agency: AgencyConfig | None = None) -> None:
        self.settings = settings or Settings()
        self._vault = vault
        self.listener = listener
        self.operator: Operator | None = None
        self.writer: CacheWriter | None = None
        self.reader: CacheWriter | None = None
        self.online_session = False
        self._forms: FormSet | None = None
        self._code_tables: CodeTables | None = None
        self._loop: EventLoopThread | None = None
        self._client: GatewayClient | None = None
        self._engine: SyncEngine | None = None
        self._sync_future: Any = None
        self._alert_desk: AlertDesk | None = None
        self.agency = agency or AgencyConfig()
        self._key: bytes | None = None  # the open cache's key (re-wrapped after a password change)
        self.notices: list[str] = []  # what the last sign-in must tell the person (a recovery)
        self._pending_audit: list[tuple[str, str, str]] = []
        self._unwritten_audit: list[tuple[str, str, str, str]] = []  # while writing cannot work
        # A gateway session whose password no longer unwraps the cache key, kept while the
        # person is asked for the previous one (a one-time code cannot be used twice).
        self._password_changed_session: tuple[tuple[str, str], GatewaySession] | None = None
        self.sync_options: dict[str, Any] = {}  # SyncEngine keywords (backoff, idle timeout)
        self._client_lock = threading.Lock()

    @property
    def forms(self) -> FormSet:
        """The forms in use: shipped, or newer ones the gateway served (kept in the cache)."""
        if self._forms is None:
            from mdt.core.forms import FormSet

            self._forms = FormSet.shipped()
        return self._forms

    def _load_cached_forms(self) -> None:
        from mdt.core.forms import FormDefinitionError, FormSet

        _, writer = self._require()
        text = writer.call(lambda c: c.get_meta("forms"))
        if text:
            try:
                self._forms = FormSet.with_served(json.loads(text))
            except (FormDefinitionError, ValueError):
                log.warning("cached gateway forms are unusable; using the shipped ones")

    def refresh_forms(self) -> str:
        """Fetch newer form definitions from the gateway (ETag), validate, keep them in the cache.

        Returns "updated", "unchanged" or "refused" (a definition did not validate)."""
        from mdt.core.forms import FormDefinitionError, FormSet

        _, writer = self._require()
        etag = writer.call(lambda c: c.get_meta("forms_etag"))
        new_etag, payload = self._run(self.client.forms(etag), timeout=30)
        if payload is None:
            return "unchanged"
        try:
            forms = FormSet.with_served(payload)
        except FormDefinitionError as exc:
            log.warning("the gateway served unusable forms: %s", exc)
            return "refused"

        def keep(cache: Any) -> None:
            cache.set_meta("forms", json.dumps(payload))
            cache.set_meta("forms_etag", new_etag or "")

        writer.call(keep)
        self._forms = forms
        return "updated"

    @property
    def code_tables(self) -> CodeTables:
        """The NCIC code tables in use: shipped, with any newer ones the gateway served."""
        if self._code_tables is None:
            from mdt.core.codes import CodeTables

            self._code_tables = CodeTables.default()
        return self._code_tables

    def _load_cached_codes(self) -> None:
        _, writer = self._require()
        text = writer.call(lambda c: c.get_meta("code_tables"))
        if text:
            try:
                served = json.loads(text)["tables"]
                self._code_tables = self.code_tables.with_served(served)
            except (ValueError, KeyError, TypeError):
                log.warning("cached code tables are unusable; using the shipped ones")

    def refresh_codes(self) -> list[str]:
        """Fetch the code tables the forms use from the gateway (ETag each), keep them in the
        cache, and use them. Returns the names of the tables that changed."""
        from mdt.net.gateway import GatewayRefused

        _, writer = self._require()
        stored = json.loads(writer.call(lambda c: c.get_meta("code_tables")) or "{}")
        tables: dict[str, dict[str, str]] = stored.get("tables", {})
        etags: dict[str, str] = stored.get("etags", {})
        names = sorted({f.code_table for form in self.forms.all() for f in form.fields
                        if f.code_table})
        changed = []
        for name in names:
            try:
                etag, codes = self._run(self.client.code_table(name, etags.get(name)), 30)
            except GatewayRefused:
                continue  # this gateway does not serve that table: the shipped one stands
            if codes is not None:
                tables[name], etags[name] = codes, etag or ""
                changed.append(name)
        if changed:
            body = json.dumps({"tables": tables, "etags": etags})
            writer.call(lambda c: c.set_meta("code_tables", body))
            from mdt.core.codes import CodeTables

            self._code_tables = CodeTables.default().with_served(tables)
        return changed

    @property
    def vault(self) -> KeyVault:
        if self._vault is None:
            self._vault = make_vault(self.settings)
        return self._vault

    # -- the network thread ----------------------------------------------------------------------
    @property
    def loop(self) -> EventLoopThread:
        if self._loop is None:
            from mdt.net.loop import EventLoopThread

            self._loop = EventLoopThread()
        return self._loop

    def _run(self, coro: Any, timeout: float | None = 60.0) -> Any:
        return self.loop.submit(coro).result(timeout)

    @property
    def client(self) -> GatewayClient:
        with self._client_lock:  # two first calls at once (a check and a login) make one
            if self._client is None:
                from mdt.core.origin import GatewayUrlError, check_gateway_url
                from mdt.settings import SettingsError

                try:  # a settings file edited by hand is checked here, before any request
                    url = check_gateway_url(self.settings.gateway_url,
                                            allow_plain_http=bool(
                                                self.settings.get("allow_plain_http")))
                except GatewayUrlError as exc:
                    raise SettingsError(str(exc)) from None
                ca_bundle = self.settings.ca_bundle or None

                async def make() -> GatewayClient:
                    from mdt.net.gateway import GatewayClient

                    return GatewayClient(url, ca_bundle=ca_bundle)

                self._client = self._run(make())
            assert self._client is not None
            return self._client

    def set_gateway(self, url: str, ca_bundle: str = "", *, save: bool = True) -> None:
        """Point the terminal at another gateway (takes effect for the next call). A session
        issued by the old gateway ends here: its token is never sent to the new one, and a
        sign-in to the new one is needed. ``save=False``: for this run only (``mdt login
        --gateway`` saves it once the sign-in worked)."""
        from mdt.core.origin import origin

        before = origin(self.settings.gateway_url)
        self.settings.set("gateway_url", url)
        self.settings.set("ca_bundle", ca_bundle)
        if save:
            self.settings.save()
        if self.operator is not None:
            self._audit("settings-change", "success", f"gateway_url = {url}")
            if origin(url) != before:
                self._save_token("")  # this session was the old gateway's
                self.online_session = False
                self._audit("logoff", "success", "session ended: the gateway URL changed")
        syncing = self._engine is not None
        if syncing:
            self._stop_sync()
        if self._client is not None:
            old = self._client
            self._client = None
            self._run(old.aclose())
        if syncing:  # the engine goes on with the new gateway (a new login may be asked for)
            self.start_sync()

    # -- reaching the gateway --------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return dict(self._run(self.client.health(), timeout=20))

    def units(self) -> list[dict[str, Any]]:
        """The agency's units (a dispatcher's unit list); needs the gateway."""
        self._require()
        return list(self._run(self.client.units(), timeout=20))

    def demo_accounts(self) -> list[dict[str, Any]]:
        return list(self._run(self.client.demo_accounts(), timeout=20))

    # -- signing in ------------------------------------------------------------------------------
    def login(self, user_id: str, password: str, otp: str, *,
              previous_password: str | None = None, start_fresh: bool = False) -> Operator:
        """Online login (password + one-time code), then unlock or create the cache profile.

        A password the gateway accepts never counts as a wrong one here. When it no longer
        unwraps this terminal's key (changed elsewhere), :class:`PasswordChangedError` asks for
        ``previous_password`` once (the cache is kept, re-wrapped under the new password) or
        ``start_fresh`` (the old profile is wiped and a new one made)."""
        paths.check_user_id(user_id)
        pending = self._password_changed_session
        self._password_changed_session = None
        if pending is not None and pending[0] == (user_id, password) and \
                (previous_password or start_fresh):
            # The answer to "your password was changed": the gateway already signed this
            # person in a moment ago (and its one-time code works once): that session goes on.
            session: GatewaySession = pending[1]
        else:
            session = self._run(self.client.login(
                user_id, password, otp, self.settings.device_id))
        check_training_allowed(self.agency, session.training)  # a live build stays live
        operator = Operator(user_id=paths.check_user_id(session.user.id), name=session.user.name,
                            role=session.user.role, ori=session.user.ori, unit=session.user.unit,
                            training=session.training, gateway_url=self.client.base_url,
                            token_expires_at=session.expires_at)
        self.notices = []
        try:
            key, create = self._key_for_login(operator.user_id, password, previous_password,
                                              start_fresh)
        except PasswordChangedError:
            self._password_changed_session = ((user_id, password), session)
            raise
        self._open_cache(operator, key, create=create)
        self.online_session = True
        self._save_token(session.token)
        self._load_cached_forms()
        self._load_cached_codes()
        try:
            self.refresh_forms()
            self.refresh_codes()
        except Exception as exc:  # the shipped / cached ones serve; never block a login on it
            log.info("forms or code tables not refreshed: %s", type(exc).__name__)
        atomic_write_text(_profile_file(operator.user_id),
                          json.dumps(asdict(operator), indent=2))
        self.settings.set("last_user", operator.user_id)
        self.settings.save()
        self._audit("logon", "success", f"online login to {operator.gateway_url}")
        for notice in self._pending_audit:
            self._audit(*notice)
        self._pending_audit = []
        self._sync_clock()  # first: retention runs on the gateway's clock
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
        if self._key is not None and self.operator is not None \
                and self.operator.user_id == user_id:
            vault.rewrap(user_id, self._key, password)  # the open cache's key: nothing to ask
            key = self._key
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
            self.notices.append("Started fresh after the password change: the previous cache "
                                "on this terminal was erased.")
            self._pending_audit.append(("password-change", "fresh-profile",
                                        "the previous cache was erased"))
            return vault.create_profile(user_id, password), True
        else:
            raise PasswordChangedError()
        self.notices.append("Your password was changed: this terminal's cache now opens with "
                            "the new password. Nothing was lost.")
        self._pending_audit.append(("password-change", "success", "cache key re-wrapped"))
        return key, False

    @property
    def trainer_desk(self) -> TrainerDesk:
        """The trainer's class on a training gateway (scenarios, events, faults, debrief)."""
        from mdt.trainer_desk import TrainerDesk

        return TrainerDesk(self)

    @property
    def alert_desk(self) -> AlertDesk:
        """Alerts and hit confirmations of the signed-in operator."""
        if self._alert_desk is None:
            from mdt.alert_desk import AlertDesk

            self._alert_desk = AlertDesk(self)
        return self._alert_desk

    def _sync_clock(self) -> None:
        from mdt.core.trusted_time import anchor_text

        try:
            self.alert_desk.sync_clock()
        except Exception as exc:  # the last offset measured stays in use
            log.info("gateway clock not measured: %s", type(exc).__name__)
            return
        _, writer = self._require()
        text = anchor_text(self.alert_desk.now())
        writer.call(lambda c: c.set_meta(CLOCK_ANCHOR_META, text))

    def unlock(self, user_id: str, password: str) -> Operator:
        """Offline unlock: the cache opens with the password alone; sync resumes when possible."""
        paths.check_user_id(user_id)
        profile_file = _profile_file(user_id)
        if not self.vault.has_profile(user_id) or not profile_file.exists():
            raise NoProfileError(
                f"There is no offline profile for '{user_id}' on this terminal. "
                "Sign in online once to create it.")
        try:
            key = self.vault.unlock(user_id, password)
        except ProfileWipedError:
            self.wipe(user_id)  # the key is gone; the files go too
            raise
        operator = Operator(**json.loads(profile_file.read_text(encoding="utf-8")))
        paths.check_user_id(operator.user_id)
        self.notices = []
        self._open_cache(operator, key, create=False)
        self._load_cached_forms()
        self._load_cached_codes()
        token = self._load_token()
        if token:
            self.client.token = token
        self._audit("unlock", "success", "offline unlock")
        for notice in self._pending_audit:
            self._audit(*notice)
        self._pending_audit = []
        self._first_expire()
        return operator

    def _open_cache(self, operator: Operator, key: bytes, *, create: bool) -> None:
        """Open the profile's cache on its writer and reader threads. A cache found damaged is
        set aside and a new one made at once, with what could be read from the old one
        (:mod:`mdt.store.salvage`); a missing cache file (its key still here) is made anew. What
        happened is in :attr:`notices` for the person and in the audit log."""
        from mdt.store.cache import move_aside
        from mdt.store.errors import CorruptCacheError, WrongKeyError
        from mdt.store.writer_thread import CacheWriter

        if self.writer is not None:
            self.writer.close()
        if self.reader is not None:
            self.reader.close()
        self.writer = self.reader = None
        path = cache_path(operator.user_id)
        if not create and not path.exists():
            create = True
            self.notices.append("There was no cache file for this profile on this terminal (it "
                                "was removed): a new, empty cache was made.")
            self._pending_audit.append(("cache-recover", "new-cache", "the cache file was missing"))
        try:
            writer = CacheWriter(path, key, create=create)
        except CorruptCacheError as exc:
            writer = self._recover(path, key, exc)
        except WrongKeyError:
            # The vault unwrapped this profile's key with the right password, and the file will
            # not open with it: its first page is damaged, or the file was replaced. Either way
            # it is not this profile's cache any more; keep it aside, start anew.
            moved = move_aside(path)
            writer = CacheWriter(path, key, create=True)
            self.notices.append(
                f"This terminal's cache could not be read with this profile's key (its first "
                f"page is damaged, or the file was replaced). It was set aside as {moved.name} "
                "and a new cache was made; nothing could be kept from it. Returns still held by "
                "the gateway will come again.")
            self._pending_audit.append(("cache-recover", "unreadable",
                                        f"cache set aside as {moved.name}: not this key's"))
        self.writer = writer
        self.reader = CacheWriter(path, key, name="mdt-cache-reader", read_only=True)
        self._key = key
        self.operator = operator
        self._audit_unlock_failures(operator.user_id)

    def _recover(self, path: Path, key: bytes, damage: Exception) -> CacheWriter:
        from mdt.store.salvage import salvage_into
        from mdt.store.writer_thread import CacheWriter

        moved = getattr(damage, "moved_to", None)
        writer = CacheWriter(path, key, create=True)
        if moved is None:  # not moved (nothing was there to move): a new cache is all there is
            self.notices.append(getattr(damage, "user_message", str(damage)))
            return writer
        report = writer.call(lambda c: salvage_into(c, moved, key))
        self.notices.append(report.sentence())
        kept = ", ".join(f"{n} {words[1]}" for words, n in report.kept.items() if n) or "nothing"
        self._pending_audit.append(("cache-recover", "salvaged",
                                    f"damaged cache set aside as {moved.name}; kept {kept}; "
                                    f"unreadable: {', '.join(report.unreadable) or 'none'}"))
        log.warning("cache damaged: set aside, %s", kept)
        return writer

    def _audit_unlock_failures(self, user_id: str) -> None:
        """Wrong passwords typed while the cache was closed go into its audit log now."""
        for at in self.vault.take_failures(user_id):
            self._audit("unlock", "failure", f"wrong password at {at}")

    def retention_now(self) -> datetime | None:
        """The time retention runs on: the gateway's clock, carried forward from its last
        measurement by the machine's boot clock (which a change of the PC clock does not move);
        after a cold boot with no measurement yet, the PC clock plus the last offset, but never
        more than an hour past the last time the gateway's clock was known."""
        from mdt.core.trusted_time import anchor_from_text, boot_reading, trusted_now

        _, writer = self._require()
        anchor = anchor_from_text(writer.call(lambda c: c.get_meta(CLOCK_ANCHOR_META)))
        estimate = self.alert_desk.now()
        return trusted_now(anchor, boot_reading(), estimate, UNVERIFIED_CLOCK_SLACK_S)

    def _first_expire(self) -> None:
        """Retention at sign-in reads every table: damage it finds is dealt with now (set aside,
        salvaged, a new cache), not left for the officer's next query to stumble on."""
        from mdt.store.errors import (
            CacheIOError,
            CorruptCacheError,
            DiskFullError,
            ReadOnlyCacheError,
        )

        try:
            self.expire()
        except (DiskFullError, ReadOnlyCacheError, CacheIOError) as exc:
            log.warning("retention deferred: the cache cannot be written (%s)",
                        type(exc).__name__)
        except CorruptCacheError:
            operator, key = self.operator, self._key
            assert operator is not None and key is not None
            self._close_cache()
            self._open_cache(operator, key, create=False)  # the damage flag: set aside, salvage
            for notice in self._pending_audit:
                self._audit(*notice)
            self._pending_audit = []
            self.expire()

    def expire(self) -> int:
        """Apply the retention setting now; returns how many returns were erased. Open alerts,
        alerts whose deadline has not passed and what they belong to are always kept."""
        from datetime import timedelta

        from mdt.store import quarantine
        from mdt.store.cache import damaged_copies

        operator, writer = self._require()
        hours = self.settings.retention_hours
        now = self.retention_now()
        gone = writer.call(lambda c: c.expire(hours, now=now))
        kept_aside = writer.call(lambda c: quarantine.erase(c, hours, now=now))
        if kept_aside:
            self._audit("expire", "success", f"{kept_aside} quarantined events older than "
                        f"{hours:g} h erased")
        if gone:
            self._audit("expire", "success", f"{gone} returns older than {hours:g} h erased")
        # Damaged caches set aside are kept for inspection as long as their records would be.
        for copy, set_aside in damaged_copies(cache_path(operator.user_id)):
            if now is not None and set_aside < now - timedelta(hours=hours):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{copy}{suffix}").unlink(missing_ok=True)
                self._audit("expire", "success", f"damaged cache {copy.name} erased")
        return gone

    def _save_token(self, token: str) -> None:
        """The gateway session token lives in the encrypted cache, like everything else, with
        the origin of the gateway that issued it: it is never sent anywhere else."""
        from mdt.core.origin import origin

        _, writer = self._require()
        issued_by = origin(self.client.base_url) if token else ""

        def keep(cache: Any) -> None:
            cache.set_meta("session_token", token)
            cache.set_meta("session_origin", issued_by)

        writer.call(keep)

    def _load_token(self) -> str | None:
        """The kept token, if the gateway set now is the one that issued it; otherwise None
        (and :meth:`session_elsewhere` says where it belongs)."""
        from mdt.core.origin import origin

        _, writer = self._require()
        token, issued_by = writer.call(lambda c: (c.get_meta("session_token"),
                                                   c.get_meta("session_origin")))
        if not token or issued_by != origin(self.client.base_url):
            return None
        return str(token)

    def session_elsewhere(self) -> str | None:
        """The origin of the gateway that issued the kept session, when it is not the gateway
        this terminal points at now (the URL was changed): that session is not used here."""
        from mdt.core.origin import origin

        token, issued_by = self._read().call(lambda c: (c.get_meta("session_token"),
                                                         c.get_meta("session_origin")))
        here = origin(self.client.base_url)
        return str(issued_by) if token and issued_by and issued_by != here else None

    def _session_here(self) -> None:
        """Before any sync: a session issued by another gateway is never used with this one."""
        from mdt.net.gateway import AuthExpired

        elsewhere = self.session_elsewhere()
        if elsewhere is not None or not self.client.token:
            where = f" (the session belongs to {elsewhere})" if elsewhere else ""
            raise AuthExpired(f"Sign in to {self.client.base_url} first{where}: nothing is sent "
                              "to a gateway without a session it issued.", code="unauthorized")

    def _require(self) -> tuple[Operator, CacheWriter]:
        if self.operator is None or self.writer is None:
            raise NotSignedIn("Sign in or unlock first.")
        return self.operator, self.writer

    def _audit(self, action: str, outcome: str, detail: str = "") -> None:
        """One audit record. While the cache cannot be written (a full disk, a read-only drive)
        reading goes on: the records wait in memory, with their times, and are written with the
        first write that works; the person is told once why nothing new can be saved."""
        from mdt.store.cache import utc_now
        from mdt.store.errors import CacheIOError, DiskFullError, ReadOnlyCacheError

        operator, writer = self._require()
        device = self.settings.device_id
        self._unwritten_audit.append((action, outcome, detail, utc_now()))
        pending = list(self._unwritten_audit)
        try:
            writer.call(lambda c: c.audit_records(pending, who=operator.user_id, device=device))
        except (DiskFullError, ReadOnlyCacheError, CacheIOError) as exc:
            if exc.user_message not in self.notices:
                self.notices.append(exc.user_message)
            log.warning("audit records held in memory: the cache cannot be written (%s)",
                        type(exc).__name__)
            return
        self._unwritten_audit.clear()
        self.poke_sync()  # the record goes to the gateway with the next round

    def poke_sync(self) -> None:
        """Ask the sync engine for a round now (new outbox message or audit record)."""
        if self._engine is not None:
            self.loop.call_soon(self._engine.poke)

    # -- queries ---------------------------------------------------------------------------------
    def send(self, mke: str, values: dict[str, str], *, dest: list[str] | None = None,
             purpose: str | None = None) -> dict[str, Any]:
        """Validate, build and queue a message; the sync engine sends it when the link allows.

        Raises :class:`mdt.core.forms.FormInvalid` (with sentences naming each field) when the
        switch would reject it. The message is durably queued before this returns."""
        from mdt.core.message import build_message

        operator, writer = self._require()
        form = self.forms.get(mke)
        message = build_message(form, values, operator.profile(
            self.settings.operator_phone), dest=dest, purpose=purpose,
            tables=self.code_tables)
        writer.call(lambda c: c.add_outgoing(message))
        self._audit("query", "queued", f"{message['mke']} {message['id']}")
        if self._engine is not None:
            self.loop.call_soon(self._engine.poke)
        return message

    def cancel(self, message_id: str) -> bool:
        _, writer = self._require()
        return writer.call(lambda c: c.cancel_message(message_id))

    SYNC_DEADLINE = 120.0  # seconds for one whole ``sync_once``, however the gateway behaves

    def _new_engine(self, writer: CacheWriter) -> SyncEngine:
        from mdt.net.sync import SyncEngine

        operator, _ = self._require()
        self.alert_desk._load_clock()  # the engine measures it again every round
        return SyncEngine(self.client, writer, listener=self.listener,
                          clock=self.alert_desk.clock, who=operator.user_id,
                          device=self.settings.device_id, **self.sync_options)

    def sync_once(self, deadline: float | None = None) -> SyncReport:
        """Send what is queued and fetch what arrived, once (the CLI's ``mdt sync --once``),
        within ``deadline`` seconds in all (raises :class:`mdt.net.sync.SyncDeadline`)."""
        from mdt.net.sync import SyncDeadline

        _, writer = self._require()
        self._session_here()
        engine = self._new_engine(writer)
        limit = self.SYNC_DEADLINE if deadline is None else deadline

        async def bounded() -> SyncReport:
            try:
                async with asyncio.timeout(limit):
                    return await engine.sync_once()
            except TimeoutError:
                raise SyncDeadline(limit, engine.phase) from None
            except Exception as exc:
                exc.sync_phase = engine.phase  # type: ignore[attr-defined]  # for the sentence
                raise

        return self._run(bounded(), timeout=limit + 15)

    def start_sync(self) -> None:
        """Keep in sync in the background until :meth:`close` (the GUI's mode). An engine that
        ended (it should not: it is supervised) is replaced."""
        _, writer = self._require()
        if self._engine is not None and self._sync_future is not None \
                and not self._sync_future.done():
            return
        self._engine = self._new_engine(writer)
        self._sync_future = self.loop.submit(self._engine.run())

    @property
    def sync_state(self) -> tuple[str, str]:
        """The background sync's state and the sentence that says why (``("", "")`` when it
        is not running)."""
        engine = self._engine
        if engine is None or self._sync_future is None or self._sync_future.done():
            return "", ""
        return engine.state.value, engine.detail

    def resume_with_token(self, token: str) -> None:
        if self._engine is not None and self._sync_future is not None \
                and not self._sync_future.done():
            self.loop.call_soon(self._engine.set_token, token)
        elif self._engine is not None:
            self.start_sync()  # a dead engine does not come back by itself: a new one

    # -- quarantined events ----------------------------------------------------------------------
    def quarantined(self, open_only: bool = True, limit: int = 100) -> list[QuarantinedEvent]:
        """Events the switch sent that could not be applied ("unreadable messages from the
        switch") and protocol errors, newest first, without their raw bodies."""
        from mdt.store import quarantine

        return self._read().call(lambda c: quarantine.list_quarantined(
            c, open_only=open_only, limit=limit))

    def quarantined_raw(self, quarantine_id: str) -> QuarantinedEvent | None:
        """One quarantined event with its raw text (a read of what the switch sent: audited)."""
        from mdt.store import quarantine

        found = self._read().call(lambda c: quarantine.get(c, quarantine_id))
        if found is not None:
            self._audit("view", "success", f"quarantined event {found.id}")
        return found

    def acknowledge_quarantined(self, quarantine_id: str) -> bool:
        from mdt.store import quarantine

        operator, writer = self._require()
        device = self.settings.device_id
        done = writer.call(lambda c: quarantine.acknowledge(c, quarantine_id, operator.user_id,
                                                            device))
        self.poke_sync()
        return done

    def relogin(self, password: str, otp: str) -> Operator:
        """Log in again after the token expired, keeping the open cache and the queue."""
        operator, _ = self._require()
        session: GatewaySession = self._run(self.client.login(
            operator.user_id, password, otp, self.settings.device_id))
        check_training_allowed(self.agency, session.training)
        if self._key is not None and self.vault.open_verified(operator.user_id, password) is None:
            # Changed at the gateway while this session ran: the open cache's key, re-wrapped.
            self.vault.rewrap(operator.user_id, self._key, password)
            self._audit("password-change", "success", "cache key re-wrapped at re-login")
        self._save_token(session.token)
        self.online_session = True
        self.resume_with_token(session.token)
        self._audit("logon", "success", "re-login after the session expired")
        self._sync_clock()
        return operator

    # -- reading ---------------------------------------------------------------------------------
    def _read(self) -> CacheWriter:
        _, writer = self._require()
        return self.reader or writer

    def recent_returns(self, limit: int = 50) -> list[StoredReturn]:
        return self._read().call(lambda c: c.list_returns(limit))

    def search(self, text: str, limit: int = 50, after: Any = None) -> tuple[list[Any], Any]:
        self._audit("search", "success", f"offline search ({len(text)} characters)")
        return self._read().call(lambda c: c.search(text, limit, after))

    def viewed(self, return_id: str) -> None:
        """A return was shown to the operator: that is a read of CJI, audited."""
        self._audit("view", "success", f"return {return_id}")

    def verify_audit(self) -> Any:
        _, writer = self._require()
        report = writer.call(lambda c: c.verify_audit())
        self._audit("audit-read", "success" if report.ok else "tampering-found",
                    f"{report.checked} records verified")
        return report

    def check(self) -> Any:
        _, writer = self._require()
        report = writer.call(lambda c: c.check())
        self._audit("cache-check", "success" if report.ok else "problems-found")
        return report

    def messages(self, limit: int = 100) -> list[dict[str, Any]]:
        return self._read().call(lambda c: c.list_messages(limit))

    def wipe(self, user_id: str) -> list[Path]:
        """Destroy a profile: its key (so the cache can never be opened again), then its files
        (:func:`mdt.store.profile.wipe`, the one implementation, for the CLI and the GUI).
        Works without the password: this is what a lost or stolen terminal needs. When no
        keystore can be reached the files still go, and the keystore error is raised after."""
        from mdt.store.profile import wipe

        paths.check_user_id(user_id)
        if self.operator is not None and self.operator.user_id == user_id:
            self._audit("wipe", "success", "profile wiped")
            self._ship_audit_now()  # the local log goes with the cache: the gateway keeps it
            self._stop_sync()
            self._close_cache()
        return wipe(user_id, self.vault)

    # -- ending ----------------------------------------------------------------------------------
    def logout(self) -> None:
        """End the gateway session (when reachable) and forget the token."""
        self._require()
        if self._client is not None and self._client.token:
            try:
                self._run(self._client.logout(), timeout=10)
            except Exception as exc:  # offline logout still ends the local session
                log.info("gateway logout failed: %s", type(exc).__name__)
        self._save_token("")
        self._audit("logoff", "success")
        if self.settings.get("erase_on_logout"):
            from mdt.store import quarantine

            _, writer = self._require()
            gone = writer.call(lambda c: c.erase_cached())
            writer.call(lambda c: quarantine.erase(c))  # what the switch sent, unreadable or not
            self._audit("erase", "success", f"erase on logout: {gone} returns")

    def audit(self, action: str, outcome: str, detail: str = "") -> None:
        """Record something the operator did (a lock, an export) in the audit log."""
        self._audit(action, outcome, detail)

    def verify_password(self, password: str) -> None:
        """Unlock a locked screen: the password checked offline against the key vault (a KDF:
        run it on a worker). Wrong: raises like a sign-in, counts, and may wipe."""
        operator, _ = self._require()
        try:
            self.vault.unlock(operator.user_id, password)
        except ProfileWipedError:
            self._audit("unlock", "failure", "screen unlock: profile wiped")
            self.wipe(operator.user_id)
            raise
        except Exception:
            self._audit_unlock_failures(operator.user_id)
            raise
        self._audit("unlock", "success", "screen unlocked")

    def sign_out(self) -> None:
        """Log out (the agency's erase rule applies), stop syncing and close the cache: the
        terminal is back where it was before sign-in."""
        self.logout()
        self._stop_sync()
        self._close_cache()

    def _ship_audit_now(self) -> None:
        from mdt.net.sync import SyncEngine

        if self.writer is None or self._client is None or not self._client.token:
            return
        try:
            self._run(SyncEngine(self._client, self.writer).ship_audit(), timeout=15)
        except Exception as exc:  # offline: the records cannot outlive the wipe
            log.warning("audit records not shipped before the wipe: %s", type(exc).__name__)

    def _close_cache(self) -> None:
        for worker in (self.reader, self.writer):
            if worker is not None:
                worker.close()
        self.reader = self.writer = None
        self.operator = None
        self._key = None
        self._unwritten_audit = []  # this operator's: never into another's cache
        self._alert_desk = None  # its clock offset is the closed cache's

    def _stop_sync(self) -> None:
        if self._engine is not None and self._loop is not None:
            self._loop.call_soon(self._engine.stop)
            if self._sync_future is not None:
                try:
                    self._sync_future.result(10)
                except Exception as exc:
                    log.info("sync engine ended with %s", type(exc).__name__)
            self._engine = None
            self._sync_future = None

    def close(self) -> None:
        """Stop syncing, close the cache and the network thread. Safe to call twice."""
        self._stop_sync()
        if self._client is not None and self._loop is not None:
            self._run(self._client.aclose(), timeout=10)
            self._client = None
        self._close_cache()
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
