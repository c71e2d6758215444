"""How the cache writes times: ISO 8601, UTC, with a ``Z``. No Qt."""

from __future__ import annotations

from datetime import UTC, datetime

from mdt.core.clock import format_time

__all__ = ["iso_us", "utc_now"]


def utc_now() -> str:
    """Now, to the millisecond."""
    return format_time(datetime.now(UTC), "milliseconds")


def iso_us(moment: datetime) -> str:
    """``moment`` (aware, UTC) to the microsecond."""
    return format_time(moment, "microseconds")
