"""What every screen says (``mdt.core.present``): one age text, one state in words per query and
per confirmation, the outbox counts from the same state, the returns list's rows — the same for
the GUI, the CLI and the PDF. Pure functions, table-driven."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from mdt.core.confirmation import ConfirmState, for_return, outgoing_confirmations
from mdt.core.headline import HeadlineKind, headline_of_text
from mdt.core.present import (
    age_text,
    confirmation_words,
    hit_banner_text,
    outbox_counts,
    query_headline,
    query_state,
    row_text,
)

NOW = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
CORPUS = Path(__file__).resolve().parents[1] / "data" / "returns"


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@pytest.mark.parametrize(("seconds", "words"), [
    (0, "0 s ago"), (59, "59 s ago"), (60, "1 min ago"), (3599, "59 min ago"),
    (3600, "1 h 00 min ago"), (3 * 3600 + 60, "3 h 01 min ago"),
    (50 * 3600 + 180, "2 d 02 h ago"),  # was "2 d ago" in the GUI and "50 h 3 min ago" in the CLI
    (3 * 86400, "3 d ago"), (-30, "0 s ago")])
def test_one_age_text(seconds: int, words: str) -> None:
    then = NOW - timedelta(seconds=seconds)
    assert age_text(iso(then), NOW) == words
    assert age_text(then, NOW) == words


@pytest.mark.parametrize("bad", ["", "garbage", None, "2026-11-24T12:00:00"])
def test_an_unreadable_time_says_so(bad: str | None) -> None:
    assert age_text(bad, NOW) == "age unknown"


def message(state: str, minutes_ago: float, mke: str = "QV", **extra: Any) -> dict[str, Any]:
    at = iso(NOW - timedelta(minutes=minutes_ago))
    return {"id": extra.pop("id", "m1"), "mke": mke, "state": state, "created_at": at,
            "accepted_at": at, "fields": extra.pop("fields", {"LIC": "OFF9999"}), **extra}


@pytest.mark.parametrize(("msg", "answer", "words"), [
    (message("queued", 1), None, "Queued (offline) — goes out when the link is back"),
    (message("sending", 1), None, "Sending…"),
    (message("accepted", 4), None, "Sent — waiting for the answer"),
    (message("accepted", 9), None, "No answer after 9 min — check with dispatch"),
    (message("acknowledged", 9, "IAQ"), None, "Acknowledged — answer to follow"),  # 6 × as long
    (message("acknowledged", 31, "IAQ"), None, "No answer after 31 min — check with dispatch"),
    # a YQ waits as long as its priority gives the entering agency
    (message("accepted", 9, "YQ", fields={"PRI": "U"}), None, "Sent — waiting for the answer"),
    (message("accepted", 11, "YQ", fields={"PRI": "U"}), None,
     "No answer after 11 min — send the next request"),
    (message("accepted", 50, "YQ", fields={"PRI": "R"}), None, "Sent — waiting for the answer"),
    # answered by a YR: it waits no more, whatever the outbox state says
    (message("accepted", 11, "YQ", fields={"PRI": "U"}), "CONFIRMED", "Answered — CONFIRMED"),
    (message("accepted", 2, "YQ"), "NOT_CONFIRMED", "Answered — NOT CONFIRMED"),
    # a YR or an AM gets no answer: it is never "no answer after N min"
    (message("accepted", 30, "YR"), None, "Sent — the switch has it (no answer expected)"),
    (message("accepted", 30, "AM"), None, "Sent — the switch has it (no answer expected)"),
    (message("queued", 30, "YR"), None, "Queued (offline) — goes out when the link is back"),
])
def test_query_state_in_words(msg: dict[str, Any], answer: str | None, words: str) -> None:
    assert query_state(msg, NOW, unanswered_after=5.0, answer=answer) == words


def test_a_query_without_a_return_has_a_headline_with_a_role() -> None:
    wait = query_headline(message("accepted", 1), NOW)
    assert (wait.kind, wait.role, wait.text) == (HeadlineKind.WAITING, "pending",
                                                 "Sent — waiting for the answer")
    down = query_headline(message("status", 1, state_detail="STATUS/DESTINATION VA DOWN"), NOW)
    assert down.kind == HeadlineKind.STATUS and "DESTINATION VA DOWN" in down.text
    refused = query_headline(message("failed", 1, state_detail="REJECT/FIELD LIS INVALID"), NOW)
    assert (refused.kind, refused.text) == (HeadlineKind.ERROR, "Rejected — FIELD LIS INVALID")


def test_outbox_counts_from_the_same_state() -> None:
    """Issue 16: the status bar said "3 waiting for an answer" after the YQ was answered."""
    states = ["queued", "queued", "sending", "accepted", "acknowledged", "answered", "failed"]
    messages = [{"id": f"m{n}", "state": s} for n, s in enumerate(states)]
    assert outbox_counts(messages) == \
        "Outbox: 2 queued · 1 sending · 2 waiting for an answer · 1 refused"
    assert outbox_counts(messages, {"m3": "CONFIRMED"}) == \
        "Outbox: 2 queued · 1 sending · 1 waiting for an answer · 1 refused"
    assert outbox_counts([{"id": "y", "state": "accepted"}], ["y"]) == "Outbox: empty"
    assert outbox_counts([{"id": "r", "mke": "YR", "state": "accepted"},
                          {"id": "a", "mke": "AM", "state": "accepted"}]) == "Outbox: empty"
    assert outbox_counts([]) == "Outbox: empty"


@dataclass
class Ret:
    text: str
    records: list[dict[str, Any]] = field(default_factory=list)
    received_at: str = iso(NOW - timedelta(minutes=15))
    source: str = "NCIC"


def corpus(name: str) -> str:
    return (CORPUS / f"{name}.txt").read_bytes().decode("utf-8")


@pytest.mark.parametrize(("name", "result", "role"), [
    ("qv_stolen_vehicle", "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS", "danger"),
    ("qv_stolen_plate", "HIT — STOLEN VEHICLE", "hit"),
    ("qw_ivf_deported_felon", "HIT — IMMIGRATION VIOLATOR (DEPORTED FELON)", "hit"),
    ("dq_licence_suspended", "RECORD — DRIVER LICENSE: SUSPENDED", "warning"),
    ("iar_detainer", "RECORD — LESC STATUS: DEPORTED FELON, DETAINER", "warning"),
    ("rq_registration", "RECORD — REGISTRATION, nothing notable", "info"),
    ("qv_no_record", "No record", "clear"),
    ("reject_invalid_field", "Rejected", "error"),
    ("status_destination_down", "Switch status", "status"),
    ("iaq_ack", "Text — read it", "warning"),
])
def test_a_row_of_the_returns_list_shows_the_headline(name: str, result: str, role: str) -> None:
    text = row_text({"mke": "QV", "fields": {"LIC": "X"}}, Ret(corpus(name)), NOW)
    assert (text.result, text.role, text.age, text.source) == (result, role, "15 min ago",
                                                               "NCIC")
    assert text.query == "QV LIC/X"
    assert text.headline == headline_of_text(corpus(name))


def test_every_return_in_the_corpus_has_a_row() -> None:
    for path in sorted(CORPUS.glob("*.txt")):
        text = row_text(None, Ret(path.read_bytes().decode("utf-8")), NOW)
        assert text.result and text.role in ("danger", "hit", "warning", "info", "clear",
                                             "error", "status"), path.stem


def test_a_waiting_query_has_a_row() -> None:
    text = row_text(message("acknowledged", 2, "IAQ", fields={"NAM": "ZANMIR, SOREN T"}), None,
                    NOW)
    assert (text.result, text.role, text.query, text.age) == (
        "Acknowledged — answer to follow", "pending", "IAQ NAM/ZANMIR, SOREN T", "2 min ago")


def test_a_row_leads_with_the_subject_for_every_query_kind() -> None:
    """Issue 16: an IAQ's row began ``IAQ ATN/OFFICER TESS TRAINEE PHN/410-555-0112 …``, the
    subject's name cut off at the list's edge. Every kind's row, its fields in the form's
    order (as the form and the command line send them), leads with whom or what it is about."""
    from mdt.core.forms import all_forms
    from mdt.core.present import REQUESTER_TAGS, SUBJECT_TAGS

    for form in all_forms():
        fields = {f.tag: f"V{i}" for i, f in enumerate(form.fields)}
        label = row_text(message("accepted", 1, form.mke, fields=fields), None, NOW).query
        words = label.split()
        assert words[0] == form.mke, label
        if any(tag in SUBJECT_TAGS for tag in fields):
            assert words[1].split("/")[0] in SUBJECT_TAGS, (form.mke, label)
        assert not any(w.split("/")[0] in REQUESTER_TAGS for w in words[1:]), label
    iaq = {"ATN": "OFFICER TESS TRAINEE", "PHN": "410-555-0112", "NAM": "ZANMIR, SOREN T",
           "DOB": "19790704", "SEX": "M", "POB": "MX", "CUS": "Y", "OFF": "5012",
           "ARN": "A200000002"}
    assert row_text(message("accepted", 1, "IAQ", fields=iaq), None, NOW).query == \
        "IAQ NAM/ZANMIR, SOREN T DOB/19790704 ARN/A200000002 SEX/M POB/MX CUS/Y OFF/5012"
    qv = {"LIC": "TRN5007", "LIS": "MD"}
    assert row_text(message("accepted", 1, "QV", fields=qv), None, NOW).query == \
        "QV LIC/TRN5007 LIS/MD"


# -- confirmation ------------------------------------------------------------------------------
def yq(mid: str, rno: int, at: datetime, pri: str = "U") -> dict[str, Any]:
    return {"id": mid, "mke": "YQ", "dest": ["MD1012600"], "state": "accepted",
            "created_at": iso(at), "accepted_at": iso(at),
            "fields": {"RTY": "SV", "RNO": str(rno), "PRI": pri, "NIC": "V260000002"}}


def yr(reply_to: str, status: str, at: datetime, seq: int = 1) -> dict[str, Any]:
    return {"type": "hit_confirmation_response", "in_reply_to": reply_to, "status": status,
            "nic": "V260000002", "confirming_ori": "MD1012600", "seq": seq,
            "confirming_name": "Dispatcher Dana Desk", "created_at": iso(at)}


T0 = NOW - timedelta(minutes=30)


def test_one_state_per_confirmation_and_a_new_stop_starts_its_own() -> None:
    """Issue 16: a fresh run of the same plate came back already "CONFIRMED", no YQ buttons."""
    first_stop = T0 - timedelta(seconds=30)
    second_stop = T0 + timedelta(minutes=10)
    messages = [yq("q1", 1, T0)]
    events = [yr("q1", "CONFIRMED", T0 + timedelta(minutes=3))]
    latest = outgoing_confirmations(messages, events)["V260000002"]
    first = for_return(latest, iso(first_stop))
    assert first.state(NOW) is ConfirmState.CONFIRMED and not first.can_request()
    assert not first.must_confirm_first(NOW)
    assert confirmation_words(first, NOW) == ("CONFIRMED by Dispatcher Dana Desk (MD1012600).",
                                              "ConfirmYes")
    second = for_return(latest, iso(second_stop))
    assert second.state(NOW) is ConfirmState.NOT_REQUESTED and second.can_request()
    words, style = confirmation_words(second, NOW)
    assert style == "ConfirmNone" and words.startswith("Not confirmed yet")
    assert "Earlier stop: CONFIRMED by Dispatcher Dana Desk (MD1012600), 27 min ago" in words

    # The second stop's own YQ: its own clock; the earlier one stays the first stop's.
    messages.append(yq("q2", 1, second_stop + timedelta(minutes=1)))
    latest = outgoing_confirmations(messages, events)["V260000002"]
    assert for_return(latest, iso(second_stop)).state(NOW) is ConfirmState.OVERDUE
    assert for_return(latest, iso(first_stop)).state(NOW) is ConfirmState.CONFIRMED
    events.append(yr("q2", "NOT_CONFIRMED", NOW, seq=2))
    latest = outgoing_confirmations(messages, events)["V260000002"]
    assert for_return(latest, iso(second_stop)).state(NOW) is ConfirmState.NOT_CONFIRMED
    assert for_return(latest, iso(first_stop)).state(NOW) is ConfirmState.CONFIRMED


def test_second_and_third_requests_stay_in_their_confirmation() -> None:
    messages = [yq("q1", 1, T0), yq("q2", 2, T0 + timedelta(minutes=11))]
    latest = outgoing_confirmations(messages, [yr("q2", "CONFIRMED", NOW)])["V260000002"]
    assert [r.rno for r in latest.requests] == [1, 2] and latest.earlier == []
    assert latest.state(NOW) is ConfirmState.CONFIRMED


def test_a_confirmed_hit_has_no_confirm_before_acting_wording() -> None:
    """Issue 16: the red "confirm it … before acting" bar stayed under the green CONFIRMED."""
    headline = headline_of_text(corpus("qv_stolen_vehicle"))
    latest = outgoing_confirmations([yq("q1", 1, T0)], [yr("q1", "CONFIRMED", NOW)])
    received = iso(T0 - timedelta(minutes=1))
    confirmed = [for_return(latest["V260000002"], received)]
    text = hit_banner_text(headline, confirmed, NOW)
    assert text == "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS — CONFIRMED by the entering agency."
    assert "before acting" not in text
    waiting = [for_return(outgoing_confirmations([yq("q1", 1, T0)], [])["V260000002"],
                          received)]
    assert hit_banner_text(headline, waiting, NOW).endswith("before acting.")
    assert hit_banner_text(headline, [], NOW).endswith("before acting.")
    denied = outgoing_confirmations([yq("q1", 1, T0)], [yr("q1", "NOT_CONFIRMED", NOW)])
    assert "do not act" in hit_banner_text(headline, [for_return(denied["V260000002"],
                                                                 received)], NOW)
    notable = headline_of_text(corpus("iar_detainer"))
    assert hit_banner_text(notable, [], NOW) == notable.text


def test_the_present_module_needs_no_qt() -> None:
    code = ("import sys, mdt.core.present; "
            "sys.exit(any(m.startswith(('PySide6', 'shiboken6')) for m in sys.modules))")
    assert subprocess.run([sys.executable, "-c", code], timeout=60).returncode == 0


def test_the_received_line_says_cached_only_offline() -> None:
    """Issue 16: every live answer was labelled "Cached return"."""
    from mdt.core.present import received_text

    ret = Ret("NO NCIC WANT")
    assert received_text(ret, now=NOW) == "Received 15 min ago · from NCIC"
    assert received_text(ret, offline=True, now=NOW) == \
        "OFFLINE — Cached return · received 15 min ago · from NCIC"


@pytest.mark.parametrize(("typed", "said"), [
    ("", "Type a command first: QV LIC/ABC1234.LIS/MD, a plate, a VIN, or LAST, FIRST CCYYMMDD."),
    ("   ", "Type a command first: QV LIC/ABC1234.LIS/MD, a plate, a VIN, or LAST, FIRST "
           "CCYYMMDD."),
    (" hello ", "Not understood: 'hello'. Try QV LIC/ABC1234.LIS/MD, a plate, a VIN, or LAST, "
                "FIRST CCYYMMDD."),
])
def test_what_the_command_line_says_when_it_does_not_understand(typed: str, said: str) -> None:
    from mdt.core.present import command_not_understood

    assert command_not_understood(typed) == said


def test_a_new_stop_s_unanswered_yq_raises_its_own_overdue_alert() -> None:
    from mdt.core.alerts import escalation_alert

    first = escalation_alert("V260000002", 2, deadline=None)
    assert first.id == escalation_alert("V260000002", 2, deadline=None, episode="").id
    again = escalation_alert("V260000002", 2, deadline=None, episode="q2")
    assert again.id != first.id  # raised again, not taken for the earlier stop's


@pytest.mark.parametrize(("answered_by", "overdue", "words"), [
    (None, False, "waiting for you"), (None, True, "OVERDUE — answer now"),
    ({"fields": {"CST": "Y"}}, True, "answered: confirmed"),
    ({"fields": {"CST": "N"}}, False, "answered: not confirmed"),
    ({"fields": {"CST": "T"}}, False, "answered: will confirm by"),
    ({"fields": {}}, False, "answered")])
def test_the_agency_queue_s_state_words(answered_by: dict[str, Any] | None, overdue: bool,
                                        words: str) -> None:
    from mdt.core.present import incoming_state

    assert incoming_state(answered_by, overdue) == words


def test_every_step_of_a_confirmation_in_words() -> None:
    """Sent, acknowledged, answered Y / N / T, overdue, next request: one state each."""
    sent = yq("q1", 1, NOW - timedelta(minutes=2))
    ack = {"type": "ack", "in_reply_to": "q1", "respond_by": iso(NOW + timedelta(minutes=8))}
    cases = [
        ([], "YQ sent (urgent, request 1) — answer due 12:08:00 UTC — 08:00 left",
         "ConfirmWaiting"),
        ([ack], "YQ sent (urgent, request 1, acknowledged by the switch) — answer due "
                "12:08:00 UTC — 08:00 left", "ConfirmWaiting"),
        ([ack, yr("q1", "CONFIRMED", NOW)], "CONFIRMED by Dispatcher Dana Desk (MD1012600).",
         "ConfirmYes"),
        ([ack, yr("q1", "NOT_CONFIRMED", NOW)],
         "NOT CONFIRMED by Dispatcher Dana Desk (MD1012600) — do not act on this hit.",
         "ConfirmNo"),
        ([ack, yr("q1", "WILL_CONFIRM_BY", NOW) | {"confirm_by": iso(NOW + timedelta(
            minutes=20))}], "Dispatcher Dana Desk (MD1012600) will confirm by 12:20:00 UTC — "
                            "20:00 left", "ConfirmWaiting"),
    ]
    for events, words, style in cases:
        hit = for_return(outgoing_confirmations([sent], events)["V260000002"],
                         iso(NOW - timedelta(minutes=5)))
        assert confirmation_words(hit, NOW) == (words, style)
    late = NOW + timedelta(minutes=11)
    hit = for_return(outgoing_confirmations([sent], [ack])["V260000002"],
                     iso(NOW - timedelta(minutes=5)))
    assert hit.state(late) is ConfirmState.OVERDUE and hit.next_rno(late) == 2
    assert confirmation_words(hit, late) == (
        "NO ANSWER to request 1 (urgent) — OVERDUE 03:00 — send request 2 now", "ConfirmOverdue")
    queued = {**sent, "state": "queued", "accepted_at": None}
    hit = for_return(outgoing_confirmations([queued], [])["V260000002"],
                     iso(NOW - timedelta(minutes=5)))
    assert confirmation_words(hit, NOW)[0] == ("YQ (urgent, request 1) queued — the clock "
                                               "starts when the switch takes it")
