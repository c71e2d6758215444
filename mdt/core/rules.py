"""Field rules: what the switch would reject, caught on the form. No Qt.

Each rule takes the (upper-cased) value and returns a list of problems; a problem is a sentence a
person understands, naming the field. VIN check digit per the NCIC/NHTSA rule in domain.md.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from mdt.core.codes import CodeTables


@dataclass(frozen=True)
class FieldError:
    field: str | None
    message: str
    severity: Literal["error", "warning"] = "error"


Rule = Callable[[str, str, str, CodeTables], list[FieldError]]  # tag, label, value, tables

_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                       [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
                       strict=True))
_VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
_TITLES = {"MR", "MRS", "MS", "DR", "REV", "PHD", "MD", "ESQ", "SGT", "OFFICER", "SIR"}


def vin_check_digit(vin: str) -> str:
    """The check digit (position 9) a 17-character VIN should have: '0'-'9' or 'X'."""
    total = 0
    for char, weight in zip(vin.upper(), _VIN_WEIGHTS, strict=True):
        total += (int(char) if char.isdigit() else _VIN_VALUES[char]) * weight
    remainder = total % 11
    return "X" if remainder == 10 else str(remainder)


def _err(tag: str, label: str, text: str, severity: Literal["error", "warning"] = "error"
         ) -> list[FieldError]:
    return [FieldError(tag, f"{label} ({tag}) {text}", severity)]


def rule_name(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    if len(value) > 30:
        return _err(tag, label, "is longer than 30 characters.")
    if not re.fullmatch(r"[A-Z][A-Z' -]*,\s*[A-Z][A-Z' -]*", value):
        return _err(tag, label, "must be LAST, FIRST MIDDLE SUFFIX (letters, one comma after "
                                "the last name).")
    words = set(re.split(r"[ ,]+", value))
    if words & _TITLES:
        return _err(tag, label, f"must not include titles or degrees ({', '.join(sorted(words & _TITLES))}).")
    first = value.split(",", 1)[1]
    if "-" in first:
        return _err(tag, label, "may have a hyphen only in the last name.")
    return []


def _parse_date(value: str, formats: tuple[str, ...]) -> date | None:
    for fmt in formats:
        try:
            return datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    return None


def rule_date(tag: str, label: str, value: str, tables: CodeTables,
              formats: tuple[str, ...] = ("%Y%m%d",)) -> list[FieldError]:
    lengths = {8 if f == "%Y%m%d" else 6 for f in formats}
    if not value.isdigit() or len(value) not in lengths:
        shape = " or ".join("CCYYMMDD" if f == "%Y%m%d" else "MMDDYY" for f in formats)
        return _err(tag, label, f"must be a date as {shape}.")
    fmts = tuple(f for f in formats if (8 if f == "%Y%m%d" else 6) == len(value))
    parsed = _parse_date(value, fmts)
    if parsed is None:
        return _err(tag, label, "is not a real date.")
    if parsed > date.today():
        return _err(tag, label, "is in the future.")
    if parsed.year < 1900:
        return _err(tag, label, "is before 1900.")
    return []


def rule_vin(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    if not re.fullmatch(r"[A-Z0-9]+", value):
        return _err(tag, label, "may contain only letters and digits.")
    bad = sorted(set(value) & set("IOQ"))
    if bad:
        return _err(tag, label, f"cannot contain {', '.join(bad)} (VINs never use I, O or Q).")
    if len(value) != 17:
        return _err(tag, label, f"has {len(value)} characters: a 1981-or-later VIN has 17. "
                    "Older and foreign VINs are sent as typed.", "warning")
    expected = vin_check_digit(value)
    if value[8] != expected:
        return _err(tag, label, f"check digit (9th character) is {value[8]}, expected "
                    f"{expected}: check for a typo. Sent as typed if you go on.", "warning")
    return []


def rule_plate(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    if not re.fullmatch(r"[A-Z0-9]{1,10}", value):
        return _err(tag, label, "may contain only letters and digits (no spaces or hyphens), "
                                "at most 10.")
    return []


def rule_code(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    table = tables[tag]
    if value not in table:
        return _err(tag, label, f"'{value}' is not an NCIC {table.name} code.")
    return []


def rule_ori(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    if not re.fullmatch(r"[A-Z0-9]{9}", value):
        return _err(tag, label, "must be 9 letters and digits.")
    if value[:2] not in tables["LIS"]:
        return _err(tag, label, f"must start with a state code, not '{value[:2]}'.")
    return []


def _pattern(regex: str, text: str) -> Rule:
    def rule(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
        return [] if re.fullmatch(regex, value) else _err(tag, label, text)

    return rule


def rule_height(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    if not re.fullmatch(r"\d{3}", value) or int(value[1:]) > 11:
        return _err(tag, label, "must be 3 digits: feet, then inches under 12 (511 = 5 ft 11 in).")
    return []


def rule_mnu(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    match = re.fullmatch(r"([A-Z]{2})-([A-Z0-9]{1,12})", value)
    if not match:
        return _err(tag, label, "must be a two-letter prefix, a hyphen, then the number "
                                "(AR-123456789).")
    if match.group(1) not in tables["MNU"]:
        return _err(tag, label, f"prefix '{match.group(1)}' is not an NCIC MNU code.")
    return []


def rule_free_text(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    if any(ord(c) < 32 for c in value):
        return _err(tag, label, "contains control characters.")
    return []


def rule_text(tag: str, label: str, value: str, tables: CodeTables) -> list[FieldError]:
    if "." in value or "/" in value:
        return _err(tag, label, "cannot contain '.' or '/' (they separate message fields).")
    return rule_free_text(tag, label, value, tables)


RULES: dict[str, Rule] = {
    "name": rule_name,
    "date": rule_date,
    "vin": rule_vin,
    "plate": rule_plate,
    "code": rule_code,
    "ori": rule_ori,
    "nic": _pattern(r"[A-Z]\d{9}", "must be one letter and 9 digits (W123456789)."),
    "height": rule_height,
    "weight": _pattern(r"\d{1,3}", "must be 1 to 3 digits (pounds)."),
    "arn": _pattern(r"A?\d{8,9}", "must be an A-number: 8 or 9 digits, with or without A."),
    "oln": _pattern(r"[A-Z0-9]{1,20}", "may contain only letters and digits (at most 20)."),
    "fbi": _pattern(r"[A-Z0-9]{1,9}", "must be up to 9 letters and digits."),
    "soc": _pattern(r"\d{9}", "must be 9 digits, without hyphens."),
    "year": _pattern(r"(19|20)\d{2}", "must be a 4-digit year."),
    "phone": _pattern(r"[0-9 ()+X-]{7,20}", "must be a phone number (digits, spaces, - ( ) +)."),
    "serial": _pattern(r"[A-Z0-9]{1,20}", "may contain only letters and digits (at most 20)."),
    "mnu": rule_mnu,
    "number": _pattern(r"\d+", "must be a number."),
    "text": rule_text,
    "free_text": rule_free_text,
    "choice": lambda tag, label, value, tables: [],
}
