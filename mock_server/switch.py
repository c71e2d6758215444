"""The simulated message switch: what each message key does. Pure functions over the synthetic
world; the gateway schedules the resulting deliveries. What it prints is :mod:`mock_server.returns`,
what each key requires is :mod:`mock_server.rules`.

A message the switch cannot act on (an unknown key, a required field missing, a bad purpose or
destination) is refused with a ``status`` event ``rejected`` and a ``REJECT/`` text, as a switch
answers, rather than an HTTP error: the message itself was well-formed and was accepted.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from mock_server.accounts import Account
from mock_server.returns import (
    DELAYED_CAVEAT,
    LESC,
    confirmation_body,
    detainer_body,
    gun_record,
    history_index_record,
    history_record,
    lesc_record,
    licence_record,
    not_forwarded_body,
    person_records,
    records_of,
    registration_record,
    reject_body,
    render,
    response_body,
    vehicle_record,
)
from mock_server.rules import Rejected, Rules
from mock_server.state import iso
from mock_server.synthetic import AGENCIES, Gun, Person, Vehicle
from mock_server.world import World

log = logging.getLogger("mdt-gateway")

CONFIRM_STATUS = {"Y": "CONFIRMED", "N": "NOT_CONFIRMED", "T": "WILL_CONFIRM_BY"}
RESPOND_SECONDS = {"U": 600.0, "R": 3600.0}  # urgent: 10 minutes, routine: 1 hour


@dataclass
class Delivery:
    """One event for one recipient, ``delay`` seconds from now."""

    recipient: str
    delay: float
    body: dict[str, Any]


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


# (message, sender, context, fields, destinations, the latency to answer with) -> what it routed
Handler = Callable[[dict[str, Any], Account, Context, dict[str, str], list[str], float], Routed]


class Switch:
    def __init__(self, world: World, *, latency: float, iar_delay: float,
                 confirm_delay: float = 45.0, seed: int = 1, rules: Rules | None = None) -> None:
        self.world = world
        self.latency = latency
        self.iar_delay = iar_delay
        self.confirm_delay = confirm_delay
        self.rng = random.Random(seed)
        self.rules = rules or Rules()
        # Every message key the switch acts on, and what does it (the forms say what each needs).
        self.handlers: dict[str, Handler] = {
            "QV": self._qv, "QW": self._qw, "QG": self._qg,  # NCIC
            "QH": self._qh, "QR": self._qr,  # III
            "RQ": self._rq, "DQ": self._dq,  # Nlets
            "IAQ": self._iaq,  # LESC
            "YQ": self._yq, "YR": self._yr, "AM": self._am,  # between terminals
        }

    def jittered(self, seconds: float) -> float:
        """A delay with a little seeded jitter (±15 %), so answers do not come in lockstep."""
        return seconds * (1 + self.rng.uniform(-0.15, 0.15)) if seconds > 0 else 0.0

    def route(self, message: dict[str, Any], sender: Account, ctx: Context) -> Routed:
        mke = str(message["mke"]).upper()
        fields = {str(k).upper(): " ".join(str(v).upper().split())
                  for k, v in (message.get("fields") or {}).items() if str(v).strip()}
        dest = [str(d).upper() for d in message.get("dest") or []]
        purpose = str(message.get("purpose") or fields.get("PUR") or "").upper()
        try:
            self.rules.check(mke, fields, dest, purpose)
            handler = self.handlers.get(mke)
            if handler is None:
                raise Rejected(f"MESSAGE KEY {mke} IS NOT SUPPORTED BY THIS SWITCH", "mke")
            routed: Routed = handler(message, sender, ctx, fields, dest,
                                     self.jittered(self.latency))
        except Rejected as exc:
            return Routed([Delivery(sender.user_id, 0.0,
                                    reject_body(message, exc.reason, exc.field))])
        except Exception:  # a bug must not swallow the message: the sender is told
            log.exception("the switch failed on a %s message", mke)
            return Routed([Delivery(sender.user_id, 0.0, reject_body(
                message, "THE SWITCH COULD NOT PROCESS THIS MESSAGE", None))])
        return routed

    # -- NCIC ------------------------------------------------------------------------------------
    def _qv(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        vehicle = self.world.vehicle(fields.get("LIC", ""), fields.get("LIS", ""),
                                     fields.get("VIN", ""))
        asked = " ".join(f"{t}/{fields[t]}" for t in ("LIC", "LIS", "VIN") if t in fields)
        if vehicle and vehicle.stolen:
            body = response_body(message, sender, "QV", "NCIC", [vehicle_record(vehicle)])
        else:
            body = response_body(message, sender, "QV", "NCIC", [], f"NO NCIC WANT {asked}")
        return Routed([Delivery(sender.user_id, later, body)])

    def _qw(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        records = [r for p in self.world.persons_for(fields) for r in person_records(p)]
        asked = " ".join(f"{t}/{fields[t]}" for t in ("NAM", "DOB", "SEX", "FBI", "SOC", "OLN",
                                                       "OLS", "MNU") if t in fields)
        body = response_body(message, sender, "QW", "NCIC", records,
                             "" if records else f"NO NCIC WANT {asked}")
        return Routed([Delivery(sender.user_id, later, body)])

    def _qg(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        gun = self.world.by_serial.get(fields["SER"])
        if gun and fields.get("MAK") and fields["MAK"] != gun.mak:
            gun = None
        asked = " ".join(f"{t}/{fields[t]}" for t in ("SER", "MAK", "CAL", "TYP") if t in fields)
        body = response_body(message, sender, "QG", "NCIC", [gun_record(gun)] if gun else [],
                             "" if gun else f"NO NCIC RECORD {asked}")
        return Routed([Delivery(sender.user_id, later, body)])

    # -- III -------------------------------------------------------------------------------------
    def _qh(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        persons = [p for p in self.world.persons_named(fields["NAM"], fields["DOB"],
                                                       fields.get("SEX", "")) if p.fbi]
        records = [history_index_record(p) for p in persons]
        body = response_body(message, sender, "QH", "III", records,
                             "" if records else f"NO RECORD NAM/{fields['NAM']} "
                                                f"DOB/{fields['DOB']}")
        return Routed([Delivery(sender.user_id, later, body)])

    def _qr(self, message: dict[str, Any], sender: Account, _ctx: Context,
            fields: dict[str, str], _dest: list[str], later: float) -> Routed:
        person = (self.world.by_fbi.get(fields.get("FBI", ""))
                  or self.world.by_sid.get(fields.get("SID", "")))
        asked = " ".join(f"{t}/{fields[t]}" for t in ("FBI", "SID") if t in fields)
        records = [history_record(person)] if person else []
        body = response_body(message, sender, "QR", "III", records,
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
            bodies = [response_body(message, sender, "RR", v.lis, [registration_record(v)], "")
                      for v in found] or [response_body(message, sender, "RR", "NL", [], none)]
            return self._all_states(bodies, sender, later)
        for state in dest:
            v = self.world.vehicle(fields.get("LIC", ""), state, fields.get("VIN", ""))
            records = [registration_record(v)] if v and v.lis == state else []
            bodies.append(response_body(message, sender, "RR", state, records,
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
            bodies = [response_body(message, sender, "DR", state,
                                    [licence_record(p) for p in found], "")
                      for state, found in sorted(by_state.items())] or \
                [response_body(message, sender, "DR", "NL", [], f"NO RECORD {asked}")]
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
            bodies.append(response_body(message, sender, "DR", state, records,
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
        iar = response_body(message, sender, "IAR", LESC, records,
                            "" if records else "NO RECORD FOUND IN LESC SYSTEMS - SUBJECT "
                                               "IDENTITY NOT CONFIRMED")
        iar_at = later + self.jittered(self.iar_delay)
        deliveries = [Delivery(sender.user_id, 0.0, ack), Delivery(sender.user_id, iar_at, iar)]
        if person and person.detainer and fields.get("CUS") == "Y":
            detainer = detainer_body(person, message["id"], sender, reference)
            notify = [sender.user_id] + [a.user_id for a in ctx.accounts
                                         if a.ori == sender.ori and a.role == "dispatcher"
                                         and a.user_id != sender.user_id]
            deliveries += [Delivery(u, iar_at + max(0.5, self.iar_delay / 2), detainer)
                           for u in notify]
        return Routed(deliveries)

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
            deliveries.insert(0, Delivery(sender.user_id, 0.0, not_forwarded_body(
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
        return confirmation_body(request_id, status, None, ori, AGENCIES[ori][0], remarks,
                                 fields, requesting_ori)

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
                body = confirmation_body(found.request_id, status, confirm_by, sender.ori,
                                         sender.name, remarks, fields, ori)
                if found.requester:
                    deliveries.append(Delivery(found.requester, later, body))
                answered = (found.request_id, status, sender.user_id)
                continue
            body = confirmation_body("", status, confirm_by, sender.ori, sender.name,
                                     remarks, fields, ori)
            body.pop("in_reply_to")
            deliveries += [Delivery(a.user_id, later, body)
                           for a in self._terminals(ctx, ori, sender, dispatchers_only=False)]
        if deliveries or answered:
            deliveries.insert(0, Delivery(sender.user_id, 0.0, {
                "type": "ack", "in_reply_to": message["id"], "mke": "YR",
                "text": f"YR ROUTED TO {', '.join(dest)}"}))
        else:
            deliveries.append(Delivery(sender.user_id, 0.0, not_forwarded_body(message, dest)))
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
                                          not_forwarded_body(message, refused)))
        return Routed(deliveries)

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

