"""The main window's command line: what an operator types, turned into a form to open.

Accepted, case-insensitive:

- a message in legacy field form: ``QV LIC/ABC1234.LIS/MD`` (also ``QV.LIC/ABC1234.LIS/MD``);
- a bare VIN (17 characters, no I, O or Q): a QV on the VIN;
- a bare plate (1 to 10 letters and digits, at least one digit): a QV on the plate, in the
  operator's own state (the first two letters of the ORI);
- a name and a date of birth: ``DOE, JOHN 19800101``: a QW.

Anything else gives ``None``: the caller says it did not understand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

KEYS = ("QW", "QV", "DQ", "RQ", "IAQ", "QH", "QR", "QG", "YQ", "YR", "AM")
_PAIR = re.compile(r"([A-Z0-9]{2,3})/([^.]*)")
_VIN = re.compile(r"^[A-HJ-NPR-Z0-9]{17}$")
_PLATE = re.compile(r"^(?=.*\d)[A-Z0-9]{1,10}$")
_NAME_DOB = re.compile(r"^([A-Z][A-Z' -]*,\s*[A-Z][A-Z' -]*?)\s+(\d{8})$")


@dataclass(frozen=True)
class Command:
    mke: str
    values: dict[str, str] = field(default_factory=dict)


def parse_command(text: str, *, home_state: str = "") -> Command | None:
    line = " ".join(text.strip().upper().split())
    if not line:
        return None
    head, _, rest = line.replace(".", " ", 1).partition(" ") if "." in line.split(" ")[0] \
        else line.partition(" ")
    if head in KEYS:
        values = {tag: value.strip() for tag, value in _PAIR.findall(rest) if value.strip()}
        return Command(head, values)
    if _VIN.match(line):
        return Command("QV", {"VIN": line})
    if _PLATE.match(line):
        values = {"LIC": line}
        if home_state:
            values["LIS"] = home_state
        return Command("QV", values)
    match = _NAME_DOB.match(line)
    if match:
        return Command("QW", {"NAM": match.group(1).strip(), "DOB": match.group(2)})
    return None
