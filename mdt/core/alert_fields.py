"""What an alert carries, in words for the person reading it: each field with its NCIC meaning
(NIC number, ORI, OCA ...) instead of the key it is stored under, and none of the terminal's own
ids (a return's, a request's): those are for opening things, not for reading.

The alert history's detail pane shows these rows; ``return_to_open`` says which return an alert
can open instead of printing its id.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mdt.core.alerts import (
    IVF_CATEGORY_WORDS,
    KIND_WORDS,
    REQUEST_WORDS,
    RTY_WORDS,
    AlertKind,
    mapping,
)

__all__ = ["FIELD_LABELS", "alert_rows", "field_label", "return_to_open"]

# In the order they are shown. NCIC's meanings: the NIC is the record's NCIC number; the ORI is
# the originating agency's identifier (the agency that entered the record); the OCA is that
# agency's own case number.
FIELD_LABELS: dict[str, str] = {
    "subject": "Subject",
    "file": "NCIC file",
    "category": "IVF category",
    "hit_kind": "Kind of hit",
    "cautions": "Cautions",
    "nic": "NIC number (NCIC record number)",
    "ori": "ORI (agency that entered the record)",
    "oca": "OCA (that agency's case number)",
    "rty": "Record type (RTY)",
    "pri": "Priority",
    "rno": "Request (RNO)",
    "next_rno": "Next request (RNO)",
    "requesting_ori": "Requesting agency (ORI)",
    "requesting_name": "Requested by",
    "phone": "Phone",
    "data_set": "Data set",
    "respond_by": "Answer by (UTC)",
    "status": "Confirmation status",
    "confirm_by": "Will confirm by (UTC)",
    "confirming_ori": "Confirming agency (ORI)",
    "confirming_name": "Confirmed by",
    "remarks": "Remarks",
}

# The terminal's own ids and bookkeeping: never shown ("Open the return" stands for return_id).
HIDDEN = frozenset({"summary", "return_id", "record_index", "request_id", "message_id",
                    "event_id", "episode"})

SUBJECT_LABELS = {"name": "Name", "dob": "Date of birth", "sex": "Sex",
                  "citizenship": "Citizenship", "a_number": "A-number", "fbi": "FBI number"}
PRIORITY_WORDS = {"U": "urgent (answer within 10 minutes)", "R": "routine (answer within 1 hour)"}
STATUS_WORDS = {"CONFIRMED": "confirmed", "NOT_CONFIRMED": "not confirmed — do not act on the hit",
                "WILL_CONFIRM_BY": "will confirm by a stated time"}


def field_label(key: str) -> str:
    """The label of a body field: its NCIC meaning when known, else its name in words (a short
    key is a tag: upper case)."""
    if key in FIELD_LABELS:
        return FIELD_LABELS[key]
    words = key.replace("_", " ").strip()
    return words.upper() if len(words) <= 3 else words[:1].upper() + words[1:]


def _rno(value: Any) -> str:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return str(value)
    return f"{number} — {REQUEST_WORDS.get(number, f'request {number}')}"


def _value(key: str, value: Any) -> str:
    """A field's value in words."""
    if key == "rty":
        return f"{RTY_WORDS.get(str(value), str(value))} ({value})"
    if key == "pri":
        return PRIORITY_WORDS.get(str(value), str(value))
    if key in ("rno", "next_rno"):
        return _rno(value)
    if key == "category":
        return IVF_CATEGORY_WORDS.get(str(value).upper(), str(value))
    if key == "hit_kind":
        try:
            return KIND_WORDS[AlertKind(value)]
        except ValueError:
            return str(value)
    if key == "status":
        return STATUS_WORDS.get(str(value), str(value).replace("_", " ").lower())
    if isinstance(value, Mapping):  # a data set: the switch's own TAG/value form
        return " ".join(f"{k}/{v}" for k, v in value.items() if v not in (None, ""))
    if isinstance(value, list | tuple):
        return "; ".join(str(v) for v in value if v not in (None, ""))
    return str(value)


def _shown(value: Any) -> bool:
    return value not in (None, "", [], {}) and not (isinstance(value, Mapping) and not any(
        v not in (None, "") for v in value.values()))


def _detainer_rows(body: Mapping[str, Any]) -> list[tuple[str, str]]:
    subject = mapping(body.get("subject"))
    rows = [(f"Subject: {SUBJECT_LABELS.get(k, field_label(k)).lower()}"
             if k != "name" else "Subject", str(v)) for k, v in subject.items() if v]
    contact = mapping(body.get("contact"))
    who = " ".join(str(contact[k]) for k in ("name",) if contact.get(k))
    if contact.get("ori"):
        who += f" (ORI {contact['ori']})"
    if contact.get("phone"):
        who += f", phone {contact['phone']}"
    related = mapping(body.get("related"))
    rows += [("Detainer number", str(body.get("detainer_id") or "")),
             ("Issuing office", str(body.get("issuing_office") or "")),
             ("Basis", str(body.get("basis") or "")),
             ("Requested", "; ".join(str(a) for a in body.get("asks") or [])),
             ("Warrant", str(body.get("warrant") or "")),
             ("Contact", who.strip()),
             ("Booking", str(related.get("booking") or ""))]
    return [(label, value) for label, value in rows if value]


def alert_rows(alert: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Everything an alert carries, as (label, words) rows: its whole text first, what to do,
    then its fields by their meaning (no internal ids)."""
    body = mapping(alert.get("body"))
    rows: list[tuple[str, str]] = [("Alert", str(alert.get("title") or ""))]
    if body.get("summary"):
        rows.append(("What to do", str(body["summary"])))
    if alert.get("kind") == AlertKind.DETAINER:
        rows += _detainer_rows(body)
    else:
        known = [k for k in FIELD_LABELS if k in body]
        other = [k for k in body if k not in FIELD_LABELS and k not in HIDDEN
                 and not k.endswith("_id")]
        rows += [(field_label(k), _value(k, body[k])) for k in known + other
                 if _shown(body[k])]
    return rows


def return_to_open(alert: Mapping[str, Any]) -> str:
    """The id of the return this alert can open (a hit's), or ``""``."""
    return str(mapping(alert.get("body")).get("return_id") or "")
