"""The simulated message switch: what each message key does, and the return texts it prints
(``docs/return-text.md``). Pure functions over the synthetic world; the app schedules the
resulting deliveries.

A message the switch cannot act on (an unknown key, a required field missing, a bad purpose or
destination) is refused with a ``status`` event ``rejected`` and a ``REJECT/`` text, as a switch
answers, rather than an HTTP error: the message itself was well-formed and was accepted.
"""

from __future__ import annotations

import json
import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from mdt.paths import resources_dir
from mock_server.state import Account, iso
from mock_server.world import (
    AGENCIES,
    Gun,
    Person,
    ProtectionOrder,
    Vehicle,
    World,
    code_table,
    offense,
)

log = logging.getLogger("mdt-gateway")

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
CONFIRM_STATUS = {"Y": "CONFIRMED", "N": "NOT_CONFIRMED", "T": "WILL_CONFIRM_BY"}
RESPOND_SECONDS = {"U": 600.0, "R": 3600.0}  # urgent: 10 minutes, routine: 1 hour
LESC = "VTICE0900"
NIC_PREFIX = {"WP": "W", "SV": "V", "SL": "V", "SG": "G", "PO": "H"}
DEFAULT_FORMS = resources_dir() / "forms"


class Rejected(Exception):
    def __init__(self, reason: str, field: str | None = None) -> None:
        super().__init__(reason)
        self.reason, self.field = reason, field


@dataclass
class Delivery:
    """One event for one recipient, ``delay`` seconds from now."""

    recipient: str
    delay: float
    body: dict[str, Any]


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


# -- the rules of each key (from the form definitions the client also uses) ----------------------
class Rules:
    """Required fields, alternatives, purpose codes and destinations per key, read from the form
    definitions (``resources/forms``): the switch refuses what the forms would not let through."""

    def __init__(self, folder: Path = DEFAULT_FORMS) -> None:
        self.forms: dict[str, dict[str, Any]] = {}
        for path in sorted(folder.glob("*.json")):
            try:
                form = json.loads(path.read_text(encoding="utf-8"))
                self.forms[str(form["mke"]).upper()] = form
            except (OSError, ValueError, KeyError, TypeError):
                continue

    def check(self, mke: str, fields: dict[str, str], dest: list[str], purpose: str) -> None:
        form = self.forms.get(mke)
        if form is None:
            raise Rejected(f"UNKNOWN MESSAGE KEY {mke}", "mke")
        for definition in form.get("fields") or []:
            tag = str(definition.get("tag", ""))
            value = fields.get(tag, "")
            if definition.get("required") and not value:
                raise Rejected(f"{mke} NEEDS {tag}", tag)
            choices = [str(c.get("value")) for c in definition.get("choices") or []]
            if choices and value and value not in choices:
                raise Rejected(f"{tag} MUST BE {' OR '.join(choices)}", tag)
            pattern = definition.get("pattern")
            if isinstance(pattern, str) and value:
                try:
                    ok = re.fullmatch(pattern, value) is not None
                except re.error:
                    ok = True
                if not ok:
                    raise Rejected(f"{tag}/{value} IS NOT VALID", tag)
        alternatives = list(form.get("alternatives") or [])
        when = form.get("alternatives_when")
        if isinstance(when, dict) and isinstance(when.get("cases"), dict):
            alternatives += when["cases"].get(fields.get(str(when.get("field")), ""), [])
        for alternative in alternatives:
            if not any(all(fields.get(t) for t in group) for group in alternative):
                wanted = ", OR ".join(" AND ".join(group) for group in alternative)
                raise Rejected(f"{mke} NEEDS {wanted}", alternative[0][0])
        codes = [str(c.get("value")) for c in form.get("purpose_codes") or []]
        if codes and purpose not in codes:
            raise Rejected(f"{mke} NEEDS A PURPOSE CODE ({'/'.join(codes)})", "PUR")
        destination = form.get("destination") or {}
        kind = destination.get("kind")
        if kind in ("ori", "states", "state") and destination.get("required", True) and not dest:
            raise Rejected(f"{mke} NEEDS A DESTINATION", "DEST")
        limit = int(destination.get("max") or (1 if kind == "state" else 0))
        if limit and len(dest) > limit:
            raise Rejected(f"{mke} TAKES AT MOST {limit} DESTINATIONS", "DEST")
        if kind == "ori":
            for ori in dest:
                if len(ori) != 9 or not ori.isalnum():
                    raise Rejected(f"DESTINATION {ori} IS NOT AN ORI", "DEST")
        if kind in ("states", "state"):
            states = code_table("LIS")
            for state in dest:
                if state not in states and state != "NL":
                    raise Rejected(f"DESTINATION {state} IS NOT A STATE CODE", "DEST")

    def respond_seconds(self, mke: str, fields: dict[str, str]) -> float | None:
        """How long the answer may take, from the form's ``confirm_by`` (YQ: by PRI)."""
        rule = (self.forms.get(mke) or {}).get("confirm_by")
        if not isinstance(rule, dict) or not isinstance(rule.get("minutes"), dict):
            return None
        minutes = rule["minutes"].get(fields.get(str(rule.get("field")), ""))
        return float(minutes) * 60 if isinstance(minutes, int | float) else None


@dataclass
class Confirmation:
    """A hit confirmation request (YQ) the switch routed, so a YR can be routed back."""

    request_id: str
    requester: str | None  # the user who sent it (None: a scenario's simulated agency)
    requesting_ori: str
    dest: list[str]
    nic: str
    oca: str
    pri: str
    respond_by: float


@dataclass
class Context:
    """What the switch may look up beyond the world."""

    accounts: list[Account]
    find_confirmation: Callable[[str, str, str, str], Confirmation | None]
    now: float = field(default_factory=time.time)


@dataclass
class Routed:
    deliveries: list[Delivery]
    confirmation: Confirmation | None = None  # a YQ to remember
    answered: tuple[str, str, str] | None = None  # a YR: (request id, status, answering user)


class Switch:
    def __init__(self, world: World, *, latency: float, iar_delay: float,
                 confirm_delay: float = 45.0, seed: int = 1, rules: Rules | None = None) -> None:
        self.world = world
        self.latency = latency
        self.iar_delay = iar_delay
        self.confirm_delay = confirm_delay
        self.rng = random.Random(seed)
        self.rules = rules or Rules()

    def jittered(self, seconds: float) -> float:
        """A delay with a little seeded jitter (±15 %), so answers do not come in lockstep."""
        return seconds * (1 + self.rng.uniform(-0.15, 0.15)) if seconds > 0 else 0.0

    @staticmethod
    def _response(message: dict[str, Any], sender: Account, mke: str, source: str,
                  records: list[Record], no_record: str = "") -> dict[str, Any]:
        header = f"{mke}.{sender.ori}.{source}"
        return {"type": "response", "in_reply_to": message["id"], "mke": mke, "source": source,
                "text": render(header, records, no_record),
                "records": [r.structured() for r in records], "part": 1, "parts": 1}

    @staticmethod
    def reject(message: dict[str, Any], reason: str, field: str | None) -> dict[str, Any]:
        """The switch's refusal of a message (a ``status`` event, ``REJECT/`` text)."""
        body = {"type": "status", "in_reply_to": message["id"], "status": "rejected",
                "reason": reason.lower(), "text": f"REJECT/{reason}"}
        if field:
            body["field"] = field
        return body

    def route(self, message: dict[str, Any], sender: Account, ctx: Context) -> Routed:
        mke = str(message["mke"]).upper()
        fields = {str(k).upper(): " ".join(str(v).upper().split())
                  for k, v in (message.get("fields") or {}).items() if str(v).strip()}
        dest = [str(d).upper() for d in message.get("dest") or []]
        purpose = str(message.get("purpose") or fields.get("PUR") or "").upper()
        try:
            self.rules.check(mke, fields, dest, purpose)
            handler = getattr(self, f"_{mke.lower()}", None)
            if handler is None:
                raise Rejected(f"MESSAGE KEY {mke} IS NOT SUPPORTED BY THIS SWITCH", "mke")
            routed: Routed = handler(message, sender, ctx, fields, dest,
                                     self.jittered(self.latency))
        except Rejected as exc:
            return Routed([Delivery(sender.user_id, 0.0,
                                    self.reject(message, exc.reason, exc.field))])
        except Exception:  # a bug must not swallow the message: the sender is told
            log.exception("the switch failed on a %s message", mke)
            return Routed([Delivery(sender.user_id, 0.0, self.reject(
                message, "THE SWITCH COULD NOT PROCESS THIS MESSAGE", None))])
        return routed

    # -- NCIC ------------------------------------------------------------------------------------
    def _qv(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        vehicle = self.world.vehicle(fields.get("LIC", ""), fields.get("LIS", ""),
                                     fields.get("VIN", ""))
        asked = " ".join(f"{t}/{fields[t]}" for t in ("LIC", "LIS", "VIN") if t in fields)
        if vehicle and vehicle.stolen:
            body = self._response(message, sender, "QV", "NCIC", [vehicle_record(vehicle)])
        else:
            body = self._response(message, sender, "QV", "NCIC", [], f"NO NCIC WANT {asked}")
        return Routed([Delivery(sender.user_id, later, body)])

    def _qw(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        records = [r for p in self.world.persons_for(fields) for r in person_records(p)]
        asked = " ".join(f"{t}/{fields[t]}" for t in ("NAM", "DOB", "SEX", "FBI", "SOC", "OLN",
                                                       "OLS", "MNU") if t in fields)
        body = self._response(message, sender, "QW", "NCIC", records,
                              "" if records else f"NO NCIC WANT {asked}")
        return Routed([Delivery(sender.user_id, later, body)])

    def _qg(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        gun = self.world.by_serial.get(fields["SER"])
        if gun and fields.get("MAK") and fields["MAK"] != gun.mak:
            gun = None
        asked = " ".join(f"{t}/{fields[t]}" for t in ("SER", "MAK", "CAL", "TYP") if t in fields)
        body = self._response(message, sender, "QG", "NCIC", [gun_record(gun)] if gun else [],
                              "" if gun else f"NO NCIC RECORD {asked}")
        return Routed([Delivery(sender.user_id, later, body)])

    # -- III -------------------------------------------------------------------------------------
    def _qh(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        persons = [p for p in self.world.persons_named(fields["NAM"], fields["DOB"],
                                                       fields.get("SEX", "")) if p.fbi]
        records = [history_index_record(p) for p in persons]
        body = self._response(message, sender, "QH", "III", records,
                              "" if records else f"NO RECORD NAM/{fields['NAM']} "
                                                 f"DOB/{fields['DOB']}")
        return Routed([Delivery(sender.user_id, later, body)])

    def _qr(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        person = (self.world.by_fbi.get(fields.get("FBI", ""))
                  or self.world.by_sid.get(fields.get("SID", "")))
        asked = " ".join(f"{t}/{fields[t]}" for t in ("FBI", "SID") if t in fields)
        records = [history_record(person)] if person else []
        body = self._response(message, sender, "QR", "III", records,
                              "" if records else f"NO RECORD {asked}")
        return Routed([Delivery(sender.user_id, later, body)])

    # -- Nlets -----------------------------------------------------------------------------------
    def _parts(self, bodies: list[dict[str, Any]], sender: Account, later: float) -> Routed:
        deliveries = []
        for i, body in enumerate(bodies):
            body["part"], body["parts"] = i + 1, len(bodies)
            deliveries.append(Delivery(sender.user_id, later * (1 + i * 0.5), body))
        return Routed(deliveries)

    def _all_states(self, bodies: list[dict[str, Any]], sender: Account, later: float
                    ) -> Routed:
        """An Nlets broadcast (destination NL): every state holding a record answers on its
        own, one after another over up to a minute (scaled with the latency: at once when the
        latency is 0); with no record anywhere, one NO RECORD answer."""
        spread = min(60.0, 75.0 * later)
        deliveries = []
        for i, body in enumerate(bodies):
            body["part"], body["parts"] = i + 1, len(bodies)
            due = later + (spread * (i + 1) / len(bodies) if len(bodies) > 1 else 0.0)
            deliveries.append(Delivery(sender.user_id, self.jittered(due) if due else 0.0,
                                       body))
        return Routed(deliveries)

    def _rq(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], dest: list[str], later: float) -> Routed:
        bodies = []
        none = "NO RECORD " + " ".join(f"{t}/{fields[t]}" for t in ("LIC", "VIN") if t in fields)
        if dest == ["NL"]:
            lic, vin = fields.get("LIC", "").upper(), fields.get("VIN", "").upper()
            found = sorted((v for v in self.world.vehicles
                            if (lic and v.lic == lic) or (vin and v.vin == vin)),
                           key=lambda v: v.lis)
            bodies = [self._response(message, sender, "RR", v.lis, [registration_record(v)], "")
                      for v in found] or [self._response(message, sender, "RR", "NL", [], none)]
            return self._all_states(bodies, sender, later)
        for state in dest:
            v = self.world.vehicle(fields.get("LIC", ""), state, fields.get("VIN", ""))
            records = [registration_record(v)] if v and v.lis == state else []
            bodies.append(self._response(message, sender, "RR", state, records,
                                         "" if records else none))
        return self._parts(bodies, sender, later)

    def _dq(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], dest: list[str], later: float) -> Routed:
        bodies = []
        if dest == ["NL"]:
            if fields.get("OLN"):
                people = [p for (oln, _s), p in self.world.by_oln.items() if oln == fields["OLN"]]
                asked = f"OLN/{fields['OLN']}"
            else:
                people = self.world.persons_named(fields["NAM"], fields["DOB"], fields["SEX"])
                asked = f"NAM/{fields['NAM']} DOB/{fields['DOB']}"
            by_state: dict[str, list[Person]] = {}
            for holder in people:
                by_state.setdefault(holder.ols, []).append(holder)
            bodies = [self._response(message, sender, "DR", state,
                                     [licence_record(p) for p in found], "")
                      for state, found in sorted(by_state.items())] or \
                [self._response(message, sender, "DR", "NL", [], f"NO RECORD {asked}")]
            return self._all_states(bodies, sender, later)
        for state in dest:
            if fields.get("OLN"):
                person = self.world.by_oln.get((fields["OLN"], state))
                found = [person] if person else []
                asked = f"OLN/{fields['OLN']}"
            else:
                found = [p for p in self.world.persons_named(fields["NAM"], fields["DOB"],
                                                             fields["SEX"])
                         if p.ols == state]
                asked = f"NAM/{fields['NAM']} DOB/{fields['DOB']}"
            records = [licence_record(p) for p in found]
            bodies.append(self._response(message, sender, "DR", state, records,
                                         "" if records else f"NO RECORD {asked}"))
        return self._parts(bodies, sender, later)

    def _iaq(self, message: dict[str, Any], sender: Account, ctx: Context,
             fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        reference = message["id"][:8].upper()
        ack = {"type": "ack", "in_reply_to": message["id"], "mke": "IAQ",
               "text": f"IAQ ACKNOWLEDGED BY {LESC} - REFERENCE {reference} - "
                       "THE RESPONSE (IAR) WILL FOLLOW"}
        person = next((p for p in self.world.persons_for(fields) if p.ivf_category), None)
        records = [lesc_record(person)] if person else []
        iar = self._response(message, sender, "IAR", LESC, records,
                             "" if records else "NO RECORD FOUND IN LESC SYSTEMS - SUBJECT "
                                                "IDENTITY NOT CONFIRMED")
        iar_at = later + self.jittered(self.iar_delay)
        deliveries = [Delivery(sender.user_id, 0.0, ack), Delivery(sender.user_id, iar_at, iar)]
        if person and person.detainer and fields.get("CUS") == "Y":
            detainer = self.detainer(person, message["id"], sender, reference)
            notify = [sender.user_id] + [a.user_id for a in ctx.accounts
                                         if a.ori == sender.ori and a.role == "dispatcher"
                                         and a.user_id != sender.user_id]
            deliveries += [Delivery(u, iar_at + max(0.5, self.iar_delay / 2), detainer)
                           for u in notify]
        return Routed(deliveries)

    @staticmethod
    def detainer(person: Person, message_id: str, sender: Account, reference: str
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

    # -- between terminals: YQ, YR, AM -----------------------------------------------------------
    @staticmethod
    def _terminals(ctx: Context, ori: str, sender: Account, dispatchers_only: bool
                   ) -> list[Account]:
        return [a for a in ctx.accounts if a.ori == ori and a.user_id != sender.user_id
                and (a.role == "dispatcher" or not dispatchers_only)]

    def _yq(self, message: dict[str, Any], sender: Account, ctx: Context,
            fields: dict[str, str], dest: list[str], later: float) -> Routed:
        pri = fields["PRI"]
        seconds = self.rules.respond_seconds("YQ", fields)
        respond_by = ctx.now + (seconds if seconds is not None
                                else RESPOND_SECONDS.get(pri, RESPOND_SECONDS["U"]))
        data_tags = ("NAM", "DOB", "SEX", "LIC", "LIS", "LIY", "LIT", "VIN", "VYR", "VMA", "SER",
                     "MAK", "CAL", "TYP")
        data_set = {t: fields[t] for t in data_tags if t in fields}
        request = {
            "type": "hit_confirmation_request", "request_id": message["id"],
            "rty": fields["RTY"], "rno": fields["RNO"], "pri": pri, "oca": fields["OCA"],
            "nic": fields["NIC"], "requesting_ori": sender.ori,
            "requesting_name": fields.get("RNA") or sender.name,
            "phone": fields.get("PHO", ""), "remarks": fields.get("REM", ""),
            "data_set": data_set, "respond_by": iso(respond_by), "fields": fields}

        def text_for(ori: str) -> str:
            lines = [" ".join(f"{t}/{fields[t]}" for t in ("RTY", "RNO", "PRI", "OCA", "NIC")),
                     " ".join(f"{t}/{v}" for t, v in data_set.items()),
                     " ".join(f"{t}/{fields[t]}" for t in ("RNA", "PHO", "REM") if t in fields),
                     f"RSP/{iso(respond_by)}"]
            return "\n".join([f"YQ.{ori}.{sender.ori}", "", *(line for line in lines if line)])

        deliveries: list[Delivery] = []
        routed, refused = [], []
        for ori in dest:
            desks = self._terminals(ctx, ori, sender, dispatchers_only=True)
            if desks:
                deliveries += [Delivery(a.user_id, later, {**request, "dest": ori, "text": text_for(ori)})
                               for a in desks]
                routed.append(ori)
            elif ori in AGENCIES:  # an agency with no trainee at its desk: the switch answers
                answer = self.simulated_confirmation(message["id"], ori, sender.ori, fields)
                deliveries.append(Delivery(sender.user_id, self.jittered(self.confirm_delay),
                                           answer))
                routed.append(ori)
            else:
                refused.append(ori)
        if routed:
            deliveries.insert(0, Delivery(sender.user_id, 0.0, {
                "type": "ack", "in_reply_to": message["id"], "mke": "YQ",
                "text": f"YQ ROUTED TO {', '.join(routed)} - RESPOND BY {iso(respond_by)}",
                "respond_by": iso(respond_by)}))
        if refused:
            deliveries.insert(0, Delivery(sender.user_id, 0.0, self._not_forwarded(
                message, refused)))
        confirmation = Confirmation(request_id=message["id"], requester=sender.user_id,
                                    requesting_ori=sender.ori, dest=routed, nic=fields["NIC"],
                                    oca=fields["OCA"], pri=pri, respond_by=respond_by)
        return Routed(deliveries, confirmation if routed else None)

    def simulated_confirmation(self, request_id: str, ori: str, requesting_ori: str,
                               fields: dict[str, str]) -> dict[str, Any]:
        """The answer of an agency no trainee sits at: confirmed when the record is on file with
        that agency, else not confirmed."""
        found = self.world.record_by_nic(fields["NIC"])
        entering = ""
        if isinstance(found, Person):
            po = found.protection_order
            entering = po.ori if po and po.nic == fields["NIC"] else found.entering_ori
        elif found is not None:
            entering = found.entering_ori
        confirmed = entering == ori
        if confirmed and ori == LESC:
            remarks = "LESC CONFIRMS THE IMMIGRATION STATUS. SUBJECT IS THE PERSON IN THE RECORD. " \
                      "ADMINISTRATIVE WARRANT - FOLLOW AGENCY POLICY"
        elif confirmed:
            remarks = "RECORD CONFIRMED - STILL ACTIVE. HOLD AND ADVISE"
        else:
            remarks = "NO ACTIVE RECORD WITH THIS NIC AT THIS AGENCY"
        status = "CONFIRMED" if confirmed else "NOT_CONFIRMED"
        return self._confirmation_body(request_id, status, None, ori, AGENCIES[ori][0], remarks,
                                       fields, requesting_ori)

    @staticmethod
    def _confirmation_body(request_id: str, status: str, confirm_by: str | None, ori: str,
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

    def _yr(self, message: dict[str, Any], sender: Account, ctx: Context,
            fields: dict[str, str], dest: list[str], later: float) -> Routed:
        status = CONFIRM_STATUS.get(fields["CST"], "NOT_CONFIRMED")
        remarks = fields.get("REM", "")
        confirm_by = (_time_in(fields.get("CTM", ""), ctx.now) or _time_in(remarks, ctx.now)) \
            if status == "WILL_CONFIRM_BY" else None
        deliveries: list[Delivery] = []
        answered = None
        for ori in dest:
            found = ctx.find_confirmation(fields["NIC"], fields["OCA"], ori, sender.ori)
            if found is not None:
                body = self._confirmation_body(found.request_id, status, confirm_by, sender.ori,
                                               sender.name, remarks, fields, ori)
                if found.requester:
                    deliveries.append(Delivery(found.requester, later, body))
                answered = (found.request_id, status, sender.user_id)
                continue
            body = self._confirmation_body("", status, confirm_by, sender.ori, sender.name,
                                           remarks, fields, ori)
            body.pop("in_reply_to")
            deliveries += [Delivery(a.user_id, later, body)
                           for a in self._terminals(ctx, ori, sender, dispatchers_only=False)]
        if deliveries or answered:
            deliveries.insert(0, Delivery(sender.user_id, 0.0, {
                "type": "ack", "in_reply_to": message["id"], "mke": "YR",
                "text": f"YR ROUTED TO {', '.join(dest)}"}))
        else:
            deliveries.append(Delivery(sender.user_id, 0.0, self._not_forwarded(message, dest)))
        return Routed(deliveries, answered=answered)

    def _am(self, message: dict[str, Any], sender: Account, ctx: Context,
            fields: dict[str, str], dest: list[str], later: float) -> Routed:
        text = str((message.get("fields") or {}).get("TXT") or fields.get("TXT", ""))
        deliveries: list[Delivery] = []
        routed, refused = [], []
        for ori in dest:
            terminals = self._terminals(ctx, ori, sender, dispatchers_only=False)
            if terminals:
                routed.append(ori)
            elif ori in AGENCIES:
                routed.append(ori)  # delivered to an agency no trainee sits at
            else:
                refused.append(ori)
            body = {"type": "admin", "from_ori": sender.ori, "from_name": sender.name,
                    "from_user": sender.user_id, "to_ori": ori, "message_id": message["id"],
                    "text": f"AM.{ori}.{sender.ori}\n\n{text}"}
            deliveries += [Delivery(a.user_id, later, body) for a in terminals]
        if routed:
            deliveries.insert(0, Delivery(sender.user_id, 0.0, {
                "type": "ack", "in_reply_to": message["id"], "mke": "AM",
                "text": f"AM ROUTED TO {', '.join(routed)}"}))
        if refused:
            deliveries.insert(0, Delivery(sender.user_id, 0.0,
                                          self._not_forwarded(message, refused)))
        return Routed(deliveries)

    @staticmethod
    def _not_forwarded(message: dict[str, Any], oris: list[str]) -> dict[str, Any]:
        return {"type": "status", "in_reply_to": message["id"], "status": "will_not_forward",
                "reason": f"unknown destination {', '.join(oris)}",
                "text": f"STATUS/NO SUCH DESTINATION {', '.join(oris)} - WILL NOT FORWARD"}

    # -- delayed inquiry -------------------------------------------------------------------------
    def delayed_hit(self, query: dict[str, Any], sender_ori: str, entered: Vehicle | Person | Gun
                    ) -> dict[str, Any] | None:
        """The ``delayed_hit`` for an earlier query that a newly entered record matches, or None."""
        mke = str(query.get("mke", "")).upper()
        fields = {str(k).upper(): " ".join(str(v).upper().split())
                  for k, v in (query.get("fields") or {}).items() if str(v).strip()}
        matched = False
        if mke == "QV" and isinstance(entered, Vehicle):
            matched = (fields.get("VIN") == entered.vin) or (
                fields.get("LIC") == entered.lic and fields.get("LIS") == entered.lis)
        elif mke == "QW" and isinstance(entered, Person):
            scratch = World.__new__(World)
            scratch.persons, scratch.vehicles, scratch.guns = [entered], [], []
            scratch._index()
            matched = bool(scratch.persons_for(fields))
        elif mke == "QG" and isinstance(entered, Gun):
            matched = fields.get("SER") == entered.ser
        if not matched:
            return None
        records = records_of(entered)
        for record in records:
            record.caveats.insert(0, DELAYED_CAVEAT)
        header = f"{mke}.{sender_ori}.NCIC"
        return {"type": "delayed_hit", "in_reply_to": query["id"], "mke": mke, "source": "NCIC",
                "text": render(header, records, caveats=(DELAYED_CAVEAT,)),
                "records": [r.structured() for r in records], "part": 1, "parts": 1}


def _time_in(remarks: str, now: float) -> str | None:
    """A ``HHMM`` time in a YR's remarks ("WILL CONFIRM BY 1430"), as the next such UTC time."""
    match = re.search(r"\b([01]\d|2[0-3])([0-5]\d)\b", remarks)
    if not match:
        return None
    base = datetime.fromtimestamp(now, UTC)
    at = base.replace(hour=int(match.group(1)), minute=int(match.group(2)), second=0,
                      microsecond=0)
    if at < base:
        at += timedelta(days=1)
    return iso(at.timestamp())
