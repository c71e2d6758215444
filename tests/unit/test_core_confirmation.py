"""Hit confirmation rules with an injected clock: YQ / YR building, countdowns, RNO 2 and 3."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from mdt.core.codes import CodeTables
from mdt.core.confirmation import (
    ConfirmationError,
    ConfirmState,
    build_yq,
    build_yr,
    deadline_text,
    escalate_yq,
    incoming_queue,
    outgoing_confirmations,
)
from mdt.core.forms import FormSet
from mdt.core.rules import validate_form

T0 = datetime(2026, 11, 24, 20, 0, 0, tzinfo=UTC)


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


WANTED = {"file": "WANTED", "hit": True, "nic": "W260000001",
          "fields": {"ORI": "VA0290000", "NAM": "KOLVEX, DRAYTON Q", "SEX": "M",
                     "DOB": "19840312", "HGT": "601", "OCA": "26-000777", "NIC": "W260000001"}}
VEHICLE = {"file": "VEHICLE", "hit": True, "nic": "V260000001",
           "fields": {"ORI": "VA0290000", "LIC": "TRN4821", "LIS": "VA", "VIN":
                      "1G4AH59H45G118341", "VYR": "2005", "VMA": "BUIC", "VCO": "RED",
                      "OCA": "26-004512", "NIC": "V260000001"}}
GUN = {"file": "GUN", "hit": True, "nic": "G260000001",
       "fields": {"ORI": "MD1012600", "SER": "TRG4821", "MAK": "SW", "CAL": "9",
                  "TYP": "P", "OCA": "26-3", "NIC": "G260000001"}}
IVF = {"file": "IVF", "hit": True, "nic": "I260000002", "category": "DEPORTED_FELON",
       "fields": {"ORI": "VTICE0900", "NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M",
                  "MNU": "AR-200000002", "NIC": "I260000002"}}


def test_yq_from_each_kind_of_record_has_the_right_data_set() -> None:
    wanted = build_yq(WANTED, priority="U", requester_name="Officer Tess Trainee",
                      phone="410-555-0112")
    assert wanted.values == {"RTY": "WP", "RNO": "1", "PRI": "U", "OCA": "26-000777",
                             "NIC": "W260000001", "NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312",
                             "SEX": "M", "RNA": "OFFICER TESS TRAINEE", "PHO": "410-555-0112"}
    assert wanted.dest == ["VA0290000"]
    vehicle = build_yq(VEHICLE, priority="R", requester_name="X")
    assert vehicle.values["RTY"] == "SV" and vehicle.values["PRI"] == "R"
    assert {k: vehicle.values[k] for k in ("LIC", "LIS", "VIN", "VYR", "VMA")} == {
        "LIC": "TRN4821", "LIS": "VA", "VIN": "1G4AH59H45G118341", "VYR": "2005",
        "VMA": "BUIC"}
    assert "VCO" not in vehicle.values  # not part of the data set
    gun = build_yq(GUN, priority="U", requester_name="X")
    assert gun.values["RTY"] == "SG" and gun.values["SER"] == "TRG4821"
    ivf = build_yq(IVF, priority="U", requester_name="X")
    assert ivf.dest == ["VTICE0900"]  # LESC confirms IVF hits
    assert ivf.values["OCA"] == "AR-200000002" and ivf.values["RTY"] == "WP"


def test_built_yq_and_yr_pass_the_form_rules() -> None:
    """What the builders make is what the switch accepts: the shipped forms validate it."""
    forms, tables = FormSet.shipped(), CodeTables.default()

    def problems(mke: str, values: dict[str, str]) -> list[str]:
        return [e.message for e in validate_form(forms.get(mke), values, tables)]

    for record in (WANTED, VEHICLE, GUN, IVF):
        draft = build_yq(record, priority="U", requester_name="Officer Tess Trainee",
                         phone="410-555-0112")
        assert problems("YQ", draft.values) == [], record["file"]
    request = {"rty": "SV", "rno": "2", "oca": "26-004512", "nic": "V260000001",
               "requesting_ori": "VA0290000", "data_set": {"LIC": "TRN4821", "LIS": "VA"}}
    for status, extra in (("Y", {}), ("N", {}), ("T", {"confirm_by": "2130"})):
        draft = build_yr(request, status, responder_name="Dispatcher Dana Desk", **extra)
        assert problems("YR", draft.values) == [], status
        assert draft.dest == ["VA0290000"] and draft.values["RNO"] == "2"


def test_builders_refuse_what_cannot_be_confirmed() -> None:
    with pytest.raises(ConfirmationError, match="Only a hit"):
        build_yq({**WANTED, "hit": False}, priority="U", requester_name="X")
    with pytest.raises(ConfirmationError, match="Priority"):
        build_yq(WANTED, priority="X", requester_name="X")
    with pytest.raises(ConfirmationError, match="ORI"):
        build_yq({**WANTED, "fields": {"NAM": "A, B", "NIC": "W1"}}, priority="U",
                 requester_name="X")
    with pytest.raises(ConfirmationError, match="no hit confirmation"):
        build_yq({"file": "DL", "hit": True, "nic": "X"}, priority="U", requester_name="X")
    with pytest.raises(ConfirmationError, match="by when"):
        build_yr({"rty": "WP"}, "T", responder_name="X")


def yq_message(mid: str, rno: int, accepted: datetime | None, pri: str = "U",
               nic: str = "W260000001") -> dict[str, Any]:
    return {"id": mid, "mke": "YQ", "dest": ["VA0290000"], "state": "accepted",
            "created_at": iso(accepted or T0) + f"{rno}",
            "accepted_at": iso(accepted) if accepted else None,
            "fields": {"RTY": "WP", "RNO": str(rno), "PRI": pri, "OCA": "26-000777",
                       "NIC": nic, "NAM": "KOLVEX, DRAYTON Q"}}


def test_urgent_countdown_then_rno_2_then_rno_3_then_the_csa() -> None:
    messages = [yq_message("q1", 1, T0)]
    state = outgoing_confirmations(messages, [])["W260000001"]
    assert state.state(T0 + timedelta(minutes=9)) is ConfirmState.WAITING
    assert deadline_text(state.remaining(T0 + timedelta(minutes=2, seconds=15))) == "07:45 left"
    assert state.next_rno(T0 + timedelta(minutes=9, seconds=59)) is None
    late = T0 + timedelta(minutes=10, seconds=5)
    assert state.state(late) is ConfirmState.OVERDUE and state.next_rno(late) == 2
    assert deadline_text(state.remaining(late)) == "OVERDUE 00:05"

    second = escalate_yq(messages[0], 2)
    assert second.values["RNO"] == "2" and second.dest == ["VA0290000"]
    messages.append(yq_message("q2", 2, late))
    state = outgoing_confirmations(messages, [])["W260000001"]
    assert state.state(late + timedelta(minutes=5)) is ConfirmState.WAITING
    assert state.next_rno(late + timedelta(minutes=10, seconds=1)) == 3
    third = escalate_yq(messages[1], 3)
    assert "CSA AND FBI" in third.values["REM"]
    messages.append(yq_message("q3", 3, late + timedelta(minutes=11)))
    state = outgoing_confirmations(messages, [])["W260000001"]
    assert state.next_rno(late + timedelta(minutes=22)) == 4  # notify the CSA and the FBI


def test_routine_is_an_hour_and_the_switch_respond_by_wins() -> None:
    state = outgoing_confirmations([yq_message("q1", 1, T0, pri="R")], [])["W260000001"]
    assert state.state(T0 + timedelta(minutes=59)) is ConfirmState.WAITING
    assert state.state(T0 + timedelta(minutes=61)) is ConfirmState.OVERDUE
    ack = {"type": "ack", "in_reply_to": "q1", "respond_by": iso(T0 + timedelta(minutes=3))}
    state = outgoing_confirmations([yq_message("q1", 1, T0, pri="R")], [ack])["W260000001"]
    assert state.deadline == T0 + timedelta(minutes=3)


def test_a_queued_yq_has_no_clock_yet() -> None:
    message = {**yq_message("q1", 1, None), "state": "queued"}
    state = outgoing_confirmations([message], [])["W260000001"]
    assert state.state(T0 + timedelta(days=1)) is ConfirmState.QUEUED
    assert state.next_rno(T0 + timedelta(days=1)) is None


def test_the_yr_links_back_and_sets_the_hit_state() -> None:
    messages = [yq_message("q1", 1, T0)]

    def answer(status: str, **extra: Any) -> dict[str, Any]:
        return {"type": "hit_confirmation_response", "seq": 9, "in_reply_to": "q1",
                "status": status, "nic": "W260000001", **extra}

    now = T0 + timedelta(minutes=30)
    confirmed = outgoing_confirmations(messages, [answer("CONFIRMED")])["W260000001"]
    assert confirmed.state(now) is ConfirmState.CONFIRMED and confirmed.next_rno(now) is None
    denied = outgoing_confirmations(messages, [answer("NOT_CONFIRMED")])["W260000001"]
    assert denied.state(now) is ConfirmState.NOT_CONFIRMED
    promised = outgoing_confirmations(messages, [answer(
        "WILL_CONFIRM_BY", confirm_by=iso(T0 + timedelta(minutes=40)))])["W260000001"]
    assert promised.state(now) is ConfirmState.WILL_CONFIRM_BY
    # A promise not kept is overdue again: the next request is due.
    assert promised.next_rno(T0 + timedelta(minutes=41)) == 2


def request(nic: str, rno: int, respond_by: datetime, seq: int, oca: str = "26-1"
            ) -> dict[str, Any]:
    return {"type": "hit_confirmation_request", "seq": seq, "request_id": f"r{seq}",
            "rty": "SV", "rno": str(rno), "pri": "U", "oca": oca, "nic": nic,
            "requesting_ori": "VA0290000", "respond_by": iso(respond_by),
            "created_at": iso(T0), "data_set": {"LIC": "TRN5007", "LIS": "MD"}}


def test_incoming_queue_is_sorted_by_respond_by_and_folds_repeats() -> None:
    queue = incoming_queue([
        request("V1", 1, T0 + timedelta(minutes=50), 1),
        request("V2", 1, T0 + timedelta(minutes=10), 2),
        request("V1", 2, T0 + timedelta(minutes=20), 3),  # the second request for V1
    ], [])
    assert [(i.nic, i.rno) for i in queue] == [("V2", 1), ("V1", 2)]
    assert queue[1].request_ids == ["r1", "r3"]
    assert queue[0].overdue(T0 + timedelta(minutes=11))
    assert not queue[0].overdue(T0 + timedelta(minutes=9))


def test_a_yr_answers_the_request_but_not_a_later_second_one() -> None:
    yr = {"id": "yr1", "mke": "YR", "state": "accepted", "dest": ["VA0290000"],
          "created_at": iso(T0), "fields": {"NIC": "V1", "OCA": "26-1", "RNO": "1",
                                             "CST": "Y"}}
    answered = incoming_queue([request("V1", 1, T0 + timedelta(minutes=10), 1),
                               request("V2", 1, T0 + timedelta(minutes=5), 2)], [yr])
    assert [(i.nic, bool(i.answered_by)) for i in answered] == [("V2", False), ("V1", True)]
    assert not answered[1].overdue(T0 + timedelta(hours=1))  # answered is never overdue
    again = incoming_queue([request("V1", 1, T0 + timedelta(minutes=10), 1),
                            request("V1", 2, T0 + timedelta(minutes=20), 2)], [yr])
    assert again[0].answered_by is None and again[0].rno == 2
