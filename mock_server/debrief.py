"""The trainer's debrief: what each trainee did during a scenario run, against what the scenario
expected, with response times; and pausing a run.

A scenario may list what trainees are expected to do (``"expect"``); each expectation is checked
against what the gateway saw of each trainee since the run started — messages sent, events
delivered, and the audit records the client shipped (alert acknowledgements, returns viewed):

- ``{"do": "send", "mke": "QW", "match": {"NAM": "ZANMIR"}}``: a message of that key whose
  fields contain those values (case-insensitive);
- ``{"do": "not_send", "mke": "YQ", "match": {"NIC": "W260000001"}}``: no such message (acting
  on a near-miss is the mistake the scenario is about);
- ``{"do": "acknowledge", "event": "detainer", "match": {"subject.name": "ZANMIR"}}``: an alert
  raised by such an event acknowledged in the client (timed from the event's delivery);
- ``{"do": "answer", "nic": "V260000002"}``: a YR for that request before its ``respond_by``;
- ``{"do": "view", "mke": "QV"}``: a return to such a query opened (read) in the client.

Common keys: ``id``, ``title`` (what the trainer reads), ``who`` (``"trainees"``, or
``{"role": ...}`` / ``{"users": [...]}``), ``within`` (seconds, scaled by the run's speed; done
later is "late"), ``after`` / ``before`` (another expectation's id: timed from it / must come
first). Verdicts: ``met``, ``late``, ``missed``, ``violated``, ``out_of_order``, and ``pending``:
a step not done yet whose time is not up (its ``within`` from the run's start, or from the step
it comes ``after`` once that is done) is not "missed" until its time is up — a live debrief 49 s
into a step with 600 s said "missed". A step without ``within`` stays pending while the run goes
on. Asked with ``final`` (the run is over), every step not done is missed.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from mdt.core.clock import from_iso
from mock_server.accounts import Account
from mock_server.state import State

GOOD = ("met",)


def _epoch(value: Any) -> float | None:
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str) and value:
        try:
            return from_iso(value).timestamp()
        except ValueError:
            return None
    return None


def _iso(epoch: float | None) -> str | None:
    if epoch is None:
        return None
    return datetime.fromtimestamp(epoch).astimezone().isoformat(timespec="seconds")


def _lookup(body: dict[str, Any], path: str) -> Any:
    value: Any = body
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return value


def _matches(body: dict[str, Any], match: dict[str, Any]) -> bool:
    for path, wanted in (match or {}).items():
        found = _lookup(body, path)
        if found is None or str(wanted).upper() not in str(found).upper():
            return False
    return True


def _applies(expectation: dict[str, Any], account: Account) -> bool:
    who = expectation.get("who", "trainees")
    if who in ("trainees", "all", None):
        return True
    if isinstance(who, dict):
        if "role" in who and account.role != who["role"]:
            return False
        if "users" in who and account.user_id not in who["users"]:
            return False
        return not ("ori" in who and account.ori != who["ori"])
    return True


class TraineeRecord:
    """What the gateway saw of one trainee since the run started."""

    def __init__(self, state: State, account: Account, since: float) -> None:
        self.account = account
        self.sent = [(at, m) for _u, at, m in state.messages_since(since, account.user_id)]
        self.events = [(_epoch(e.get("created_at")) or since, e)
                       for e in state.recent_events(account.user_id, since, 2000)]
        self.audit = state.audit_records(account.user_id, since)
        self.confirmations = [c for c in state.confirmations(since)
                              if c.get("answered_by") == account.user_id]

    def event_by_id(self, event_id: str) -> tuple[float, dict[str, Any]] | None:
        for at, event in self.events:
            if event.get("id") == event_id:
                return at, event
        return None

    def timeline(self) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = [{"at": at, "what": "sent", "text": f"{m.get('mke')} "
                  + ".".join(f"{k}/{v}" for k, v in (m.get("fields") or {}).items())}
                 for at, m in self.sent]
        items += [{"at": at, "what": "received", "text": self._event_words(e)}
                  for at, e in self.events if e.get("type") != "ack"]
        for record in self.audit:
            if record.get("action") in ("alert-ack", "view"):
                items.append({"at": _epoch(record.get("at")), "what": (
                    "acknowledged" if record["action"] == "alert-ack" else "viewed"),
                    "text": self._audit_words(record)})
        items = [i for i in items if i["at"] is not None]
        items.sort(key=lambda i: i["at"])
        return [{**i, "at": _iso(i["at"])} for i in items]

    @staticmethod
    def _event_words(event: dict[str, Any]) -> str:
        kind = str(event.get("type"))
        if kind in ("response", "delayed_hit"):
            hit = any(r.get("hit") for r in event.get("records") or [] if isinstance(r, dict))
            return f"{kind.replace('_', ' ')} {event.get('mke') or ''} " \
                   f"{'HIT' if hit else 'no hit'}".strip()
        if kind == "hit_confirmation_request":
            return f"YQ request {event.get('rno')} on NIC {event.get('nic')}"
        if kind == "hit_confirmation_response":
            return f"YR {event.get('status')} on NIC {event.get('nic')}"
        if kind == "detainer":
            return f"detainer {event.get('detainer_id') or ''}".strip()
        return kind

    def _audit_words(self, record: dict[str, Any]) -> str:
        words = str(record.get("detail") or "").split()
        if record.get("action") == "alert-ack" and "kind" in words:
            return f"alert ({words[words.index('kind') + 1]})"
        return str(record.get("action"))

    # -- the actions an expectation looks for, as (time, detail) ----------------------------------
    def find(self, expectation: dict[str, Any]) -> list[tuple[float, str, float | None]]:
        """(when it was done, what, when its trigger happened or None) for each matching act."""
        do = expectation["do"]
        match = expectation.get("match") or {}
        found: list[tuple[float, str, float | None]] = []
        if do in ("send", "not_send"):
            for at, message in self.sent:
                if message.get("mke") == expectation.get("mke") and \
                        _matches(message.get("fields") or {}, match):
                    found.append((at, f"sent {message.get('mke')}", None))
        elif do == "acknowledge":
            for record in self.audit:
                if record.get("action") != "alert-ack":
                    continue
                words = str(record.get("detail") or "").split()
                event_id = words[words.index("event") + 1] if "event" in words else ""
                delivered = self.event_by_id(event_id)
                if delivered is None:
                    continue
                at_event, event = delivered
                if event.get("type") == expectation.get("event") and _matches(event, match):
                    done = _epoch(record.get("at"))
                    if done is not None:
                        found.append((done, f"acknowledged {event.get('type')}", at_event))
        elif do == "answer":
            for confirmation in self.confirmations:
                if confirmation.get("nic") == expectation.get("nic"):
                    done = _epoch(confirmation.get("answered_at"))
                    if done is not None:
                        found.append((done, f"answered YR {confirmation.get('status')}",
                                      _epoch(confirmation.get("sent_at"))))
        elif do == "view":
            mine = {m.get("id"): m for _at, m in self.sent}
            for record in self.audit:
                if record.get("action") != "view":
                    continue
                return_id = str(record.get("detail") or "").replace("return", "").strip()
                delivered = self.event_by_id(return_id)
                if delivered is None:
                    continue
                query = mine.get(delivered[1].get("in_reply_to"))
                if query is not None and query.get("mke") == expectation.get("mke"):
                    done = _epoch(record.get("at"))
                    if done is not None:
                        found.append((done, f"viewed the answer to {query.get('mke')}",
                                      delivered[0]))
        return sorted(found, key=lambda f: f[0])


def _time_is_up(base: float | None, limit: float | None, now: float) -> bool:
    """Whether a step not done can no longer be done in time (then it is missed)."""
    if base is None or limit is None:  # its trigger has not happened, or it has no time limit
        return False
    return now > base + limit


def verdicts(expectations: list[dict[str, Any]], record: TraineeRecord, started: float,
             speed: float, *, now: float | None = None, final: bool = True
             ) -> list[dict[str, Any]]:
    """Each expectation's verdict for one trainee; with ``final`` false (a live debrief, at
    ``now``) a step whose time is not up is ``pending``, not ``missed``."""
    now = time.time() if now is None else now
    done_at: dict[str, float] = {}
    results = []
    for expectation in expectations:
        if not _applies(expectation, record.account):
            continue
        acts = record.find(expectation)
        base = started
        clock_from: float | None = started  # when its time began to run (None: not yet)
        if expectation.get("after") in done_at:
            base = clock_from = done_at[expectation["after"]]
        elif expectation.get("after"):
            clock_from = None  # the step it comes after is not done: its clock has not started
        acts = [a for a in acts if a[0] >= base - 1]  # before its trigger does not count
        within = expectation.get("within")
        limit = float(within) / speed if isinstance(within, int | float) else None
        verdict, seconds, detail = "missed", None, "not done"
        if not final and not _time_is_up(clock_from, limit, now):
            verdict, detail = "pending", "not done yet — time is not up"
        if expectation["do"] == "not_send":
            verdict = "violated" if acts else "met"
            detail = acts[0][1] + " (should not have)" if acts else "rightly not done"
            if acts:
                seconds = acts[0][0] - base
        elif acts:
            at, detail, trigger = acts[0]
            done_at[expectation["id"]] = at
            seconds = at - (trigger if trigger is not None else base)
            verdict = "met" if limit is None or seconds <= limit else "late"
            if expectation["do"] == "answer" and expectation.get("on_time", True):
                confirmation = next(c for c in record.confirmations
                                    if c.get("nic") == expectation.get("nic"))
                if confirmation.get("on_time") is False:
                    verdict = "late"
        results.append({"id": expectation["id"], "title": expectation["title"],
                        "verdict": verdict, "seconds": round(seconds, 1)
                        if seconds is not None else None, "limit_seconds": limit,
                        "detail": detail, "before": expectation.get("before")})
    by_id = {r["id"]: r for r in results}
    for result in results:
        other = by_id.get(result.pop("before") or "")
        if other is None or result["verdict"] not in GOOD:
            continue
        mine = done_at.get(result["id"])
        theirs = done_at.get(other["id"])
        if mine is not None and theirs is not None and theirs < mine:
            result["verdict"] = "out_of_order"
            result["detail"] += f" — after '{other['title']}', should be before"
    return results


def debrief(state: State, scenarios: dict[str, dict[str, Any]], user: str | None = None, *,
            final: bool = False, now: float | None = None) -> dict[str, Any]:
    """The last run's debrief: per trainee, the timeline and each expectation's verdict (live:
    ``pending`` until a step's time is up; ``final``: the run is over).
    ``scenarios``: the known scenarios by name (validated: their expectations are well-formed)."""
    now = time.time() if now is None else now
    last = state.last_run()
    if last is None:
        return {"scenario": None, "trainees": []}
    name, started, body = last
    scenario = scenarios.get(name, {})
    expectations: list[dict[str, Any]] = scenario.get("expect") or []
    speed = float(body.get("speed") or 1.0)
    users = body.get("users")
    trainees = []
    for account in state.accounts():
        if account.role == "trainer" or (users and account.user_id not in users) or \
                (user and account.user_id != user):
            continue
        record = TraineeRecord(state, account, started)
        last_login = state.last_login(account.user_id)
        took_part = record.sent or record.audit or (last_login and last_login >= started - 3600)
        if not took_part and not user:
            continue
        results = verdicts(expectations, record, started, speed, now=now, final=final)
        met = sum(1 for r in results if r["verdict"] in GOOD)
        pending = sum(1 for r in results if r["verdict"] == "pending")
        trainees.append({"user_id": account.user_id, "name": account.name,
                         "role": account.role, "ori": account.ori,
                         "passed": bool(results) and met == len(results),
                         "met": met, "expected": len(results), "pending": pending,
                         "expectations": results, "timeline": record.timeline()})
    paused = state.paused_at()
    return {"scenario": {"name": name, "title": scenario.get("title", name),
                         "teaches": scenario.get("teaches", ""), "started_at": _iso(started),
                         "speed": speed, "paused": paused is not None,
                         "steps_to_come": state.pending_actions()},
            "generated_at": _iso(now), "final": final, "trainees": trainees}
