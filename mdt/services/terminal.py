"""The terminal: one signed-in operator's client, without any GUI. No Qt.

:class:`Terminal` builds the services (:mod:`mdt.services`), giving each only the ports it needs
(the session's store, the network, the gateway's clock, the audit log), and is the one object
the CLI and the Qt application (from worker threads, :mod:`mdt.app`) call. Its methods are the
services' own; what starts or ends a session (sign-in, sign-out, a new gateway, closing) runs
under one lock, so two workers cannot open or close the cache at once.

Methods block: never call them on the GUI thread.
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mdt.agency_config import AgencyConfig
from mdt.services.alerts import AlertDesk
from mdt.services.audit import AuditLog
from mdt.services.gateway_time import GatewayTime
from mdt.services.network import Network
from mdt.services.queries import Queries
from mdt.services.reference import ReferenceData
from mdt.services.retention import Retention
from mdt.services.session import Operator, Session
from mdt.services.signin import SignIn
from mdt.services.syncing import Syncing
from mdt.services.tokens import SessionTokens
from mdt.services.training import TrainerDesk
from mdt.settings import Settings

if TYPE_CHECKING:
    from mdt.core.codes import CodeTables
    from mdt.core.forms import FormSet
    from mdt.net.gateway import GatewayClient
    from mdt.net.loop import EventLoopThread
    from mdt.net.sync import SyncListener, SyncReport
    from mdt.store.cache import StoredReturn
    from mdt.store.keys import KeyVault
    from mdt.store.quarantine import QuarantinedEvent
    from mdt.store.writer_thread import CacheWriter


class Terminal:
    def __init__(self, settings: Settings | None = None, *, vault: KeyVault | None = None,
                 listener: SyncListener | None = None,
                 agency: AgencyConfig | None = None) -> None:
        self.settings = settings or Settings()
        self.agency = agency or AgencyConfig()
        self.session = Session()
        self.network = Network(self.settings)
        self.audit_log = AuditLog(self.session, self.settings, poke=self.poke_sync)
        self.time = GatewayTime(self.session, self.network)
        self.tokens = SessionTokens(self.session, self.network)
        self.reference = ReferenceData(self.session, self.network)
        self.syncing = Syncing(self.session, self.network, self.time, self.tokens, self.settings)
        self.syncing.listener = listener
        self.queries = Queries(self.session, self.reference, self.audit_log, self.settings)
        self.retention = Retention(self.session, self.time, self.audit_log, self.settings)
        self.signin = SignIn(self.session, self.network, self.settings, self.agency,
                             self.audit_log, self.tokens, self.reference, self.time,
                             self.retention, self.syncing, vault=vault)
        self.alert_desk = AlertDesk(self.session, self.time, self.settings,
                                    send=self.queries.send, poke=self.poke_sync)
        self.trainer_desk = TrainerDesk(self.session, self.network)
        self._lock = threading.RLock()

    # -- what the faces read ---------------------------------------------------------------------
    @property
    def operator(self) -> Operator | None:
        return self.session.operator

    @property
    def writer(self) -> CacheWriter | None:
        return self.session.writer

    @property
    def reader(self) -> CacheWriter | None:
        return self.session.reader

    @property
    def notices(self) -> list[str]:
        """What the last sign-in must tell the person (a recovery, a password change)."""
        return self.session.notices

    @property
    def listener(self) -> SyncListener | None:
        return self.syncing.listener

    @listener.setter
    def listener(self, listener: SyncListener | None) -> None:
        self.syncing.listener = listener

    @property
    def sync_options(self) -> dict[str, Any]:
        """SyncEngine keywords (backoff, idle timeout)."""
        return self.syncing.options

    @sync_options.setter
    def sync_options(self, options: dict[str, Any]) -> None:
        self.syncing.options = options

    @property
    def vault(self) -> KeyVault:
        return self.signin.vault

    @property
    def loop(self) -> EventLoopThread:
        return self.network.loop

    @property
    def client(self) -> GatewayClient:
        return self.network.client

    @property
    def forms(self) -> FormSet:
        return self.reference.forms

    @property
    def code_tables(self) -> CodeTables:
        return self.reference.code_tables

    def refresh_forms(self) -> str:
        return self.reference.refresh_forms()

    def refresh_codes(self) -> list[str]:
        return self.reference.refresh_codes()

    # -- the gateway -----------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return self.network.health()

    def units(self) -> list[dict[str, Any]]:
        """The agency's units (a dispatcher's unit list); needs the gateway."""
        self.session.require()
        return self.network.units()

    def demo_accounts(self) -> list[dict[str, Any]]:
        return self.network.demo_accounts()

    def set_gateway(self, url: str, ca_bundle: str = "", *, save: bool = True) -> None:
        """Point the terminal at another gateway (takes effect for the next call). A session
        issued by the old gateway ends here: its token is never sent to the new one, and a
        sign-in to the new one is needed. ``save=False``: for this run only (``mdt login
        --gateway`` saves it once the sign-in worked)."""
        from mdt.core.origin import origin

        with self._lock:
            before = origin(self.settings.gateway_url)
            self.settings.set("gateway_url", url)
            self.settings.set("ca_bundle", ca_bundle)
            if save:
                self.settings.save()
            if self.session.operator is not None:
                self.audit_log.record("settings-change", "success", f"gateway_url = {url}")
                if origin(url) != before:
                    self.tokens.save("")  # this session was the old gateway's
                    self.audit_log.record("logoff", "success",
                                          "session ended: the gateway URL changed")
            syncing = self.syncing.engine is not None
            if syncing:
                self.syncing.stop()
            self.network.drop_client()
            if syncing:  # the engine goes on with the new gateway (a new login may be asked for)
                self.syncing.start()

    # -- signing in and out ----------------------------------------------------------------------
    def login(self, user_id: str, password: str, otp: str, *,
              previous_password: str | None = None, start_fresh: bool = False) -> Operator:
        with self._lock:
            return self.signin.login(user_id, password, otp, previous_password=previous_password,
                                     start_fresh=start_fresh)

    def unlock(self, user_id: str, password: str) -> Operator:
        with self._lock:
            return self.signin.unlock(user_id, password)

    def relogin(self, password: str, otp: str) -> Operator:
        with self._lock:
            return self.signin.relogin(password, otp)

    def verify_password(self, password: str) -> None:
        self.signin.verify_password(password)

    def logout(self) -> None:
        with self._lock:
            self.signin.logout()

    def sign_out(self) -> None:
        with self._lock:
            self.signin.sign_out()

    def wipe(self, user_id: str) -> list[Path]:
        with self._lock:
            return self.signin.wipe(user_id)

    def session_elsewhere(self) -> str | None:
        return self.tokens.elsewhere()

    # -- queries and reading ---------------------------------------------------------------------
    def send(self, mke: str, values: dict[str, str], *, dest: list[str] | None = None,
             purpose: str | None = None) -> dict[str, Any]:
        return self.queries.send(mke, values, dest=dest, purpose=purpose)

    def cancel(self, message_id: str) -> bool:
        return self.queries.cancel(message_id)

    def recent_returns(self, limit: int = 50, before: Any = None) -> list[StoredReturn]:
        return self.queries.recent_returns(limit, before)

    def search(self, text: str, limit: int = 50, after: Any = None) -> tuple[list[Any], Any]:
        return self.queries.search(text, limit, after)

    def viewed(self, return_id: str) -> None:
        self.queries.viewed(return_id)

    def messages(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.queries.messages(limit)

    def quarantined(self, open_only: bool = True, limit: int = 100) -> list[QuarantinedEvent]:
        return self.queries.quarantined(open_only, limit)

    def quarantined_raw(self, quarantine_id: str) -> QuarantinedEvent | None:
        return self.queries.quarantined_raw(quarantine_id)

    def acknowledge_quarantined(self, quarantine_id: str) -> bool:
        return self.queries.acknowledge_quarantined(quarantine_id)

    # -- audit and retention ---------------------------------------------------------------------
    def audit(self, action: str, outcome: str, detail: str = "") -> None:
        """Record something the operator did (a lock, an export) in the audit log."""
        self.audit_log.record(action, outcome, detail)

    def verify_audit(self) -> Any:
        return self.audit_log.verify()

    def check(self) -> Any:
        return self.audit_log.check_cache()

    def retention_now(self) -> datetime | None:
        return self.retention.now()

    def expire(self) -> int:
        return self.retention.expire()

    # -- sync ------------------------------------------------------------------------------------
    def poke_sync(self) -> None:
        self.syncing.poke()

    def sync_once(self, deadline: float | None = None) -> SyncReport:
        return self.syncing.once(deadline)

    def start_sync(self) -> None:
        with self._lock:
            self.syncing.start()

    @property
    def sync_state(self) -> tuple[str, str]:
        return self.syncing.state

    def resume_with_token(self, token: str) -> None:
        self.syncing.resume_with_token(token)

    def close(self) -> None:
        """Stop syncing, close the cache and the network thread. Safe to call twice."""
        with self._lock:
            self.syncing.stop()
            self.network.close()
            self.signin.close_cache()
