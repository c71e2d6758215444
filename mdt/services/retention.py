"""Retention: what the agency allows to be kept, erased on the gateway's clock. Open alerts,
alerts whose deadline has not passed and what they belong to are always kept. No Qt."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from pathlib import Path

from mdt.services.audit import AuditLog
from mdt.services.gateway_time import GatewayTime
from mdt.services.session import Session, cache_path
from mdt.settings import Settings

log = logging.getLogger(__name__)


class Retention:
    def __init__(self, session: Session, time: GatewayTime, audit: AuditLog,
                 settings: Settings) -> None:
        self.session = session
        self.time = time
        self.audit = audit
        self.settings = settings

    def now(self) -> datetime | None:
        return self.time.trusted_now()

    def expire(self) -> int:
        """Apply the retention setting now; returns how many returns were erased."""
        from mdt.store.cache import damaged_copies

        operator, writer = self.session.require()
        hours = self.settings.retention_hours
        now = self.now()
        gone = writer.cache.expire(hours, now=now)
        kept_aside = writer.cache.erase_quarantined(hours, now)
        if kept_aside:
            self.audit.record("expire", "success", f"{kept_aside} quarantined events older "
                              f"than {hours:g} h erased")
        if gone:
            self.audit.record("expire", "success", f"{gone} returns older than {hours:g} h erased")
        # Damaged caches set aside are kept for inspection as long as their records would be.
        for copy, set_aside in damaged_copies(cache_path(operator.user_id)):
            if now is not None and set_aside < now - timedelta(hours=hours):
                for suffix in ("", "-wal", "-shm"):
                    Path(f"{copy}{suffix}").unlink(missing_ok=True)
                self.audit.record("expire", "success", f"damaged cache {copy.name} erased")
        return gone

    def erase_on_logout(self) -> None:
        """The agency's erase-on-logout rule: returns and what the switch sent go now."""

        _, writer = self.session.require()
        gone = writer.cache.erase_cached()
        writer.cache.erase_quarantined()  # what the switch sent, unreadable or not
        self.audit.record("erase", "success", f"erase on logout: {gone} returns")
