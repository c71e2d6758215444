"""The NCIC code tables, shipped in ``resources/codes`` (from the public NIEM NCIC code schemas:
see ``resources/codes/SOURCE.md``). Loaded lazily, one CSV per table, on first use. No Qt.
"""

from __future__ import annotations

import csv
import re
from functools import cached_property
from pathlib import Path

from mdt.paths import resources_dir

# Field tags whose values come from a table, and the table's file name.
TABLE_FOR_TAG = {
    "SEX": "SEX", "RAC": "RACE", "EYE": "EYE", "HAI": "HAI", "SKN": "SKN", "LIS": "LIS",
    "OLS": "LIS", "POB": "POB", "LIT": "LIT", "VMA": "VMA", "VST": "VST", "VCO": "VCO",
    "OFF": "OFF", "MNU": "MNU", "CMC": "CMC", "TYP": "TYP", "MAK": "MAK", "CAL": "CAL",
    "ETN": "ETN", "EXL": "EXL",
}


def _clean(description: str) -> str:
    """Descriptions from the source run notes into the name ("ApportionedThe word ..."): keep the
    name."""
    text = " ".join(description.split())
    match = re.match(r"^(.*?[a-z)])([A-Z][a-z].*)$", text)
    if match and " " not in match.group(1).strip()[-1:]:
        return match.group(1).strip()
    return text


class CodeTable:
    def __init__(self, name: str, path: Path | None, served: dict[str, str] | None = None
                 ) -> None:
        self.name = name
        self.path = path
        self.served = served  # a gateway's newer table, when it sent one

    @cached_property
    def entries(self) -> dict[str, str]:
        if self.served is not None:
            return {c.strip().upper(): _clean(d) for c, d in self.served.items() if c.strip()}
        assert self.path is not None
        with open(self.path, encoding="utf-8", newline="") as handle:
            return {row["code"].strip().upper(): _clean(row["description"])
                    for row in csv.DictReader(handle) if row.get("code")}

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and code.strip().upper() in self.entries

    def lookup(self, code: str) -> str | None:
        return self.entries.get(code.strip().upper())

    def search(self, text: str, limit: int = 20) -> list[tuple[str, str]]:
        """Codes starting with ``text`` first, then descriptions containing every word."""
        needle = text.strip().upper()
        if not needle:
            return list(self.entries.items())[:limit]
        by_code = [(c, d) for c, d in self.entries.items() if c.startswith(needle)]
        words = needle.split()
        by_words = [(c, d) for c, d in self.entries.items()
                    if (c, d) not in by_code and all(w in d.upper() for w in words)]
        return (by_code + by_words)[:limit]


class CodeTables:
    def __init__(self, folder: Path, served: dict[str, dict[str, str]] | None = None) -> None:
        self.folder = folder
        self.served = served or {}
        self._tables: dict[str, CodeTable] = {}

    @classmethod
    def default(cls) -> CodeTables:
        return cls(resources_dir() / "codes")

    def with_served(self, served: dict[str, dict[str, str]]) -> CodeTables:
        """These tables, with the ones a gateway served taking the place of the shipped ones."""
        return CodeTables(self.folder, {**self.served, **served})

    def names(self) -> list[str]:
        return sorted({p.stem for p in self.folder.glob("*.csv")} | set(self.served))

    def __getitem__(self, name: str) -> CodeTable:
        name = TABLE_FOR_TAG.get(name, name)
        if name not in self._tables:
            path = self.folder / f"{name}.csv"
            if name in self.served:
                self._tables[name] = CodeTable(name, None, self.served[name])
            elif path.exists():
                self._tables[name] = CodeTable(name, path)
            else:
                raise KeyError(f"no code table {name!r}")
        return self._tables[name]
