"""The NCIC code tables, shipped in ``resources/codes`` (from the public NIEM NCIC code schemas:
see ``resources/codes/SOURCE.md``). Loaded lazily, one CSV per table, on first use. No Qt.

>>> tables = CodeTables.default()
>>> tables["LIS"].lookup("NB")
'Nebraska'
>>> tables["RAC"].name       # a field tag finds its table
'RACE'
"""

from __future__ import annotations

import csv
import functools
import re
from collections.abc import Iterator, Mapping
from pathlib import Path

from mdt.paths import resources_dir

__all__ = ["TABLE_FOR_TAG", "CodeTable", "CodeTables", "clean_description"]

# Field tags whose values come from a table, and the table's file name (without ``.csv``).
TABLE_FOR_TAG = {
    "SEX": "SEX", "RAC": "RACE", "EYE": "EYE", "HAI": "HAI", "SKN": "SKN", "LIS": "LIS",
    "OLS": "LIS", "POB": "POB", "LIT": "LIT", "VMA": "VMA", "VMO": "VMO", "VST": "VST",
    "VCO": "VCO", "OFF": "OFF", "MNU": "MNU", "CMC": "CMC", "TYP": "TYP", "MAK": "MAK",
    "CAL": "CAL", "ETN": "ETN", "EXL": "EXL", "SMT": "SMT", "IMT": "IMT",
}

# Words that really are written with a capital inside (not two words run together).
_CAMEL_WORDS = {"AUTOMAG", "AUTORIM", "MAGTECH", "SUNBIRD", "VEHICROSS", "MACDONALD",
                "MACGREGOR", "BEEBEE", "BALEMUVR", "LEMANS", "DESOTO", "DEVILLE", "LASALLE",
                "LAFRANCE", "DETOMASO", "NUWAY", "WEMAC", "DUAL", "MCDONALD"}
# A note glued to the name in lower case ("Farm Vehicleincludes farm ...", "Wagonalso known").
_GLUED_NOTE = re.compile(r"(?<=[a-z]{3})(includes|also known|also called)\b")


def clean_description(description: str) -> str:
    """The name part of a source description.

    The source runs explanatory notes into the name without a space ("ApportionedThe word
    APPORTIONED must appear ...", "Airstream Travel TrailersJackson Center, Ohio",
    "Canada(See separate list ...)"): keep the first words. Words merged inside parentheses
    ("(now SolomonIslands)") only get their missing space back; names really written with an
    inner capital (McLaren, DeSoto, AutoMag) are left alone.
    """
    text = " ".join(description.split())
    glued = _GLUED_NOTE.search(text)
    if glued:
        text = text[:glued.start()]
    out: list[str] = []
    depth = 0
    word_start = 0
    for i, char in enumerate(text):
        prev = text[i - 1] if i else ""
        if char == "(":
            if prev.islower() and depth == 0 and text[i + 1:i + 2].isupper():
                break  # "Canada(See separate list ...)"
            depth += 1
        elif char == ")":
            depth = max(0, depth - 1)
        if not prev or prev.isspace() or prev in "(/-,;&":
            word_start = i
        merged = (char.isupper() and text[i + 1:i + 2].islower()
                  and (prev.islower() or (prev == "." and text[i - 2:i - 1].islower()
                                          and i >= 3 and text[i - 3].isalpha())))
        if char == '"' and prev.islower() and depth == 0 and text[i + 1:i + 2].isalpha():
            break  # Omnibus"OMNIBUS" must appear ...
        if merged:
            fragment = text[word_start:i]
            end = i + 1
            while end < len(text) and text[end].isalpha():
                end += 1
            whole = text[word_start:end].upper()
            if whole in _CAMEL_WORDS or (len(fragment.rstrip(".")) < 3 and not fragment.islower()):
                pass  # McLaren, DeSoto, AutoMag
            elif depth > 0 or end == len(text) or (fragment.islower() and len(fragment) <= 3):
                # a missing space: "(now SolomonIslands)", "South SandwichIslands", "byMurray"
                out.append(" ")
            else:
                break  # the note starts here
        out.append(char)
    cleaned = "".join(out).strip().rstrip(",;:-").strip()
    return cleaned or text.strip()


class CodeTable(Mapping[str, str]):
    """One code table: ``code -> description`` (descriptions cleaned of run-together notes).

    Also a read-only mapping, so ``dict(table)``, ``len(table)`` and ``for code in table`` work.
    """

    def __init__(self, name: str, entries: Mapping[str, str]) -> None:
        self.name = name
        self.entries: dict[str, str] = {
            str(code).strip().upper(): clean_description(str(description))
            for code, description in entries.items() if str(code).strip()}

    @classmethod
    def from_csv(cls, name: str, path: Path) -> CodeTable:
        """A ``code,description`` CSV file (the shipped format)."""
        with open(path, encoding="utf-8", newline="") as handle:
            rows = {row["code"]: row.get("description") or "" for row in csv.DictReader(handle)
                    if row.get("code")}
        return cls(name, rows)

    # -- Mapping ---------------------------------------------------------------------------------
    def __getitem__(self, code: str) -> str:
        return self.entries[code.strip().upper()]

    def __iter__(self) -> Iterator[str]:
        return iter(self.entries)

    def __len__(self) -> int:
        return len(self.entries)

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().upper() in self.entries

    def __repr__(self) -> str:
        return f"CodeTable({self.name!r}, {len(self.entries)} codes)"

    # -- queries ---------------------------------------------------------------------------------
    def lookup(self, code: str) -> str | None:
        """The description of ``code`` (any case), or None."""
        return self.entries.get(code.strip().upper())

    def search(self, text: str, limit: int = 20) -> list[tuple[str, str]]:
        """(code, description) pairs for what an operator typed, best first: the exact code,
        then codes starting with ``text``, then descriptions in which every typed word starts a
        word ("buick" finds BUIC Buick, "blue dark" finds DBL BLUE, DARK). Empty text lists the
        table from the top."""
        needle = " ".join(text.split()).upper()
        if limit <= 0:
            return []
        if not needle:
            return list(self.entries.items())[:limit]
        found: list[tuple[str, str]] = []
        seen: set[str] = set()

        def add(code: str) -> bool:
            if code not in seen:
                seen.add(code)
                found.append((code, self.entries[code]))
            return len(found) >= limit

        if needle in self.entries and add(needle):
            return found
        for code in self.entries:
            if code.startswith(needle) and add(code):
                return found
        words = needle.split()
        for code, description in self.entries.items():
            described = re.findall(r"[A-Z0-9]+", description.upper())
            if all(any(d.startswith(w) for d in described) for w in
                   (re.sub(r"[^A-Z0-9]", "", w) for w in words) if w) and add(code):
                return found
        return found


class CodeTables:
    """All code tables, each loaded on first use. ``tables["LIS"]``; a field tag works too
    (``tables["RAC"]`` is the RACE table, ``tables["OLS"]`` the LIS table).

    ``served`` holds newer tables a gateway sent (``{name: {code: description}}``); they take the
    place of the shipped ones."""

    def __init__(self, folder: Path, served: Mapping[str, Mapping[str, str]] | None = None
                 ) -> None:
        self.folder = folder
        self.served: dict[str, Mapping[str, str]] = dict(served or {})
        self._tables: dict[str, CodeTable] = {}

    @classmethod
    def default(cls) -> CodeTables:
        """The shipped tables (``resources/codes``): one set per process, so each table is read
        from its file once (a new set each call read the caution table's file again at every
        caution shown, on whichever thread asked: the GUI thread's paint among them)."""
        return _shipped(resources_dir() / "codes")

    def with_served(self, served: Mapping[str, Mapping[str, str]]) -> CodeTables:
        """These tables, with the ones a gateway served taking the place of the shipped ones."""
        return CodeTables(self.folder, {**self.served, **served})

    def names(self) -> list[str]:
        """Every table there is (shipped or served)."""
        return sorted({p.stem for p in self.folder.glob("*.csv")} | set(self.served))

    @staticmethod
    def table_name(name: str) -> str:
        """The table a name or field tag refers to (``RAC`` → ``RACE``, ``OLS`` → ``LIS``)."""
        upper = name.strip()
        return TABLE_FOR_TAG.get(upper.upper(), upper)

    def __contains__(self, name: object) -> bool:
        if not isinstance(name, str):
            return False
        table = self.table_name(name)
        return table in self.served or (self.folder / f"{table}.csv").exists()

    def __getitem__(self, name: str) -> CodeTable:
        table = self.table_name(name)
        if table not in self._tables:
            path = self.folder / f"{table}.csv"
            if table in self.served:
                self._tables[table] = CodeTable(table, self.served[table])
            elif path.exists():
                self._tables[table] = CodeTable.from_csv(table, path)
            else:
                raise KeyError(f"There is no code table {name!r}.")
        return self._tables[table]


@functools.cache
def _shipped(folder: Path) -> CodeTables:
    return CodeTables(folder)
