"""How the cache writes times: ISO 8601, UTC, with a ``Z``. No Qt."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["iso_us", "utc_now"]


def utc_now() -> str:
    """Now, to the millisecond."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def iso_us(moment: datetime) -> str:
    """``moment`` (aware, UTC) to the microsecond."""
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")
