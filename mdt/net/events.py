"""The inbox events of the gateway protocol, as declared models (pydantic v2). No Qt.

This module is the one source of the event contract: the client checks every event against it at
the boundary, before anything is applied (:func:`validate_event`), and the bundled gateway builds
its OpenAPI document from the same models (:data:`INBOX_PAGE_SCHEMA`), so the two cannot drift.

The models are strict (no coercion: ``"1"`` is not a number, ``7`` is not a list) and bounded
(sizes, counts, nesting, numbers), and they refuse text that cannot be stored (lone surrogates).
Keys a newer gateway adds are allowed and kept, but they are bounded too. An event that fails is
not applied: the sync engine quarantines it (:mod:`mdt.store.quarantine`).

A failure's :attr:`EventInvalid.reason` names where and what is wrong, never the value itself: an
event may carry record data, which never goes into a log.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    TypeAdapter,
    ValidationError,
    model_validator,
)

__all__ = [
    "EVENT_TYPES", "MAX_EVENT_BYTES", "MAX_SEQ", "Event", "EventInvalid", "InboxPage",
    "depth_of", "inbox_page_schema", "parse_event_json", "readable_header", "validate_event",
]

MAX_SEQ = 2**53 - 1  # the gateway's own bound: integers exact in JSON everywhere
MAX_EVENT_BYTES = 1_000_000  # one event as JSON; a return with many records fits easily
MAX_DEPTH = 24  # nesting of objects and lists in one event
MAX_TEXT = 200_000
MAX_SHORT = 256
MAX_FIELD = 4096
MAX_HOLD_HOURS = 24 * 30

EVENT_TYPES = ("ack", "response", "status", "hit_confirmation_request",
               "hit_confirmation_response", "detainer", "delayed_hit", "admin")


def _storable(value: str) -> str:
    """Text that can be kept as UTF-8 (a lone surrogate cannot)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text with a lone surrogate (not UTF-8)") from exc
    return value


Short = Annotated[str, StringConstraints(max_length=MAX_SHORT), AfterValidator(_storable)]
Ident = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SHORT),
                  AfterValidator(_storable)]
FieldValue = Annotated[str, StringConstraints(max_length=MAX_FIELD), AfterValidator(_storable)]
Text = Annotated[str, StringConstraints(max_length=MAX_TEXT), AfterValidator(_storable)]
Tag = Annotated[str, StringConstraints(min_length=1, max_length=16), AfterValidator(_storable)]
FieldMap = Annotated[dict[Tag, FieldValue], Field(max_length=300)]
Count = Annotated[int, Field(ge=1, le=1000)]


class _Model(BaseModel):
    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True)


class Record(_Model):
    """One record of a return (``response`` / ``delayed_hit``)."""

    file: Short | None = None
    hit: bool | None = None
    nic: Short | None = None
    category: Short | None = None
    caution_codes: Annotated[list[Short], Field(max_length=50)] | None = None
    caveats: Annotated[list[Text], Field(max_length=50)] | None = None
    fields: FieldMap | None = None


class _Event(_Model):
    seq: Annotated[int, Field(ge=1, le=MAX_SEQ)]
    id: Ident
    created_at: Short | None = None
    training: bool | None = None
    in_reply_to: Short | None = None
    text: Text | None = None


class AckEvent(_Event):
    type: Literal["ack"]
    mke: Short | None = None


class _Return(_Event):
    mke: Short | None = None
    source: Short | None = None
    records: Annotated[list[Record], Field(max_length=1000)] | None = None
    part: Count | None = None
    parts: Count | None = None

    @model_validator(mode="after")
    def _part_of_parts(self) -> _Return:
        if self.part is not None and self.part > (self.parts or 1):
            raise ValueError("part is beyond parts")
        return self


class ResponseEvent(_Return):
    type: Literal["response"]


class DelayedHitEvent(_Return):
    type: Literal["delayed_hit"]


class StatusEvent(_Event):
    type: Literal["status"]
    status: Short | None = None
    reason: Text | None = None
    field: Short | None = None


class HitConfirmationRequestEvent(_Event):
    type: Literal["hit_confirmation_request"]
    request_id: Short | None = None
    rty: Short | None = None
    rno: Annotated[int, Field(ge=0, le=100)] | Short | None = None
    pri: Short | None = None
    oca: Short | None = None
    nic: Short | None = None
    requesting_ori: Short | None = None
    requesting_name: Short | None = None
    phone: Short | None = None
    remarks: Text | None = None
    data_set: FieldMap | None = None
    respond_by: Short | None = None
    fields: FieldMap | None = None


class HitConfirmationResponseEvent(_Event):
    type: Literal["hit_confirmation_response"]
    status: Short | None = None
    confirm_by: Short | None = None
    confirming_ori: Short | None = None
    confirming_name: Short | None = None
    remarks: Text | None = None
    rty: Short | None = None
    rno: Annotated[int, Field(ge=0, le=100)] | Short | None = None
    oca: Short | None = None
    nic: Short | None = None


class Subject(_Model):
    name: Short | None = None
    dob: Short | None = None
    sex: Short | None = None
    citizenship: Short | None = None
    a_number: Short | None = None
    fbi: Short | None = None


class RequestedAction(_Model):
    notify_before_release: bool | None = None
    hold_hours: Annotated[int, Field(ge=0, le=MAX_HOLD_HOURS)] | None = None


class Contact(_Model):
    ori: Short | None = None
    name: Short | None = None
    phone: Short | None = None


class Related(_Model):
    message_id: Short | None = None
    booking: Short | None = None


class DetainerEvent(_Event):
    type: Literal["detainer"]
    detainer_id: Short | None = None
    subject: Subject | None = None
    issuing_office: Short | None = None
    basis: Short | None = None
    requested_action: RequestedAction | None = None
    warrant: Short | None = None
    contact: Contact | None = None
    related: Related | None = None


class AdminEvent(_Event):
    type: Literal["admin"]
    from_ori: Short | None = None
    from_name: Short | None = None


Event = Annotated[
    AckEvent | ResponseEvent | StatusEvent | HitConfirmationRequestEvent
    | HitConfirmationResponseEvent | DetainerEvent | DelayedHitEvent | AdminEvent,
    Field(discriminator="type")]


class InboxPage(_Model):
    """``GET /v1/inbox``: events after the cursor, oldest first, and the next cursor."""

    events: Annotated[list[Event], Field(max_length=1000)]
    next_after: Annotated[int, Field(ge=0, le=MAX_SEQ)]


_EVENT: TypeAdapter[Any] = TypeAdapter(Event)
_KNOWN_NAMES = frozenset(
    name for model in (AckEvent, ResponseEvent, StatusEvent, HitConfirmationRequestEvent,
                       HitConfirmationResponseEvent, DetainerEvent, DelayedHitEvent, AdminEvent,
                       Record, Subject, RequestedAction, Contact, Related)
    for name in model.model_fields) | {"constrained-int", "str", "int", "[key]"}


class EventInvalid(ValueError):
    """An event the client cannot apply. ``reason`` names the place and the problem, never the
    value; ``seq`` and ``event_id`` are what could be read of them (None when unreadable)."""

    def __init__(self, reason: str, *, seq: int | None = None,
                 event_id: str | None = None, event_type: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.seq = seq
        self.event_id = event_id
        self.event_type = event_type


def depth_of(value: Any, limit: int = MAX_DEPTH) -> int:
    """How deep objects and lists nest in ``value`` (stops counting past ``limit``)."""
    depth, level = 0, [value]
    while level and depth <= limit:
        nxt: list[Any] = []
        for item in level:
            if isinstance(item, dict):
                nxt.extend(item.values())
            elif isinstance(item, list):
                nxt.extend(item)
        if not nxt:
            break
        depth += 1
        level = nxt
    return depth


def readable_header(raw: Any) -> tuple[int | None, str | None, str | None]:
    """What can be read of an event's seq, id and type (None for each that cannot)."""
    if not isinstance(raw, dict):
        return None, None, None
    seq, event_id, kind = raw.get("seq"), raw.get("id"), raw.get("type")
    ok_seq = seq if type(seq) is int and 1 <= seq <= MAX_SEQ else None
    ok_id = event_id if isinstance(event_id, str) and 0 < len(event_id) <= MAX_SHORT else None
    ok_type = kind if isinstance(kind, str) and kind in EVENT_TYPES else None
    return ok_seq, ok_id, ok_type


def _reason(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False, include_context=False)
    if not errors:
        return "does not match the protocol"
    first = errors[0]
    loc = [str(p) for p in first.get("loc", ())]
    if loc and loc[0] in EVENT_TYPES:  # the discriminator's branch: not part of the path
        loc = loc[1:]
    # Only the protocol's own names and list positions: a map's key may be record data.
    loc = [p if p in _KNOWN_NAMES or p.isdigit() else "*" for p in loc]
    where = ".".join(loc) or "the event"
    message = str(first.get("msg") or first.get("type") or "invalid")
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}"


def validate_event(raw: Any) -> dict[str, Any]:
    """Check one decoded event against the protocol; return it (unchanged) or raise
    :class:`EventInvalid`."""
    seq, event_id, kind = readable_header(raw)
    if not isinstance(raw, dict):
        raise EventInvalid(f"an event must be a JSON object, not {type(raw).__name__}")
    if depth_of(raw) > MAX_DEPTH:
        raise EventInvalid(f"nested more than {MAX_DEPTH} deep", seq=seq, event_id=event_id,
                           event_type=kind)
    if kind is None and isinstance(raw.get("type"), str) and len(raw["type"]) <= MAX_SHORT:
        raise EventInvalid("type: not an event type of the protocol", seq=seq,
                           event_id=event_id)
    try:
        _EVENT.validate_python(raw)
    except ValidationError as exc:
        raise EventInvalid(_reason(exc), seq=seq, event_id=event_id, event_type=kind) from None
    except (RecursionError, ValueError, TypeError) as exc:
        raise EventInvalid(f"cannot be checked ({type(exc).__name__})", seq=seq,
                           event_id=event_id, event_type=kind) from None
    return raw


def parse_event_json(data: str | bytes) -> Any:
    """Decode one event's JSON, bounded; raises :class:`EventInvalid` (never RecursionError)."""
    if len(data) > MAX_EVENT_BYTES:
        raise EventInvalid(f"larger than {MAX_EVENT_BYTES} bytes")
    try:
        return json.loads(data)
    except RecursionError:
        raise EventInvalid("nested too deep to decode") from None
    except (ValueError, UnicodeDecodeError):
        raise EventInvalid("not JSON") from None


def event_schema() -> dict[str, Any]:
    """The JSON schema of one event (for the gateway's OpenAPI document)."""
    return _EVENT.json_schema(ref_template="#/components/schemas/{model}")


def inbox_page_schema() -> dict[str, Any]:
    return InboxPage.model_json_schema(ref_template="#/components/schemas/{model}")
