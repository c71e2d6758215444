"""A time that a change of the PC clock cannot move: for retention. No Qt.

Retention erases by age, so a PC clock set hours ahead (by hand, a bad NTP answer, a dead CMOS
battery) would erase returns and alerts still in use. Each time the gateway's clock is measured,
an *anchor* is kept in the cache: the gateway time then, with the machine's boot id and its boot
clock (Linux ``CLOCK_BOOTTIME``: seconds since boot, counting suspend, never set by anyone).
Later, on the same boot, the gateway time now is the anchor plus the boot clock's advance, however
the PC clock was changed in between. After a cold boot (or on a system without a boot clock) the
estimate (PC clock + the last offset) is used, but never more than ``slack`` seconds past the
anchor: the link's first measurement sets it right.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from mdt.core.clock import format_time, parse_time

BOOT_ID = Path("/proc/sys/kernel/random/boot_id")


@dataclass(frozen=True)
class BootReading:
    boot_id: str
    seconds: float  # since boot, counting suspend


@dataclass(frozen=True)
class ClockAnchor:
    gateway_time: datetime
    boot: BootReading | None


def boot_reading() -> BootReading | None:
    """This boot's id and boot clock, or None where there is none (not Linux)."""
    clock = getattr(time, "CLOCK_BOOTTIME", None)
    if clock is None:
        return None
    try:
        boot_id = BOOT_ID.read_text(encoding="ascii").strip()
    except OSError:
        return None
    return BootReading(boot_id, time.clock_gettime(clock))


def anchor_text(gateway_now: datetime, boot: BootReading | None = None) -> str:
    """The anchor for ``gateway_now`` (just measured), as kept in the cache's meta table."""
    boot = boot if boot is not None else boot_reading()
    return json.dumps({"gateway_time": format_time(gateway_now),
                       "boot_id": boot.boot_id if boot else None,
                       "boot_seconds": boot.seconds if boot else None})


def anchor_from_text(text: str | None) -> ClockAnchor | None:
    """A kept anchor; None when there is none or it cannot be read (never trusted then)."""
    if not text:
        return None
    try:
        raw = json.loads(text)
        moment = parse_time(str(raw["gateway_time"]))
        boot = (BootReading(str(raw["boot_id"]), float(raw["boot_seconds"]))
                if raw.get("boot_id") and raw.get("boot_seconds") is not None else None)
    except (ValueError, TypeError, KeyError):
        return None
    return ClockAnchor(moment, boot) if moment is not None else None


def trusted_now(anchor: ClockAnchor | None, boot: BootReading | None, estimate: datetime,
                slack: float) -> datetime:
    """The gateway's time now, as well as it can be known (see the module doc)."""
    if anchor is None:
        return estimate
    if anchor.boot is not None and boot is not None and anchor.boot.boot_id == boot.boot_id \
            and boot.seconds >= anchor.boot.seconds:
        return anchor.gateway_time + timedelta(seconds=boot.seconds - anchor.boot.seconds)
    return min(estimate, anchor.gateway_time + timedelta(seconds=slack))
