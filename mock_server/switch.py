"""The simulated message switch: what each message key does, and the return texts it prints
(``docs/return-text.md``). Pure functions over the synthetic world; the app schedules the
resulting deliveries.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mock_server.state import Account
from mock_server.world import Person, Vehicle, World

HIT_CAVEAT = ("WARNING - A HIT IS NOT PROBABLE CAUSE. CONFIRM THE RECORD WITH THE ENTERING "
              "AGENCY (ORI) BEFORE ANY ACTION.")
IVF_CAVEAT = ("IMMIGRATION VIOLATOR FILE RECORD - ADMINISTRATIVE (CIVIL) WARRANT. DO NOT ARREST OR "
              "DETAIN BASED SOLELY ON THIS INFORMATION. CONTACT LESC (VTICE0900) TO CONFIRM.")
CATEGORY_WORDS = {"DEPORTED_FELON": "DEPORTED FELON", "ABSCONDER": "ABSCONDER",
                  "NSEERS": "NSEERS"}
KEYS = ("QW", "QV", "DQ", "RQ", "IAQ", "QH", "QR", "QG", "YQ", "YR", "AM")


@dataclass
class Delivery:
    """One event for one recipient, ``delay`` seconds from now."""

    recipient: str
    delay: float
    body: dict[str, Any]


@dataclass
class Record:
    title: str
    file: str
    hit: bool
    pairs: list[tuple[str, str]]
    nic: str | None = None
    category: str | None = None
    cautions: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)

    def structured(self) -> dict[str, Any]:
        fields: dict[str, str] = {}
        for tag, value in self.pairs:
            fields.setdefault(tag, value)
        if self.nic:
            fields["NIC"] = self.nic
        return {"file": self.file, "hit": self.hit, "nic": self.nic, "category": self.category,
                "caution_codes": list(self.cautions), "caveats": list(self.caveats),
                "fields": fields}


def render(header: str, records: list[Record], no_record: str = "") -> str:
    """The fixed-format text a legacy terminal would print."""
    blocks = [header]
    if any(r.hit for r in records):
        blocks.append(f"*** {HIT_CAVEAT} ***")
    for record in records:
        lines = [f"MKE/{record.title}"]
        pairs = [f"{tag}/{value}" for tag, value in record.pairs if value]
        if record.nic:
            pairs.append(f"NIC/{record.nic}")
        for i in range(0, len(pairs), 5):
            lines.append(" ".join(pairs[i:i + 5]))
        if record.cautions:
            lines.append(" ".join(f"CMC/{c}" for c in record.cautions))
        blocks.append("\n".join(lines))
        for caveat in record.caveats:
            if caveat != HIT_CAVEAT:
                blocks.append(f"*** {caveat} ***")
    if no_record:
        blocks.append(no_record)
    return "\n\n".join(blocks)


def vehicle_record(v: Vehicle) -> Record:
    return Record(
        title="STOLEN VEHICLE", file="VEHICLE", hit=True, nic=v.nic, cautions=list(v.cautions),
        caveats=[HIT_CAVEAT],
        pairs=[("ORI", v.entering_ori), ("LIC", v.lic), ("LIS", v.lis), ("LIY", "2027"),
               ("LIT", "PC"), ("VIN", v.vin), ("VYR", str(v.vyr)), ("VMA", v.vma),
               ("VMO", v.vmo), ("VCO", v.vco), ("OCA", v.oca)])


def registration_record(v: Vehicle) -> Record:
    return Record(title="REGISTRATION", file="REG", hit=False,
                  pairs=[("LIC", v.lic), ("LIS", v.lis), ("VIN", v.vin), ("VYR", str(v.vyr)),
                         ("VMA", v.vma), ("VMO", v.vmo), ("VCO", v.vco), ("NAM", v.owner)])


def person_pairs(p: Person) -> list[tuple[str, str]]:
    return [("NAM", p.name), ("SEX", p.sex), ("RAC", p.race), ("DOB", p.dob),
            ("OLN", p.oln), ("OLS", p.ols), ("FBI", p.fbi)]


def person_records(p: Person) -> list[Record]:
    records = []
    if p.wanted:
        title = "WANTED PERSON - CAUTION" if p.cautions else "WANTED PERSON"
        records.append(Record(title=title, file="WANTED", hit=True, nic=p.nic,
                              cautions=list(p.cautions), caveats=[HIT_CAVEAT],
                              pairs=[("ORI", p.entering_ori), *person_pairs(p),
                                     ("OFF", p.warrant), ("OCA", p.oca)]))
    if p.ivf_category:
        words = CATEGORY_WORDS[p.ivf_category]
        records.append(Record(title=f"IMMIGRATION VIOLATOR - {words}", file="IVF", hit=True,
                              nic=p.nic, category=p.ivf_category,
                              caveats=[HIT_CAVEAT, IVF_CAVEAT],
                              pairs=[("ORI", p.entering_ori), *person_pairs(p),
                                     ("MNU", f"AR-{p.arn.lstrip('A')}")]))
    return records


class Switch:
    def __init__(self, world: World, *, latency: float, iar_delay: float) -> None:
        self.world = world
        self.latency = latency
        self.iar_delay = iar_delay

    def _response(self, message: dict[str, Any], sender: Account, mke: str, source: str,
                  records: list[Record], no_record: str = "") -> dict[str, Any]:
        header = f"{mke}.{sender.ori}.{source}"
        return {"type": "response", "in_reply_to": message["id"], "mke": mke, "source": source,
                "text": render(header, records, no_record),
                "records": [r.structured() for r in records], "part": 1, "parts": 1}

    def route(self, message: dict[str, Any], sender: Account, accounts: list[Account]
              ) -> list[Delivery]:
        mke = str(message["mke"]).upper()
        fields = {str(k).upper(): str(v).upper() for k, v in (message.get("fields") or {}).items()}
        dest = [str(d).upper() for d in message.get("dest") or []]
        me = sender.user_id
        later = self.latency
        if mke == "QV":
            vehicle = self.world.vehicle(fields.get("LIC", ""), fields.get("LIS", ""),
                                         fields.get("VIN", ""))
            asked = " ".join(f"{t}/{fields[t]}" for t in ("LIC", "LIS", "VIN") if t in fields)
            if vehicle and vehicle.stolen:
                body = self._response(message, sender, "QV", "NCIC", [vehicle_record(vehicle)])
            else:
                body = self._response(message, sender, "QV", "NCIC", [], f"NO NCIC WANT {asked}")
            return [Delivery(me, later, body)]
        if mke in ("QW", "QH"):
            persons = self.world.persons_named(fields.get("NAM", ""), fields.get("DOB", ""))
            if mke == "QW":
                records = [r for p in persons for r in person_records(p)]
                asked = f"NAM/{fields.get('NAM', '')} DOB/{fields.get('DOB', '')}"
                return [Delivery(me, later, self._response(
                    message, sender, "QW", "NCIC", records,
                    "" if records else f"NO NCIC WANT {asked}"))]
            records = [Record(title="CRIMINAL HISTORY", file="III", hit=False,
                              pairs=person_pairs(p)) for p in persons if p.wanted or p.ivf_category]
            return [Delivery(me, later, self._response(
                message, sender, "QH", "III", records,
                "" if records else f"NO RECORD NAM/{fields.get('NAM', '')}"))]
        if mke in ("RQ", "DQ"):
            deliveries = []
            for i, state in enumerate(dest or ["NL"]):
                if mke == "RQ":
                    v = self.world.vehicle(fields.get("LIC", ""), state, fields.get("VIN", ""))
                    records = [registration_record(v)] if v and (v.lis == state) else []
                    none = "NO RECORD " + " ".join(f"{t}/{fields[t]}" for t in ("LIC", "VIN")
                                                   if t in fields)
                    body = self._response(message, sender, "RR", state, records,
                                          "" if records else none)
                else:
                    p = self.world.by_oln.get((fields.get("OLN", ""), state))
                    records = [Record(title="DRIVER LICENSE", file="DL", hit=False,
                                      pairs=person_pairs(p))] if p else []
                    body = self._response(message, sender, "DR", state, records,
                                          "" if records else f"NO RECORD OLN/{fields.get('OLN', '')}")
                body["part"], body["parts"] = i + 1, len(dest or ["NL"])
                deliveries.append(Delivery(me, later * (1 + i * 0.5), body))
            return deliveries
        if mke == "IAQ":
            ack = {"type": "ack", "in_reply_to": message["id"], "mke": "IAQ",
                   "text": f"IAQ ACKNOWLEDGED BY VTICE0900 - REFERENCE {message['id'][:8].upper()}"}
            arn = fields.get("ARN", "")
            person = self.world.by_arn.get(arn if arn.startswith("A") else f"A{arn}") if arn \
                else next(iter(self.world.persons_named(fields.get("NAM", ""),
                                                        fields.get("DOB", ""))), None)
            records = []
            if person and person.ivf_category:
                records.append(Record(title="LESC STATUS", file="LESC", hit=False,
                                      pairs=[*person_pairs(person), ("ARN", person.arn),
                                             ("STA", CATEGORY_WORDS[person.ivf_category]),
                                             ("DET", "Y" if person.detainer else "N")]))
            iar = self._response(message, sender, "IAR", "VTICE0900", records,
                                 "" if records else "NO RECORD FOUND IN LESC SYSTEMS")
            return [Delivery(me, 0.0, ack), Delivery(me, later + self.iar_delay, iar)]
        if mke in ("QR", "QG"):
            none = "NO RECORD " + " ".join(f"{t}/{v}" for t, v in fields.items())
            source = "III" if mke == "QR" else "NCIC"
            return [Delivery(me, later, self._response(message, sender, mke, source, [], none))]
        if mke in ("YQ", "YR", "AM"):
            recipients = [a for a in accounts if a.ori in dest and a.user_id != me
                          and (mke == "AM" or a.role == "dispatcher" or mke == "YR")]
            kind = {"YQ": "hit_confirmation_request", "YR": "hit_confirmation_response",
                    "AM": "admin"}[mke]
            body = {"type": kind, "from_ori": sender.ori, "from_user": sender.name,
                    "fields": fields, "text": message.get("text", ""),
                    "in_reply_to": message["id"]}
            deliveries = [Delivery(a.user_id, later, body) for a in recipients]
            status = {"type": "status", "in_reply_to": message["id"],
                      "status": "delivered" if recipients else "will_not_forward",
                      "text": f"{mke} DELIVERED TO {', '.join(dest)}" if recipients
                      else f"NO TERMINAL AT {', '.join(dest)} - NOT DELIVERED"}
            return [Delivery(me, 0.0, status), *deliveries]
        return [Delivery(me, 0.0, {"type": "status", "in_reply_to": message["id"],
                                   "status": "rejected",
                                   "reason": f"unknown message key {mke}",
                                   "text": f"REJECT/UNKNOWN MESSAGE KEY {mke}"})]
