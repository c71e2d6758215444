"""Reading return text into structure (``docs/return-text.md``). No Qt.

:func:`parse_return` never raises: whatever a switch sends (wrapped lines, extra spaces, lower
case, control characters, missing blank lines, garbage) it gives what it could read, with
warnings for the rest. Unknown tags are kept as fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

# A tag: 2-3 capitals/digits (first a letter) then "/", at the start or after whitespace.
_TAG = re.compile(r"(?:(?<=\s)|^)([A-Z][A-Z0-9]{1,2})/")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_HEADER = re.compile(r"^([A-Z]{2,3})\.([A-Z0-9]{2,9})\.([A-Z0-9]{2,9})$")

FILE_FOR_TITLE: list[tuple[str, str, bool]] = [
    # (title prefix, file, is a hit)
    ("STOLEN VEHICLE", "VEHICLE", True), ("FELONY VEHICLE", "VEHICLE", True),
    ("STOLEN PLATE", "VEHICLE", True), ("WANTED PERSON", "WANTED", True),
    ("IMMIGRATION VIOLATOR", "IVF", True), ("PROTECTION ORDER", "PROTECTION_ORDER", True),
    ("STOLEN GUN", "GUN", True), ("MISSING PERSON", "MISSING", True),
    ("REGISTRATION", "REG", False), ("DRIVER LICENSE", "DL", False),
    ("DRIVER LICENCE", "DL", False), ("CRIMINAL HISTORY", "III", False),
    ("LESC STATUS", "LESC", False),
]
CATEGORIES = {"DEPORTED FELON": "DEPORTED_FELON", "ABSCONDER": "ABSCONDER",
              "NSEERS": "NSEERS"}


@dataclass
class ReturnRecord:
    file: str
    hit: bool
    title: str = ""
    nic: str | None = None
    category: str | None = None
    caution_codes: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"file": self.file, "hit": self.hit, "nic": self.nic, "category": self.category,
                "caution_codes": list(self.caution_codes), "caveats": list(self.caveats),
                "fields": dict(self.fields)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ReturnRecord:
        return cls(file=str(data.get("file") or "UNKNOWN"), hit=bool(data.get("hit")),
                   nic=data.get("nic"), category=data.get("category"),
                   caution_codes=[str(c) for c in data.get("caution_codes") or []],
                   caveats=[str(c) for c in data.get("caveats") or []],
                   fields={str(k): str(v) for k, v in (data.get("fields") or {}).items()})


@dataclass
class ParsedReturn:
    header: tuple[str, str, str] | None = None  # (mke, dest, source)
    records: list[ReturnRecord] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    kind: str = "empty"  # records | no_record | status | error | empty
    status_text: str = ""
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
        value = " ".join(text[match.end():end].split()).rstrip(".")
        pairs.append((match.group(1), value))
    return pairs


def _record(title: str, warnings: list[str]) -> ReturnRecord:
    upper = title.upper()
    for prefix, file, hit in FILE_FOR_TITLE:
        if upper.startswith(prefix):
            category = next((c for words, c in CATEGORIES.items() if words in upper), None)
            return ReturnRecord(file=file, hit=hit, title=title, category=category)
    warnings.append(f"Unknown record type '{title}': kept as is, treated as a hit to be safe.")
    return ReturnRecord(file="UNKNOWN", hit=True, title=title)


def _add_fields(record: ReturnRecord, line: str) -> None:
    for tag, value in split_pairs(line):
        if tag == "CMC":
            record.caution_codes.extend(v for v in value.split() if v)
        elif tag == "NIC":
            record.nic = value or record.nic
            record.fields.setdefault("NIC", value)
        elif tag in record.fields:
            n = 2
            while f"{tag}#{n}" in record.fields:
                n += 1
            record.fields[f"{tag}#{n}"] = value
        else:
            record.fields[tag] = value


def parse_return(text: str) -> ParsedReturn:
    result = ParsedReturn()
    try:
        _parse_into(result, text)
    except Exception as exc:
        result.warnings.append(f"The return could not be read completely ({type(exc).__name__}).")
    return result


def _parse_into(result: ParsedReturn, text: str) -> None:
    if not isinstance(text, str):
        result.warnings.append("The return is not text.")
        return
    if _CONTROL.search(text):
        result.warnings.append("Control characters were removed from the return.")
        text = _CONTROL.sub("", text)
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").replace("\r", "\n")
             .split("\n")]
    # Blocks: separated by blank lines.
    blocks: list[list[str]] = [[]]
    for line in lines:
        if line:
            blocks[-1].append(line)
        elif blocks[-1]:
            blocks.append([])
    blocks = [b for b in blocks if b]
    if not blocks:
        return
    first = blocks[0][0].upper()
    if _HEADER.match(first):
        m = _HEADER.match(first)
        assert m is not None
        result.header = (m.group(1), m.group(2), m.group(3))
        blocks[0] = blocks[0][1:]
        blocks = [b for b in blocks if b]
    current: ReturnRecord | None = None
    for block in blocks:
        head = block[0].upper()
        if head.startswith("***") or head.startswith("*"):
            caveat = " ".join(line.strip("* ").strip() for line in block).strip()
            caveat = " ".join(caveat.split())
            if current is not None:
                current.caveats.append(caveat)
            else:
                result.caveats.append(caveat)
            continue
        if head.startswith(("NO NCIC", "NO RECORD", "NO HIT", "NO WANT")):
            result.kind = "no_record" if result.kind in ("empty", "no_record") else result.kind
            result.status_text = " ".join(block)
            current = None
            continue
        if head.startswith("STATUS/"):
            result.kind = "status" if result.kind == "empty" else result.kind
            result.status_text = " ".join(block)[len("STATUS/"):].strip()
            continue
        if head.startswith(("REJECT/", "ERROR/")):
            result.kind = "error"
            result.status_text = " ".join(block).split("/", 1)[1].strip()
            continue
        for line in block:
            upper = line.upper()
            if upper.startswith("MKE/"):
                title = split_pairs(upper)[0][1] if split_pairs(upper) else upper[4:]
                current = _record(title, result.warnings)
                result.records.append(current)
                rest = upper[4 + len(title):].strip()
                if rest:
                    _add_fields(current, rest)
                continue
            if upper.startswith("*"):
                caveat = " ".join(upper.strip("* ").split())
                (current.caveats if current else result.caveats).append(caveat)
                continue
            if current is None:
                if split_pairs(upper):
                    result.warnings.append("Fields before any record type (MKE/) were kept in "
                                           "an unnamed record.")
                    current = ReturnRecord(file="UNKNOWN", hit=False, title="")
                    result.records.append(current)
                else:
                    result.warnings.append(f"Unreadable line skipped: {upper[:40]}")
                    continue
            if not split_pairs(upper):
                # A wrapped line: continue the last field's value.
                if current.fields:
                    last = next(reversed(current.fields))
                    current.fields[last] = f"{current.fields[last]} {upper}".strip()
                continue
            _add_fields(current, upper)
    if result.records:
        result.kind = "records"
    # A record with whole-return caveats carries them too, so they travel with it.
    for record in result.records:
        for caveat in result.caveats:
            if record.hit and caveat not in record.caveats:
                record.caveats.insert(0, caveat)
