"""The application controller: the one object the widgets talk to.

It owns the :class:`~mdt.services.terminal.Terminal` and turns its blocking calls into background tasks
(:class:`~mdt.app.tasks.TaskRunner`) and its sync callbacks, which arrive on the network thread,
into Qt signals (Electrum's ``gui/common_qt/util.py`` idea). Widgets connect to the signals and call
the methods here; they never see SQL, httpx or the keystore.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from mdt.app.alerts import AlertCenter
from mdt.app.errors import Callback
from mdt.app.signals import SyncSignals
from mdt.app.tasks import TaskRunner
from mdt.core.codes import CodeTables
from mdt.services.session import Operator
from mdt.services.terminal import Terminal

if TYPE_CHECKING:
    from mdt.agency_config import AgencyConfig
    from mdt.net.sync import Connectivity
    from mdt.services.training import TrainerDesk
    from mdt.settings import Settings


class _Listener:
    """Adapts the engine's listener protocol to :class:`SyncSignals`."""

    def __init__(self, signals: SyncSignals) -> None:
        self.signals = signals

    def connectivity_changed(self, state: Connectivity, detail: str) -> None:
        self.signals.connectivity_changed.emit(state.value, detail)

    def events_applied(self, events: list[dict[str, Any]]) -> None:
        self.signals.events_applied.emit(events)

    def outbox_changed(self, message_id: str, state: str, detail: str) -> None:
        self.signals.outbox_changed.emit(message_id, state, detail)

    def events_quarantined(self, items: list[dict[str, Any]]) -> None:
        self.signals.events_quarantined.emit(items)


class AppController(QObject):
    signed_in = Signal(object)  # Operator

    def __init__(self, terminal: Terminal | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sync = SyncSignals(self)
        self.tasks = TaskRunner(self)
        self.terminal = terminal or Terminal()
        self.terminal.listener = _Listener(self.sync)
        self.operator: Operator | None = None
        self.offline_unlock = False
        self.notices: list[str] = []  # what the last sign-in must tell the person
        self.alerts = AlertCenter(self, tasks=self.tasks, desk=self.terminal.alert_desk,
                                  sync=self.sync, signed_in=self.signed_in,
                                  is_signed_in=lambda: self.operator is not None)

    # -- settings --------------------------------------------------------------------------------
    @property
    def gateway_url(self) -> str:
        return self.terminal.settings.gateway_url

    @property
    def last_gateway_training(self) -> bool:
        return self.terminal.settings.gateway_training

    def remember_gateway_kind(self, training: bool) -> None:
        """Keep whether the gateway is a training one, to say so even when it is unreachable."""
        if training != self.last_gateway_training:
            settings = self.terminal.settings
            settings.set("gateway_training", training)
            self.tasks.run(settings.save)

    # -- signing in ------------------------------------------------------------------------------
    def check_gateway(self, callback: Callback) -> None:
        """Health and demo accounts (training gateways only), in one round trip's time."""

        def work() -> tuple[dict[str, Any], list[dict[str, Any]]]:
            health = self.terminal.health()
            accounts = self.terminal.demo_accounts() if health.get("training") else []
            return health, accounts

        self.tasks.run(work, callback)

    def login(self, user_id: str, password: str, otp: str, callback: Callback, *,
              previous_password: str | None = None, start_fresh: bool = False) -> None:
        """Sign in online. After a password change at the gateway the callback gets a
        PasswordChangedError: ask once for ``previous_password`` or ``start_fresh``."""
        def done(operator: Any, error: BaseException | None) -> None:
            if error is None:
                self._signed_in(operator, offline=False)
            callback(operator, error)

        self.tasks.run(lambda: self.terminal.login(
            user_id, password, otp, previous_password=previous_password,
            start_fresh=start_fresh), done)

    def unlock(self, user_id: str, password: str, callback: Callback) -> None:
        def done(operator: Any, error: BaseException | None) -> None:
            if error is None:
                self._signed_in(operator, offline=True)
            callback(operator, error)

        self.tasks.run(lambda: self.terminal.unlock(user_id, password), done)

    def relogin(self, password: str, otp: str, callback: Callback) -> None:
        """A new gateway session for the signed-in operator; the sync engine resumes."""
        self.tasks.run(lambda: self.terminal.relogin(password, otp), callback)

    def _signed_in(self, operator: Operator, *, offline: bool) -> None:
        self.operator = operator
        self.offline_unlock = offline
        self.notices = list(self.terminal.notices)  # read by the main window once signed in
        self.tasks.run(self.terminal.start_sync)
        self.signed_in.emit(operator)

    # -- work ------------------------------------------------------------------------------------
    def send(self, mke: str, values: dict[str, str], callback: Callback, *,
             dest: list[str] | None = None, purpose: str | None = None) -> None:
        self.tasks.run(lambda: self.terminal.send(mke, values, dest=dest, purpose=purpose),
                       callback)

    def load_recent(self, callback: Callback, limit: int = 200, *,
                    prepare: Callable[[Any], Any] | None = None) -> None:
        """The newest messages and returns, read together: ``(messages, returns)``, or what
        ``prepare`` makes of them on the worker (work the GUI thread then does not do)."""
        terminal = self.terminal

        def load() -> Any:
            result = (terminal.messages(limit), terminal.recent_returns(limit))
            return prepare(result) if prepare is not None else result

        self.tasks.run(load, callback)

    def load_older_returns(self, before: Any, callback: Callback, limit: int = 100) -> None:
        """Returns older than ``before`` (keyset paging for the returns list), newest first."""
        self.tasks.run(lambda: self.terminal.recent_returns(limit, before), callback)

    def load_quarantined(self, callback: Callback) -> None:
        """Unreadable messages from the switch, newest first (without raw text)."""
        self.tasks.run(lambda: self.terminal.quarantined(), callback)

    def load_quarantined_raw(self, quarantine_id: str, callback: Callback) -> None:
        """One of them with its raw text (audited as a view)."""
        self.tasks.run(lambda: self.terminal.quarantined_raw(quarantine_id), callback)

    def acknowledge_quarantined(self, quarantine_id: str, callback: Callback) -> None:
        """The operator has seen it (audited); it stays kept, out of the open count."""
        self.tasks.run(lambda: self.terminal.acknowledge_quarantined(quarantine_id), callback)

    def search(self, text: str, cursor: Any, callback: Callback, limit: int = 50) -> None:
        """Offline search of the cached records (audited); ``cursor`` for the next page."""
        terminal = self.terminal
        self.tasks.run(lambda: terminal.search(text, limit, cursor), callback)

    def load_forms(self, callback: Callback) -> None:
        """The forms in use and their code tables, read on a worker (not on the GUI thread):
        the callback gets ``(code tables, forms)``."""
        terminal = self.terminal

        def load() -> tuple[Any, list[Any]]:
            tables, forms = terminal.code_tables, terminal.forms.all()
            for form in forms:
                for field in form.fields:
                    if field.code_table:
                        _ = tables[field.code_table].entries
            # the caution codes' words, which every hit's headline reads (not on the GUI thread)
            _ = CodeTables.default()["CMC"].entries
            return tables, forms

        self.tasks.run(load, callback)

    def sign_out(self, callback: Callback) -> None:
        """Log out (the agency's erase rule applies), stop syncing, close the cache."""
        self.tasks.run(self.terminal.sign_out, callback)

    def load_units(self, callback: Callback) -> None:
        """The agency's units (a dispatcher's unit list); needs the gateway."""
        self.tasks.run(self.terminal.units, callback)

    def expire(self, callback: Callback) -> None:
        """Apply the retention rule now (the shift's 10-minute clock); the result is how many
        returns were erased."""
        self.tasks.run(self.terminal.expire, callback)

    def audit(self, action: str, outcome: str, detail: str = "") -> None:
        """Record what the operator did (a print, a lock, an export) in the audit log."""
        terminal = self.terminal
        self.tasks.run(lambda: terminal.audit(action, outcome, detail))

    def viewed(self, return_id: str) -> None:
        """A return was shown: an audited read of CJI."""
        terminal = self.terminal
        self.tasks.run(lambda: terminal.viewed(return_id))

    def verify_password(self, password: str, callback: Callback) -> None:
        """The lock screen's password, checked offline (a KDF: on a worker)."""
        terminal = self.terminal
        self.tasks.run(lambda: terminal.verify_password(password), callback)

    def save_settings(self, gateway: tuple[str, str] | None = None) -> None:
        """Save the settings (a file write: on a worker); ``gateway`` (URL, CA bundle) when it
        changed: the terminal points at it (a session of the old one ends there)."""
        terminal = self.terminal

        def work() -> None:
            terminal.settings.save()
            if gateway is not None:
                terminal.set_gateway(*gateway)

        self.tasks.run(work)

    # -- what the widgets read -------------------------------------------------------------------
    @property
    def settings(self) -> Settings:
        return self.terminal.settings

    @property
    def agency(self) -> AgencyConfig:
        return self.terminal.agency

    @property
    def trainer_desk(self) -> TrainerDesk:
        return self.terminal.trainer_desk

    def shutdown(self) -> None:
        """Stop background work and close the cache; called once when the GUI quits."""
        self.alerts.stop()
        self.tasks.shutdown()
        self.terminal.close()
