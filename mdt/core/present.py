"""What the screen, the command line and the printout say, in one place. No Qt.

Pure presentation logic shared by the GUI (returns list and detail, hit confirmation panel,
status bar), the command line (``mdt show``) and the PDF: the age of a return, the outbox state
of a query in words (and the rule that a query left unanswered too long says so), the
confirmation state of a hit in words, the outbox counts, and the text of one row of the returns
list. The decisions themselves are made in :mod:`mdt.core.headline` (what a return is) and
:mod:`mdt.core.confirmation` (where a confirmation stands); this module only words them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from mdt.core.alerts import KIND_WORDS, AlertKind, parse_time
from mdt.core.confirmation import (
    CONFIRM_MINUTES,
    ConfirmState,
    HitConfirmation,
    OutgoingConfirmation,
    deadline_text,
)
from mdt.core.headline import Headline, HeadlineKind, decide, waiting

__all__ = [
    "BANNER_NAMES",
    "STATE_WORDS",
    "ReturnLike",
    "RowText",
    "age_text",
    "command_not_understood",
    "confirmation_words",
    "deadline_text",
    "detail_headline",
    "hit_banner_text",
    "incoming_state",
    "outbox_counts",
    "query_headline",
    "query_label",
    "query_state",
    "query_summary",
    "received_text",
    "return_headline",
    "row_text",
    "waited_minutes",
]

STATE_WORDS = {
    "queued": "Queued (offline) — goes out when the link is back",
    "sending": "Sending…",
    "accepted": "Sent — waiting for the answer",
    "acknowledged": "Acknowledged — answer to follow",
    "answered": "Answered",
    "status": "Switch status",
    "failed": "Refused",
    "cancelled": "Cancelled",
    "unanswered": "No answer",
}
WAITING_STATES = ("accepted", "acknowledged")
# Messages that get no answer: once the switch has them, they wait for nothing.
NO_ANSWER_EXPECTED = frozenset({"YR", "AM"})
ANSWER_WORDS = {"CONFIRMED": "CONFIRMED", "NOT_CONFIRMED": "NOT CONFIRMED",
                "WILL_CONFIRM_BY": "will confirm by a stated time"}
# How many times longer than the usual wait an acknowledged query (an IAQ: LESC acknowledges
# first, answers later) may go without an answer before it is flagged.
ACKNOWLEDGED_FACTOR = 6


# The style name of a header in each colour role (the themes style these names).
BANNER_NAMES = {"danger": "HitBanner", "hit": "HitBanner", "warning": "NoticeBanner",
                "info": "RecordBanner", "clear": "NoHitBanner", "error": "ErrorBanner",
                "status": "StatusBanner", "pending": "PendingBanner"}


class ReturnLike(Protocol):
    """What presenting a return needs (a :class:`mdt.store.cache.StoredReturn` has it)."""

    records: list[dict[str, Any]]
    text: str
    received_at: str
    source: str


def _moment(value: str | datetime | None) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    return parse_time(value)


# -- ages and clocks ---------------------------------------------------------------------------
def age_text(when: str | datetime | None, now: datetime | None = None) -> str:
    """How long ago, the one way every screen says it: ``5 s ago``, ``2 min ago``,
    ``3 h 01 min ago``, ``2 d 02 h ago`` (``3 d ago`` on the hour)."""
    then = _moment(when)
    if then is None:
        return "age unknown"
    seconds = max(0, int(((now or datetime.now(UTC)) - then).total_seconds()))
    if seconds < 60:
        return f"{seconds} s ago"
    if seconds < 3600:
        return f"{seconds // 60} min ago"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min ago"
    days, hours = seconds // 86400, seconds % 86400 // 3600
    return f"{days} d {hours:02d} h ago" if hours else f"{days} d ago"


def waited_minutes(message: Mapping[str, Any], now: datetime | None = None) -> float | None:
    """Minutes since the switch took the query (since it was made, if it never said)."""
    sent = _moment(str(message.get("accepted_at") or message.get("created_at") or ""))
    if sent is None:
        return None
    return ((now or datetime.now(UTC)) - sent).total_seconds() / 60


def _hhmmss(moment: datetime | None) -> str:
    return moment.strftime("%H:%M:%S UTC") if moment else ""


# -- queries -----------------------------------------------------------------------------------
def query_summary(message: Mapping[str, Any] | None) -> str:
    """``QV LIC/ABC1234 LIS/MD``: what was asked."""
    if not message:
        return "?"
    fields = message.get("fields") or {}
    return f"{message.get('mke', '?')} " + " ".join(f"{k}/{v}" for k, v in fields.items())


# What identifies a query's subject, the most telling first: a person's name (and birth date),
# a plate (and its state), a licence, a VIN, a gun's serial, then the record numbers. Who asks
# (an IAQ's or a YQ's requester and phone) is no part of the subject.
SUBJECT_TAGS = ("NAM", "DOB", "LIC", "LIS", "OLN", "OLS", "VIN", "SER", "ARN", "NIC", "FBI",
                "SID", "SOC", "MNU")
REQUESTER_TAGS = frozenset({"ATN", "PHN", "RNA", "PHO"})


def query_label(message: Mapping[str, Any] | None) -> str:
    """A query's line in the returns list, ``IAQ NAM/ZANMIR, SOREN T DOB/19790704 …``: its key,
    then what identifies the subject (a list cut at its edge still shows whom it was about),
    then the rest of what was asked, without who asked (:func:`query_summary` is all of it)."""
    if not message:
        return "?"
    fields = {k: v for k, v in (message.get("fields") or {}).items()
              if k not in REQUESTER_TAGS}
    subject = [k for k in SUBJECT_TAGS if k in fields]
    order = subject + [k for k in fields if k not in subject]
    return f"{message.get('mke', '?')} " + " ".join(f"{k}/{fields[k]}" for k in order)


def query_state(message: Mapping[str, Any] | None, now: datetime | None = None, *,
                unanswered_after: float = 5.0, answer: str | None = None) -> str:
    """A query's state in words, and the rule that a query sent long ago without an answer
    says so (it is never silently forgotten): after ``unanswered_after`` minutes, six times as
    long once the switch acknowledged it (an IAQ). A YQ waits as long as its priority gives the
    entering agency (10 minutes urgent, 1 hour routine); ``answer`` is the status of the YR that
    answered it (:func:`mdt.core.confirmation.answered_requests`): then it waits no more."""
    message = message or {}
    state = str(message.get("state", "queued"))
    if answer:
        return f"Answered — {ANSWER_WORDS.get(answer, answer.replace('_', ' '))}"
    if message.get("mke") in NO_ANSWER_EXPECTED and state in WAITING_STATES:
        return "Sent — the switch has it (no answer expected)"
    waited = waited_minutes(message, now)
    if message.get("mke") == "YQ":
        limit = float(CONFIRM_MINUTES.get(str((message.get("fields") or {}).get("PRI") or "U"),
                                          10))
    else:
        limit = unanswered_after * (ACKNOWLEDGED_FACTOR if state == "acknowledged" else 1)
    if state in WAITING_STATES and waited is not None and waited >= limit:
        if message.get("mke") == "YQ":
            return f"No answer after {int(waited)} min — send the next request"
        return f"No answer after {int(waited)} min — check with dispatch"
    return STATE_WORDS.get(state, state)


def query_headline(message: Mapping[str, Any] | None, now: datetime | None = None, *,
                   unanswered_after: float = 5.0, answer: str | None = None) -> Headline:
    """The headline of a query with no return: a switch status or a refusal read from what the
    switch said, else its wait in words."""
    message = message or {}
    state = str(message.get("state", "queued"))
    detail = str(message.get("state_detail") or "")
    if state == "status":
        return decide(None, detail, event_type="status", status=str(message.get("status") or ""))
    if state == "failed":
        return decide(None, detail, event_type="status", status="rejected")
    return waiting(query_state(message, now, unanswered_after=unanswered_after, answer=answer))


def return_headline(ret: ReturnLike) -> Headline:
    """The headline of a cached return (its records and its text)."""
    return decide(ret.records, ret.text)


def received_text(ret: ReturnLike, *, offline: bool = False,
                  now: datetime | None = None) -> str:
    """The line under a return's header: when it came and from where; offline, that it is
    the cached copy (online, a live answer is not called "Cached return")."""
    said = f"received {age_text(ret.received_at, now)} · from {ret.source}"
    return f"OFFLINE — Cached return · {said}" if offline else said[0].upper() + said[1:]


def outbox_counts(messages: Iterable[Mapping[str, Any]],
                  answered: Iterable[str] = ()) -> str:
    """The outbox in words for the status bar: what waits to go, what is going, what waits for
    its answer. A YQ the entering agency answered (its id in ``answered``) is not waiting, nor
    is a YR or an AM the switch took (nothing answers them)."""
    done = set(answered)
    states = [str(m.get("state")) for m in messages
              if not (m.get("state") in WAITING_STATES and (
                  str(m.get("id")) in done or m.get("mke") in NO_ANSWER_EXPECTED))]
    waiting_now = sum(states.count(s) for s in WAITING_STATES)
    parts = [f"{states.count('queued')} queued" if "queued" in states else "",
             f"{states.count('sending')} sending" if "sending" in states else "",
             f"{waiting_now} waiting for an answer" if waiting_now else "",
             f"{states.count('failed')} refused" if "failed" in states else ""]
    words = " · ".join(p for p in parts if p)
    return f"Outbox: {words}" if words else "Outbox: empty"


# -- the returns list --------------------------------------------------------------------------
@dataclass(frozen=True)
class RowText:
    """One row of the returns list, as every view shows it."""

    age: str
    query: str
    result: str  # the headline, short
    source: str
    role: str  # the headline's colour role
    headline: Headline


def row_text(message: Mapping[str, Any] | None, ret: ReturnLike | None,
             now: datetime | None = None, *, unanswered_after: float = 5.0,
             answered: Mapping[str, str] | None = None,
             headline: Headline | None = None) -> RowText:
    """The row of a query and its return (or of a query still without one); ``headline`` is
    the return's when the caller kept it (a return does not change)."""
    if ret is not None:
        headline = headline or return_headline(ret)
        return RowText(age_text(ret.received_at, now), query_label(message), headline.short,
                       ret.source, headline.role, headline)
    message = message or {}
    answer = (answered or {}).get(str(message.get("id")))
    headline = query_headline(message, now, unanswered_after=unanswered_after, answer=answer)
    return RowText(age_text(str(message.get("created_at") or ""), now), query_label(message),
                   headline.short, "", headline.role, headline)


# -- hit confirmation --------------------------------------------------------------------------
def _who(answer: Mapping[str, Any]) -> str:
    return f"{answer.get('confirming_name') or ''} ({answer.get('confirming_ori') or '?'})" \
        .strip()


def _earlier_words(earlier: OutgoingConfirmation | None, now: datetime) -> str:
    if earlier is None or not earlier.answer:
        return ""
    status = str(earlier.answer.get("status") or "")
    when = earlier.answered_at or earlier.started_at
    age = f", {age_text(when, now)}" if when else ""
    return (f" Earlier stop: {ANSWER_WORDS.get(status, status)} by {_who(earlier.answer)}{age}"
            " — it does not confirm this stop.")


def confirmation_words(hit: HitConfirmation | OutgoingConfirmation | None,
                       now: datetime) -> tuple[str, str]:
    """What a hit's line says about its confirmation, and its style name (``ConfirmNone``,
    ``ConfirmYes``, ``ConfirmNo``, ``ConfirmWaiting``, ``ConfirmOverdue``)."""
    if not isinstance(hit, HitConfirmation):
        hit = HitConfirmation(hit.nic if hit else "", hit)
    confirmation, state = hit.own, hit.state(now)
    context = _earlier_words(hit.earlier, now)
    if confirmation is None:
        return ("Not confirmed yet — not probable cause: do not act until the entering agency "
                "confirms it (YQ)." + context), "ConfirmNone"
    last = confirmation.last
    priority = "urgent" if last.priority == "U" else "routine"
    answer = confirmation.answer or {}
    who = _who(answer)
    if state is ConfirmState.CONFIRMED:
        return f"CONFIRMED by {who}. {answer.get('remarks') or ''}".strip(), "ConfirmYes"
    if state is ConfirmState.NOT_CONFIRMED:
        return f"NOT CONFIRMED by {who} — do not act on this hit. " \
               f"{answer.get('remarks') or ''}".strip(), "ConfirmNo"
    if state is ConfirmState.WILL_CONFIRM_BY:
        return f"{who} will confirm by {_hhmmss(confirmation.deadline)} — " \
               f"{deadline_text(confirmation.remaining(now))}", "ConfirmWaiting"
    if state is ConfirmState.QUEUED:
        return f"YQ ({priority}, request {last.rno}) queued — the clock starts when the switch " \
               "takes it", "ConfirmWaiting"
    if state is ConfirmState.OVERDUE:
        next_rno = confirmation.next_rno(now) or 4
        ask = "notify your CSA and the FBI CJIS Division" if next_rno > 3 else \
            f"send request {next_rno} now"
        return f"NO ANSWER to request {last.rno} ({priority}) — " \
               f"{deadline_text(confirmation.remaining(now))} — {ask}", "ConfirmOverdue"
    acked = ", acknowledged by the switch" if last.acknowledged else ""
    return f"YQ sent ({priority}, request {last.rno}{acked}) — answer due " \
           f"{_hhmmss(confirmation.deadline)} — {deadline_text(confirmation.remaining(now))}", \
        "ConfirmWaiting"


def incoming_state(answered_by: Mapping[str, Any] | None, overdue: bool) -> str:
    """The agency queue's word for a request to confirm one of our records: answered (and
    how), overdue, or waiting for the dispatcher."""
    if answered_by:
        cst = str((answered_by.get("fields") or {}).get("CST", ""))
        return {"Y": "answered: confirmed", "N": "answered: not confirmed",
                "T": "answered: will confirm by"}.get(cst, "answered")
    return "OVERDUE — answer now" if overdue else "waiting for you"


PROBABLE_CAUSE = ("A hit is not probable cause: confirm it with the entering agency before "
                  "acting.")


def hit_banner_text(headline: Headline, hits: Sequence[HitConfirmation] = (),
                    now: datetime | None = None, *, sentence: bool = True) -> str:
    """The detail's header for a return: its headline; for a hit, what its confirmation says —
    the "confirm it before acting" sentence only while a hit on it is not confirmed, and only
    when no confirmation line under the header says it (``sentence``)."""
    if headline.kind is not HeadlineKind.HIT:
        return headline.text
    now = now or datetime.now(UTC)
    states = [h.state(now) for h in hits]
    if states and all(s is ConfirmState.CONFIRMED for s in states):
        return f"{headline.text} — CONFIRMED by the entering agency."
    if any(s is ConfirmState.NOT_CONFIRMED for s in states):
        return f"{headline.text} — NOT CONFIRMED: do not act on this hit."
    return f"{headline.text}. {PROBABLE_CAUSE}" if sentence else headline.text


def detail_headline(ret: ReturnLike | None, message: Mapping[str, Any] | None = None,
                    now: datetime | None = None, *, unanswered_after: float = 5.0,
                    answered: Mapping[str, str] | None = None) -> Headline:
    """The headline the detail pane shows for a list row: the return's, or the query's wait."""
    if ret is not None:
        return return_headline(ret)
    message = message or {}
    return query_headline(message, now, unanswered_after=unanswered_after,
                          answer=(answered or {}).get(str(message.get("id"))))


# -- the command line --------------------------------------------------------------------------
COMMAND_EXAMPLES = "QV LIC/ABC1234.LIS/MD, a plate, a VIN, or LAST, FIRST CCYYMMDD"


def command_not_understood(text: str) -> str:
    """What the command line says when :func:`mdt.core.command.parse_command` gives ``None``;
    an empty line is not quoted back as ``''``."""
    if not text.strip():
        return f"Type a command first: {COMMAND_EXAMPLES}."
    return f"Not understood: '{text.strip()}'. Try {COMMAND_EXAMPLES}."


# -- the status bar and the banner ---------------------------------------------------------------
def next_deadlines(snapshot: Any) -> list[tuple[Any, str]]:
    """Every running clock in a snapshot, soonest first: open alerts with a deadline, my YQs
    waiting for an answer, and the agency's requests not yet answered."""
    clocks: list[tuple[Any, str]] = []
    for alert in snapshot.open_alerts:
        moment = parse_time(alert.get("deadline"))
        if moment is not None and alert["kind"] != AlertKind.DETAINER:
            clocks.append((moment, KIND_WORDS.get(AlertKind(alert["kind"]), alert["kind"])))
    for nic, confirmation in snapshot.confirmations.items():
        state = confirmation.state(snapshot.now)
        if state in (ConfirmState.WAITING, ConfirmState.WILL_CONFIRM_BY) and \
                confirmation.deadline is not None:
            clocks.append((confirmation.deadline, f"answer to my YQ on {nic}"))
    for item in snapshot.queue:
        if not item.answered_by and item.respond_by is not None:
            clocks.append((item.respond_by, f"our YR on {item.nic}"))
    return sorted(clocks, key=lambda c: c[0])


TRAINING_TEXT = ("TRAINING — synthetic data only, not for operational use — "
                 "training gateway")
CONNECTION_WORDS = {
    "online": ("Online", "ConnOnline"),
    "degraded": ("Poor link — queries wait in the outbox", "ConnReauth"),
    "offline": ("Offline — queries wait in the outbox", "ConnOffline"),
    "reauth": ("Session expired — sign in again (nothing queued is lost)", "ConnReauth"),
    "stopped": ("Sync stopped", "ConnOffline"),
}


_NEXT_TRY = re.compile(r" — ((?:retrying|reconnecting) in \d+ s)$")


def connection_text(state: str, detail: str) -> tuple[str, str]:
    """The status bar's words for the sync state: the state's own words (what it means for
    the queries) and when the next try is, short enough to read whole at a glance beside the
    rest of the bar; why (the sentence ``mdt sync`` and the log give) is the label's tooltip,
    and the bar's words when it names no next try. Online is said only while answers, events
    or heartbeats arrive (the engine's idle timeout ends it)."""
    words, name = CONNECTION_WORDS.get(state, (state, "ConnOffline"))
    if state == "stopped" and detail:
        return detail, name
    if state in ("offline", "degraded") and detail:
        next_try = _NEXT_TRY.search(detail)
        return f"{words} · {next_try.group(1) if next_try else detail}", name
    return words, name


def quarantine_text(count: int) -> str:
    if not count:
        return ""
    return (f"{count} unreadable message{'s' if count != 1 else ''} from the switch "
            "(Ctrl+Shift+U)")
