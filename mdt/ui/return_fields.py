"""A record's fields in the groups an officer reads them in (the detail pane's body)."""

from __future__ import annotations

from typing import Any

FIELD_GROUPS = (
    ("Identity", ("NAM", "SEX", "RAC", "DOB", "HGT", "WGT", "EYE", "HAI", "SKN", "SMT", "POB",
                  "CTZ", "OLN", "OLS", "EXP", "STA", "FBI", "SID", "SOC", "MNU")),
    ("Vehicle", ("LIC", "LIS", "LIY", "LIT", "VIN", "VYR", "VMA", "VMO", "VST", "VCO", "DOT")),
    ("Warrant and record", ("OFF", "PCO", "PPN", "PPB", "DOA", "AGY", "CHG", "DIS", "SER", "MAK",
                            "CAL", "TYP", "ORI", "OCA", "NIC")),
    ("Immigration", ("ARN", "DET", "CUS")),
)


def group_fields(fields: dict[str, Any]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """A record's fields in groups an officer reads in order: identity, vehicle, warrant and
    record, immigration, then anything else; repeated tags (``DOA#2``) stay with their tag."""
    placed: set[str] = set()
    groups = []
    for name, tags in FIELD_GROUPS:
        found = [(tag, value) for tag, value in fields.items()
                 if tag.split("#")[0] in tags and tag not in placed]
        placed.update(tag for tag, _ in found)
        if found:
            groups.append((name, found))
    rest = [(tag, value) for tag, value in fields.items() if tag not in placed]
    if rest:
        groups.append(("Other", rest))
    return groups
