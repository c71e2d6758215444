"""Reading return text into structure (``docs/return-text.md``). No Qt.

:func:`parse_return` never raises and keeps every line: whatever a switch sends (CRLF, lines
wrapped at the terminal width in the middle of a value, runs of spaces, lower case, control
characters, missing blank lines, header lines, narrative paragraphs, garbage) it gives what it read
as fields, caveats, status text or narrative text, with warnings for what it had to guess. Unknown
tags are kept as fields, unknown record types as records (treated as hits, to be safe).

It runs in time and memory linear in the text: every line is looked at a bounded number of times,
values wrapped over many lines are gathered in lists and joined once, repeated tags are numbered
from a counter, and the warnings are capped.

Wrapped lines are joined in two ways:

- **At the terminal width.** A switch that wraps at a fixed width (64, 80 ... columns) cuts a line
  every W characters, wherever that falls: in a tag, a value or a word. When the longest line
  length W is shared by at least two lines and by at least half of the lines near it (word-wrapped
  or unwrapped text has lines of every length below its longest), or when only one line is that
  long but W is a terminal's usual width (64, 72, 80, 132), a line of exactly W characters
  continues on the next one, and the two are joined as they were before the cut (unless the next
  line starts a new ``TAG/`` right after a whole pair).
- **By what a value is.** Elsewhere, a line that starts with text before its first tag continues
  the last field: a field whose format is known (VIN, NIC, ORI, plate, dates, A-number ...) is
  joined without the break when the two pieces make one such value (``VIN/1G4AH59H45G1`` then
  ``18341`` → ``1G4AH59H45G118341``); free text keeps its words (joined by a space). A line of
  words without any tag that cannot continue the last field (after a blank line, after a complete
  identifier or flag, after a short line) is **narrative** — an IAR's finding, LESC's
  instructions — kept in order on its record (or on the return before any record).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from mdt.core.return_model import (
    CATEGORIES,
    FILE_FOR_TITLE,
    ParsedReturn,
    RecordFields,
    ReturnHeader,
    ReturnKind,
    ReturnRecord,
)

__all__ = ["CATEGORIES", "FILE_FOR_TITLE", "ParsedReturn", "ReturnHeader", "ReturnKind",
           "ReturnRecord", "parse_return", "split_pairs"]


# A tag: 2-3 capitals/digits (first a letter) then "/", at the start or after whitespace.
_TAG = re.compile(r"(?:(?<=\s)|^)([A-Z][A-Z0-9]{1,2})/")
_TAG_START = re.compile(r"[A-Za-z][A-Za-z0-9]{1,2}/")  # a raw line that starts with a tag
# Control characters other than tab, CR and LF (C0, DEL, C1), and whole terminal escape
# sequences (ESC [ ... m: colours, cursor moves), so that no "[0m" is left behind.
_CONTROL = re.compile(r"\x1b\[[0-9;?]{0,16}[ -/]{0,2}[@-~]|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# MKE.ORI.ORI-or-file[.CONTROL][.TXT]: "QV.MD1012600.NCIC", "IAR.VTICE0900.MD1012600.TXT".
_HEADER = re.compile(r"^([A-Z][A-Z0-9]{1,3})\.([A-Z0-9]{2,9})(?:\.([A-Z0-9]{2,9}))?"
                     r"(?:\.(?!TXT\.?$)([A-Z0-9]{1,12}))?(\.TXT)?\.?$")
_NO_RECORD = ("NO NCIC", "NO RECORD", "NO HIT", "NO WANT", "NO III", "NO NLETS", "NOT ON FILE")
# Caveats without stars: a block that opens with one of these words.
_CAVEAT_WORDS = ("WARNING -", "WARNING:", "CAUTION -", "CAUTION:", "ATTENTION -", "ATTENTION:",
                 "NOTICE -", "NOTICE:")
_MAX_WARNINGS = 50
_TERMINAL_WIDTHS = (64, 72, 80, 132)
_TITLE_WRAP = 60  # a record type goes on over the next line only while it is shorter than this
# Whole-return caveats copied onto each hit record: at most this many (all stay on the return),
# so that thousands of caveats and thousands of records cannot multiply into millions.
_MAX_SHARED_CAVEATS = 16

# Fields whose values have a known shape: a wrapped piece is joined without the break when the
# two pieces make one such value. (tag → the whole value)
_DATE = r"\d{8}|\d{6}"
_FORMATS: dict[str, re.Pattern[str]] = {
    tag: re.compile(pattern) for tag, pattern in {
        "VIN": r"[A-Z0-9]{17}", "NIC": r"[A-Z]\d{9}", "ORI": r"[A-Z]{2}[A-Z0-9]{7}",
        "ARN": r"A?\d{8,9}", "MNU": r"[A-Z]{2}-[A-Z0-9]{6,12}", "SOC": r"\d{9}",
        "DOB": _DATE, "DOT": _DATE, "DOA": _DATE, "DOE": _DATE, "DOR": _DATE, "DOW": _DATE,
        "EXP": _DATE, "PPB": _DATE, "DOI": _DATE, "DOV": _DATE, "LIY": r"\d{4}",
        "VYR": r"\d{4}", "HGT": r"\d{3}", "WGT": r"\d{3}",
    }.items()}
# Identifiers without a fixed shape: no spaces, at most this long.
_IDENTIFIERS = {"LIC": 10, "OCA": 20, "OLN": 20, "SER": 20, "FBI": 9, "SID": 10, "CTZ": 2,
                "LIS": 2, "OLS": 2, "SEX": 1, "RAC": 1, "LIT": 2, "VST": 2, "VMA": 4, "VMO": 3,
                "EYE": 3, "HAI": 3, "POB": 2, "CMC": 2}
# Short words (a status): a line of words after one is narrative unless more fields follow on it.
_SHORT_TEXT = {"STA", "STS", "CST", "DIS", "LST", "DLS"}
# Yes/no flags: complete as soon as they have a value.
_FLAGS = {"DET", "CUS", "IMQ"}
_TOKEN = re.compile(r"[A-Z0-9-]+")


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


def _record_for(title: str, warnings: list[str] | None) -> ReturnRecord:
    for prefix, file, hit in FILE_FOR_TITLE:
        if title.startswith(prefix):
            category = next((c for words, c in CATEGORIES.items() if words in title), None)
            return ReturnRecord(file=file, hit=hit, title=title, category=category)
    if warnings is not None:
        _warn(warnings, f"Unknown record type '{title[:60]}': kept as is, treated as a hit to be "
                        "safe.")
    return ReturnRecord(file="UNKNOWN", hit=True, title=title)


def _warn(warnings: list[str], text: str) -> None:
    if len(warnings) < _MAX_WARNINGS:
        warnings.append(text)
    elif len(warnings) == _MAX_WARNINGS:
        warnings.append("More warnings were left out.")


# -- unwrapping ----------------------------------------------------------------------------------
class _Line(NamedTuple):
    text: str  # upper case, runs of whitespace as one space
    after_blank: bool  # the first line of a block
    prev_long: bool  # the line before it was long (it may have been word-wrapped)


def _wrap_width(lengths: list[int]) -> int | None:
    """The width a switch cut this text at, or None when it does not look cut."""
    width = max(lengths, default=0)
    if width < 32:
        return None
    full = sum(1 for n in lengths if n == width)
    if full == 1:  # one cut line (a caveat at 80 columns): only at a terminal's usual width
        return width if width in _TERMINAL_WIDTHS else None
    near = sum(1 for n in lengths if n * 10 >= width * 9)
    return width if full * 2 >= near else None


def _ended_at_the_width(before: str, after: str) -> bool:
    """At a line of exactly the width, whether it ended there rather than being cut: the next
    line starts a new ``TAG/value`` (and the line before does not end in the start of that tag),
    or the line ends a sentence or a caveat and the next does not start with a space."""
    if not after or after[0].isspace() or not before or before[-1].isspace():
        return False
    if before.endswith((".", "*")):  # a sentence (or a caveat) that ended at the width
        return True
    tag = _TAG_START.match(after)
    if not tag:
        return False
    # Cut inside a tag ("... N" + "IC/V1..."), the two pieces make one tag of 2-3 characters.
    last_word = before.rsplit(None, 1)[-1]
    return not last_word.isalnum() or len(last_word) + tag.end() - 1 > 3


def _logical_lines(raw: list[str], result: ParsedReturn) -> list[_Line]:
    lengths = [len(line) for line in raw]
    width = _wrap_width(lengths)
    result.wrap_width = width
    longest = max(lengths, default=0)
    lines: list[_Line] = []
    pieces: list[str] = []
    after_blank = False
    prev_long = False
    i, count = 0, len(raw)
    while i < count:
        line = raw[i]
        if not line.strip():
            after_blank = True
            i += 1
            continue
        pieces.append(line)
        last_length = len(line)
        while width is not None and last_length == width and i + 1 < count and raw[i + 1] \
                and not _ended_at_the_width(pieces[-1], raw[i + 1]):
            i += 1
            pieces.append(raw[i])
            last_length = len(raw[i])
        joined = pieces[0] if len(pieces) == 1 else "".join(pieces)
        pieces.clear()
        lines.append(_Line(" ".join(joined.split()).upper(), after_blank, prev_long))
        prev_long = last_length * 4 >= longest * 3
        after_blank = False
        i += 1
    return lines


# -- the parser ----------------------------------------------------------------------------------
class _Parser:
    def __init__(self, result: ParsedReturn) -> None:
        self.result = result
        self.record: ReturnRecord | None = None
        self.fields: RecordFields | None = None
        self.all_fields: list[RecordFields] = []
        self.caveat: list[str] | None = None  # the lines of a caveat still open
        self.caveat_stars = True  # the open caveat ends with stars (else at a blank line)
        self.caveat_owner: ReturnRecord | None = None
        self.last: str = ""  # what the previous line was: record | status | error | no_record
        # what the switch said, by kind: (the text, the line as printed)
        self.status: dict[str, list[tuple[str, str]]] = {"error": [], "status": [],
                                                         "no_record": []}
        self.return_caveats: set[str] = set()

    def warn(self, text: str) -> None:
        _warn(self.result.warnings, text)

    # -- input -----------------------------------------------------------------------------------
    def feed(self, text: str) -> None:
        result = self.result
        if not isinstance(text, str):
            result.warnings.append("The return is not text.")
            return
        if _CONTROL.search(text):
            result.warnings.append("Control characters were removed from the return.")
            text = _CONTROL.sub("", text)
        raw = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ").split("\n")
        first = True
        for line in _logical_lines(raw, result):
            if line.after_blank:
                self.close_caveat()
            header = _HEADER.match(line.text) if first or "." in line.text[:5] else None
            first = False
            if header and self.header(header):
                continue
            self.line(line)
        self.close_caveat()
        self.finish()

    def header(self, match: re.Match[str]) -> bool:
        result = self.result
        mke, one, two, control, txt = match.groups()
        if result.header is not None and two is None and txt is None:
            return False  # "AB.CD" in the middle of a return is more likely text
        result.headers.append(match.group(0))
        if result.header is None:
            if txt and two:  # MKE.SENDER.DEST[.CONTROL].TXT
                result.header = ReturnHeader(mke, two, one)
            else:
                result.header = ReturnHeader(mke, one, two)
            result.control = control
        else:  # a second message in the same text: what follows is not the previous record's
            self.close_caveat()
            self.record, self.fields, self.last = None, None, ""
        return True

    def said(self, kind: str, text: str, line: str) -> None:
        """A no-record, status or error line."""
        self.status[kind].append((text, line))
        self.record, self.fields, self.last = None, None, kind

    # -- one line --------------------------------------------------------------------------------
    def line(self, logical: _Line) -> None:
        result = self.result
        line = logical.text
        if self.caveat is not None:
            if line.startswith(("*", "MKE/", "STATUS/", "REJECT/", "ERROR/", *_NO_RECORD)) \
                    or (not self.caveat_stars and _TAG.match(line)):
                self.close_caveat()  # the caveat's closing stars or blank line went missing
            else:
                self.caveat.append(line)
                if line.endswith("*"):
                    self.close_caveat()
                return
        if line.startswith("*") or ((logical.after_blank or self.record is None)
                                    and line.startswith(_CAVEAT_WORDS)):
            self.caveat = [line]
            self.caveat_stars = line.startswith("*")
            self.caveat_owner = self.record
            if self.caveat_stars and line.strip("* ") and line.endswith("*"):
                self.close_caveat()
            return
        if line.startswith("MKE/"):
            title, rest = self.title_and_rest(line[4:])
            self.record = _record_for(title, result.warnings)
            self.fields = RecordFields(self.record)
            self.all_fields.append(self.fields)
            result.records.append(self.record)
            self.last = "record"
            if rest:
                self.add_fields(rest, logical)
            return
        if line.startswith(_NO_RECORD):
            self.said("no_record", line, line)
            return
        for prefix, kind in (("STATUS/", "status"), ("REJECT/", "error"), ("ERROR/", "error")):
            if line.startswith(prefix):
                self.said(kind, line[len(prefix):].strip(), line)
                return
        starts_with_tag = _TAG.match(line) is not None
        if self.last in ("status", "error", "no_record") and self.record is None and \
                not logical.after_blank and (not starts_with_tag or self.last == "no_record"):
            self.status[self.last].append((line, line))  # a wrapped status
            return
        if self.record is None:
            if not _TAG.search(line):
                result.narrative.append(line)
                self.last = "text"
                return
            self.warn("Fields before any record type (MKE/) were kept in an unnamed record.")
            self.record = ReturnRecord(file="UNKNOWN", hit=False, title="")
            self.fields = RecordFields(self.record)
            self.all_fields.append(self.fields)
            result.records.append(self.record)
            self.last = "record"
        self.add_fields(line, logical)

    @staticmethod
    def title_and_rest(after: str) -> tuple[str, str]:
        """``WANTED PERSON - CAUTION NAM/DOE, JOHN`` → the title, the fields after it."""
        match = _TAG.search(after)
        if match is None:
            return after.strip(), ""
        return after[:match.start()].strip(), after[match.start():]

    def add_fields(self, line: str, logical: _Line) -> None:
        record, fields = self.record, self.fields
        assert record is not None and fields is not None
        first = _TAG.search(line)
        lead = line[:first.start()].strip() if first else line.strip()
        if lead:
            self.lead_text(lead, tags_follow=first is not None, logical=logical)
        if first is None:
            return
        previous: re.Match[str] | None = None
        for match in _TAG.finditer(line, first.start()):
            if previous is not None:
                self.pair(previous.group(1), line[previous.end():match.start()])
            previous = match
        if previous is not None:
            self.pair(previous.group(1), line[previous.end():])

    def pair(self, tag: str, raw: str) -> None:
        """One ``TAG/value`` (as :func:`split_pairs` reads it)."""
        value = raw.strip().rstrip(".").strip()  # the line's runs of spaces are already one
        if tag == "CMC":
            assert self.record is not None and self.fields is not None
            self.record.caution_codes.extend(value.split())
            self.fields.last, self.fields.last_tag = None, tag
            return
        assert self.fields is not None
        self.fields.add(tag, value)

    def lead_text(self, lead: str, *, tags_follow: bool, logical: _Line) -> None:
        """Text before a line's first tag: the wrapped end of the record type or of the last
        value, or narrative."""
        record, fields = self.record, self.fields
        assert record is not None and fields is not None
        if logical.after_blank:
            if tags_follow:
                self.warn(f"Text without a tag kept as narrative: {lead[:40]}")
            record.narrative.append(lead)
            return
        if not fields.values and record.title and not record.narrative \
                and len(record.title) < _TITLE_WRAP:  # a record type wrapped onto the next line
            wrapped = _record_for(f"{record.title} {lead}", None)
            record.title = wrapped.title
            if wrapped.file != "UNKNOWN":
                record.file, record.hit = wrapped.file, wrapped.hit
                record.category = wrapped.category or record.category
            return
        if fields.last is None or record.narrative:
            if fields.last is None and not record.narrative and fields.last_tag != "CMC" \
                    and tags_follow:
                self.warn(f"Text without a tag kept as narrative: {lead[:40]}")
            record.narrative.append(lead)
            return
        tag = fields.last_tag
        word, _, rest = lead.partition(" ")
        if tag in _FORMATS or tag in _IDENTIFIERS or tag in _FLAGS:
            joined = self.identifier_join(tag, word)
            if joined is not None:
                fields.extend_last(word, "")
                if rest:
                    if tags_follow:
                        fields.extend_last(rest, " ")
                    else:
                        record.narrative.append(rest)
                return
            if tags_follow and " " not in lead:
                fields.extend_last(lead, " ")  # a stray word before the next fields: kept there
                return
            record.narrative.append(lead)
            return
        if tags_follow or (logical.prev_long and tag not in _SHORT_TEXT):
            fields.extend_last(lead, " ")  # free text keeps its words
            return
        record.narrative.append(lead)

    def identifier_join(self, tag: str, word: str) -> str | None:
        """The value a known-format field makes with the next piece, when it makes one."""
        fields = self.fields
        assert fields is not None and fields.last is not None
        if not _TOKEN.fullmatch(word) or fields.size_of_last() > 24:
            return None
        value = fields.value_of_last()
        if tag in _FLAGS:
            return None  # Y or N: already whole
        pattern = _FORMATS.get(tag)
        if pattern is not None:
            # The two pieces make one such value (a 6-digit date and 2 more digits: the 8-digit
            # date a return prints; an 8-digit A-number and one more: the 9-digit one).
            whole = value + word
            return whole if pattern.fullmatch(whole) else None
        limit = _IDENTIFIERS[tag]
        return value + word if value and len(value) + len(word) <= limit else None

    def close_caveat(self) -> None:
        if self.caveat is None:
            return
        text = " ".join(" ".join(self.caveat).strip("* ").split())
        text = " ".join(text.replace("***", " ").split())
        if text:
            owner = self.caveat_owner
            if owner is not None:
                owner.caveats.append(text)
            elif text not in self.return_caveats:
                self.return_caveats.add(text)
                self.result.caveats.append(text)
        self.caveat = None
        self.caveat_owner = None

    def finish(self) -> None:
        result = self.result
        # The loudest of what the switch said is the status text (an error over a status over a
        # no-record answer); what the others said stays, as printed, in the narrative.
        said = next((k for k in ("error", "status", "no_record") if self.status[k]), None)
        if said is not None:
            result.status_text = " ".join(text for text, _ in self.status[said] if text)
            for kind, lines in self.status.items():
                if kind != said:
                    result.narrative += [line for _, line in lines]
        for fields in self.all_fields:
            fields.finish()
        if result.records:
            result.kind = "records"
        elif said == "error":
            result.kind = "error"
        elif said == "status":
            result.kind = "status"
        elif said == "no_record":
            result.kind = "no_record"
        elif result.narrative:
            result.kind = "text"
        # Whole-return caveats travel with every hit record, so a record shown or stored alone
        # still carries them (the gateway's structured records do the same).
        shared = result.caveats[:_MAX_SHARED_CAVEATS]
        if len(result.caveats) > len(shared) and result.hit:
            self.warn(f"{len(result.caveats)} caveats for the whole return: the first "
                      f"{len(shared)} are copied onto each hit record, all are on the return.")
        for record in result.records:
            if not record.title and (record.nic or record.caution_codes):
                record.hit = True  # its MKE/ line was lost; an NCIC number makes it a record
                self.warn("A record without its type carries an NCIC number or caution codes: "
                          "treated as a hit to be safe.")
            if record.hit and shared:
                have = set(record.caveats)
                record.caveats[:0] = [c for c in shared if c not in have]
