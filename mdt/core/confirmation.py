"""Hit confirmation (YQ / YR) in both directions: building the messages and running the clocks.
No Qt.

Outgoing: my officer has a hit. :func:`build_yq` makes the YQ from the hit record itself (RTY from
the file, NIC, OCA, the data set the RTY needs, the requester's name and phone); the countdown is
10 minutes when urgent and 1 hour when routine; when it runs out the operator is asked for the
second request (RNO 2), then the third (RNO 3, with notice to the CSA and the FBI). The YR links
back to the hit through its NIC and sets its state (:func:`outgoing_confirmations`).

One state per confirmation: a first request (RNO 1) on a record starts a confirmation of its
own, and its second and third requests and its answer belong to it. A new stop on the same
record is a new return with the same hit: its first YQ starts a new confirmation, and the
earlier one (its answer and its age) is only context (:func:`for_return`). Everything the
screen, the status bar and the command line say about a confirmation is derived from it here.

Incoming: another agency asks mine to confirm one of our records. Each request lands in the
agency queue sorted by ``respond_by``; a second or third request for the same record folds into
the first and makes it louder; :func:`build_yr` answers it (:func:`incoming_queue`).

Every time here is the gateway's (see :mod:`mdt.core.clock`), never the laptop's own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from mdt.core.alerts import format_time, mapping, parse_time

__all__ = ["CONFIRM_MINUTES", "ConfirmState", "HitConfirmation", "IncomingRequest",
           "OutgoingConfirmation", "YqDraft", "answered_requests", "build_yq", "build_yr",
           "escalate_yq", "for_return", "incoming_queue", "outgoing_confirmations", "rty_for"]

CONFIRM_MINUTES = {"U": 10, "R": 60}
LESC_ORI = "VTICE0900"  # ICE's Law Enforcement Support Center confirms IVF hits

RTY_BY_FILE = {"WANTED": "WP", "IVF": "WP", "VEHICLE": "SV", "PLATE": "SL", "GUN": "SG",
               "ARTICLE": "SA", "BOAT": "SB", "PART": "SP", "SECURITY": "SS",
               "PROTECTION_ORDER": "PO", "MISSING": "MP", "MISSING_PERSON": "MP"}
DATA_SET = {"WP": ("NAM", "DOB", "SEX"), "PO": ("NAM", "DOB", "SEX"), "MP": ("NAM", "DOB", "SEX"),
            "SV": ("LIC", "LIS", "LIY", "LIT", "VIN", "VYR", "VMA"),
            "SL": ("LIC", "LIS", "LIY", "LIT"), "SG": ("SER", "MAK", "CAL", "TYP"),
            "SA": ("SER",), "SP": ("SER",), "SS": ("SER",), "SB": ("SER", "LIC", "LIS")}
YR_DATA_TAGS = ("NAM", "DOB", "SEX", "LIC", "LIS", "VIN", "SER")
YR_STATUS = {"Y": "CONFIRMED", "N": "NOT_CONFIRMED", "T": "WILL_CONFIRM_BY"}


class ConfirmationError(ValueError):
    """The hit or request lacks what a YQ / YR needs; the message says what."""


def rty_for(record: Mapping[str, Any]) -> str:
    file = str(record.get("file") or "").upper()
    if file not in RTY_BY_FILE:
        raise ConfirmationError(f"A {file.lower() or 'record'} hit has no hit confirmation "
                                "request type.")
    return RTY_BY_FILE[file]


def _fields(record: Mapping[str, Any]) -> dict[str, str]:
    raw = record.get("fields")
    return {str(k).upper(): str(v).strip() for k, v in raw.items() if "#" not in str(k)} \
        if isinstance(raw, Mapping) else {}


@dataclass(frozen=True)
class YqDraft:
    """A YQ ready for the form: the values and the destination ORI(s)."""

    values: dict[str, str]
    dest: list[str]


def build_yq(record: Mapping[str, Any], *, priority: str, requester_name: str, phone: str = "",
             rno: int = 1, remarks: str = "") -> YqDraft:
    """The YQ for a hit record, prefilled from the record itself."""
    if priority not in CONFIRM_MINUTES:
        raise ConfirmationError("Priority must be U (urgent, 10 minutes) or R (routine, 1 hour).")
    if not record.get("hit"):
        raise ConfirmationError("Only a hit is confirmed with a YQ.")
    rty = rty_for(record)
    fields = _fields(record)
    nic = str(record.get("nic") or fields.get("NIC") or "")
    if not nic:
        raise ConfirmationError("The record has no NIC: a YQ needs one.")
    file = str(record.get("file") or "").upper()
    # IVF records are LESC's: it confirms them; its file number serves as the case number.
    ori = LESC_ORI if file == "IVF" else fields.get("ORI", "")
    if not ori:
        raise ConfirmationError("The record does not name the agency that entered it (ORI).")
    oca = fields.get("OCA") or (fields.get("MNU", "") if file == "IVF" else "") or nic
    values = {"RTY": rty, "RNO": str(rno), "PRI": priority, "OCA": oca[:20], "NIC": nic}
    for tag in DATA_SET[rty]:
        if fields.get(tag):
            values[tag] = fields[tag]
    if requester_name:
        values["RNA"] = requester_name.upper()[:30]
    if phone:
        values["PHO"] = phone
    if remarks:
        values["REM"] = remarks
    return YqDraft(values, [ori])


def escalate_yq(previous: Mapping[str, Any], next_rno: int) -> YqDraft:
    """The next request (RNO 2 or 3) from the YQ message sent before: the same record, the same
    priority, the same destinations."""
    fields = {str(k): str(v) for k, v in (previous.get("fields") or {}).items()}
    fields["RNO"] = str(next_rno)
    if next_rno == 3:
        note = "THIRD REQUEST - CSA AND FBI NOTIFIED"
        fields["REM"] = (note + (" " + fields["REM"] if fields.get("REM") else ""))[:200]
    return YqDraft(fields, [str(d) for d in previous.get("dest") or []])


def build_yr(request: Mapping[str, Any], status: str, *, responder_name: str, phone: str = "",
             confirm_by: str = "", remarks: str = "") -> YqDraft:
    """The YR answering an incoming request (a ``hit_confirmation_request`` event)."""
    if status not in YR_STATUS:
        raise ConfirmationError("The answer must be Y (confirmed), N (not confirmed) or T (will "
                                "confirm by a time).")
    if status == "T" and not confirm_by:
        raise ConfirmationError("Say by when you will confirm (HHMM).")
    values = {"RTY": str(request.get("rty") or ""), "RNO": str(request.get("rno") or "1"),
              "OCA": str(request.get("oca") or ""), "NIC": str(request.get("nic") or ""),
              "CST": status}
    data = mapping(request.get("data_set"))
    for tag in YR_DATA_TAGS:
        if data.get(tag):
            values[tag] = str(data[tag])
    if status == "T":
        values["CTM"] = confirm_by
    if responder_name:
        values["RNA"] = responder_name.upper()[:30]
    if phone:
        values["PHO"] = phone
    if remarks:
        values["REM"] = remarks
    return YqDraft(values, [str(request.get("requesting_ori") or "")])


# -- outgoing ------------------------------------------------------------------------------------
class ConfirmState(StrEnum):
    WAITING = "waiting"  # a request is out and its time has not run out
    OVERDUE = "overdue"  # the last request went unanswered in time: send the next one
    CONFIRMED = "confirmed"
    NOT_CONFIRMED = "not_confirmed"
    WILL_CONFIRM_BY = "will_confirm_by"  # the agency promised a time; overdue once it passes
    QUEUED = "queued"  # the YQ waits in the outbox (offline): no clock yet
    NOT_REQUESTED = "not_requested"  # no YQ for this hit on this return yet

    @property
    def answered(self) -> bool:
        """The entering agency gave a valid answer (yes, no, or a time)."""
        return self in (ConfirmState.CONFIRMED, ConfirmState.NOT_CONFIRMED,
                        ConfirmState.WILL_CONFIRM_BY)


@dataclass
class SentRequest:
    message_id: str
    rno: int
    priority: str
    sent_at: datetime | None
    deadline: datetime | None
    message: dict[str, Any]
    created_at: datetime | None = None  # when the operator made it (this terminal's clock)
    acknowledged: bool = False  # the switch acknowledged it (and set its respond_by)


@dataclass
class OutgoingConfirmation:
    """The confirmation of one hit (one NIC): the requests sent and the answer, if any."""

    nic: str
    requests: list[SentRequest] = field(default_factory=list)
    answer: dict[str, Any] | None = None
    # the confirmations of the same record before this one (earlier stops), oldest first
    earlier: list[OutgoingConfirmation] = field(default_factory=list)

    @property
    def last(self) -> SentRequest:
        return self.requests[-1]

    @property
    def started_at(self) -> datetime | None:
        """When its first request was made (this terminal's clock, as a return's receipt)."""
        first = self.requests[0]
        return first.created_at or first.sent_at

    @property
    def message_ids(self) -> list[str]:
        return [r.message_id for r in self.requests]

    @property
    def answered_at(self) -> datetime | None:
        return parse_time((self.answer or {}).get("created_at"))

    @property
    def deadline(self) -> datetime | None:
        if self.answer and self.answer.get("status") == "WILL_CONFIRM_BY":
            return parse_time(self.answer.get("confirm_by")) or self.last.deadline
        if self.answer:
            return None
        return self.last.deadline

    def state(self, now: datetime) -> ConfirmState:
        status = str((self.answer or {}).get("status") or "")
        if status == "CONFIRMED":
            return ConfirmState.CONFIRMED
        if status == "NOT_CONFIRMED":
            return ConfirmState.NOT_CONFIRMED
        deadline = self.deadline
        if status == "WILL_CONFIRM_BY":
            return ConfirmState.WILL_CONFIRM_BY if deadline is None or now < deadline \
                else ConfirmState.OVERDUE
        if deadline is None:
            return ConfirmState.QUEUED
        return ConfirmState.WAITING if now < deadline else ConfirmState.OVERDUE

    def next_rno(self, now: datetime) -> int | None:
        """The request to send now (2 or 3; 4 means: notify the CSA and the FBI), or None."""
        if self.state(now) is not ConfirmState.OVERDUE:
            return None
        return min(self.last.rno + 1, 4)

    def remaining(self, now: datetime) -> timedelta | None:
        deadline = self.deadline
        return None if deadline is None else deadline - now


def _request_deadline(message: Mapping[str, Any], ack: Mapping[str, Any] | None
                      ) -> tuple[datetime | None, datetime | None]:
    fields = message.get("fields") or {}
    minutes = CONFIRM_MINUTES.get(str(fields.get("PRI") or "U"), 10)
    sent = parse_time(message.get("accepted_at")) or parse_time(message.get("sent_at"))
    if ack and parse_time(ack.get("respond_by")):
        return sent, parse_time(ack.get("respond_by"))
    if sent is None:
        return None, None  # still in the outbox: the clock starts when the switch takes it
    return sent, sent + timedelta(minutes=minutes)


def outgoing_confirmations(messages: Iterable[Mapping[str, Any]],
                           events: Iterable[Mapping[str, Any]]) -> dict[str, OutgoingConfirmation]:
    """Each hit I asked to confirm, by NIC: my YQ messages (oldest first), the switch's acks of
    them (which carry ``respond_by``) and the YRs that answered them. The value is the latest
    confirmation of the record; a first request (RNO 1) after an earlier one starts a new
    confirmation (a new stop), and the earlier ones stay in its ``earlier``."""
    events = list(events)
    acks = {str(e.get("in_reply_to")): e for e in events if e.get("type") == "ack"}
    found: dict[str, OutgoingConfirmation] = {}
    by_id: dict[str, OutgoingConfirmation] = {}
    mine = [m for m in messages if m.get("mke") == "YQ" and m.get("state") not in
            ("failed", "cancelled")]
    for message in sorted(mine, key=lambda m: (str(m.get("created_at") or ""))):
        fields = message.get("fields") or {}
        nic = str(fields.get("NIC") or "")
        if not nic:
            continue
        rno = int(str(fields.get("RNO") or "1")) if str(fields.get("RNO") or "1").isdigit() \
            else 1
        ack = acks.get(str(message.get("id")))
        sent, deadline = _request_deadline(message, ack)
        confirmation = found.get(nic)
        if confirmation is None or (rno <= 1 and confirmation.requests):
            fresh = OutgoingConfirmation(nic)
            if confirmation is not None:
                fresh.earlier = [*confirmation.earlier, confirmation]
                confirmation.earlier = []
            confirmation = found[nic] = fresh
        confirmation.requests.append(SentRequest(
            str(message.get("id")), rno, str(fields.get("PRI") or "U"), sent, deadline,
            dict(message), parse_time(message.get("created_at")), ack is not None))
        by_id[str(message.get("id"))] = confirmation
    answers = sorted((e for e in events if e.get("type") == "hit_confirmation_response"),
                     key=lambda e: int(e.get("seq") or 0))
    for answer in answers:
        target = by_id.get(str(answer.get("in_reply_to"))) or \
            found.get(str(answer.get("nic") or ""))
        if target is not None:
            target.answer = dict(answer)  # the latest answer counts
    return found


def answered_requests(confirmations: Mapping[str, OutgoingConfirmation]) -> dict[str, str]:
    """My YQ messages whose confirmation has its answer, by message id: the answer's status
    (``CONFIRMED``, ``NOT_CONFIRMED``, ``WILL_CONFIRM_BY``). A YQ answered is not waiting."""
    answered: dict[str, str] = {}
    for latest in confirmations.values():
        for confirmation in (*latest.earlier, latest):
            status = str((confirmation.answer or {}).get("status") or "")
            if status in YR_STATUS.values():
                answered.update(dict.fromkeys(confirmation.message_ids, status))
    return answered


@dataclass(frozen=True)
class HitConfirmation:
    """The confirmation of one hit on one return: its own (None before the first YQ) and, as
    context, the answer a stop before this one got on the same record."""

    nic: str
    own: OutgoingConfirmation | None
    earlier: OutgoingConfirmation | None = None

    def state(self, now: datetime) -> ConfirmState:
        return self.own.state(now) if self.own is not None else ConfirmState.NOT_REQUESTED

    def next_rno(self, now: datetime) -> int | None:
        return self.own.next_rno(now) if self.own is not None else None

    def can_request(self) -> bool:
        """A first YQ can be sent for it (none was sent for this stop)."""
        return self.own is None

    def must_confirm_first(self, now: datetime) -> bool:
        """Whether the officer must still be told to confirm before acting: until confirmed."""
        return self.state(now) is not ConfirmState.CONFIRMED


def for_return(confirmation: OutgoingConfirmation | None, received_at: datetime | str | None,
               nic: str = "") -> HitConfirmation:
    """The confirmation of a hit on a return received at ``received_at`` (this terminal's
    clock), from the record's confirmations (``outgoing_confirmations()[nic]``): the first one
    begun after the return came (this stop's own) and the last one before it (an earlier stop's,
    shown as context; it does not confirm this stop)."""
    received = parse_time(received_at) if isinstance(received_at, str) else received_at
    if confirmation is None:
        return HitConfirmation(nic, None)
    every = [*confirmation.earlier, confirmation]
    if received is None:
        return HitConfirmation(nic or confirmation.nic, confirmation,
                               every[-2] if len(every) > 1 else None)
    own = next((c for c in every if c.started_at is None or c.started_at >= received), None)
    before = [c for c in every if c.started_at is not None and c.started_at < received]
    return HitConfirmation(nic or confirmation.nic, own, before[-1] if before else None)


# -- incoming ------------------------------------------------------------------------------------
@dataclass
class IncomingRequest:
    """One record of ours another agency asked to confirm; repeats (RNO 2, 3) fold in here."""

    request: dict[str, Any]  # the latest request event
    request_ids: list[str]
    rno: int
    respond_by: datetime | None
    first_received: str
    answered_by: dict[str, Any] | None = None  # my YR message

    @property
    def nic(self) -> str:
        return str(self.request.get("nic") or "")

    def overdue(self, now: datetime) -> bool:
        return self.answered_by is None and self.respond_by is not None and now >= self.respond_by

    def remaining(self, now: datetime) -> timedelta | None:
        return None if self.respond_by is None else self.respond_by - now


def incoming_queue(requests: Iterable[Mapping[str, Any]],
                   my_messages: Iterable[Mapping[str, Any]]) -> list[IncomingRequest]:
    """The agency queue: open requests first, soonest ``respond_by`` first; answered ones last."""
    folded: dict[tuple[str, str, str], IncomingRequest] = {}
    for event in sorted(requests, key=lambda e: int(e.get("seq") or 0)):
        key = (str(event.get("nic") or ""), str(event.get("oca") or ""),
               str(event.get("requesting_ori") or ""))
        rno = int(str(event.get("rno") or "1")) if str(event.get("rno") or "1").isdigit() else 1
        respond_by = parse_time(event.get("respond_by"))
        known = folded.get(key)
        if known is None:
            folded[key] = IncomingRequest(dict(event), [str(event.get("request_id") or "")], rno,
                                          respond_by, str(event.get("created_at") or ""))
            continue
        known.request = dict(event)
        known.request_ids.append(str(event.get("request_id") or ""))
        known.rno = max(known.rno, rno)
        known.respond_by = respond_by or known.respond_by
    for message in sorted(my_messages, key=lambda m: str(m.get("created_at") or "")):
        if message.get("mke") != "YR" or message.get("state") in ("failed", "cancelled"):
            continue
        fields = message.get("fields") or {}
        answered_rno = str(fields.get("RNO") or "1")
        for (nic, oca, ori), item in folded.items():
            # A YR echoes the request's RNO: a second request is open until a YR answers it.
            if fields.get("NIC") == nic and fields.get("OCA") == oca and \
                    ori in (message.get("dest") or [ori]) and \
                    (int(answered_rno) if answered_rno.isdigit() else 1) >= item.rno:
                item.answered_by = dict(message)
    far = datetime.max.replace(tzinfo=None)
    return sorted(folded.values(), key=lambda i: (
        i.answered_by is not None,
        (i.respond_by.replace(tzinfo=None) if i.respond_by else far)))


def deadline_text(remaining: timedelta | None) -> str:
    """``07:45 left`` or ``OVERDUE 02:10``, in minutes and seconds (hours when long)."""
    if remaining is None:
        return ""
    seconds = int(remaining.total_seconds())
    late = seconds < 0
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    clock = f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"
    return f"OVERDUE {clock}" if late else f"{clock} left"


def format_deadline(moment: datetime | None) -> str:
    return format_time(moment) if moment else ""
