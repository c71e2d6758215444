"""Queries and what came back: queue a message, read returns, messages and search offline, and
the events the switch sent that could not be applied (quarantined). No Qt."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mdt.services.audit import AuditLog
from mdt.services.reference import ReferenceData
from mdt.services.session import Session
from mdt.settings import Settings

if TYPE_CHECKING:
    from mdt.store.cache import StoredReturn
    from mdt.store.quarantine import QuarantinedEvent


class Queries:
    def __init__(self, session: Session, reference: ReferenceData, audit: AuditLog,
                 settings: Settings) -> None:
        self.session = session
        self.reference = reference
        self.audit = audit
        self.settings = settings

    def send(self, mke: str, values: dict[str, str], *, dest: list[str] | None = None,
             purpose: str | None = None) -> dict[str, Any]:
        """Validate, build and queue a message; the sync engine sends it when the link allows.

        Raises :class:`mdt.core.forms.FormInvalid` (with sentences naming each field) when the
        switch would reject it. The message is durably queued before this returns (the audit
        record's ``poke`` asks the sync engine for a round)."""
        from mdt.core.message import build_message

        operator, writer = self.session.require()
        form = self.reference.forms.get(mke)
        message = build_message(form, values, operator.profile(
            self.settings.operator_phone), dest=dest, purpose=purpose,
            tables=self.reference.code_tables)
        writer.cache.add_outgoing(message)
        self.audit.record("query", "queued", f"{message['mke']} {message['id']}")
        self.audit.poke()
        return message

    def cancel(self, message_id: str) -> bool:
        _, writer = self.session.require()
        return writer.cache.cancel_message(message_id)

    def recent_returns(self, limit: int = 50, before: Any = None) -> list[StoredReturn]:
        """The newest returns; ``before`` (a page's last key) for the page after it."""
        return self.session.read().cache.list_returns(limit, before)

    def search(self, text: str, limit: int = 50, after: Any = None) -> tuple[list[Any], Any]:
        self.audit.record("search", "success", f"offline search ({len(text)} characters)")
        return self.session.read().cache.search(text, limit, after)

    def viewed(self, return_id: str) -> None:
        """A return was shown to the operator: that is a read of CJI, audited."""
        self.audit.record("view", "success", f"return {return_id}")

    def messages(self, limit: int = 100) -> list[dict[str, Any]]:
        return self.session.read().cache.list_messages(limit)

    # -- quarantined events ----------------------------------------------------------------------
    def quarantined(self, open_only: bool = True, limit: int = 100) -> list[QuarantinedEvent]:
        """Events the switch sent that could not be applied ("unreadable messages from the
        switch") and protocol errors, newest first, without their raw bodies."""
        return self.session.read().cache.list_quarantined(open_only=open_only, limit=limit)

    def quarantined_raw(self, quarantine_id: str) -> QuarantinedEvent | None:
        """One quarantined event with its raw text (a read of what the switch sent: audited)."""
        found = self.session.read().cache.get_quarantined(quarantine_id)
        if found is not None:
            self.audit.record("view", "success", f"quarantined event {found.id}")
        return found

    def acknowledge_quarantined(self, quarantine_id: str) -> bool:
        operator, writer = self.session.require()
        done = writer.cache.acknowledge_quarantined(quarantine_id, operator.user_id,
                                                    self.settings.device_id)
        self.audit.poke()
        return done
