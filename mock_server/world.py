"""The training gateway's synthetic world: persons, vehicles, guns, wants, seeded and reproducible.

Nothing here is a real person, plate or case. Names are made of invented syllables; the plates of
the teaching roster start with TRN and CLN, the guns' serials with TRG; VINs have valid check
digits so the client's VIN rule accepts them; make, model, style, colour, offense and gun codes
come from the NCIC code tables in ``resources/codes``. Most queries find nothing; a few percent
hit, as on the real network.

A trainer may enter new records while a class runs (:meth:`World.enter`): they are kept by the
gateway's state and laid over the seeded world again after a restart.
"""

from __future__ import annotations

import random
from typing import Any

from mock_server.synthetic import (
    COLOURS,
    DISPOSITIONS,
    ENTERING_ORIS,
    EYES,
    FIRST,
    GUN_CALIBERS,
    GUN_MAKES,
    HAIR,
    HISTORY_OFFENSES,
    PO_CONDITIONS,
    STATES,
    STYLES,
    SYLLABLES,
    WARRANT_OFFENSES,
    Arrest,
    Gun,
    Person,
    ProtectionOrder,
    RosterEntry,
    Vehicle,
    code_table,
    make_models,
    make_vin,
    names_match,
)


class World:
    def __init__(self, seed: int = 1, persons: int = 10000) -> None:
        rng = random.Random(seed)
        self.seed = seed
        self.persons: list[Person] = []
        self.vehicles: list[Vehicle] = []
        self.guns: list[Gun] = []
        self.roster: list[RosterEntry] = []
        models = make_models()
        countries = sorted(c for c in code_table("Country") if c not in ("XX", "US"))
        counters = {"W": 100000000, "V": 100000000, "I": 100000000, "H": 100000000,
                    "G": 100000000}

        def nic(prefix: str) -> str:
            counters[prefix] += 7919
            return f"{prefix}{counters[prefix]:09d}"

        used_plates: set[str] = set()
        for i in range(persons):
            last = "".join(rng.choice(SYLLABLES) for _ in range(rng.choice((2, 3))))
            first = rng.choice(FIRST)
            middle = chr(ord("A") + rng.randrange(26))
            dob = f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
            state = rng.choice(STATES)
            sex = rng.choice("MF")
            person = Person(
                name=f"{last}, {first} {middle}", dob=dob, sex=sex, race=rng.choice("WBAIU"),
                oln=f"S{rng.randrange(200000000, 999999999):09d}", ols=state,
                hgt=f"{rng.randint(5, 6)}{rng.randint(0, 11):02d}",
                wgt=str(rng.randint(110, 260)), eye=rng.choice(EYES), hai=rng.choice(HAIR),
                dl_status="SUSPENDED" if rng.random() < 0.08 else "VALID",
                dl_expires=f"{rng.randint(2026, 2031)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}")
            roll = rng.random()
            if roll < 0.02:
                person.wanted, person.nic = True, nic("W")
                person.warrant = rng.choice(WARRANT_OFFENSES)
                person.entering_ori = rng.choice(ENTERING_ORIS)
                person.oca = f"26-{rng.randrange(10**6):06d}"
                if rng.random() < 0.2:
                    person.cautions = [rng.choice(["00", "05"])]
            elif roll < 0.025:
                person.ivf_category = rng.choice(["DEPORTED_FELON", "ABSCONDER", "NSEERS"])
                person.arn = f"A{rng.randrange(300000000, 999999999)}"
                person.nic = nic("I")
                person.entering_ori = "VTICE0900"
                person.citizenship = rng.choice(countries)
            elif roll < 0.03:
                protected = f"{rng.choice(SYLLABLES)}{rng.choice(SYLLABLES)}, {rng.choice(FIRST)}"
                person.protection_order = ProtectionOrder(
                    nic=nic("H"), ori=rng.choice(ENTERING_ORIS), oca=f"26-{rng.randrange(10**6):06d}",
                    protected_name=protected,
                    protected_dob=f"{rng.randint(1950, 2005)}{rng.randint(1, 12):02d}"
                                  f"{rng.randint(1, 28):02d}",
                    conditions=sorted(rng.sample(PO_CONDITIONS, 2)),
                    expires=f"{rng.randint(2027, 2029)}{rng.randint(1, 12):02d}"
                            f"{rng.randint(1, 28):02d}")
            if person.wanted or person.ivf_category or rng.random() < 0.12:
                person.fbi = f"{i + 100000:06d}TR{i % 10}"
                person.sid = f"{state}{i + 10000000:08d}"
                for _ in range(rng.randint(1, 4)):
                    person.arrests.append(Arrest(
                        doa=f"{rng.randint(2008, 2025)}{rng.randint(1, 12):02d}"
                            f"{rng.randint(1, 28):02d}",
                        ori=rng.choice(ENTERING_ORIS), charge=rng.choice(HISTORY_OFFENSES),
                        disposition=rng.choice(DISPOSITIONS)))
                person.arrests.sort(key=lambda a: a.doa)
            self.persons.append(person)
            if rng.random() < 0.6:
                while True:
                    plate = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + \
                        f"{rng.randrange(10000):04d}"
                    if plate[:3] not in ("TRN", "CLN", "OFF", "FLT", "CAN", "ZZZ") \
                            and plate not in used_plates:
                        break
                used_plates.add(plate)
                vma, vmo = rng.choice(models)
                vyr = rng.randint(2010, 2027)
                vehicle = Vehicle(lic=plate, lis=state, vin=make_vin(rng, vyr), vyr=vyr, vma=vma,
                                  vmo=vmo, vco=rng.choice(COLOURS), vst=rng.choice(STYLES),
                                  owner=person.name, owner_dob=person.dob,
                                  liy=str(rng.randint(2026, 2028)))
                if rng.random() < 0.025:
                    vehicle.stolen, vehicle.nic = True, nic("V")
                    vehicle.entering_ori = rng.choice(ENTERING_ORIS)
                    vehicle.oca = f"26-{rng.randrange(10**6):06d}"
                    vehicle.dot = f"2026{rng.randint(1, 11):02d}{rng.randint(1, 28):02d}"
                self.vehicles.append(vehicle)
        for n in range(persons // 40):  # the gun file holds stolen guns only
            typ = rng.choice("PPPRSV")
            self.guns.append(Gun(ser=f"TRG{n + 10000:05d}", mak=rng.choice(GUN_MAKES),
                                 cal=rng.choice(GUN_CALIBERS[typ]), typ=typ, nic=nic("G"),
                                 oca=f"26-{rng.randrange(10**6):06d}",
                                 entering_ori=rng.choice(ENTERING_ORIS),
                                 dot=f"2025{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"))
        self._add_roster()
        self._index()

    def _index(self) -> None:
        self.by_plate = {(v.lic, v.lis): v for v in self.vehicles}
        self.by_vin = {v.vin: v for v in self.vehicles}
        self.by_dob: dict[str, list[Person]] = {}
        for p in self.persons:
            self.by_dob.setdefault(p.dob, []).append(p)
        self.by_oln = {(p.oln, p.ols): p for p in self.persons}
        self.by_arn = {p.arn: p for p in self.persons if p.arn}
        self.by_fbi = {p.fbi: p for p in self.persons if p.fbi}
        self.by_sid = {p.sid: p for p in self.persons if p.sid}
        self.by_serial = {g.ser: g for g in self.guns}
        self.by_nic: dict[str, Any] = {}
        for v in self.vehicles:
            if v.nic:
                self.by_nic[v.nic] = v
        for p in self.persons:
            if p.nic:
                self.by_nic[p.nic] = p
            if p.protection_order:
                self.by_nic[p.protection_order.nic] = p
        for g in self.guns:
            self.by_nic[g.nic] = g

    def _add_roster(self) -> None:
        armed = Person(name="KOLVEX, DRAYTON Q", dob="19840312", sex="M", race="W",
                       oln="S100000001", ols="VA", hgt="601", wgt="195", eye="BLU", hai="BRO",
                       wanted=True, warrant="1299", cautions=["00"], nic="W260000001",
                       oca="26-004400", entering_ori="VA0290000", fbi="T00001A",
                       sid="VA00000001",
                       arrests=[Arrest("20150611", "VA0290000", "1299", "CONVICTED"),
                                Arrest("20210902", "MD1012600", "1399", "DISMISSED")])
        felon = Person(name="ZANMIR, SOREN T", dob="19790704", sex="M", race="W",
                       oln="S100000002", ols="MD", ivf_category="DEPORTED_FELON",
                       arn="A200000002", citizenship="AA", nic="I260000002",
                       entering_ori="VTICE0900", detainer=True, fbi="T00002A", sid="MD00000002",
                       arrests=[Arrest("20110417", "MD1012600", "3599", "CONVICTED")])
        absconder = Person(name="TALBRO, MIRELA V", dob="19881121", sex="F", race="W",
                           oln="S100000003", ols="MD", ivf_category="ABSCONDER",
                           arn="A200000003", citizenship="AD", nic="I260000003",
                           entering_ori="VTICE0900")
        nseers = Person(name="DAXPEL, ORRIN K", dob="19750215", sex="M", race="A",
                        oln="S100000004", ols="VA", ivf_category="NSEERS", arn="A200000004",
                        citizenship="AA", nic="I260000004", entering_ori="VTICE0900")
        clean = Person(name="NORWEN, CASEY L", dob="19900101", sex="F", race="B",
                       oln="S100000005", ols="MD")
        near_miss = Person(name="KOLVECKS, DRAYTON Q", dob="19840312", sex="M", race="W",
                           oln="S100000006", ols="MD", hgt="510", wgt="160", eye="BRO",
                           hai="BLK")
        restrained = Person(name="HULGAR, BRENNA J", dob="19860830", sex="F", race="W",
                            oln="S100000007", ols="MD",
                            protection_order=ProtectionOrder(
                                nic="H260000007", ori="MD1012600", oca="26-004700",
                                protected_name="HULGAR, TOVIN R", protected_dob="19850214",
                                conditions=["01", "05"], expires="20271231"))
        suspended = Person(name="FENRIX, AVERY D", dob="19950519", sex="M", race="B",
                           oln="S100000008", ols="VA", dl_status="SUSPENDED",
                           fbi="T00008A", sid="VA00000008",
                           arrests=[Arrest("20190304", "VA0290000", "2299", "CONVICTED"),
                                    Arrest("20230117", "VA0290000", "2404",
                                           "PROBATION BEFORE JUDGMENT")])
        self.persons += [armed, felon, absconder, nseers, clean, near_miss, restrained,
                         suspended]
        stolen = Vehicle(lic="TRN4821", lis="VA", vin="1G4AH59H45G118341", vyr=2005,
                         vma="BUIC", vmo="LES", vco="BLK", owner=clean.name, owner_dob=clean.dob,
                         stolen=True, oca="26-004512", nic="V260000001", entering_ori="VA0290000",
                         dot="20261120")
        armed_car = Vehicle(lic="TRN5007", lis="MD", vin=make_vin(random.Random(7), 2019),
                            vyr=2019, vma="DODG", vmo="CHA", vco="RED", owner=armed.name,
                            owner_dob=armed.dob, stolen=True, oca="26-004513", nic="V260000002",
                            entering_ori="MD1012600", dot="20261118", cautions=["00"])
        felon_car = Vehicle(lic="TRN6230", lis="MD", vin=make_vin(random.Random(9), 2016),
                            vyr=2016, vma="HOND", vmo="ACC", vco="GRY", owner=felon.name,
                            owner_dob=felon.dob)
        clean_car = Vehicle(lic="CLN1000", lis="MD", vin=make_vin(random.Random(8), 2021),
                            vyr=2021, vma="TOYT", vmo="CAM", vco="SIL", owner=clean.name,
                            owner_dob=clean.dob)
        # One plate number issued in three states (plates are not unique across states): what
        # an Nlets broadcast (RQ to NL) is for.
        same_plate = [Vehicle(lic="NLS2024", lis=state, vin=make_vin(random.Random(seed), year),
                              vyr=year, vma=make, vmo=model, vco=colour, owner=owner.name,
                              owner_dob=owner.dob)
                      for state, seed, year, make, model, colour, owner in (
                          ("MD", 11, 2018, "FORD", "ASP", "BLU", clean),
                          ("NC", 12, 2015, "CHEV", "MAL", "WHI", suspended),
                          ("VA", 13, 2022, "NISS", "ALT", "BLK", restrained))]
        self.vehicles += [stolen, armed_car, felon_car, clean_car, *same_plate]
        self.guns.append(Gun(ser="TRG4821", mak="SW", cal="38", typ="P", nic="G260000001",
                             oca="26-004600", entering_ori="MD0030000", dot="20261002"))
        self.roster = [
            RosterEntry("Stolen car", "QV LIC/TRN4821.LIS/VA (or VIN/1G4AH59H45G118341)",
                        "a vehicle hit, its caveat, and confirming (YQ to VA0290000) before "
                        "acting"),
            RosterEntry("Stolen car, armed and dangerous driver", "QV LIC/TRN5007.LIS/MD",
                        "caution code 00 on a vehicle hit; run the owner from the return"),
            RosterEntry("Clean car", "QV LIC/CLN1000.LIS/MD (RQ to MD for the registration)",
                        "a no-record answer"),
            RosterEntry("Car of a deported felon", "QV LIC/TRN6230.LIS/MD, then RQ to MD",
                        "a clean plate whose owner is in the Immigration Violator File"),
            RosterEntry("Armed and dangerous wanted person",
                        "QW NAM/KOLVEX, DRAYTON Q.DOB/19840312 (or OLN/S100000001.OLS/VA)",
                        "caution codes and a warrant; YQ to VA0290000"),
            RosterEntry("Deported felon with a detainer",
                        "QW NAM/ZANMIR, SOREN T.DOB/19790704; IAQ with ARN/A200000002 and "
                        "CUS/Y",
                        "an IVF hit (civil), its policy prompt, LESC's IAR, then a detainer"),
            RosterEntry("Absconder", "QW NAM/TALBRO, MIRELA V.DOB/19881121 (or MNU/AR-200000003)",
                        "an IVF hit, category absconder"),
            RosterEntry("NSEERS violator", "QW NAM/DAXPEL, ORRIN K.DOB/19750215",
                        "an IVF hit, category NSEERS"),
            RosterEntry("Protection order", "QW NAM/HULGAR, BRENNA J.DOB/19860830",
                        "a protection order hit and its conditions"),
            RosterEntry("Suspended driver with a record",
                        "DQ to VA with OLN/S100000008; QH NAM/FENRIX, AVERY D.DOB/19950519.SEX/M"
                        ".RAC/B; QR FBI/T00008A",
                        "a licence status, a III index hit and a record request"),
            RosterEntry("Clean person", "QW NAM/NORWEN, CASEY L.DOB/19900101",
                        "a no-record answer"),
            RosterEntry("Near miss", "QW NAM/KOLVECKS, DRAYTON Q.DOB/19840312",
                        "a similar name returns KOLVEX's warrant: compare identifiers (OLN, "
                        "HGT, EYE) before acting"),
            RosterEntry("Stolen gun", "QG SER/TRG4821.MAK/SW", "a gun hit"),
            RosterEntry("One plate in three states", "RQ LIC/NLS2024 to NL (all states)",
                        "an Nlets broadcast: each state with a record answers on its own, "
                        "over up to a minute"),
        ]

    # -- look-ups --------------------------------------------------------------------------------
    def vehicle(self, lic: str = "", lis: str = "", vin: str = "") -> Vehicle | None:
        if vin:
            return self.by_vin.get(vin.upper())
        return self.by_plate.get((lic.upper(), lis.upper()))

    def persons_named(self, name: str, dob: str, sex: str = "") -> list[Person]:
        """Persons with this date of birth whose name sounds like the one asked (Soundex or
        NYSIIS of the last name, same first initial), as NCIC matches names despite spelling
        variants; a different sex, when given, excludes."""
        return [p for p in self.by_dob.get(dob, [])
                if names_match(name, p.name) and (not sex or sex == p.sex)]

    def persons_for(self, fields: dict[str, str]) -> list[Person]:
        """The persons a QW / QH / IAQ asks about: by identifier, or by name and date of birth."""
        found: list[Person] = []

        def add(person: Person | None) -> None:
            if person is not None and person not in found:
                found.append(person)

        if fields.get("FBI"):
            add(self.by_fbi.get(fields["FBI"]))
        if fields.get("SID"):
            add(self.by_sid.get(fields["SID"]))
        if fields.get("OLN") and fields.get("OLS"):
            add(self.by_oln.get((fields["OLN"], fields["OLS"])))
        mnu = fields.get("MNU", "")
        if mnu.startswith("AR-") or fields.get("ARN"):
            number = fields.get("ARN") or mnu[3:]
            add(self.by_arn.get(number if number.startswith("A") else f"A{number}"))
        if fields.get("NAM") and fields.get("DOB"):
            for person in self.persons_named(fields["NAM"], fields["DOB"], fields.get("SEX", "")):
                add(person)
        return found

    def record_by_nic(self, nic: str) -> Any:
        return self.by_nic.get(nic.upper())

    # -- records a trainer enters while a class runs ---------------------------------------------
    def enter(self, entry: dict[str, Any]) -> Vehicle | Person | Gun:
        """Add a record (``kind``: stolen_vehicle, wanted_person, stolen_gun) to the world.
        Raises ``ValueError`` naming what is missing."""
        kind = entry.get("kind")
        values = {str(k).lower(): v for k, v in entry.items()}

        def need(*keys: str) -> None:
            for key in keys:
                if not values.get(key):
                    raise ValueError(key)

        created: Vehicle | Person | Gun
        if kind == "stolen_vehicle":
            need("nic", "lic", "lis")
            existing = self.vehicle(str(values["lic"]), str(values["lis"]))
            vin = str(values.get("vin") or (existing.vin if existing else
                                             make_vin(random.Random(str(values["nic"])), 2020)))
            created = Vehicle(
                lic=str(values["lic"]).upper(), lis=str(values["lis"]).upper(), vin=vin.upper(),
                vyr=int(values.get("vyr") or (existing.vyr if existing else 2020)),
                vma=str(values.get("vma") or (existing.vma if existing else "CHEV")).upper(),
                vmo=str(values.get("vmo") or (existing.vmo if existing else "MAL")).upper(),
                vco=str(values.get("vco") or (existing.vco if existing else "BLK")).upper(),
                owner=existing.owner if existing else "", owner_dob=existing.owner_dob
                if existing else "", stolen=True, nic=str(values["nic"]).upper(),
                oca=str(values.get("oca") or "26-009999"),
                entering_ori=str(values.get("ori") or "MD1012600").upper(),
                dot=str(values.get("dot") or ""), cautions=list(values.get("cmc") or []))
            if existing:
                self.vehicles.remove(existing)
            self.vehicles.append(created)
        elif kind == "wanted_person":
            need("nic", "nam", "dob")
            created = Person(
                name=str(values["nam"]).upper(), dob=str(values["dob"]),
                sex=str(values.get("sex") or "M").upper(), race=str(values.get("rac") or "U"),
                oln=str(values.get("oln") or ""), ols=str(values.get("ols") or ""), wanted=True,
                warrant=str(values.get("off") or "1399"), nic=str(values["nic"]).upper(),
                oca=str(values.get("oca") or "26-009998"),
                entering_ori=str(values.get("ori") or "MD1012600").upper(),
                cautions=list(values.get("cmc") or []))
            self.persons.append(created)
        elif kind == "stolen_gun":
            need("nic", "ser", "mak")
            created = Gun(ser=str(values["ser"]).upper(), mak=str(values["mak"]).upper(),
                          cal=str(values.get("cal") or ""), typ=str(values.get("typ") or "P"),
                          nic=str(values["nic"]).upper(), oca=str(values.get("oca") or "26-009997"),
                          entering_ori=str(values.get("ori") or "MD1012600").upper(),
                          dot=str(values.get("dot") or ""))
            self.guns.append(created)
        else:
            raise ValueError("kind")
        self._index()
        return created
