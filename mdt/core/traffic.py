"""What the messages and inbox events mean for the terminal's cache: the states a query goes
through, which events are returns, what each event does to the query it answers, and which
alerts it raises (:func:`mdt.core.alerts.alerts_for_event`). No Qt, no SQL: the cache
(:mod:`mdt.store.inbox`) carries the plan out in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mdt.core.alerts import alerts_for_event

__all__ = ["MESSAGE_STATES", "QUARANTINE_KINDS", "RETURN_EVENTS", "EventPlan", "ReturnPart",
           "parts_detail", "plan_event", "quarantine_title"]

MESSAGE_STATES = frozenset({"queued", "sending", "accepted", "acknowledged", "answered", "status",
                            "failed", "cancelled", "unanswered"})
RETURN_EVENTS = ("response", "delayed_hit")
# An ack moves a query to "acknowledged" unless it has already got further than that.
ACK_DOES_NOT_OVERRIDE = ("answered", "status")
# The gateway's 202 can reach the terminal after the switch's ack or the answer itself (the
# stream is faster than the POST's reply): "accepted" never takes a query back from those.
ACCEPT_DOES_NOT_OVERRIDE = ("acknowledged", *ACK_DOES_NOT_OVERRIDE)


@dataclass(frozen=True)
class ReturnPart:
    """A return (response or delayed hit) to keep: one part of ``parts``."""

    mke: str
    source: str
    text: str
    records: list[dict[str, Any]]
    hit: bool
    part: int
    parts: int


@dataclass(frozen=True)
class EventPlan:
    """What applying one event does."""

    id: str
    seq: int
    type: str
    reply_to: str | None
    created_at: str | None
    alerts: list[dict[str, Any]] = field(default_factory=list)  # rows, without created_at
    ret: ReturnPart | None = None  # a return to keep (the query it answers becomes "answered")
    ack: bool = False  # the query it names was acknowledged by the switch
    status: str | None = None  # the switch's status of the query it names (its words)


def plan_event(event: dict[str, Any]) -> EventPlan:
    """Read one inbox event (KeyError, TypeError, ValueError when it lacks what it needs)."""
    event_id, seq, kind = str(event["id"]), int(event["seq"]), str(event["type"])
    reply_to = event.get("in_reply_to")
    alerts = [alert.to_row() for alert in alerts_for_event(event)]
    ret = None
    if kind in RETURN_EVENTS:
        records = [r for r in event.get("records") or [] if isinstance(r, dict)]
        ret = ReturnPart(mke=str(event.get("mke") or ""), source=str(event.get("source") or ""),
                         text=str(event.get("text") or ""), records=records,
                         hit=any(bool(r.get("hit")) for r in records),
                         part=int(event.get("part") or 1), parts=int(event.get("parts") or 1))
    status = (str(event.get("text") or event.get("status") or "")
              if kind == "status" and reply_to else None)
    return EventPlan(id=event_id, seq=seq, type=kind, reply_to=reply_to,
                     created_at=event.get("created_at"), alerts=alerts, ret=ret,
                     ack=kind == "ack" and bool(reply_to), status=status)


def parts_detail(have: int, parts: int) -> str | None:
    """What a query answered in several parts says about them (parts come in any order)."""
    if parts <= 1:
        return None
    return f"{have} of {parts} parts" + ("" if have >= parts else " — more to come")


# Events kept aside (mdt.store.quarantine): what the operator is told each kind of them is.
QUARANTINE_KINDS = {"unreadable": "an unreadable message from the switch",  # failed the models
                    "protocol": "a message from the switch out of order"}  # seq out of order


def quarantine_title(kind: str, seq: int | None, reason: str) -> str:
    """The line the operator reads for an event kept aside."""
    what = QUARANTINE_KINDS.get(kind, QUARANTINE_KINDS["protocol"])
    where = f" (inbox #{seq})" if seq is not None else ""
    return f"{what[0].upper()}{what[1:]}{where}: {reason}"
