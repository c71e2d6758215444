"""The gateway's clock, as this terminal knows it. No Qt.

Deadlines (a YQ's 10 minutes, a detainer's hold window) are the switch's, and a patrol laptop's
clock is often minutes wrong. So every deadline is kept as a gateway time, and "now" is this
machine's UTC clock plus the offset measured against the gateway the last time it answered
(:meth:`GatewayClock.observe`). The offset is kept in the encrypted cache, so after a restart
offline the countdowns still follow the gateway and a deadline that passed while the terminal was
closed shows as overdue.

Between two measurements the gateway's time runs on this machine's *monotonic* clock from the
last answer (:meth:`GatewayClock.now`): a wall clock that jumps (NTP correcting a PC that was 3 h
slow, a user changing it) neither raises nor hides a deadline. The anchor is kept with the offset
(:meth:`GatewayClock.to_meta`): on the same boot, another process (the CLI) follows the same
monotonic clock; after a reboot only the offset is left, until the next measurement. The sync
engine measures again on every round (from the health answer, corrected by half the round trip).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

__all__ = ["GatewayClock", "format_time", "from_iso", "parse_time"]


# -- times as the gateway and the cache write them: ISO 8601, UTC, "Z" ---------------------------

def from_iso(value: str) -> datetime:
    """An ISO 8601 time (``2026-11-24T20:01:02.123Z`` or with an offset); ValueError if it is
    not one. Naive when the text has no offset."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as the gateway writes it (``...Z``), or None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = from_iso(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def format_time(moment: datetime, timespec: str = "seconds") -> str:
    """``moment`` as ISO 8601 with ``Z`` for UTC (``timespec``: seconds, milliseconds,
    microseconds)."""
    return moment.isoformat(timespec=timespec).replace("+00:00", "Z")


def _system_now() -> datetime:
    return datetime.now(UTC)


def elapsed_clock() -> Callable[[], float]:
    """A clock of seconds elapsed that no one sets and that counts a suspended laptop's sleep
    (Linux CLOCK_BOOTTIME, macOS CLOCK_MONOTONIC; Windows' monotonic clock counts sleep)."""
    boottime = getattr(time, "CLOCK_BOOTTIME", None)
    if boottime is not None:
        return lambda: time.clock_gettime(boottime)
    if sys.platform == "darwin":
        return lambda: time.clock_gettime(time.CLOCK_MONOTONIC)
    return time.monotonic


def boot_id() -> str:
    """This boot of the machine, where the OS tells (a monotonic reading is only comparable on
    the same boot); "" where it does not."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()[:64]
    except OSError:
        return ""


class GatewayClock:
    def __init__(self, offset_seconds: float = 0.0,
                 system: Callable[[], datetime] = _system_now,
                 monotonic: Callable[[], float] | None = None, boot: str | None = None) -> None:
        self.offset_seconds = float(offset_seconds)
        self._system = system
        self._monotonic = monotonic or elapsed_clock()
        self._boot = boot_id() if boot is None else boot
        # (gateway time, monotonic reading) of the last measurement, when it is usable here
        self._anchor: tuple[datetime, float] | None = None

    def now(self) -> datetime:
        """The gateway's time now (UTC): the last measurement plus the monotonic time since, or
        (with no usable measurement) this machine's clock plus the last offset."""
        if self._anchor is not None:
            moment, reading = self._anchor
            elapsed = self._monotonic() - reading
            if elapsed >= 0:
                return moment + timedelta(seconds=elapsed)
        return self._system() + timedelta(seconds=self.offset_seconds)

    def elapsed(self) -> float:
        """The clock :meth:`observe_monotonic` wants its two moments read from."""
        return self._monotonic()

    def observe_monotonic(self, gateway_time: str, sent: float, received: float) -> float:
        """Like :meth:`observe`, with the two moments read from :meth:`elapsed`."""
        moment = parse_time(gateway_time)
        if moment is None:
            return self.offset_seconds
        midpoint = sent + (received - sent) / 2
        self._anchor = (moment, midpoint)
        wall = self._system() - timedelta(seconds=self._monotonic() - midpoint)
        self.offset_seconds = (moment - wall).total_seconds()
        return self.offset_seconds

    def to_meta(self) -> str:
        """The offset and the monotonic anchor, as kept in the cache."""
        anchor = None
        if self._anchor is not None and self._boot:
            anchor = [self._anchor[0].isoformat(), self._anchor[1], self._boot]
        return json.dumps({"offset": self.offset_seconds, "anchor": anchor})

    def load_meta(self, raw: str | None) -> None:
        """Take a kept offset (a bare number, as older versions kept it, or :meth:`to_meta`);
        the anchor only on the same boot. Anything unreadable means offset 0."""
        self._anchor = None
        if not raw:
            self.offset_seconds = 0.0
            return
        try:
            value = json.loads(raw)
            if isinstance(value, int | float):
                self.offset_seconds = float(value)
                return
            self.offset_seconds = float(value.get("offset") or 0.0)
            anchor = value.get("anchor")
            if anchor and self._boot and anchor[2] == self._boot:
                moment = datetime.fromisoformat(str(anchor[0]))
                reading = float(anchor[1])
                if moment.tzinfo is not None and reading <= self._monotonic():
                    self._anchor = (moment, reading)
        except (ValueError, TypeError, AttributeError, IndexError, KeyError):
            self.offset_seconds = 0.0

    def observe(self, gateway_time: str, sent: datetime, received: datetime) -> float:
        """Set the offset from a gateway answer: ``gateway_time`` was read between ``sent`` and
        ``received`` (this machine's clock); the midpoint is the best guess. Returns the offset;
        an unreadable time leaves it as it was."""
        moment = parse_time(gateway_time)
        if moment is None:
            return self.offset_seconds
        midpoint = sent + (received - sent) / 2
        self.offset_seconds = (moment - midpoint).total_seconds()
        self._anchor = None  # measured on the wall clock: no monotonic anchor
        return self.offset_seconds
