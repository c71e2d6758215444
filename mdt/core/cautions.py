"""Caution and medical condition codes (CMC) in words, and how loud a record must be shown.
No Qt.

The words come from the NCIC CMC table (``resources/codes/CMC.csv``). The severity is the
product's own reading of them, for display: danger to the officer first (armed and dangerous,
violent, explosives, sexually violent predator), then other cautions (escape or flight risk,
martial arts, drugs, suicidal), then medical conditions. An unknown code counts as a caution:
never quieter than a known one could be.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from mdt.core.codes import CodeTables

__all__ = ["AlertLevel", "Caution", "Severity", "alert_level", "caution", "cautions",
           "highest_severity"]


class Severity(IntEnum):
    """How dangerous a caution code is; higher is louder."""

    MEDICAL = 1
    CAUTION = 2
    DANGER = 3


class AlertLevel(IntEnum):
    """How loud a whole record must be shown."""

    INFO = 0  # not a hit (registration, licence, criminal-history index ...)
    HIT = 1  # a hit: confirm before acting
    CAUTION = 2  # a hit with caution or medical codes
    DANGER = 3  # a hit with an officer-safety code (armed and dangerous ...)


_DANGER = {"00", "05", "15", "30"}  # armed and dangerous, violent, explosives, SVP
_MEDICAL = {"50", "55", "60", "65", "80", "85", "90"}  # heart ... diabetic
_WORDS = {"00": "ARMED AND DANGEROUS"}  # if the table cannot be read, the one that matters most


@dataclass(frozen=True)
class Caution:
    code: str
    words: str
    severity: Severity

    @property
    def text(self) -> str:
        """``00 ARMED AND DANGEROUS``."""
        return f"{self.code} {self.words}"


def caution(code: str, tables: CodeTables | None = None) -> Caution:
    """One caution code in words, with its severity."""
    code = code.strip().upper()
    if code.isdigit() and len(code) == 1:
        code = "0" + code
    words: str | None
    try:
        words = (tables or CodeTables.default())["CMC"].lookup(code)
    except (KeyError, OSError):
        words = _WORDS.get(code)
    if words is None:
        return Caution(code, f"UNKNOWN CAUTION CODE {code}", Severity.CAUTION)
    if code in _DANGER:
        severity = Severity.DANGER
    elif code in _MEDICAL:
        severity = Severity.MEDICAL
    else:
        severity = Severity.CAUTION
    return Caution(code, words.upper(), severity)


def cautions(codes: Iterable[str], tables: CodeTables | None = None) -> list[Caution]:
    """The codes in words, loudest first (ties keep their order), repeats left out."""
    tables = tables or CodeTables.default()
    seen: set[str] = set()
    found = []
    for code in codes:
        item = caution(str(code), tables)
        if item.code not in seen:
            seen.add(item.code)
            found.append(item)
    return sorted(found, key=lambda c: -c.severity)


def highest_severity(codes: Iterable[str], tables: CodeTables | None = None) -> Severity | None:
    """The loudest severity among the codes, None when there are none."""
    found = cautions(codes, tables)
    return found[0].severity if found else None


def alert_level(record: Any, tables: CodeTables | None = None) -> AlertLevel:
    """How loud to show a record (a :class:`~mdt.core.returns.ReturnRecord` or its dict)."""
    if isinstance(record, Mapping):
        hit = bool(record.get("hit"))
        codes = record.get("caution_codes") or []
    else:
        hit = bool(getattr(record, "hit", False))
        codes = getattr(record, "caution_codes", None) or []
    if not hit:
        return AlertLevel.INFO
    worst = highest_severity([str(c) for c in codes], tables)
    if worst is None:
        return AlertLevel.HIT
    return AlertLevel.DANGER if worst == Severity.DANGER else AlertLevel.CAUTION
