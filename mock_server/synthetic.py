"""What the synthetic world is made of: the kinds of record (vehicles, persons with their
wants, arrests and protection orders, guns), the agencies the switch knows, VINs with valid check
digits, the NCIC code tables in ``resources/codes``, and NCIC-style name matching.

Nothing here is a real person, plate or case (see :mod:`mock_server.world`).
"""

from __future__ import annotations

import csv
import functools
import random
import re
from dataclasses import dataclass, field

import jellyfish

from mdt.paths import resources_dir

CODES_DIR = resources_dir() / "codes"

_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                       [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
                       strict=True))
_VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
_VIN_YEARS = "ABCDEFGHJKLMNPRSTVWXY123456789"  # position 10, 2010 = A, 30-year cycle

SYLLABLES = ["ZAN", "DER", "KOL", "VEX", "MIR", "TAL", "BRO", "QUIN", "SEV", "LOR", "DAX", "PEL",
             "NOR", "RIX", "TOV", "WEN", "GAR", "HUL", "JEX", "FEN"]
FIRST = ["ALEX", "JORDAN", "CASEY", "MORGAN", "RILEY", "TAYLOR", "QUINN", "AVERY", "ROWAN",
         "SKYLER", "DREW", "EMERSON", "FINLEY", "HARPER", "KENDALL", "LOGAN"]
COMMON_MAKES = ["BUIC", "CHEV", "FORD", "HOND", "TOYT", "NISS", "DODG", "SUBA", "HYUN", "KIA",
                "JEEP", "VOLK", "MAZD", "CHRY"]
STYLES = ["4D", "4D", "4D", "2D", "SW", "PK", "UT", "VN"]
COLOURS = ["BLK", "WHI", "SIL", "BLU", "RED", "GRY", "GRN"]
EYES = ["BRO", "BLU", "GRN", "HAZ", "GRY"]
HAIR = ["BLK", "BRO", "BLN", "RED", "GRY"]
STATES = ["MD", "VA", "DC", "PA", "DE", "WV"]
WARRANT_OFFENSES = ["1299", "1399", "2299", "2699", "2404", "3599", "5007"]
HISTORY_OFFENSES = ["1399", "2299", "2699", "2404", "3599", "2308"]
GUN_MAKES = ["SW", "BER", "REM", "MOS", "SIG", "SPR"]
GUN_CALIBERS = {"P": ["9", "40", "45", "380", "38"], "R": ["22", "223"], "S": ["12"],
                "V": ["357", "38"]}
DISPOSITIONS = ["CONVICTED", "DISMISSED", "NOLLE PROSEQUI", "PROBATION BEFORE JUDGMENT"]
PO_CONDITIONS = ["01", "02", "05", "08"]  # NCIC protection order condition codes (PCO)

# The agencies the switch knows: ORI -> (name, phone). Invented names and 555-01xx numbers.
AGENCIES: dict[str, tuple[str, str]] = {
    "MD1012600": ("ACADEMY CITY POLICE DEPARTMENT", "410-555-0112"),
    "VA0290000": ("PRACTICE COUNTY SHERIFFS OFFICE", "703-555-0129"),
    "MD0030000": ("SAMPLE COUNTY POLICE", "301-555-0103"),
    "VTICE0900": ("ICE LAW ENFORCEMENT SUPPORT CENTER (LESC)", "802-555-0190"),
}
ENTERING_ORIS = ["MD1012600", "VA0290000", "MD0030000"]


def vin_check_digit(vin: str) -> str:
    total = sum((int(c) if c.isdigit() else _VIN_VALUES[c]) * w
                for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def vin_is_valid(vin: str) -> bool:
    return len(vin) == 17 and all(c in _VIN_CHARS for c in vin) and vin[8] == vin_check_digit(vin)


def make_vin(rng: random.Random, year: int) -> str:
    body = rng.choices(_VIN_CHARS, k=17)
    body[9] = _VIN_YEARS[(year - 2010) % 30]
    body[8] = "0"
    body[8] = vin_check_digit("".join(body))
    return "".join(body)


@functools.cache
def code_table(name: str) -> dict[str, str]:
    """An NCIC code table (``resources/codes/NAME.csv``): code -> description."""
    with open(CODES_DIR / f"{name}.csv", encoding="utf-8", newline="") as handle:
        return {row["code"]: row["description"] for row in csv.DictReader(handle) if row.get("code")}


@functools.cache
def make_models() -> list[tuple[str, str]]:
    """(VMA, VMO) pairs of common makes, as the VMO table lists them (``(MAKE) model``)."""
    makes = code_table("VMA")
    pairs = []
    for code, description in code_table("VMO").items():
        for make in re.findall(r"\(([A-Z0-9]+)\)", description):
            if make in COMMON_MAKES and make in makes and code.isalpha():
                pairs.append((make, code))
    return sorted(set(pairs))


def offense(code: str) -> str:
    """``OFF`` as a return prints it: the code, then the table's words."""
    return f"{code} {code_table('OFF').get(code, '')}".strip()


@dataclass
class Vehicle:
    lic: str
    lis: str
    vin: str
    vyr: int
    vma: str
    vmo: str
    vco: str
    owner: str
    owner_dob: str = ""
    vst: str = "4D"
    lit: str = "PC"
    liy: str = "2027"
    stolen: bool = False
    oca: str = ""
    nic: str = ""
    entering_ori: str = ""
    dot: str = ""  # date of theft
    cautions: list[str] = field(default_factory=list)


@dataclass
class Arrest:
    doa: str  # date of arrest
    ori: str
    charge: str  # offense code
    disposition: str


@dataclass
class ProtectionOrder:
    nic: str
    ori: str
    oca: str
    protected_name: str
    protected_dob: str
    conditions: list[str]
    expires: str


@dataclass
class Person:
    name: str  # LAST, FIRST M
    dob: str  # CCYYMMDD
    sex: str
    race: str
    oln: str
    ols: str
    hgt: str = "510"
    wgt: str = "170"
    eye: str = "BRO"
    hai: str = "BRO"
    dl_status: str = "VALID"
    dl_expires: str = "20290101"
    wanted: bool = False
    warrant: str = ""  # offense code
    cautions: list[str] = field(default_factory=list)
    ivf_category: str = ""  # DEPORTED_FELON, ABSCONDER, NSEERS
    arn: str = ""
    citizenship: str = ""
    fbi: str = ""
    sid: str = ""
    nic: str = ""
    oca: str = ""
    entering_ori: str = ""
    detainer: bool = False
    protection_order: ProtectionOrder | None = None
    arrests: list[Arrest] = field(default_factory=list)

    @property
    def last(self) -> str:
        return self.name.split(",")[0].strip()

    @property
    def first(self) -> str:
        rest = self.name.split(",", 1)[1].split() if "," in self.name else []
        return rest[0] if rest else ""


@dataclass
class Gun:
    ser: str
    mak: str
    cal: str
    typ: str
    nic: str
    oca: str
    entering_ori: str
    dot: str
    cautions: list[str] = field(default_factory=list)


@dataclass
class RosterEntry:
    title: str
    how: str
    teaches: str


def split_name(name: str) -> tuple[str, str]:
    """``LAST, FIRST M`` -> (LAST, FIRST); ("", "") when there is no comma."""
    name = " ".join(name.upper().split())
    if "," not in name:
        return "", ""
    last, rest = name.split(",", 1)
    return last.strip(), (rest.split() or [""])[0]


def names_match(asked: str, name: str) -> bool:
    """NCIC-style name matching: last names that sound alike (Soundex, and NYSIIS for the longer
    spelling variants) and the same first initial."""
    last, first = split_name(asked)
    their_last, their_first = split_name(name)
    if not last or not their_last or first[:1] != their_first[:1]:
        return False
    return (jellyfish.soundex(last) == jellyfish.soundex(their_last)
            or jellyfish.nysiis(last) == jellyfish.nysiis(their_last))


