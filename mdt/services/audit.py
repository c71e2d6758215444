"""The audit log of the signed-in operator: every record goes into the encrypted cache and on to
the gateway with the next sync round. No Qt."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from mdt.services.session import Session
from mdt.settings import Settings

log = logging.getLogger(__name__)


class AuditLog:
    def __init__(self, session: Session, settings: Settings, poke: Callable[[], None]) -> None:
        self.session = session
        self.settings = settings
        self.poke = poke  # ask the sync engine for a round: the record goes to the gateway
        self._unwritten: list[tuple[str, str, str, str]] = []  # while writing cannot work

    def record(self, action: str, outcome: str, detail: str = "") -> None:
        """One audit record. While the cache cannot be written (a full disk, a read-only drive)
        reading goes on: the records wait in memory, with their times, and are written with the
        first write that works; the person is told once why nothing new can be saved."""
        from mdt.store.cache import utc_now
        from mdt.store.errors import CacheIOError, DiskFullError, ReadOnlyCacheError

        operator, writer = self.session.require()
        device = self.settings.device_id
        self._unwritten.append((action, outcome, detail, utc_now()))
        pending = list(self._unwritten)
        try:
            writer.cache.audit_records(pending, who=operator.user_id, device=device)
        except (DiskFullError, ReadOnlyCacheError, CacheIOError) as exc:
            if exc.user_message not in self.session.notices:
                self.session.notices.append(exc.user_message)
            log.warning("audit records held in memory: the cache cannot be written (%s)",
                        type(exc).__name__)
            return
        self._unwritten.clear()
        self.poke()

    def record_pending(self) -> None:
        """What the sign-in noted before the cache could take it (a recovery, a re-wrap)."""
        for notice in self.session.take_pending_audit():
            self.record(*notice)

    def forget_unwritten(self) -> None:
        """The cache closed: records held for it never go into another operator's cache."""
        self._unwritten = []

    def verify(self) -> Any:
        """Check the audit log's hash chain (itself a read that is audited)."""
        _, writer = self.session.require()
        report = writer.cache.verify_audit()
        self.record("audit-read", "success" if report.ok else "tampering-found",
                    f"{report.checked} records verified")
        return report

    def check_cache(self) -> Any:
        _, writer = self.session.require()
        report = writer.cache.check()
        self.record("cache-check", "success" if report.ok else "problems-found")
        return report
