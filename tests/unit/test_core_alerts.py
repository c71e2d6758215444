"""Alert rules: which event raises which alert, how loud, with which deadline; the gateway clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from mdt.core.alerts import (
    AlertKind,
    AlertSeverity,
    alerts_for_event,
    escalation_alert,
    ivf_prompt,
)
from mdt.core.clock import GatewayClock

WANTED = {"file": "WANTED", "hit": True, "nic": "W260000001", "caution_codes": [],
          "fields": {"ORI": "VA0290000", "NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312",
                     "OCA": "26-000777", "NIC": "W260000001"}}


def response(records: list[dict[str, Any]], *, kind: str = "response",
             event_id: str = "e1") -> dict[str, Any]:
    return {"id": event_id, "seq": 1, "type": kind, "in_reply_to": "m1", "records": records,
            "created_at": "2026-11-24T20:00:00Z"}


def test_a_hit_is_critical_and_says_confirm_first() -> None:
    [alert] = alerts_for_event(response([WANTED, {"file": "DL", "hit": False}]))
    assert alert.kind is AlertKind.HIT
    assert alert.severity is AlertSeverity.CRITICAL and alert.must_acknowledge
    assert "KOLVEX, DRAYTON Q" in alert.title
    assert "not probable cause" in alert.summary
    assert alert.body["return_id"] == "e1" and alert.body["record_index"] == 0
    assert alert.message_id == "m1"


def test_no_hit_raises_nothing_and_acks_raise_nothing() -> None:
    assert alerts_for_event(response([{"file": "REG", "hit": False}])) == []
    assert alerts_for_event({"id": "a", "seq": 2, "type": "ack", "in_reply_to": "m1"}) == []


def test_caution_codes_are_in_words() -> None:
    [alert] = alerts_for_event(response([{**WANTED, "caution_codes": ["00"]}]))
    assert alert.kind is AlertKind.CAUTION
    assert "ARMED AND DANGEROUS" in alert.title


def test_ivf_hit_carries_its_category_and_the_policy_prompt_is_the_agencys() -> None:
    record = {"file": "IVF", "hit": True, "nic": "I260000002", "category": "ABSCONDER",
              "fields": {"NAM": "TALBRO, MIRELA V", "DOB": "19881121"}}
    [alert] = alerts_for_event(response([record]))
    assert alert.kind is AlertKind.IVF_HIT
    assert "Absconder" in alert.title
    assert alert.body["category"] == "ABSCONDER"
    assert "civil" in ivf_prompt("ABSCONDER").lower()
    assert ivf_prompt("ABSCONDER", {"ABSCONDER": "Call the watch commander."}) == \
        "Call the watch commander."
    assert ivf_prompt("UNHEARD_OF")  # an unknown category still gets a prompt


def test_same_event_twice_is_one_alert_and_parts_are_distinct() -> None:
    first = alerts_for_event(response([WANTED, WANTED]))
    again = alerts_for_event(response([WANTED, WANTED]))
    assert [a.id for a in first] == [a.id for a in again]
    assert len({a.id for a in first}) == 2


def test_delayed_hit_is_a_new_hit_tied_to_the_old_query() -> None:
    [alert] = alerts_for_event(response([WANTED], kind="delayed_hit"))
    assert alert.kind is AlertKind.DELAYED_HIT and alert.severity is AlertSeverity.CRITICAL
    assert alert.title.startswith("DELAYED HIT")
    assert alert.message_id == "m1"


def test_incoming_yq_deadline_is_respond_by_and_repeats_are_louder() -> None:
    event = {"id": "y1", "seq": 3, "type": "hit_confirmation_request", "rty": "SV", "rno": "2",
             "pri": "U", "oca": "26-1", "nic": "V260000002", "requesting_ori": "VA0290000",
             "data_set": {"LIC": "TRN5007", "LIS": "MD"}, "respond_by": "2026-11-24T20:10:00Z"}
    [alert] = alerts_for_event(event)
    assert alert.kind is AlertKind.INCOMING_YQ and alert.must_acknowledge
    assert alert.deadline == "2026-11-24T20:10:00Z"
    assert alert.title.startswith("SECOND REQUEST")
    assert "TRN5007" in alert.title and "URGENT" in alert.title


def test_detainer_has_its_hold_window_as_deadline() -> None:
    event = {"id": "d1", "seq": 4, "type": "detainer", "in_reply_to": "iaq1",
             "created_at": "2026-11-24T20:00:00Z", "detainer_id": "DET-1",
             "subject": {"name": "ZANMIR, SOREN T", "dob": "19790704"},
             "issuing_office": "ICE ERO", "basis": "FINAL ORDER OF REMOVAL",
             "requested_action": {"notify_before_release": True, "hold_hours": 48},
             "contact": {"name": "LESC", "phone": "802-555-0100"}}
    [alert] = alerts_for_event(event)
    assert alert.kind is AlertKind.DETAINER and alert.must_acknowledge
    assert alert.deadline == "2026-11-26T20:00:00Z"
    assert "notify DHS before release" in alert.summary
    assert alert.message_id == "iaq1"


def test_yr_status_and_admin_and_status_alerts() -> None:
    [yr] = alerts_for_event({"id": "r", "seq": 5, "type": "hit_confirmation_response",
                             "in_reply_to": "yq1", "status": "NOT_CONFIRMED", "nic": "W1",
                             "confirming_ori": "VA0290000"})
    assert yr.kind is AlertKind.YR and "do not act" in yr.title
    assert yr.severity is AlertSeverity.HIGH and not yr.must_acknowledge
    [admin] = alerts_for_event({"id": "a", "seq": 6, "type": "admin", "from_name": "Dispatch",
                                "text": "AM.MD1.MD2\n\nCALL ME"})
    assert admin.kind is AlertKind.ADMIN and "CALL ME" in admin.title
    [status] = alerts_for_event({"id": "s", "seq": 7, "type": "status", "in_reply_to": "m",
                                 "text": "DESTINATION DOWN - WILL FORWARD"})
    assert status.kind is AlertKind.SWITCH_STATUS and status.severity is AlertSeverity.INFO


def test_escalation_alerts_ask_for_the_next_request_then_the_csa() -> None:
    second = escalation_alert("W1", 2, deadline=None, rty="WP", subject="DOE, JOHN")
    assert "SECOND REQUEST" in second.title and "RNO 2" in second.title
    fourth = escalation_alert("W1", 4, deadline=None)
    assert "CSA" in fourth.title
    assert second.id != fourth.id == escalation_alert("W1", 4, deadline=None).id


@given(st.dictionaries(st.sampled_from(["id", "seq", "type", "records", "rno", "respond_by",
                                        "subject", "requested_action", "data_set", "text"]),
                       st.one_of(st.none(), st.integers(), st.text(max_size=8),
                                 st.lists(st.dictionaries(st.text(max_size=4),
                                                          st.text(max_size=4)), max_size=2),
                                 st.dictionaries(st.text(max_size=4), st.text(max_size=4))))
       .map(lambda d: {**d, "id": str(d.get("id"))}),
       st.sampled_from(["response", "delayed_hit", "hit_confirmation_request", "detainer",
                        "hit_confirmation_response", "status", "admin", "ack", "other"]))
def test_nonsense_events_never_break_the_rules(event: dict[str, Any], kind: str) -> None:
    """Events come from outside: whatever the gateway sends, the rules answer with alerts or
    nothing, never an exception."""
    for alert in alerts_for_event({**event, "type": kind}):
        assert alert.title and alert.severity in AlertSeverity


def test_gateway_clock_follows_the_gateway_not_the_laptop() -> None:
    laptop = datetime(2026, 11, 24, 20, 0, 0, tzinfo=UTC)  # the laptop is 7 minutes slow
    clock = GatewayClock(system=lambda: laptop)
    offset = clock.observe("2026-11-24T20:07:00.5Z", laptop - timedelta(seconds=0.5),
                           laptop + timedelta(seconds=0.5))
    assert offset == 420.5
    assert clock.now() == laptop + timedelta(seconds=420.5)
    assert clock.observe("not a time", laptop, laptop) == 420.5  # nonsense keeps the old offset
