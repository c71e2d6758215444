"""What a return is once read: its header, its records and what the switch said around them.
Made by the text parser (:mod:`mdt.core.returns`) or from the gateway's structured records
(:meth:`ReturnRecord.from_dict`). No Qt."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple

__all__ = [
    "CATEGORIES",
    "FILE_FOR_TITLE",
    "ParsedReturn",
    "RecordFields",
    "ReturnHeader",
    "ReturnKind",
    "ReturnRecord",
]

ReturnKind = Literal["records", "no_record", "status", "error", "text", "empty"]

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
    """The first line, ``MKE.DEST.SOURCE`` (``QV.MD1012600.NCIC``); ``source`` may be absent.

    A legacy switch's own form, ``MKE.SENDER.DEST[.CONTROL].TXT``
    (``IAR.VTICE0900.MD1012600.TXT``), is read into the same shape (dest = the second ORI,
    source = the sender)."""

    mke: str
    dest: str
    source: str | None


@dataclass
class ReturnRecord:
    """One record of a return. :meth:`to_dict` is the protocol's RECORD shape (``narrative``
    only when the record has some)."""

    file: str
    hit: bool
    title: str = ""  # the words after MKE/ ("WANTED PERSON - CAUTION")
    nic: str | None = None
    category: str | None = None  # IVF: DEPORTED_FELON | ABSCONDER | NSEERS
    caution_codes: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    fields: dict[str, str] = field(default_factory=dict)  # in order; repeats as TAG#2, TAG#3
    narrative: list[str] = field(default_factory=list)  # lines of text without tags, in order

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "file": self.file, "hit": self.hit, "nic": self.nic, "category": self.category,
            "caution_codes": list(self.caution_codes), "caveats": list(self.caveats),
            "fields": dict(self.fields)}
        if self.narrative:
            data["narrative"] = list(self.narrative)
        return data

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
        narrative = data.get("narrative")
        nic, category = data.get("nic"), data.get("category")
        return cls(file=file, hit=hit, title=str(data.get("title") or ""),
                   nic=str(nic) if nic else None,
                   category=str(category) if category else None,
                   caution_codes=[str(c) for c in cautions] if isinstance(cautions, list) else [],
                   caveats=[str(c) for c in caveats] if isinstance(caveats, list) else [],
                   fields={str(k): str(v) for k, v in (fields or {}).items()},
                   narrative=[str(n) for n in narrative] if isinstance(narrative, list) else [])


@dataclass
class ParsedReturn:
    header: ReturnHeader | None = None
    records: list[ReturnRecord] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)  # for the whole return
    kind: ReturnKind = "empty"
    status_text: str = ""  # the status, error or no-record text
    warnings: list[str] = field(default_factory=list)
    narrative: list[str] = field(default_factory=list)  # text lines before any record
    headers: list[str] = field(default_factory=list)  # every header line, as printed
    control: str | None = None  # the header's control field (``.CONTROL.TXT``), if any
    wrap_width: int | None = None  # the terminal width the text was cut at, when it was

    @property
    def hit(self) -> bool:
        return any(r.hit for r in self.records)

    @property
    def text_lines(self) -> list[str]:
        """All narrative text, the return's then each record's, for showing and searching."""
        return [*self.narrative, *(line for r in self.records for line in r.narrative)]


class RecordFields:
    """A record's fields while they are read. A value wrapped over several lines is kept as its
    pieces, joined once at the end (a value wrapped over many lines costs its length, not its
    length squared); a value on one line (nearly all) is a plain string."""

    def __init__(self, record: ReturnRecord) -> None:
        self.record = record
        self.values: dict[str, str] = {}
        self.pieces: dict[str, list[str]] = {}  # the values continued on later lines
        self.sizes: dict[str, int] = {}  # their lengths so far
        self.repeats: dict[str, int] = {}
        self.last: str | None = None  # the key last written (TAG or TAG#n)
        self.last_tag: str = ""

    def add(self, tag: str, value: str) -> None:
        key = tag
        values = self.values
        if tag in values:
            n = self.repeats.get(tag, 1) + 1
            while f"{tag}#{n}" in values:  # a tag printed as "ORI#2" itself: rare
                n += 1
            self.repeats[tag] = n
            key = f"{tag}#{n}"
        values[key] = value
        self.last, self.last_tag = key, tag

    def size_of_last(self) -> int:
        last = self.last
        if last is None:
            return 0
        return self.sizes[last] if last in self.pieces else len(self.values[last])

    def value_of_last(self) -> str:
        last = self.last
        if last is None:
            return ""
        return "".join(self.pieces[last]) if last in self.pieces else self.values[last]

    def extend_last(self, piece: str, glue: str) -> None:
        last = self.last
        assert last is not None
        parts = self.pieces.get(last)
        if parts is None:
            first = self.values[last]
            parts = self.pieces[last] = [first] if first else []
            self.sizes[last] = len(first)
        parts.append(f"{glue}{piece}" if parts else piece)
        self.sizes[last] += len(glue) + len(piece)

    def finish(self) -> None:
        record = self.record
        for key, parts in self.pieces.items():
            self.values[key] = "".join(parts).rstrip(".").strip()
        record.fields = self.values
        if record.nic is None:
            record.nic = next((v for k, v in record.fields.items()
                               if v and k.partition("#")[0] == "NIC"), None)
