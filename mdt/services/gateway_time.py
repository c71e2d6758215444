"""The clock every deadline runs on: the gateway's, measured from its answers and kept in the
encrypted cache (:class:`mdt.core.clock.GatewayClock`), and the anchor retention trusts
(:mod:`mdt.core.trusted_time`). No Qt."""

from __future__ import annotations

import logging
from datetime import datetime

from mdt.core.clock import GatewayClock
from mdt.services.network import Network
from mdt.services.session import Session

log = logging.getLogger(__name__)
CLOCK_META = "gateway_clock_offset"
CLOCK_ANCHOR_META = "gateway_clock_anchor"
# Retention on a clock nobody has checked since the machine started (a cold boot, offline) may
# run at most this far past the last time the gateway's clock was known: a PC clock set hours
# ahead cannot erase what is still in use (mdt.core.trusted_time).
UNVERIFIED_CLOCK_SLACK_S = 3600.0


class GatewayTime:
    def __init__(self, session: Session, network: Network) -> None:
        self.session = session
        self.network = network
        self.clock = GatewayClock()
        self._loaded = False

    def load(self) -> None:
        """The offset kept in the open cache (once per cache)."""
        if self._loaded:
            return
        raw = self.session.read().cache.get_meta(CLOCK_META)
        self.clock.load_meta(raw)
        self._loaded = True

    def forget(self) -> None:
        """The cache closed: its offset is not the next one's."""
        self.clock = GatewayClock()
        self._loaded = False

    def measure(self) -> float:
        """Measure the offset to the gateway's clock (one health call) and keep it."""
        _, writer = self.session.require()
        sent = self.clock.elapsed()
        health = self.network.health()
        offset = self.clock.observe_monotonic(str(health.get("time") or ""), sent,
                                              self.clock.elapsed())
        self._loaded = True
        kept = self.clock.to_meta()
        writer.cache.set_meta(CLOCK_META, kept)
        return offset

    def now(self) -> datetime:
        self.load()
        return self.clock.now()

    def measure_and_anchor(self) -> None:
        """At sign-in: measure, and anchor the time retention trusts to the boot clock. Offline
        the last offset measured stays in use."""
        from mdt.core.trusted_time import anchor_text

        try:
            self.measure()
        except Exception as exc:
            log.info("gateway clock not measured: %s", type(exc).__name__)
            return
        _, writer = self.session.require()
        text = anchor_text(self.now())
        writer.cache.set_meta(CLOCK_ANCHOR_META, text)

    def trusted_now(self) -> datetime | None:
        """The time retention runs on: the gateway's clock, carried forward from its last
        measurement by the machine's boot clock (which a change of the PC clock does not move);
        after a cold boot with no measurement yet, the PC clock plus the last offset, but never
        more than an hour past the last time the gateway's clock was known."""
        from mdt.core.trusted_time import anchor_from_text, boot_reading, trusted_now

        _, writer = self.session.require()
        anchor = anchor_from_text(writer.cache.get_meta(CLOCK_ANCHOR_META))
        return trusted_now(anchor, boot_reading(), self.now(), UNVERIFIED_CLOCK_SLACK_S)
