"""Reading return text into structure (``docs/return-text.md``). No Qt.

:func:`parse_return` never raises: whatever a switch sends (CRLF, wrapped lines, runs of spaces,
lower case, control characters, missing blank lines, garbage) it gives what it could read, with
warnings for the rest. Unknown tags are kept as fields, unknown record types as records (treated
as hits, to be safe).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = ["CATEGORIES", "FILE_FOR_TITLE", "ParsedReturn", "ReturnHeader", "ReturnKind",
           "ReturnRecord", "parse_return", "split_pairs"]

ReturnKind = Literal["records", "no_record", "status", "error", "empty"]

# A tag: 2-3 capitals/digits (first a letter) then "/", at the start or after whitespace.
_TAG = re.compile(r"(?:(?<=\s)|^)([A-Z][A-Z0-9]{1,2})/")
# Control characters other than tab, CR and LF (C0, DEL, C1).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_HEADER = re.compile(r"^([A-Z][A-Z0-9]{1,3})\.([A-Z0-9]{2,9})(?:\.([A-Z0-9]{2,9}))?\.?$")
_NO_RECORD = ("NO NCIC", "NO RECORD", "NO HIT", "NO WANT", "NO III", "NO NLETS", "NOT ON FILE")

FILE_FOR_TITLE: list[tuple[str, str, bool]] = [
    # (title prefix, file, is a hit)
    ("STOLEN VEHICLE", "VEHICLE", True), ("FELONY VEHICLE", "VEHICLE", True),
    ("STOLEN PLATE", "VEHICLE", True), ("STOLEN LICENSE PLATE", "VEHICLE", True),
    ("WANTED PERSON", "WANTED", True), ("IMMIGRATION VIOLATOR", "IVF", True),
    ("PROTECTION ORDER", "PROTECTION_ORDER", True), ("STOLEN GUN", "GUN", True),
    ("MISSING PERSON", "MISSING", True),
    ("REGISTRATION", "REG", False), ("DRIVER LICENSE", "DL", False),
    ("DRIVER LICENCE", "DL", False), ("CRIMINAL HISTORY", "III", False),
    ("LESC STATUS", "LESC", False),
]
CATEGORIES = {"DEPORTED FELON": "DEPORTED_FELON", "ABSCONDER": "ABSCONDER",
              "NSEERS": "NSEERS"}


class ReturnHeader(NamedTuple):
    """The first line, ``MKE.DEST.SOURCE`` (``QV.MD1012600.NCIC``); ``source`` may be absent."""

    mke: str
    dest: str
    source: str | None


@dataclass
class ReturnRecord:
    """One record of a return. :meth:`to_dict` is the protocol's RECORD shape."""

    file: str
    hit: bool
    title: str = ""  # the words after MKE/ ("WANTED PERSON - CAUTION")
    nic: str | None = None
    category: str | None = None  # IVF: DEPORTED_FELON | ABSCONDER | NSEERS
    caution_codes: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # in order; repeats as TAG#2, TAG#3

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "hit": self.hit, "nic": self.nic, "category": self.category,
                "caution_codes": list(self.caution_codes), "caveats": list(self.caveats),
                "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data: Any) -> ReturnRecord:
        """A record that came structured from the gateway. Tolerant like the text parser: a
        malformed record gives what could be read (a record without ``hit`` counts as a hit
        when its file is a hit file)."""
        if not isinstance(data, dict):
            return cls(file="UNKNOWN", hit=True)
        file = str(data.get("file") or "UNKNOWN").upper()
        hit = data.get("hit")
        if not isinstance(hit, bool):
            hit = file not in {f for _, f, is_hit in FILE_FOR_TITLE if not is_hit}
        fields = data.get("fields") if isinstance(data.get("fields"), dict) else {}
        cautions = data.get("caution_codes")
        caveats = data.get("caveats")
        nic, category = data.get("nic"), data.get("category")
        return cls(file=file, hit=hit, title=str(data.get("title") or ""),
                   nic=str(nic) if nic else None,
                   category=str(category) if category else None,
                   caution_codes=[str(c) for c in cautions] if isinstance(cautions, list) else [],
                   caveats=[str(c) for c in caveats] if isinstance(caveats, list) else [],
                   fields={str(k): str(v) for k, v in (fields or {}).items()})


@dataclass
class ParsedReturn:
    header: ReturnHeader | None = None
    records: list[ReturnRecord] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)  # for the whole return
    kind: ReturnKind = "empty"
    status_text: str = ""  # the status, error or no-record text
    warnings: list[str] = field(default_factory=list)

    @property
    def hit(self) -> bool:
        return any(r.hit for r in self.records)


def split_pairs(text: str) -> list[tuple[str, str]]:
    """``TAG/value TAG/value`` → pairs; a value runs to the next tag or the end."""
    matches = list(_TAG.finditer(text))
    pairs = []
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        value = " ".join(text[match.end():end].split()).rstrip(".").strip()
        pairs.append((match.group(1), value))
    return pairs


def parse_return(text: str) -> ParsedReturn:
    """The structure of a return text; never raises."""
    result = ParsedReturn()
    try:
        _Parser(result).feed(text)
    except Exception as exc:  # the promise is "never raises": say so, keep what was read
        result.warnings.append(f"The return could not be read completely ({type(exc).__name__}).")
    return result


def _record_for(title: str, warnings: list[str]) -> ReturnRecord:
    for prefix, file, hit in FILE_FOR_TITLE:
        if title.startswith(prefix):
            category = next((c for words, c in CATEGORIES.items() if words in title), None)
            return ReturnRecord(file=file, hit=hit, title=title, category=category)
    warnings.append(f"Unknown record type '{title}': kept as is, treated as a hit to be safe.")
    return ReturnRecord(file="UNKNOWN", hit=True, title=title)


class _Parser:
    def __init__(self, result: ParsedReturn) -> None:
        self.result = result
        self.record: ReturnRecord | None = None
        self.caveat: list[str] | None = None  # the lines of a caveat still open
        self.caveat_owner: ReturnRecord | None = None
        self.last: str = ""  # what the previous line was: record | status | error | no_record
        self.seen: set[str] = set()

    # -- input -----------------------------------------------------------------------------------
    def feed(self, text: str) -> None:
        result = self.result
        if not isinstance(text, str):
            result.warnings.append("The return is not text.")
            return
        if _CONTROL.search(text):
            result.warnings.append("Control characters were removed from the return.")
            text = _CONTROL.sub("", text)
        lines = [" ".join(line.split()).upper()
                 for line in text.replace("\r\n", "\n").replace("\r", "\n").split("\n")]
        first = True
        for line in lines:
            if not line:
                self.close_caveat()
                continue
            if first:
                first = False
                header = _HEADER.match(line)
                if header:
                    result.header = ReturnHeader(header.group(1), header.group(2),
                                                 header.group(3))
                    continue
            self.line(line)
        self.close_caveat()
        self.finish()

    # -- one line --------------------------------------------------------------------------------
    def line(self, line: str) -> None:
        result = self.result
        if self.caveat is not None:
            if line.startswith(("*", "MKE/", "STATUS/", "REJECT/", "ERROR/", *_NO_RECORD)):
                self.close_caveat()  # the caveat's closing stars or blank line went missing
            else:
                self.caveat.append(line)
                if line.endswith("*"):
                    self.close_caveat()
                return
        if line.startswith("*"):
            self.caveat = [line]
            self.caveat_owner = self.record
            if line.strip("* ") and line.endswith("*"):
                self.close_caveat()
            return
        if line.startswith("MKE/"):
            title, rest = self.title_and_rest(line[4:])
            self.record = _record_for(title, result.warnings)
            result.records.append(self.record)
            self.last = "record"
            if rest:
                self.add_fields(rest)
            return
        if line.startswith(_NO_RECORD):
            self.seen.add("no_record")
            result.status_text = f"{result.status_text} {line}".strip() \
                if self.last == "no_record" else line
            self.record, self.last = None, "no_record"
            return
        for prefix, kind in (("STATUS/", "status"), ("REJECT/", "error"), ("ERROR/", "error")):
            if line.startswith(prefix):
                self.seen.add(kind)
                body = line[len(prefix):].strip()
                if kind == "error" or "error" not in self.seen:
                    result.status_text = body
                self.record, self.last = None, kind
                return
        pairs = split_pairs(line)
        if self.last in ("status", "error", "no_record") and self.record is None and (
                not pairs or self.last == "no_record"):
            result.status_text = f"{result.status_text} {line}".strip()  # a wrapped status
            return
        if self.record is None:
            if not pairs:
                result.warnings.append(f"Unreadable line skipped: {line[:40]}")
                return
            result.warnings.append("Fields before any record type (MKE/) were kept in an "
                                   "unnamed record.")
            self.record = ReturnRecord(file="UNKNOWN", hit=False, title="")
            result.records.append(self.record)
            self.last = "record"
        self.add_fields(line)

    @staticmethod
    def title_and_rest(after: str) -> tuple[str, str]:
        """``WANTED PERSON - CAUTION NAM/DOE, JOHN`` → the title, the fields after it."""
        match = _TAG.search(after)
        if match is None:
            return after.strip(), ""
        return after[:match.start()].strip(), after[match.start():]

    def add_fields(self, line: str) -> None:
        record = self.record
        assert record is not None
        first = _TAG.search(line)
        lead = line[:first.start()].strip() if first else line.strip()
        if lead:
            if not record.fields and record.title:  # a wrapped record type
                wrapped = _record_for(f"{record.title} {lead}", [])
                record.title = wrapped.title
                if wrapped.file != "UNKNOWN":
                    record.file, record.hit = wrapped.file, wrapped.hit
                    record.category = wrapped.category or record.category
            elif record.fields:  # a wrapped value: continue the last field
                last = next(reversed(record.fields))
                record.fields[last] = f"{record.fields[last]} {lead.rstrip('.')}".strip()
            else:
                self.result.warnings.append(f"Text without a tag kept in MIS: {lead[:40]}")
                record.fields["MIS"] = lead
        for tag, value in split_pairs(line):
            if tag == "CMC":
                record.caution_codes.extend(v for v in value.split() if v)
                continue
            if tag == "NIC" and value and record.nic is None:
                record.nic = value
            if tag in record.fields:
                n = 2
                while f"{tag}#{n}" in record.fields:
                    n += 1
                record.fields[f"{tag}#{n}"] = value
            else:
                record.fields[tag] = value

    def close_caveat(self) -> None:
        if self.caveat is None:
            return
        text = " ".join(" ".join(self.caveat).strip("* ").split())
        text = " ".join(text.replace("***", " ").split())
        if text:
            owner = self.caveat_owner
            (owner.caveats if owner is not None else self.result.caveats).append(text)
        self.caveat = None
        self.caveat_owner = None

    def finish(self) -> None:
        result = self.result
        if result.records:
            result.kind = "records"
        elif "error" in self.seen:
            result.kind = "error"
        elif "status" in self.seen:
            result.kind = "status"
        elif "no_record" in self.seen:
            result.kind = "no_record"
        # Whole-return caveats travel with every hit record, so a record shown or stored alone
        # still carries them (the gateway's structured records do the same).
        for record in result.records:
            if not record.title and (record.nic or record.caution_codes):
                record.hit = True  # its MKE/ line was lost; an NCIC number makes it a record
                result.warnings.append("A record without its type carries an NCIC number or "
                                       "caution codes: treated as a hit to be safe.")
            if record.hit:
                missing = [c for c in result.caveats if c not in record.caveats]
                record.caveats[:0] = missing
