"""What the sync engine tells the rest of MDT: its visible state, the listener it tells, a
round's report and the sentences for what stopped it (the same words in the status bar,
``mdt sync`` and the log; no record data). No Qt."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from mdt.net.gateway import AuthExpired, GatewayRefused, GatewayUnreachable
from mdt.store.errors import CacheError


class Connectivity(StrEnum):
    ONLINE = "online"
    DEGRADED = "degraded"  # some calls get through, others fail: a poor link, not a dead one
    OFFLINE = "offline"
    REAUTH = "reauth"
    STOPPED = "stopped"


class SyncListener(Protocol):
    """What the engine tells the app layer. Called on the network thread."""

    def connectivity_changed(self, state: Connectivity, detail: str) -> None: ...

    def events_applied(self, events: list[dict[str, Any]]) -> None: ...

    def outbox_changed(self, message_id: str, state: str, detail: str) -> None: ...


@dataclass
class SyncReport:
    sent: int = 0
    failed: int = 0
    applied: int = 0
    cursor: int = 0
    quarantined: int = 0  # unreadable events kept aside this round
    protocol_errors: list[str] = field(default_factory=list)  # sentences, no record data


PHASES = {
    "health": "the health check", "outbox": "a sent message", "inbox": "the inbox",
    "ack": "the delivery receipt (ack)", "audit": "the audit records",
    "stream": "the live inbox stream", "cache": "the cache",
}


def describe_failure(exc: BaseException, phase: str = "") -> tuple[Connectivity, str]:
    """The visible state an exception leaves the sync in, and a sentence that says why (the
    same words in the status bar, ``mdt sync`` and the log; no record data)."""
    what = PHASES.get(phase, "the sync")
    if isinstance(exc, AuthExpired):
        return Connectivity.REAUTH, exc.message
    if isinstance(exc, GatewayUnreachable):
        return Connectivity.OFFLINE, exc.message
    if isinstance(exc, GatewayRefused):
        status = f" ({exc.status})" if exc.status else ""
        return Connectivity.STOPPED, f"Sync stopped: the gateway refused {what}{status}"
    if isinstance(exc, CacheError):
        return Connectivity.STOPPED, f"Sync stopped: {exc.user_message.rstrip('.')}"
    return Connectivity.STOPPED, f"Sync stopped: an internal error ({type(exc).__name__})"


class SyncDeadline(GatewayUnreachable):
    """A whole round (``mdt sync --once``) did not finish in time; nothing was lost."""

    def __init__(self, seconds: float, phase: str = "") -> None:
        what = PHASES.get(phase, "the gateway")
        super().__init__(
            f"Sync stopped: the round did not finish within {seconds:g} s (waiting on {what}; "
            "the gateway is too slow or sends without end). Nothing was lost: what was applied "
            "is kept and what is queued stays queued.", code="deadline")
        self.seconds = seconds
        self.phase = phase


@dataclass
class Round:
    """What the engine and its inbox share while a round runs: where it is (for the sentence
    when it stops) and how much got through (a link that works at all)."""

    phase: str = ""
    progress: int = 0  # messages accepted + events applied
