"""The training gateway's synthetic world: persons, vehicles, wants, seeded and reproducible.

Nothing here is a real person, plate or case. Names are made of invented syllables; plates of the
teaching roster start with TRN, CLN and similar; VINs have valid check digits so the client's VIN
rule accepts them. Most queries find nothing; a few percent hit, as on the real network.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import jellyfish

_VIN_VALUES = dict(zip("ABCDEFGHJKLMNPRSTUVWXYZ",
                       [1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 7, 9, 2, 3, 4, 5, 6, 7, 8, 9],
                       strict=True))
_VIN_WEIGHTS = [8, 7, 6, 5, 4, 3, 2, 10, 0, 9, 8, 7, 6, 5, 4, 3, 2]
_VIN_CHARS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"

SYLLABLES = ["ZAN", "DER", "KOL", "VEX", "MIR", "TAL", "BRO", "QUIN", "SEV", "LOR", "DAX", "PEL",
             "NOR", "RIX", "TOV", "WEN", "GAR", "HUL", "JEX", "FEN"]
FIRST = ["ALEX", "JORDAN", "CASEY", "MORGAN", "RILEY", "TAYLOR", "QUINN", "AVERY", "ROWAN",
         "SKYLER", "DREW", "EMERSON", "FINLEY", "HARPER", "KENDALL", "LOGAN"]
MAKES = [("BUIC", "LES"), ("CHEV", "MAL"), ("FORD", "FUS"), ("HOND", "ACC"), ("TOYT", "CAM"),
         ("NISS", "ALT"), ("DODG", "CHA"), ("SUBA", "OUT")]
COLOURS = ["BLK", "WHI", "SIL", "BLU", "RED", "GRY", "GRN"]
STATES = ["MD", "VA", "DC", "PA", "DE", "WV"]


def vin_check_digit(vin: str) -> str:
    total = sum((int(c) if c.isdigit() else _VIN_VALUES[c]) * w
                for c, w in zip(vin, _VIN_WEIGHTS, strict=True))
    return "X" if total % 11 == 10 else str(total % 11)


def make_vin(rng: random.Random, year: int) -> str:
    year_codes = "ABCDEFGHJKLMNPRSTVWXY123456789"
    year_char = year_codes[(year - 2010) % 30]
    body = [rng.choice(_VIN_CHARS) for _ in range(17)]
    body[9] = year_char
    body[8] = "0"
    body[8] = vin_check_digit("".join(body))
    return "".join(body)


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
    stolen: bool = False
    oca: str = ""
    nic: str = ""
    entering_ori: str = ""
    cautions: list[str] = field(default_factory=list)


@dataclass
class Person:
    name: str  # LAST, FIRST M
    dob: str  # CCYYMMDD
    sex: str
    race: str
    oln: str
    ols: str
    wanted: bool = False
    warrant: str = ""
    cautions: list[str] = field(default_factory=list)
    ivf_category: str = ""  # DEPORTED_FELON, ABSCONDER, NSEERS
    arn: str = ""
    fbi: str = ""
    nic: str = ""
    oca: str = ""
    entering_ori: str = ""
    detainer: bool = False

    @property
    def last(self) -> str:
        return self.name.split(",")[0].strip()

    @property
    def first(self) -> str:
        rest = self.name.split(",", 1)[1].split()
        return rest[0] if rest else ""


@dataclass
class RosterEntry:
    title: str
    how: str
    teaches: str


class World:
    def __init__(self, seed: int = 1, persons: int = 10000) -> None:
        rng = random.Random(seed)
        self.persons: list[Person] = []
        self.vehicles: list[Vehicle] = []
        self.roster: list[RosterEntry] = []
        nic_counter = iter(range(100000000, 999999999, 7919))

        def nic(prefix: str) -> str:
            return f"{prefix}{next(nic_counter):09d}"

        used_plates: set[str] = set()
        for i in range(persons):
            last = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3))))
            first = rng.choice(FIRST)
            middle = chr(ord("A") + rng.randrange(26))
            dob = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            state = rng.choice(STATES)
            person = Person(name=f"{last}, {first} {middle}", dob=dob, sex=rng.choice("MF"),
                            race=rng.choice("WBAIU"), oln=f"S{rng.randrange(10**9):09d}",
                            ols=state, fbi=f"{rng.randrange(10**6):06d}X{i % 10}A")
            roll = rng.random()
            if roll < 0.02:
                person.wanted, person.nic = True, nic("W")
                person.warrant = rng.choice(["BURGLARY", "ASSAULT", "FRAUD", "PROBATION VIOL"])
                person.entering_ori = rng.choice(["MD1012600", "VA0290000", "MD0030000"])
                person.oca = f"26-{rng.randrange(10**6):06d}"
                if rng.random() < 0.2:
                    person.cautions = ["00"]
            elif roll < 0.025:
                person.ivf_category = rng.choice(["DEPORTED_FELON", "ABSCONDER", "NSEERS"])
                person.arn = f"A{rng.randrange(10**8, 10**9)}"
                person.nic = nic("V" if False else "I")
                person.entering_ori = "VTICE0900"
            self.persons.append(person)
            if rng.random() < 0.6:
                while True:
                    plate = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + \
                        f"{rng.randrange(10000):04d}"
                    if plate[:3] not in ("TRN", "CLN", "OFF") and plate not in used_plates:
                        break
                used_plates.add(plate)
                vma, vmo = rng.choice(MAKES)
                vyr = rng.randint(2010, 2027)
                vehicle = Vehicle(lic=plate, lis=state, vin=make_vin(rng, vyr), vyr=vyr, vma=vma,
                                  vmo=vmo, vco=rng.choice(COLOURS), owner=person.name)
                if rng.random() < 0.025:
                    vehicle.stolen, vehicle.nic = True, nic("V")
                    vehicle.entering_ori = rng.choice(["MD1012600", "VA0290000", "MD0030000"])
                    vehicle.oca = f"26-{rng.randrange(10**6):06d}"
                self.vehicles.append(vehicle)
        self._add_roster()
        self.by_plate = {(v.lic, v.lis): v for v in self.vehicles}
        self.by_vin = {v.vin: v for v in self.vehicles}
        self.by_dob: dict[str, list[Person]] = {}
        for p in self.persons:
            self.by_dob.setdefault(p.dob, []).append(p)
        self.by_oln = {(p.oln, p.ols): p for p in self.persons}
        self.by_arn = {p.arn: p for p in self.persons if p.arn}

    def _add_roster(self) -> None:
        armed = Person(name="KOLVEX, DRAYTON Q", dob="19840312", sex="M", race="W",
                       oln="S100000001", ols="VA", wanted=True, warrant="ARMED ROBBERY",
                       cautions=["00"], nic="W260000001", oca="26-004400",
                       entering_ori="VA0290000", fbi="T00001A")
        felon = Person(name="ZANMIR, SOREN T", dob="19790704", sex="M", race="W",
                       oln="S100000002", ols="MD", ivf_category="DEPORTED_FELON",
                       arn="A200000002", nic="I260000002", entering_ori="VTICE0900",
                       detainer=True, fbi="T00002A")
        absconder = Person(name="TALBRO, MIRELA V", dob="19881121", sex="F", race="W",
                           oln="S100000003", ols="MD", ivf_category="ABSCONDER",
                           arn="A200000003", nic="I260000003", entering_ori="VTICE0900")
        nseers = Person(name="DAXPEL, ORRIN K", dob="19750215", sex="M", race="A",
                        oln="S100000004", ols="VA", ivf_category="NSEERS", arn="A200000004",
                        nic="I260000004", entering_ori="VTICE0900")
        clean = Person(name="NORWEN, CASEY L", dob="19900101", sex="F", race="B",
                       oln="S100000005", ols="MD")
        near_miss = Person(name="KOLVECKS, DRAYTON Q", dob="19840312", sex="M", race="W",
                           oln="S100000006", ols="MD")
        self.persons += [armed, felon, absconder, nseers, clean, near_miss]
        stolen = Vehicle(lic="TRN4821", lis="VA", vin="1G4AH59H45G118341", vyr=2005,
                         vma="BUIC", vmo="LES", vco="BLK", owner=clean.name, stolen=True,
                         oca="26-004512", nic="V260000001", entering_ori="VA0290000",
                         cautions=[])
        armed_car = Vehicle(lic="TRN5007", lis="MD", vin=make_vin(random.Random(7), 2019),
                            vyr=2019, vma="DODG", vmo="CHA", vco="RED", owner=armed.name,
                            stolen=True, oca="26-004513", nic="V260000002",
                            entering_ori="MD1012600", cautions=["00"])
        clean_car = Vehicle(lic="CLN1000", lis="MD", vin=make_vin(random.Random(8), 2021),
                            vyr=2021, vma="TOYT", vmo="CAM", vco="SIL", owner=clean.name)
        self.vehicles += [stolen, armed_car, clean_car]
        self.roster = [
            RosterEntry("Stolen car", "QV LIC/TRN4821.LIS/VA (or VIN/1G4AH59H45G118341)",
                        "a vehicle hit, its caveat, and confirming before acting"),
            RosterEntry("Stolen car, armed and dangerous driver", "QV LIC/TRN5007.LIS/MD",
                        "caution code 00 on a vehicle hit"),
            RosterEntry("Clean car", "QV LIC/CLN1000.LIS/MD", "a no-record answer"),
            RosterEntry("Armed and dangerous wanted person",
                        "QW NAM/KOLVEX, DRAYTON Q.DOB/19840312", "caution codes and a warrant"),
            RosterEntry("Deported felon with a detainer",
                        "QW NAM/ZANMIR, SOREN T.DOB/19790704 (IAQ: ARN/A200000002)",
                        "an IVF hit (civil) and its policy"),
            RosterEntry("Absconder", "QW NAM/TALBRO, MIRELA V.DOB/19881121",
                        "an IVF hit, category absconder"),
            RosterEntry("NSEERS violator", "QW NAM/DAXPEL, ORRIN K.DOB/19750215",
                        "an IVF hit, category NSEERS"),
            RosterEntry("Clean person", "QW NAM/NORWEN, CASEY L.DOB/19900101",
                        "a no-record answer"),
            RosterEntry("Near miss", "QW NAM/KOLVECKS, DRAYTON Q.DOB/19840312",
                        "a similar name that is NOT the wanted person: compare identifiers"),
        ]

    # -- look-ups --------------------------------------------------------------------------------
    def vehicle(self, lic: str = "", lis: str = "", vin: str = "") -> Vehicle | None:
        if vin:
            return self.by_vin.get(vin.upper())
        return self.by_plate.get((lic.upper(), lis.upper()))

    def persons_named(self, name: str, dob: str) -> list[Person]:
        """Persons with this DOB whose last name sounds like it (Soundex) and same first initial —
        as NCIC matches names despite spelling variants."""
        name = name.upper()
        if "," not in name:
            return []
        last, rest = name.split(",", 1)
        first = rest.split()[0] if rest.split() else ""
        code = jellyfish.soundex(last.strip())
        return [p for p in self.by_dob.get(dob, [])
                if jellyfish.soundex(p.last) == code and p.first[:1] == first[:1]]
