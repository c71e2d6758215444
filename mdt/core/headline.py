"""The headline of a return: the one line an officer reads first. No Qt.

Decided here, once, from the records and the text, so that the list, the detail, the command
line and the printout say the same thing, and so that a return gives the same headline whether
the gateway sent structured ``records`` beside its text or the text alone (a legacy switch, the
gateway's ``--text-only`` mode): records parsed from the text and the gateway's records carry the
same files, hit flags, categories, caution codes, fields and narrative, and everything else
(no record, a status, an error) is read from the text in both cases.

What the headline can be, loudest first:

- **hit** — a record that matches the query (which file: stolen vehicle, wanted person,
  immigration violator and its category ...); "danger" when a caution code says so.
- **notable** — records that are not hits but matter: a status word (SUSPENDED, REVOKED,
  DEPORTED FELON ...) in a status field or in the narrative, a detainer (``DET/Y``, "ICE WILL
  LODGE A DETAINER").
- **records** — records with nothing notable in them (a valid licence, a registration).
- **no_record** — the switch says there is none.
- **error** — the switch refused the message (``REJECT/``, ``ERROR/``).
- **status** — the switch's word on the route (destination down, will forward ...).
- **text** — text without records or status: it must be read.
- **empty** — nothing was read.
- **waiting** — no answer yet: the query is queued, sent or acknowledged (:func:`waiting`).

A record that is not a hit is named for what it is, never for the hit its file could hold: a
vehicle record that is not a hit is a "VEHICLE RECORD", not a "STOLEN VEHICLE".
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from mdt.core.cautions import Severity, cautions
from mdt.core.returns import ParsedReturn, ReturnRecord, parse_return

__all__ = ["FILE_LABELS", "RECORD_LABELS", "Headline", "HeadlineKind", "decide",
           "headline_of_event", "headline_of_text", "notable_reasons", "waiting"]


class HeadlineKind(StrEnum):
    HIT = "hit"
    NOTABLE = "notable"
    RECORDS = "records"
    NO_RECORD = "no_record"
    ERROR = "error"
    STATUS = "status"
    TEXT = "text"
    EMPTY = "empty"
    WAITING = "waiting"


# The colour role each kind is shown in (a theme maps roles to colours).
ROLES = {HeadlineKind.HIT: "hit", HeadlineKind.NOTABLE: "warning", HeadlineKind.RECORDS: "info",
         HeadlineKind.NO_RECORD: "clear", HeadlineKind.ERROR: "error",
         HeadlineKind.STATUS: "status", HeadlineKind.TEXT: "warning",
         HeadlineKind.EMPTY: "warning", HeadlineKind.WAITING: "pending"}

FILE_LABELS = {"VEHICLE": "STOLEN VEHICLE", "WANTED": "WANTED PERSON",
               "IVF": "IMMIGRATION VIOLATOR", "PROTECTION_ORDER": "PROTECTION ORDER",
               "GUN": "STOLEN GUN", "MISSING": "MISSING PERSON", "REG": "REGISTRATION",
               "DL": "DRIVER LICENSE", "III": "CRIMINAL HISTORY", "LESC": "LESC STATUS",
               "UNKNOWN": "UNKNOWN RECORD TYPE"}
# A record of a hit file that is not a hit (a structured record with ``hit: false``): its name
# without the word that would make it one.
RECORD_LABELS = {**FILE_LABELS, "VEHICLE": "VEHICLE RECORD", "WANTED": "PERSON RECORD",
                 "IVF": "IMMIGRATION RECORD", "PROTECTION_ORDER": "PROTECTION ORDER RECORD",
                 "GUN": "GUN RECORD", "MISSING": "PERSON RECORD"}
CATEGORY_WORDS = {"DEPORTED_FELON": "DEPORTED FELON", "ABSCONDER": "ABSCONDER",
                  "NSEERS": "NSEERS"}

# Fields that hold a record's status (a licence's STA, LESC's STA ...).
STATUS_TAGS = frozenset({"STA", "STS", "LST", "DLS", "LSS", "IST"})
# Words in a status field or in the narrative that make a record matter.
STATUS_WORDS = ("SUSPENDED", "REVOKED", "CANCELLED", "CANCELED", "DENIED", "DISQUALIFIED",
                "EXPIRED", "BARRED", "DEPORTED FELON", "ABSCONDER", "NSEERS",
                "FINAL ORDER OF REMOVAL", "REMOVAL ORDER")
_STATUS_WORDS = re.compile(r"\b(" + "|".join(re.escape(w) for w in STATUS_WORDS) + r")\b")
_NEGATION = re.compile(r"\b(NOT|NO|NEVER|NONE|WITHOUT)\b")
_DETAINER_FLAG = re.compile(r"^(Y|YES|DET-\S+)$")
_MAX_TEXT = 160  # a headline is one line: a longer status is cut there, with "…" (it is all in
# the return's text)


def _short(text: str) -> str:
    return text if len(text) <= _MAX_TEXT else text[:_MAX_TEXT - 1].rstrip() + "…"


@dataclass(frozen=True)
class Headline:
    kind: HeadlineKind
    text: str  # the one line, e.g. "HIT — STOLEN VEHICLE"
    role: str  # the colour role: danger | hit | warning | info | clear | error | status |
    # pending
    files: tuple[str, ...] = ()  # the hit files (hit) or the files of the notable records
    reasons: tuple[str, ...] = field(default=())  # what matters: "DRIVER LICENSE SUSPENDED" ...

    @property
    def short(self) -> str:
        """The headline for a list cell: the same decision, without the switch's own words
        (a no-record, status or error text is read in the detail)."""
        if self.kind is HeadlineKind.NO_RECORD:
            return "No record"
        if self.kind is HeadlineKind.ERROR:
            return "Rejected"
        if self.kind is HeadlineKind.STATUS:
            return "Switch status"
        if self.kind is HeadlineKind.TEXT:
            return "Text — read it"
        if self.kind is HeadlineKind.EMPTY:
            return "Empty return"
        return self.text

    @property
    def is_hit(self) -> bool:
        return self.kind is HeadlineKind.HIT

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind.value, "text": self.text, "role": self.role,
                "files": list(self.files), "reasons": list(self.reasons)}


def _record(data: ReturnRecord | Mapping[str, Any] | Any) -> ReturnRecord:
    return data if isinstance(data, ReturnRecord) else ReturnRecord.from_dict(data)


def _hit_label(record: ReturnRecord) -> str:
    label = FILE_LABELS.get(record.file, record.file.replace("_", " "))
    words = CATEGORY_WORDS.get(record.category or "")
    return f"{label} ({words})" if words else label


def _record_label(file: str) -> str:
    return RECORD_LABELS.get(file, file.replace("_", " "))


def _lines_say(lines: Iterable[str]) -> list[str]:
    """What narrative lines say that matters: status words and a detainer, unless negated."""
    found = []
    for line in lines:
        upper = " ".join(line.upper().split())
        if _NEGATION.search(upper):
            continue
        found += [m.group(1) for m in _STATUS_WORDS.finditer(upper)]
        if "DETAINER" in upper:
            found.append("DETAINER")
    return found


def notable_reasons(record: ReturnRecord | Mapping[str, Any], extra_lines: Sequence[str] = ()
                    ) -> list[str]:
    """Why a record matters beyond being a hit: its status words and a detainer, from its
    fields and its narrative (plus ``extra_lines`` of narrative), in order, without repeats."""
    record = _record(record)
    reasons: list[str] = []
    for key, value in record.fields.items():
        tag = key.partition("#")[0]
        upper = " ".join(str(value).upper().split())
        if tag in STATUS_TAGS:
            reasons += [m.group(1) for m in _STATUS_WORDS.finditer(upper)]
        elif tag == "DET" and _DETAINER_FLAG.match(upper):
            reasons.append("DETAINER")
    reasons += _lines_say([*record.narrative, *extra_lines])
    return list(dict.fromkeys(reasons))


def decide(records: Sequence[ReturnRecord | Mapping[str, Any]] | None, text: str = "", *,
           event_type: str = "response", status: str = "",
           parsed: ParsedReturn | None = None) -> Headline:
    """The headline of a return: from ``records`` when the gateway sent some, else from the
    records read from ``text``; no record, status and error always from the text (and from
    ``event_type``/``status`` of a ``status`` event)."""
    parsed = parsed if parsed is not None else parse_return(text or "")
    # An empty list of records is no evidence against the text: a text with records in it is
    # read ("Empty return" was said over a stored hit whose records were not kept).
    chosen = [_record(r) for r in records] if records else parsed.records
    if chosen:
        # Narrative the structured records lack but the text has (a gateway that sends both)
        # counts the same as narrative read into the records.
        have = {line for r in chosen for line in r.narrative}
        loose = [line for line in parsed.text_lines if line not in have]
        return _of_records(chosen, loose)
    if event_type == "status":
        what = _short(parsed.status_text or " ".join(str(text).split()[:40])
                      or status.replace("_", " "))
        if status == "rejected" or parsed.kind == "error":
            return Headline(HeadlineKind.ERROR, f"Rejected — {what}".rstrip(" —"),
                            ROLES[HeadlineKind.ERROR])
        return Headline(HeadlineKind.STATUS, f"Switch status — {what}".rstrip(" —"),
                        ROLES[HeadlineKind.STATUS])
    kind = parsed.kind
    if kind == "no_record":
        return Headline(HeadlineKind.NO_RECORD, f"No record — {_short(parsed.status_text)}",
                        ROLES[HeadlineKind.NO_RECORD])
    if kind == "error":
        return Headline(HeadlineKind.ERROR,
                        f"Rejected — {_short(parsed.status_text)}".rstrip(" —"),
                        ROLES[HeadlineKind.ERROR])
    if kind == "status":
        return Headline(HeadlineKind.STATUS,
                        f"Switch status — {_short(parsed.status_text)}".rstrip(" —"),
                        ROLES[HeadlineKind.STATUS])
    if kind == "text":
        reasons = tuple(dict.fromkeys(_lines_say(parsed.narrative)))
        said = f": {', '.join(reasons)}" if reasons else ""
        return Headline(HeadlineKind.TEXT, f"Text without records{said} — read it",
                        ROLES[HeadlineKind.TEXT], reasons=reasons)
    return Headline(HeadlineKind.EMPTY, "Empty return — nothing could be read",
                    ROLES[HeadlineKind.EMPTY])


def _of_records(records: list[ReturnRecord], loose_lines: list[str]) -> Headline:
    reasons: list[str] = []
    notable_files: list[str] = []
    for i, record in enumerate(records):
        # Narrative outside any record belongs to the last record it could be about.
        found = notable_reasons(record, loose_lines if i == len(records) - 1 else ())
        if found:
            reasons += found
            notable_files.append(record.file)
    reasons = list(dict.fromkeys(reasons))
    hits = [r for r in records if r.hit]
    if hits:
        labels = list(dict.fromkeys(_hit_label(r) for r in hits))
        danger_words = [c.words for c in cautions([c for r in hits for c in r.caution_codes])
                        if c.severity == Severity.DANGER]
        text = f"HIT — {' + '.join(labels)}"
        danger = bool(danger_words)
        if danger:
            text += f" — {', '.join(danger_words)}"
        if reasons:
            text += f" — {', '.join(reasons)}"
        return Headline(HeadlineKind.HIT, text, "danger" if danger else ROLES[HeadlineKind.HIT],
                        tuple(dict.fromkeys(r.file for r in hits)), tuple(reasons))
    count = f"{len(records)} RECORDS" if len(records) > 1 else "RECORD"
    if reasons:
        labels = list(dict.fromkeys(_record_label(f) for f in notable_files))
        return Headline(HeadlineKind.NOTABLE,
                        f"{count} — {' + '.join(labels)}: {', '.join(reasons)}",
                        ROLES[HeadlineKind.NOTABLE], tuple(dict.fromkeys(notable_files)),
                        tuple(reasons))
    labels = list(dict.fromkeys(_record_label(r.file) for r in records))
    return Headline(HeadlineKind.RECORDS, f"{count} — {' + '.join(labels)}, nothing notable",
                    ROLES[HeadlineKind.RECORDS])


def headline_of_text(text: str) -> Headline:
    """The headline of a return known only by its text."""
    return decide(None, text)


def headline_of_event(event: Mapping[str, Any]) -> Headline:
    """The headline of a gateway event (``response``, ``delayed_hit``, ``status``): its
    ``records`` when it has a list of them, else its text."""
    records = event.get("records")
    return decide(records if isinstance(records, list) else None,
                  str(event.get("text") or ""), event_type=str(event.get("type") or "response"),
                  status=str(event.get("status") or ""))


def waiting(words: str) -> Headline:
    """The headline of a query with no answer yet: its outbox state in ``words``."""
    return Headline(HeadlineKind.WAITING, words, ROLES[HeadlineKind.WAITING])
