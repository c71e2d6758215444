"""How identifiers are normalised for matching: names (with Soundex and NYSIIS keys), dates of
birth, plates, VINs, NICs, licence numbers and alien registration numbers. No Qt, no SQL.

The cache indexes each record's identifiers with :func:`record_keys` and reads a search text with
:func:`search_terms`; both use the same normalisers, so what is stored is found the way it was
written or the way an officer types it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import jellyfish

__all__ = ["RecordKeys", "SearchTerms", "digits_arn", "find_date", "name_key", "normalize_dob",
           "normalize_ident", "normalize_name", "record_keys", "search_terms", "sound_key",
           "split_name"]


def _letters(text: str) -> str:
    return "".join(ch for ch in text if ch.isalpha())


def split_name(name: str) -> tuple[str, str]:
    """``LAST, FIRST MIDDLE`` -> (``LAST``, ``FIRST MIDDLE``), upper case, single spaces."""
    last, _, rest = name.upper().partition(",")
    return " ".join(last.split()), " ".join(rest.split())


def normalize_name(name: str) -> str:
    last, rest = split_name(name)
    return f"{last}, {rest}" if rest else last


def name_key(name: str) -> str:
    """How NCIC-style matching hears a name: Soundex of the last name (as NCIC's name search
    does) + the first initial."""
    last, rest = split_name(name)
    letters = _letters(last)
    return f"{jellyfish.soundex(letters)}|{rest[:1]}" if letters else ""


def sound_key(name: str) -> str:
    """The second ear: NYSIIS of the last name (KNIGHT ~ NIGHT, which Soundex splits) + the first
    initial."""
    last, rest = split_name(name)
    letters = _letters(last)
    return f"{jellyfish.nysiis(letters)}|{rest[:1]}" if letters else ""


def normalize_ident(value: str) -> str:
    """Plates, VINs, NICs, licence numbers: upper case, no spaces or dashes."""
    return re.sub(r"[\s\-]", "", value.upper())


def digits_arn(value: str) -> str:
    """An alien registration number (``A123456789``, ``AR-123456789``, ``A-12345678``) as its
    nine digits; "" when it is not one."""
    value = normalize_ident(value)
    for prefix in ("AR", "A"):
        if value.startswith(prefix):
            value = value[len(prefix):]
            break
    return value.zfill(9) if value.isdigit() and 7 <= len(value) <= 9 else ""


_DATE_FORMS = [(re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b"), (1, 2, 3)),
               (re.compile(r"\b(\d{2})/(\d{2})/(\d{4})\b"), (3, 1, 2)),
               (re.compile(r"\b(\d{4})(\d{2})(\d{2})\b"), (1, 2, 3))]


def find_date(text: str) -> tuple[str, str] | None:
    """The first date in ``text`` as (``YYYYMMDD``, the text it was written as)."""
    for pattern, (y, m, d) in _DATE_FORMS:
        match = pattern.search(text)
        if match and 1 <= int(match.group(m)) <= 12 and 1 <= int(match.group(d)) <= 31:
            return match.group(y) + match.group(m) + match.group(d), match.group(0)
    return None


def normalize_dob(value: str) -> str:
    found = find_date(value.strip())
    return found[0] if found else value.strip().upper()


@dataclass(frozen=True)
class RecordKeys:
    """What one record is found by (None: the record has no such identifier) and its words."""

    file: str
    hit: bool
    name: str | None
    name_key: str | None
    sound_key: str | None
    dob: str | None
    plate: str | None
    vin: str | None
    arn: str | None
    nic: str | None
    oln: str | None
    body: str  # the free text (FTS) of the record


def record_keys(record: dict[str, Any]) -> RecordKeys:
    """One return record's identifiers, normalised, and its searchable words."""
    fields = {str(k).upper(): str(v).strip().upper()
              for k, v in (record.get("fields") or {}).items() if v is not None}
    name = normalize_name(fields.get("NAM", ""))
    mnu = fields.get("MNU", "")
    arn = digits_arn(fields.get("ARN", "")) or (
        digits_arn(mnu) if normalize_ident(mnu).startswith("AR") else "")
    nic = normalize_ident(str(record.get("nic") or fields.get("NIC") or ""))
    narrative = record.get("narrative") or []
    body = " ".join([str(record.get("file") or ""), *(f"{k} {v}" for k, v in fields.items()),
                     *(str(c) for c in record.get("caveats") or []),
                     *(str(n) for n in (narrative if isinstance(narrative, list) else []))])
    return RecordKeys(
        file=str(record.get("file") or ""), hit=bool(record.get("hit")), name=name or None,
        name_key=name_key(name) or None, sound_key=sound_key(name) or None,
        dob=normalize_dob(fields["DOB"]) if fields.get("DOB") else None,
        plate=normalize_ident(fields.get("LIC", "")) or None,
        vin=normalize_ident(fields.get("VIN", "")) or None, arn=arn or None, nic=nic or None,
        oln=normalize_ident(fields.get("OLN", "")) or None, body=body)


@dataclass(frozen=True)
class SearchTerms:
    """What a search text asks for: a name (``LAST, FIRST``, with its sound keys), a date of
    birth, an identifier, an A-number, or words."""

    text: str
    dob: str | None
    name: str  # "" when the text is not a name
    given: str  # the given names of ``name``
    name_prefix: str  # ``LAST, `` or ``LAST, FIRST ``: names that go on from the one typed
    ident: str
    arn: str
    tokens: list[str]
    name_key: str
    sound_key: str


def search_terms(query: str) -> SearchTerms:
    text = " ".join(query.upper().split())
    found = find_date(text)
    dob = found[0] if found else None
    rest = text.replace(found[1], " ").strip(" ,") if found else text
    name = normalize_name(rest) if "," in text and rest else ""
    last, given = split_name(name)
    prefix = (f"{name} " if given else f"{last}, ") if name else ""
    return SearchTerms(
        text=text, dob=dob, name=name, given=given, name_prefix=prefix,
        ident=normalize_ident(text), arn=digits_arn(text), tokens=re.findall(r"[^\W_]+", text),
        name_key=name_key(name) if name else "", sound_key=sound_key(name) if name else "")
