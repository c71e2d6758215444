"""The gateway's clock, as this terminal knows it. No Qt.

Deadlines (a YQ's 10 minutes, a detainer's hold window) are the switch's, and a patrol laptop's
clock is often minutes wrong. So every deadline is kept as a gateway time, and "now" is this
machine's UTC clock plus the offset measured against the gateway the last time it answered
(:meth:`GatewayClock.observe`). The offset is kept in the encrypted cache, so after a restart
offline the countdowns still follow the gateway and a deadline that passed while the terminal was
closed shows as overdue.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from mdt.core.alerts import parse_time

__all__ = ["GatewayClock"]


def _system_now() -> datetime:
    return datetime.now(UTC)


class GatewayClock:
    def __init__(self, offset_seconds: float = 0.0,
                 system: Callable[[], datetime] = _system_now) -> None:
        self.offset_seconds = float(offset_seconds)
        self._system = system

    def now(self) -> datetime:
        """The gateway's time now (UTC)."""
        return self._system() + timedelta(seconds=self.offset_seconds)

    def observe(self, gateway_time: str, sent: datetime, received: datetime) -> float:
        """Set the offset from a gateway answer: ``gateway_time`` was read between ``sent`` and
        ``received`` (this machine's clock); the midpoint is the best guess. Returns the offset;
        an unreadable time leaves it as it was."""
        moment = parse_time(gateway_time)
        if moment is None:
            return self.offset_seconds
        midpoint = sent + (received - sent) / 2
        self.offset_seconds = (moment - midpoint).total_seconds()
        return self.offset_seconds
