"""The trainer's exercise: scenarios run step by step, events a trainer injects, records a
trainer enters (with the delayed hits they cause), a reset of the class, and the activity of each
trainee. It works through the :class:`~mock_server.gateway.Gateway` (its state, world and
scheduler); the gateway runs the due steps with :meth:`Exercise.run_action`.
"""

from __future__ import annotations

import logging
import time
import uuid
from typing import Any

from mdt.core.clock import from_iso
from mock_server.config import default_scenarios_dir
from mock_server.debrief import debrief
from mock_server.errors import ApiError
from mock_server.faults import Faults
from mock_server.gateway import Gateway
from mock_server.models import ResetBody
from mock_server.scenarios import ScenarioError, load_scenarios
from mock_server.state import iso
from mock_server.switch import Delivery

log = logging.getLogger("mdt-gateway")

DELAYED_INQUIRY_DAYS = 5  # NCIC compares new records with the inquiries of the last 5 days


def _rno(request: dict[str, Any]) -> int:
    """A hit confirmation request's number (1 when it does not say)."""
    value = str(request.get("rno") or "1")
    return int(value) if value.isdigit() else 1


class Exercise:
    """What a trainer makes happen on one gateway."""

    def __init__(self, gateway: Gateway) -> None:
        self.gateway = gateway
        self.state = gateway.state
        self.config = gateway.config

    def recipients(self, target: Any, users: list[str] | None = None) -> list[str]:
        """Who a scenario step or an injected event is for: ``"trainees"`` (everyone but the
        trainers, or the users a scenario was started for), ``"all"``, or an object with
        ``user`` / ``users`` / ``ori`` / ``role``."""
        accounts = self.state.accounts()
        if target in (None, "trainees"):
            return [a.user_id for a in accounts if a.role != "trainer"
                    and (users is None or a.user_id in users)]
        if target == "all":
            return [a.user_id for a in accounts]
        if not isinstance(target, dict):
            raise ScenarioError("to: 'trainees', 'all' or {user, users, ori, role}")
        names = set(target.get("users") or []) | ({target["user"]} if target.get("user") else set())
        chosen = [a for a in accounts
                  if (not names or a.user_id in names)
                  and (not target.get("ori") or a.ori == target["ori"])
                  and (not target.get("role") or a.role == target["role"])]
        if not (names or target.get("ori") or target.get("role")):
            chosen = []
        return [a.user_id for a in chosen]

    def prepare_events(self, events: list[dict[str, Any]], recipients: list[str], due: float
                       ) -> list[tuple[float, str, dict[str, Any]]]:
        """Injected events, stamped per recipient. An incoming hit confirmation request gets a
        request id and is remembered, so the dispatcher's YR is tracked (on time or not)."""
        items = []
        accounts = {a.user_id: a for a in self.state.accounts()}
        for event in events:
            body = dict(event)
            if body["type"] == "hit_confirmation_request":
                body.setdefault("request_id", str(uuid.uuid4()))
                pri = str(body.get("pri") or "U").upper()
                respond_in = body.pop("respond_in", None)
                seconds = float(respond_in) if isinstance(respond_in, int | float) \
                    else (600.0 if pri == "U" else 3600.0)
                body["pri"] = pri
                deadline = due + seconds
                try:  # a respond_by given as a time wins
                    deadline = from_iso(str(body["respond_by"])).timestamp()
                except (KeyError, ValueError):
                    body["respond_by"] = iso(deadline)
                oris = sorted({accounts[r].ori for r in recipients if r in accounts})
                self.state.add_confirmation(
                    str(body["request_id"]), None, str(body.get("requesting_ori") or ""), oris,
                    str(body.get("nic") or ""), str(body.get("oca") or ""), pri, deadline)
                if _rno(body) < 3:  # the simulated requester asks again if nobody answers
                    self.state.schedule_actions([(deadline, {"escalate": {
                        "request": body, "recipients": recipients,
                        "window": max(1.0, deadline - due)}})])
            items += [(due, r, self.gateway.stamp(body, r)) for r in recipients]
        return items

    def run_action(self, action: dict[str, Any]) -> None:
        """One due scenario step."""
        try:
            if "event" in action:
                recipients = self.recipients(action.get("to"), action.get("users"))
                self.state.schedule_many(self.prepare_events([action["event"]], recipients,
                                                             time.time()))
            elif "enter" in action:
                self.enter(dict(action["enter"]))
            elif "escalate" in action:
                self.escalate(dict(action["escalate"]))
            elif "faults" in action:
                values = dict(action["faults"])
                user = values.pop("user", None)
                self.gateway.set_faults(Faults(**values), user)
        except Exception:
            log.exception("a scenario step failed: %s", action)

    def escalate(self, item: dict[str, Any]) -> None:
        """A request from an agency no trainee sits at went unanswered in time: that agency
        sends the next one (RNO 2, then RNO 3 with notice to the CSA and the FBI), with a new
        ``respond_by`` as long as the first one's."""
        request = dict(item["request"])
        if self.state.confirmation_answered(str(request.get("request_id"))):
            return
        rno = _rno(request) + 1
        remarks = str(request.get("remarks") or "")
        notice = {2: "SECOND REQUEST - FIRST NOT ANSWERED IN TIME",
                  3: "THIRD REQUEST - CSA AND FBI NOTIFIED"}[rno]
        text = str(request.get("text") or "")
        request.update({"request_id": str(uuid.uuid4()), "rno": str(rno),
                        "remarks": f"{notice}. {remarks}".strip(". ").strip(),
                        "respond_in": float(item.get("window") or 600.0),
                        "repeats": item["request"].get("request_id"),
                        "text": text.replace(f"RNO/{rno - 1}", f"RNO/{rno}")})
        request.pop("respond_by", None)
        recipients = [str(r) for r in item.get("recipients") or []]
        self.state.schedule_many(self.prepare_events([request], recipients, time.time()))
        self.gateway.wake_scheduler()

    def enter(self, entry: dict[str, Any]) -> tuple[dict[str, Any], int]:
        """A trainer enters a record: it is in the world from now on, and every inquiry of the
        last days it matches gets a ``delayed_hit``. Returns (the entry, delayed hits sent)."""
        created = self.gateway.world.enter(entry)
        self.state.add_entry(entry)
        now = time.time()
        since = now - DELAYED_INQUIRY_DAYS * 86400
        accounts = {a.user_id: a for a in self.state.accounts()}
        deliveries = []
        for user_id, _at, query in self.state.messages_since(since, keys=("QV", "QW", "QG")):
            account = accounts.get(user_id)
            if account is None:
                continue
            body = self.gateway.switch.delayed_hit(query, account.ori, created)
            if body is not None:
                deliveries.append(Delivery(user_id, self.gateway.switch.jittered(self.config.latency),
                                           body))
        self.gateway.schedule(deliveries, now)
        return entry, len(deliveries)

    def start_scenario(self, name: str, scenario: dict[str, Any], users: list[str] | None,
                       speed: float) -> dict[str, Any]:
        now = time.time()
        actions = []
        for step in scenario["steps"]:
            action = {k: v for k, v in step.items() if k != "at"}
            if users is not None:
                action["users"] = users
            actions.append((now + float(step.get("at", 0)) / speed, action))
        self.state.schedule_actions(actions)
        self.state.add_run(name, {"users": users, "speed": speed})
        self.gateway.wake_scheduler()
        last = max((due for due, _a in actions), default=now)
        return {"name": name, "started_at": iso(now), "steps": len(actions), "ends_at": iso(last)}

    def scenarios(self) -> dict[str, tuple[str, dict[str, Any]]]:
        """name -> (source, scenario): bundled ones, then those a trainer saved."""
        found = {name: ("bundled", s) for name, s in
                 load_scenarios(self.config.scenarios_dir or default_scenarios_dir()).items()}
        for name, scenario in self.state.saved_scenarios().items():
            found[name] = ("custom", scenario)
        return found

    def reset(self, body: ResetBody) -> dict[str, Any]:
        now = time.time()
        self.state.reset(now)
        self.gateway.faults.set(self.config.faults)
        self.gateway.switch.world = self.gateway.build_world([])
        started = None
        name = body.scenario
        if name is None and body.restart:
            last = self.state.last_run()
            name = last[0] if last else None
        if name is not None:
            scenarios = self.scenarios()
            if name not in scenarios:
                raise ApiError(404, "not_found", f"No scenario {name!r}.")
            last = self.state.last_run()
            users = last[2].get("users") if last and last[0] == name else None
            speed = float(last[2].get("speed", 1.0)) if last and last[0] == name else 1.0
            started = self.start_scenario(name, scenarios[name][1], users, speed)
        self.gateway.schedule([Delivery(a.user_id, 0.0, {
            "type": "admin", "from_ori": "TRAINING", "from_name": "Training gateway",
            "text": "TRAINING RESET - START AGAIN" + (f" - SCENARIO {name.upper()}" if name
                                                     else "")})
            for a in self.state.accounts()], now)
        return {"reset_at": iso(now), "scenario": started}

    def activity(self, since: float | None, limit: int) -> dict[str, Any]:
        if since is None:
            since = float(self.state.get_meta("reset_at", "0") or 0)
        users = []
        for account in self.state.accounts():
            sent = [{"id": m["id"], "mke": m["mke"], "dest": m["dest"], "at": iso(at),
                     "fields": m["fields"]}
                    for _u, at, m in self.state.messages_since(since, account.user_id)][-limit:]
            received = [{"seq": e["seq"], "type": e["type"], "at": e["created_at"],
                         "in_reply_to": e.get("in_reply_to"), "mke": e.get("mke")}
                        for e in self.state.recent_events(account.user_id, since, limit)]
            last_login = self.state.last_login(account.user_id)
            acknowledged = []
            for record in self.state.audit_records(account.user_id, since):
                words = str(record.get("detail") or "").split()
                if record.get("action") == "alert-ack" and "kind" in words:
                    acknowledged.append({"at": record.get("at"),
                                         "kind": words[words.index("kind") + 1],
                                         "event": words[words.index("event") + 1]
                                         if "event" in words else None})
            users.append({"user_id": account.user_id, "name": account.name,
                          "role": account.role, "ori": account.ori,
                          "last_login_at": iso(last_login) if last_login else None,
                          "sent": sent, "received": received,
                          "acknowledged": acknowledged[-limit:],
                          "received_count": self.state.count_events(account.user_id, since),
                          "last_seq": self.state.last_seq(account.user_id),
                          "pending": self.state.pending_count(account.user_id),
                          **self.state.receipts(account.user_id)})
        last = self.state.last_run()
        return {"since": iso(since), "now": iso(time.time()), "users": users,
                "hit_confirmations": self.state.confirmations(since),
                "scenario": {"name": last[0], "started_at": iso(last[1])} if last else None}


    def debrief(self, user: str | None = None, *, final: bool = False) -> dict[str, Any]:
        """The last run's debrief (:func:`mock_server.debrief.debrief`; ``final``: the run is
        over, what was not done is missed)."""
        scenarios = {name: scenario for name, (_source, scenario) in self.scenarios().items()}
        return debrief(self.state, scenarios, user, final=final)
