"""Alert rules: what each inbox event raises, how loud it is and by when it needs someone. No Qt.

An alert is raised once per event (its id is derived from the event's id, so an event delivered
twice raises one alert) and kept in the encrypted cache with the event, in one transaction. The
kinds follow ``domain.md``: a hit on my query (louder with caution codes, with its category and
the agency's policy prompt for an Immigration Violator File hit), a delayed hit, a detainer, an
incoming hit confirmation request (YQ) for my agency, the response (YR) to my YQ, a switch status
and an administrative message. Confirmations that run out of time raise their own alert
(:func:`escalation_alert`).

Critical alerts must be acknowledged by a person: nothing dismisses them. Every acknowledgement
(who, when) goes into the audit log with the alert (:meth:`mdt.store.cache.Cache.ack_alert`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from mdt.core.cautions import cautions
from mdt.core.clock import format_time, parse_time  # (also imported from here)

__all__ = [
    "DEFAULT_IVF_PROMPTS",
    "IVF_CATEGORY_WORDS",
    "Alert",
    "AlertKind",
    "AlertSeverity",
    "alerts_for_event",
    "bar_order",
    "escalation_alert",
    "format_time",
    "ivf_prompt",
    "officer_safety",
    "parse_time",
]

_NAMESPACE = uuid.UUID("3f5e0c1e-7d0b-4b6a-9c55-2b1d9f6a0a11")


class AlertKind(StrEnum):
    HIT = "hit"  # a hit on my query
    CAUTION = "caution"  # a hit with caution codes (armed and dangerous ...)
    IVF_HIT = "ivf_hit"  # an Immigration Violator File hit: its category and a policy prompt
    DELAYED_HIT = "delayed_hit"  # a new record matched one of my earlier queries
    DETAINER = "detainer"  # an immigration detainer lodged by LESC
    INCOMING_YQ = "incoming_yq"  # another agency asks mine to confirm one of our records
    YR = "yr"  # the answer to my YQ
    CONFIRMATION_OVERDUE = "confirmation_overdue"  # my YQ went unanswered in time
    SWITCH_STATUS = "switch_status"  # destination down, will / will not forward, rejected
    ADMIN = "admin"  # an administrative message


class AlertSeverity(StrEnum):
    CRITICAL = "critical"  # sounds until a person acknowledges it; cannot be dismissed
    HIGH = "high"  # sounds once; stays in the bar until seen
    INFO = "info"  # quiet; kept in the history

    @property
    def rank(self) -> int:
        return {"critical": 3, "high": 2, "info": 1}[self.value]


KIND_WORDS = {
    AlertKind.HIT: "Hit", AlertKind.CAUTION: "Hit with caution", AlertKind.IVF_HIT:
    "Immigration violator hit", AlertKind.DELAYED_HIT: "Delayed hit", AlertKind.DETAINER:
    "Detainer", AlertKind.INCOMING_YQ: "Hit confirmation request", AlertKind.YR:
    "Hit confirmation response", AlertKind.CONFIRMATION_OVERDUE: "Confirmation overdue",
    AlertKind.SWITCH_STATUS: "Switch status", AlertKind.ADMIN: "Administrative message",
}

IVF_CATEGORY_WORDS = {"DEPORTED_FELON": "Deported felon", "ABSCONDER": "Absconder",
                      "NSEERS": "NSEERS violator"}

# What the terminal says with an IVF hit when the agency has not set its own policy (an agency
# presets these in its configuration file). They hold civil warrants: never a criminal arrest.
DEFAULT_IVF_PROMPTS = {
    "DEPORTED_FELON": "Previously deported felon: confirm with LESC (YQ to VTICE0900) before "
                      "any action, then follow agency policy for re-entry after deportation.",
    "ABSCONDER": "Administrative warrant of removal (civil), not a criminal warrant: do not "
                 "arrest on it. Confirm with LESC and notify a supervisor per agency policy.",
    "NSEERS": "NSEERS violator (civil): confirm with LESC and follow agency policy. Do not "
              "arrest on this record alone.",
}

RTY_WORDS = {"WP": "wanted person", "SV": "stolen vehicle", "SL": "stolen plate",
             "SG": "stolen gun", "SA": "stolen article", "SB": "stolen boat", "SP": "stolen part",
             "SS": "stolen security", "PO": "protection order", "MP": "missing person"}
REQUEST_WORDS = {1: "first request", 2: "SECOND REQUEST", 3: "THIRD REQUEST"}


def ivf_prompt(category: str, prompts: Mapping[str, str] | None = None) -> str:
    """The agency's policy prompt for an IVF category (the default one when it set none)."""
    category = category.upper()
    return str((prompts or {}).get(category) or DEFAULT_IVF_PROMPTS.get(
        category, "Immigration Violator File hit: confirm with LESC and follow agency policy."))


@dataclass(frozen=True)
class Alert:
    id: str
    kind: AlertKind
    severity: AlertSeverity
    title: str
    summary: str = ""
    deadline: str | None = None  # gateway time, ISO 8601
    event_id: str | None = None
    message_id: str | None = None
    body: dict[str, Any] = field(default_factory=dict)

    @property
    def must_acknowledge(self) -> bool:
        return self.severity is AlertSeverity.CRITICAL

    def to_row(self) -> dict[str, Any]:
        """The row :meth:`mdt.store.cache.Cache.add_alert` keeps."""
        return {"id": self.id, "kind": self.kind.value, "severity": self.severity.value,
                "title": self.title, "deadline": self.deadline, "event_id": self.event_id,
                "message_id": self.message_id,
                "body": {**self.body, "summary": self.summary}}


def alert_id(*parts: object) -> str:
    return str(uuid.uuid5(_NAMESPACE, "|".join(str(p) for p in parts)))


def _fields(record: Mapping[str, Any]) -> dict[str, str]:
    raw = record.get("fields")
    return {str(k).upper(): str(v) for k, v in raw.items()} if isinstance(raw, Mapping) else {}


def _subject(record: Mapping[str, Any]) -> str:
    """Who or what the record is about, in a few words."""
    fields = _fields(record)
    if fields.get("NAM"):
        return fields["NAM"] + (f" DOB {fields['DOB']}" if fields.get("DOB") else "")
    if fields.get("LIC"):
        return f"plate {fields['LIC']} {fields.get('LIS', '')}".strip()
    if fields.get("VIN"):
        return f"VIN {fields['VIN']}"
    if fields.get("SER"):
        return f"serial {fields['SER']}"
    return str(record.get("nic") or fields.get("NIC") or "")


def _file_words(record: Mapping[str, Any]) -> str:
    return str(record.get("file") or "record").replace("_", " ").lower()


def _hit_alert(event: Mapping[str, Any], n: int, record: Mapping[str, Any]) -> Alert:
    delayed = event.get("type") == "delayed_hit"
    codes = [str(c) for c in record.get("caution_codes") or []]
    words = [c.text for c in cautions(codes)] if codes else []
    category = str(record.get("category") or "").upper()
    file = str(record.get("file") or "").upper()
    fields = _fields(record)
    body = {"return_id": str(event["id"]), "record_index": n, "file": file,
            "nic": str(record.get("nic") or fields.get("NIC") or ""),
            "oca": fields.get("OCA", ""), "ori": fields.get("ORI", ""),
            "subject": _subject(record), "category": category, "cautions": words}
    if file == "IVF" or category in IVF_CATEGORY_WORDS:
        kind = AlertKind.IVF_HIT
        title = (f"IMMIGRATION VIOLATOR HIT — {IVF_CATEGORY_WORDS.get(category, category)}: "
                 f"{body['subject']}")
        summary = "Civil immigration record: confirm with LESC before acting; see the policy."
    elif words:
        kind = AlertKind.CAUTION
        title = f"HIT — {' · '.join(words)} — {_file_words(record)}: {body['subject']}"
        summary = "Officer safety: caution codes on this record. Confirm the hit before acting."
    else:
        kind = AlertKind.HIT
        title = f"HIT — {_file_words(record)}: {body['subject']}"
        summary = "A hit is not probable cause: confirm it with the entering agency (YQ)."
    if delayed:
        body["hit_kind"] = kind.value
        kind = AlertKind.DELAYED_HIT
        title = "DELAYED " + title
        summary = ("A new record matches a query you made earlier. " + summary).strip()
    return Alert(alert_id(event["id"], "hit", n), kind, AlertSeverity.CRITICAL, title, summary,
                 event_id=str(event["id"]), message_id=_str(event.get("in_reply_to")), body=body)


def _str(value: Any) -> str | None:
    return str(value) if value else None


def _incoming_yq(event: Mapping[str, Any]) -> Alert:
    rno = _int(event.get("rno"), 1)
    rty = str(event.get("rty") or "")
    body = {key: event.get(key) for key in (
        "request_id", "rty", "pri", "oca", "nic", "requesting_ori", "requesting_name", "phone",
        "remarks", "data_set", "respond_by")}
    body["rno"] = rno
    data = mapping(event.get("data_set"))
    subject = _subject({"fields": data, "nic": event.get("nic")})
    loud = "" if rno <= 1 else f"{REQUEST_WORDS.get(rno, f'REQUEST {rno}')} — "
    pri = "URGENT" if event.get("pri") == "U" else "routine"
    title = (f"{loud}Confirm for {event.get('requesting_ori', '?')}: "
             f"{RTY_WORDS.get(rty, rty)} NIC {event.get('nic', '?')} ({pri}) — {subject}")
    return Alert(alert_id(event["id"], "yq"), AlertKind.INCOMING_YQ, AlertSeverity.CRITICAL,
                 title, "Answer with a YR before the deadline: confirmed, not confirmed, or a "
                 "time by which you will confirm.", deadline=_str(event.get("respond_by")),
                 event_id=str(event["id"]), body=body)


def _yr(event: Mapping[str, Any]) -> Alert:
    status = str(event.get("status") or "")
    words = {"CONFIRMED": "CONFIRMED", "NOT_CONFIRMED": "NOT CONFIRMED — do not act on the hit",
             "WILL_CONFIRM_BY": f"will confirm by {event.get('confirm_by') or '?'}"}
    title = (f"YR from {event.get('confirming_ori', '?')}: NIC {event.get('nic', '?')} "
             f"{words.get(status, status)}")
    body = {key: event.get(key) for key in ("status", "confirm_by", "confirming_ori",
                                             "confirming_name", "remarks", "nic", "oca", "rno")}
    return Alert(alert_id(event["id"], "yr"), AlertKind.YR, AlertSeverity.HIGH, title,
                 str(event.get("remarks") or ""), event_id=str(event["id"]),
                 message_id=_str(event.get("in_reply_to")), body=body)


def _detainer(event: Mapping[str, Any]) -> Alert:
    subject = mapping(event.get("subject"))
    action = mapping(event.get("requested_action"))
    hold = _int(action.get("hold_hours"), 48)
    created = parse_time(event.get("created_at"))
    deadline = format_time(created + timedelta(hours=hold)) if created else None
    asks = (["notify DHS before release"] if action.get("notify_before_release") else []) + \
        [f"hold up to {hold} h beyond release"]
    related = mapping(event.get("related"))
    body = {"detainer_id": event.get("detainer_id"), "subject": dict(subject),
            "issuing_office": event.get("issuing_office"), "basis": event.get("basis"),
            "requested_action": dict(action), "asks": asks, "warrant": event.get("warrant"),
            "contact": event.get("contact"), "related": dict(related),
            "hold_hours": hold}
    title = (f"DETAINER {event.get('detainer_id') or ''} — {subject.get('name', '?')} "
             f"DOB {subject.get('dob', '?')}").replace("  ", " ")
    return Alert(alert_id(event["id"], "detainer"), AlertKind.DETAINER, AlertSeverity.CRITICAL,
                 title, f"{event.get('basis') or 'Immigration detainer'}: "
                 f"{'; '.join(asks)}. Acknowledge receipt.", deadline=deadline,
                 event_id=str(event["id"]),
                 message_id=_str(event.get("in_reply_to") or related.get("message_id")),
                 body=body)


def mapping(value: Any) -> Mapping[str, Any]:
    """``value`` when it is a mapping, else an empty one (events come from outside)."""
    return value if isinstance(value, Mapping) else {}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


def alerts_for_event(event: Mapping[str, Any]) -> list[Alert]:
    """The alerts one inbox event raises (none for acks and returns without a hit)."""
    kind = event.get("type")
    if not isinstance(event.get("id"), str):
        return []
    if kind in ("response", "delayed_hit"):
        raw = event.get("records")
        records = [r for r in raw if isinstance(r, Mapping)] if isinstance(raw, list) else []
        return [_hit_alert(event, n, r) for n, r in enumerate(records) if r.get("hit")]
    if kind == "hit_confirmation_request":
        return [_incoming_yq(event)]
    if kind == "hit_confirmation_response":
        return [_yr(event)]
    if kind == "detainer":
        return [_detainer(event)]
    if kind == "status":
        text = str(event.get("text") or event.get("status") or "")
        return [Alert(alert_id(event["id"], "status"), AlertKind.SWITCH_STATUS,
                      AlertSeverity.INFO, f"Switch: {text.splitlines()[0] if text else '?'}",
                      str(event.get("reason") or ""), event_id=str(event["id"]),
                      message_id=_str(event.get("in_reply_to")))]
    if kind == "admin":
        text = str(event.get("text") or "")
        sender = event.get("from_name") or event.get("from_ori") or "the switch"
        lines = [line for line in text.splitlines()[1:] if line.strip()] or text.splitlines()
        return [Alert(alert_id(event["id"], "admin"), AlertKind.ADMIN, AlertSeverity.INFO,
                      f"Message from {sender}: {(lines[0] if lines else '')[:80]}", text,
                      event_id=str(event["id"]))]
    return []


def escalation_alert(nic: str, next_rno: int, *, deadline: str | None, rty: str = "",
                     subject: str = "", episode: str = "") -> Alert:
    """My YQ on ``nic`` went unanswered in time: ask the operator to send request ``next_rno``
    (2, then 3), or after the third, to notify the CSA and the FBI. ``episode`` names the
    confirmation when the record had one before (a new stop: its first YQ's id), so that its
    own overdue requests raise their own alerts."""
    what = f"{RTY_WORDS.get(rty, 'record')} NIC {nic}" + (f" ({subject})" if subject else "")
    if next_rno <= 3:
        title = f"NO ANSWER IN TIME to your YQ on {what}: send the {REQUEST_WORDS[next_rno]} " \
                f"(RNO {next_rno})"
        summary = "The entering agency did not answer in time. Send the next request now."
    else:
        title = f"THIRD REQUEST UNANSWERED on {what}: notify your CSA and the FBI CJIS Division"
        summary = "Three requests went unanswered. Do not act on the hit without confirmation."
    key = ("overdue", nic, next_rno, episode) if episode else ("overdue", nic, next_rno)
    return Alert(alert_id(*key), AlertKind.CONFIRMATION_OVERDUE,
                 AlertSeverity.CRITICAL, title, summary, deadline=deadline,
                 body={"nic": nic, "next_rno": next_rno, "rty": rty, "subject": subject})


# -- what the alert bar shows first -------------------------------------------------------------
_FAR = "9999"


def officer_safety(alert: Mapping[str, Any]) -> bool:
    """An officer-safety hit: caution codes on it (armed and dangerous, violent, ...), also
    when it came as a delayed hit."""
    body = mapping(alert.get("body"))
    return alert.get("kind") == AlertKind.CAUTION or body.get("hit_kind") == AlertKind.CAUTION


def _rank(alert: Mapping[str, Any]) -> int:
    try:
        return AlertSeverity(str(alert.get("severity"))).rank
    except ValueError:
        return 0


def _newest_first(created: str) -> str:
    return "".join(chr(0x10FFFF - ord(c)) for c in created)


def bar_order(alerts: list[dict[str, Any]], *, known: set[str] | None = None,
              pinned: str | None = None) -> tuple[list[dict[str, Any]], str | None]:
    """The open alerts in the order the bar shows them, and the alert that holds the bar.

    What the officer must do now comes first: a critical alert new since the bar last looked
    (``known``: the ids it had; None the first time) always takes the bar and keeps it until it
    is acknowledged or a newer critical one comes (``pinned``); then officer-safety hits, then
    the louder, then the nearest deadline, then the newest. The others stay one key away, in
    this order."""
    open_ids = {str(a.get("id")) for a in alerts}
    if known is not None:
        new = [a for a in alerts if str(a.get("id")) not in known
               and a.get("severity") == AlertSeverity.CRITICAL]
        if new:
            pinned = str(max(new, key=lambda a: str(a.get("created_at") or "")).get("id"))
    if pinned not in open_ids:
        pinned = None
    ordered = sorted(alerts, key=lambda a: (
        str(a.get("id")) != pinned, not officer_safety(a), -_rank(a),
        str(a.get("deadline") or _FAR), _newest_first(str(a.get("created_at") or ""))))
    return ordered, pinned
