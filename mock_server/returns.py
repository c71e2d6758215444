"""What the simulated switch prints: the record blocks of a return, its fixed-format text
(``docs/return-text.md``), and the bodies of the events it answers with (responses, refusals,
detainers, hit confirmations). Pure functions over the synthetic world's records.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mock_server.accounts import Account
from mock_server.synthetic import AGENCIES, Gun, Person, ProtectionOrder, Vehicle, offense

HIT_CAVEAT = ("WARNING - A HIT IS NOT PROBABLE CAUSE. CONFIRM THE RECORD WITH THE ENTERING "
              "AGENCY (ORI) BEFORE ANY ACTION.")
IVF_CAVEAT = ("IMMIGRATION VIOLATOR FILE RECORD - ADMINISTRATIVE (CIVIL) WARRANT. DO NOT ARREST OR "
              "DETAIN BASED SOLELY ON THIS INFORMATION. CONTACT LESC (VTICE0900) TO CONFIRM.")
PO_CAVEAT = ("PROTECTION ORDER - ENFORCE THE CONDITIONS (PCO) AS ORDERED. CONFIRM WITH THE "
             "ENTERING AGENCY.")
DELAYED_CAVEAT = ("DELAYED INQUIRY HIT - A RECORD ENTERED AFTER YOUR INQUIRY MATCHES IT. THE "
                  "SUBJECT MAY NO LONGER BE PRESENT.")
III_CAVEAT = ("III RECORD - FOR AUTHORIZED CRIMINAL JUSTICE PURPOSES ONLY. SECONDARY "
              "DISSEMINATION MUST BE LOGGED.")
CATEGORY_WORDS = {"DEPORTED_FELON": "DEPORTED FELON", "ABSCONDER": "ABSCONDER",
                  "NSEERS": "NSEERS"}
LESC = "VTICE0900"


@dataclass
class Record:
    """One record block of a return: its fields in printed lines (``TAG/value`` pairs)."""

    title: str
    file: str
    hit: bool
    lines: list[list[tuple[str, str]]]
    nic: str | None = None
    category: str | None = None
    cautions: list[str] = field(default_factory=list)
    caveats: list[str] = field(default_factory=list)
    narrative: list[str] = field(default_factory=list)  # lines of text without tags (an IAR's)

    def structured(self) -> dict[str, Any]:
        """As ``records`` carries it; repeated tags become ``TAG#2`` ... as the parser keeps them."""
        fields: dict[str, str] = {}
        for line in self.lines:
            for tag, value in line:
                if not value:
                    continue
                if tag not in fields:
                    fields[tag] = value
                    continue
                n = 2
                while f"{tag}#{n}" in fields:
                    n += 1
                fields[f"{tag}#{n}"] = value
        if self.nic:
            fields["NIC"] = self.nic
        data: dict[str, Any] = {
            "file": self.file, "hit": self.hit, "nic": self.nic, "category": self.category,
            "caution_codes": list(self.cautions), "caveats": list(self.caveats),
            "fields": fields}
        if self.narrative:
            data["narrative"] = list(self.narrative)
        return data


def render(header: str, records: list[Record], no_record: str = "",
           caveats: tuple[str, ...] = ()) -> str:
    """The fixed-format text a legacy terminal would print (``docs/return-text.md``)."""
    blocks = [header]
    for caveat in caveats:
        blocks.append(f"*** {caveat} ***")
    if any(r.hit for r in records):
        blocks.append(f"*** {HIT_CAVEAT} ***")
    for record in records:
        lines = [f"MKE/{record.title}"]
        for line in record.lines:
            pairs = [f"{tag}/{value}" for tag, value in line if value]
            if pairs:
                lines.append(" ".join(pairs))
        if record.cautions:
            lines.append(" ".join(f"CMC/{c}" for c in record.cautions))
        blocks.append("\n".join(lines))
        if record.narrative:
            blocks.append("\n".join(record.narrative))
        for caveat in record.caveats:
            if caveat != HIT_CAVEAT and caveat not in caveats:
                blocks.append(f"*** {caveat} ***")
    if no_record:
        blocks.append(no_record)
    return "\n\n".join(blocks)


_FIELD_LINE = re.compile(r"[A-Z][A-Z0-9]{1,2}/")


def wrap_text(text: str, width: int) -> str:
    """The text as a legacy switch prints it on a terminal ``width`` columns wide: a record's
    ``TAG/value`` lines run on as one stream of pairs (the switch fills its lines), and every line
    longer than the width is cut every ``width`` characters, wherever the cut falls (in a tag, in
    a value, in a word). 0 leaves the text as it is."""
    if width <= 0:
        return text
    flowed: list[str] = []
    for line in text.split("\n"):
        if flowed and _FIELD_LINE.match(line) and not line.startswith("MKE/") \
                and _FIELD_LINE.match(flowed[-1]) and not flowed[-1].startswith("MKE/"):
            flowed[-1] = f"{flowed[-1]} {line}"
        else:
            flowed.append(line)
    out: list[str] = []
    for line in flowed:
        out += [line[i:i + width] for i in range(0, len(line), width)] or [""]
    return "\n".join(out)


# -- records -------------------------------------------------------------------------------------
def vehicle_record(v: Vehicle) -> Record:
    return Record(
        title="STOLEN VEHICLE", file="VEHICLE", hit=True, nic=v.nic, cautions=list(v.cautions),
        caveats=[HIT_CAVEAT],
        lines=[[("ORI", v.entering_ori), ("LIC", v.lic), ("LIS", v.lis), ("LIY", v.liy),
                ("LIT", v.lit)],
               [("VIN", v.vin), ("VYR", str(v.vyr)), ("VMA", v.vma), ("VMO", v.vmo),
                ("VST", v.vst), ("VCO", v.vco)],
               [("DOT", v.dot), ("OCA", v.oca), ("NIC", v.nic)]])


def registration_record(v: Vehicle) -> Record:
    return Record(title="REGISTRATION", file="REG", hit=False,
                  lines=[[("LIC", v.lic), ("LIS", v.lis), ("LIY", v.liy), ("LIT", v.lit)],
                         [("VIN", v.vin), ("VYR", str(v.vyr)), ("VMA", v.vma), ("VMO", v.vmo),
                          ("VST", v.vst), ("VCO", v.vco)],
                         [("NAM", v.owner), ("DOB", v.owner_dob)]])


def person_line(p: Person) -> list[tuple[str, str]]:
    return [("NAM", p.name), ("SEX", p.sex), ("RAC", p.race), ("DOB", p.dob)]


def description_line(p: Person) -> list[tuple[str, str]]:
    return [("HGT", p.hgt), ("WGT", p.wgt), ("EYE", p.eye), ("HAI", p.hai)]


def id_line(p: Person) -> list[tuple[str, str]]:
    return [("OLN", p.oln), ("OLS", p.ols), ("FBI", p.fbi)]


def wanted_record(p: Person) -> Record:
    title = "WANTED PERSON - CAUTION" if p.cautions else "WANTED PERSON"
    return Record(title=title, file="WANTED", hit=True, nic=p.nic, cautions=list(p.cautions),
                  caveats=[HIT_CAVEAT],
                  lines=[[("ORI", p.entering_ori), *person_line(p)], description_line(p),
                         id_line(p), [("OFF", offense(p.warrant))],
                         [("OCA", p.oca), ("NIC", p.nic)]])


def ivf_record(p: Person) -> Record:
    words = CATEGORY_WORDS[p.ivf_category]
    return Record(title=f"IMMIGRATION VIOLATOR - {words}", file="IVF", hit=True, nic=p.nic,
                  category=p.ivf_category, caveats=[HIT_CAVEAT, IVF_CAVEAT],
                  lines=[[("ORI", p.entering_ori), *person_line(p)], description_line(p),
                         [*id_line(p), ("MNU", f"AR-{p.arn.lstrip('A')}")],
                         [("NIC", p.nic)]])


def protection_order_record(p: Person, po: ProtectionOrder) -> Record:
    return Record(title="PROTECTION ORDER", file="PROTECTION_ORDER", hit=True, nic=po.nic,
                  caveats=[HIT_CAVEAT, PO_CAVEAT],
                  lines=[[("ORI", po.ori), *person_line(p)], description_line(p), id_line(p),
                         [("PCO", " ".join(po.conditions)), ("EXP", po.expires)],
                         [("PPN", po.protected_name), ("PPB", po.protected_dob)],
                         [("OCA", po.oca), ("NIC", po.nic)]])


def person_records(p: Person) -> list[Record]:
    records = []
    if p.wanted:
        records.append(wanted_record(p))
    if p.ivf_category:
        records.append(ivf_record(p))
    if p.protection_order:
        records.append(protection_order_record(p, p.protection_order))
    return records


def gun_record(g: Gun) -> Record:
    return Record(title="STOLEN GUN", file="GUN", hit=True, nic=g.nic, cautions=list(g.cautions),
                  caveats=[HIT_CAVEAT],
                  lines=[[("ORI", g.entering_ori), ("SER", g.ser), ("MAK", g.mak), ("CAL", g.cal),
                          ("TYP", g.typ)],
                         [("DOT", g.dot), ("OCA", g.oca), ("NIC", g.nic)]])


def licence_record(p: Person) -> Record:
    return Record(title="DRIVER LICENSE", file="DL", hit=False,
                  lines=[person_line(p), description_line(p),
                         [("OLN", p.oln), ("OLS", p.ols), ("EXP", p.dl_expires),
                          ("STA", p.dl_status)]])


def history_index_record(p: Person) -> Record:
    return Record(title="CRIMINAL HISTORY", file="III", hit=False,
                  lines=[person_line(p), [("FBI", p.fbi), ("SID", p.sid)]])


def history_record(p: Person) -> Record:
    lines = [person_line(p), description_line(p), [("FBI", p.fbi), ("SID", p.sid)]]
    for arrest in p.arrests:
        lines.append([("DOA", arrest.doa), ("AGY", arrest.ori), ("CHG", offense(arrest.charge)),
                      ("DIS", arrest.disposition)])
    return Record(title="CRIMINAL HISTORY", file="III", hit=False, caveats=[III_CAVEAT],
                  lines=lines)


LESC_FINDING = {
    "DEPORTED_FELON": "SUBJECT WAS REMOVED FROM THE UNITED STATES AFTER A FELONY CONVICTION AND "
                      "HAS RE-ENTERED.",
    "ABSCONDER": "SUBJECT IS UNDER A FINAL ORDER OF REMOVAL AND FAILED TO DEPART.",
    "NSEERS": "SUBJECT FAILED TO COMPLY WITH SPECIAL REGISTRATION REQUIREMENTS.",
}


def lesc_record(p: Person) -> Record:
    narrative = ["LESC FINDING: THE SUBJECT IS THE PERSON IN THE IMMIGRATION RECORD.",
                 LESC_FINDING[p.ivf_category]]
    narrative += (["ICE WILL LODGE A DETAINER. MAINTAIN CUSTODY AND CONTACT LESC (VTICE0900)."]
                  if p.detainer else ["ICE WILL NOT LODGE A DETAINER AT THIS TIME."])
    return Record(title="LESC STATUS", file="LESC", hit=False, narrative=narrative,
                  lines=[person_line(p), [("ARN", p.arn), ("CTZ", p.citizenship),
                                          ("FBI", p.fbi)],
                         [("STA", CATEGORY_WORDS[p.ivf_category]),
                          ("DET", "Y" if p.detainer else "N")]])


def records_of(found: Vehicle | Person | Gun) -> list[Record]:
    if isinstance(found, Vehicle):
        return [vehicle_record(found)] if found.stolen else []
    if isinstance(found, Gun):
        return [gun_record(found)]
    return person_records(found)


# -- event bodies ---------------------------------------------------------------------------------
def response_body(message: dict[str, Any], sender: Account, mke: str, source: str,
                  records: list[Record], no_record: str = "") -> dict[str, Any]:
    header = f"{mke}.{sender.ori}.{source}"
    return {"type": "response", "in_reply_to": message["id"], "mke": mke, "source": source,
            "text": render(header, records, no_record),
            "records": [r.structured() for r in records], "part": 1, "parts": 1}


def reject_body(message: dict[str, Any], reason: str, field: str | None) -> dict[str, Any]:
    """The switch's refusal of a message (a ``status`` event, ``REJECT/`` text)."""
    body = {"type": "status", "in_reply_to": message["id"], "status": "rejected",
            "reason": reason.lower(), "text": f"REJECT/{reason}"}
    if field:
        body["field"] = field
    return body


def detainer_body(person: Person, message_id: str, sender: Account, reference: str
                  ) -> dict[str, Any]:
    number = f"DET-{reference}"
    text = "\n".join([
        f"DET.{sender.ori}.{LESC}", "",
        "*** IMMIGRATION DETAINER - NOTICE OF ACTION (FORM I-247A). NOTIFY DHS BEFORE "
        "RELEASE. MAINTAIN CUSTODY FOR UP TO 48 HOURS BEYOND THE TIME THE SUBJECT WOULD "
        "OTHERWISE HAVE BEEN RELEASED. ***", "",
        f"NAM/{person.name} DOB/{person.dob} SEX/{person.sex} CTZ/{person.citizenship}",
        f"ARN/{person.arn} FBI/{person.fbi}",
        "BASIS/FINAL ORDER OF REMOVAL AGAINST THE SUBJECT",
        f"DET/{number} CONTACT/{LESC} PHN/{AGENCIES[LESC][1]}"])
    return {"type": "detainer", "in_reply_to": message_id, "detainer_id": number,
            "subject": {"name": person.name, "dob": person.dob, "sex": person.sex,
                        "citizenship": person.citizenship, "a_number": person.arn,
                        "fbi": person.fbi},
            "issuing_office": "DHS ICE ENFORCEMENT AND REMOVAL OPERATIONS - TRAINING FIELD "
                              "OFFICE",
            "basis": "FINAL ORDER OF REMOVAL",
            "requested_action": {"notify_before_release": True, "hold_hours": 48},
            "warrant": "I-205", "contact": {"ori": LESC, "name": AGENCIES[LESC][0],
                                            "phone": AGENCIES[LESC][1]},
            "related": {"message_id": message_id, "booking": None},
            "text": text}


def confirmation_body(request_id: str, status: str, confirm_by: str | None, ori: str,
                      name: str, remarks: str, fields: dict[str, str], to_ori: str
                      ) -> dict[str, Any]:
    words = {"CONFIRMED": "Y", "NOT_CONFIRMED": "N", "WILL_CONFIRM_BY": "T"}[status]
    echo = " ".join(f"{t}/{fields[t]}" for t in ("RTY", "RNO", "OCA", "NIC") if t in fields)
    lines = [echo, f"CST/{words} {status.replace('_', ' ')}"]
    if confirm_by:
        lines.append(f"CBY/{confirm_by}")
    if remarks:
        lines.append(f"REM/{remarks}")
    lines.append(f"ORI/{ori} CNM/{name}")
    text = "\n".join([f"YR.{to_ori}.{ori}", "", *lines])
    return {"type": "hit_confirmation_response", "in_reply_to": request_id, "status": status,
            "confirm_by": confirm_by, "confirming_ori": ori, "confirming_name": name,
            "remarks": remarks, "rty": fields.get("RTY", ""), "rno": fields.get("RNO", ""),
            "oca": fields.get("OCA", ""), "nic": fields.get("NIC", ""), "text": text}


def not_forwarded_body(message: dict[str, Any], oris: list[str]) -> dict[str, Any]:
    return {"type": "status", "in_reply_to": message["id"], "status": "will_not_forward",
            "reason": f"unknown destination {', '.join(oris)}",
            "text": f"STATUS/NO SUCH DESTINATION {', '.join(oris)} - WILL NOT FORWARD"}
