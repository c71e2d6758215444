"""The training gateway's synthetic world and switch, in process (no HTTP): what each key answers,
the rules it refuses by, and the contract that its return texts parse back (with the client's own
parser, ``mdt.core.returns``) into exactly the structured records it sends beside them."""

from __future__ import annotations

import csv
import json
import logging
import re
import uuid
from pathlib import Path
from typing import Any

import pytest

from mdt.core.returns import parse_return
from mock_server.accounts import Account
from mock_server.scenarios import ScenarioError, load_scenarios, validate_scenario
from mock_server.switch import Confirmation, Context, Routed, Switch
from mock_server.synthetic import code_table, vin_check_digit, vin_is_valid
from mock_server.world import World

ROOT = Path(__file__).resolve().parents[2]
OFFICER = Account("officer1", "Officer Tess Trainee", "officer", "MD1012600", "Car 12", "S")
ACCOUNTS = [
    OFFICER,
    Account("dispatch1", "Dispatcher Dana Desk", "dispatcher", "MD1012600", "Dispatch", "S"),
    Account("officer3", "Officer Vic Virginia", "officer", "VA0290000", "Unit 3", "S"),
    Account("dispatch2", "Dispatcher Val Queue", "dispatcher", "VA0290000", "Dispatch", "S"),
    Account("officer4", "Officer Mo County", "officer", "MD0030000", "Car 40", "S"),
]
IAQ_FIELDS = {"ATN": "OFC TRAINEE", "PHN": "410-555-0112", "POB": "AA", "OFF": "0399"}


@pytest.fixture(scope="module")
def world() -> World:
    return World(1)


@pytest.fixture
def switch(world: World) -> Switch:
    return Switch(world, latency=1.0, iar_delay=20.0, confirm_delay=45.0, seed=1)


def route(switch: Switch, mke: str, fields: dict[str, str], dest: list[str] | None = None,
          purpose: str | None = None, sender: Account = OFFICER,
          found: Confirmation | None = None) -> tuple[dict[str, Any], Routed]:
    message = {"id": str(uuid.uuid4()), "mke": mke, "dest": dest or ["NCIC"], "fields": fields,
               "purpose": purpose}
    ctx = Context(accounts=ACCOUNTS, find_confirmation=lambda *_args: found, now=1_800_000_000.0)
    return message, switch.route(message, sender, ctx)


def answer(switch: Switch, mke: str, fields: dict[str, str], dest: list[str] | None = None,
           purpose: str | None = None) -> dict[str, Any]:
    """The one event a query gets back."""
    _message, routed = route(switch, mke, fields, dest, purpose)
    (delivery,) = routed.deliveries
    assert delivery.recipient == OFFICER.user_id
    return delivery.body


# -- the world -----------------------------------------------------------------------------------
def test_the_world_is_seeded_and_reproducible(world: World) -> None:
    again = World(1)
    assert [(v.lic, v.vin, v.stolen) for v in again.vehicles] == \
        [(v.lic, v.vin, v.stolen) for v in world.vehicles]
    other = World(2, persons=500)
    assert [v.lic for v in other.vehicles[:20]] != [v.lic for v in world.vehicles[:20]]


def test_vehicles_look_real_but_are_synthetic(world: World) -> None:
    makes, colours, styles = code_table("VMA"), code_table("VCO"), code_table("VST")
    with open(ROOT / "resources" / "codes" / "VMO.csv", encoding="utf-8") as handle:
        models = {row["code"]: row["description"] for row in csv.DictReader(handle)}
    plates = [(v.lic, v.lis) for v in world.vehicles]  # a plate number + its state is unique
    assert len(plates) == len(set(plates)) > 5000
    assert all(re.fullmatch(r"[A-Z]{3}\d{4}", p) for p, _state in plates)
    for v in world.vehicles:
        assert vin_is_valid(v.vin), v.vin
        assert v.vma in makes and v.vco in colours and v.vst in styles
        assert f"({v.vma})" in models[v.vmo]
    stolen = sum(v.stolen for v in world.vehicles) / len(world.vehicles)
    assert 0.02 <= stolen <= 0.03
    assert vin_check_digit("1G4AH59H45G118341") == "4"


def test_persons_are_synthetic_and_some_are_wanted(world: World) -> None:
    persons = world.persons
    assert len({p.name for p in persons}) > 5000
    assert all(re.fullmatch(r"[A-Z]+, [A-Z]+ ?[A-Z]?", p.name) for p in persons)
    assert 0.01 < sum(p.wanted for p in persons) / len(persons) < 0.03
    assert {p.ivf_category for p in persons if p.ivf_category} == \
        {"DEPORTED_FELON", "ABSCONDER", "NSEERS"}
    assert any(p.protection_order for p in persons)
    offenses = code_table("OFF")
    assert all(p.warrant in offenses for p in persons if p.wanted)


# -- NCIC: vehicles, persons, guns ---------------------------------------------------------------
def test_qv_hit_and_no_hit(switch: Switch) -> None:
    hit = answer(switch, "QV", {"LIC": "TRN4821", "LIS": "VA"})
    assert hit["text"].startswith("QV.MD1012600.NCIC\n\n*** WARNING - A HIT IS NOT PROBABLE")
    assert hit["records"][0]["nic"] == "V260000001"
    armed = answer(switch, "QV", {"LIC": "TRN5007", "LIS": "MD"})
    assert armed["records"][0]["caution_codes"] == ["00"] and "\nCMC/00" in armed["text"]
    miss = answer(switch, "QV", {"VIN": "1G4AH59H45G118342"})
    assert miss["records"] == [] and miss["text"].endswith("NO NCIC WANT VIN/1G4AH59H45G118342")
    wrong_state = answer(switch, "QV", {"LIC": "TRN4821", "LIS": "MD"})
    assert wrong_state["records"] == []


@pytest.mark.parametrize(("fields", "files"), [
    ({"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312"}, [("WANTED", None)]),
    ({"NAM": "KOLVECKS, DRAYTON Q", "DOB": "19840312"}, [("WANTED", None)]),  # sounds alike
    ({"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312", "SEX": "F"}, []),
    ({"NAM": "KOLVEX, MARA Q", "DOB": "19840312"}, []),  # another first initial
    ({"OLN": "S100000001", "OLS": "VA"}, [("WANTED", None)]),
    ({"FBI": "T00001A"}, [("WANTED", None)]),
    ({"NAM": "ZANMIR, SOREN T", "DOB": "19790704"}, [("IVF", "DEPORTED_FELON")]),
    ({"MNU": "AR-200000003"}, [("IVF", "ABSCONDER")]),
    ({"NAM": "DAXPEL, ORRIN K", "DOB": "19750215"}, [("IVF", "NSEERS")]),
    ({"NAM": "HULGAR, BRENNA J", "DOB": "19860830"}, [("PROTECTION_ORDER", None)]),
    ({"NAM": "NORWEN, CASEY L", "DOB": "19900101"}, []),
])
def test_qw_matches_names_by_sound_and_identifiers(switch: Switch, fields: dict[str, str],
                                                   files: list[tuple[str, str | None]]) -> None:
    event = answer(switch, "QW", fields)
    assert [(r["file"], r["category"]) for r in event["records"]] == files
    assert all(r["hit"] for r in event["records"])
    if not files:
        assert "\n\nNO NCIC WANT " in event["text"]


def test_ivf_hits_carry_the_civil_warrant_caveat(switch: Switch) -> None:
    event = answer(switch, "QW", {"NAM": "ZANMIR, SOREN T", "DOB": "19790704"})
    assert "MKE/IMMIGRATION VIOLATOR - DEPORTED FELON" in event["text"]
    (record,) = event["records"]
    assert any("ADMINISTRATIVE (CIVIL) WARRANT" in c for c in record["caveats"])
    assert record["fields"]["MNU"] == "AR-200000002"


def test_qg_finds_a_stolen_gun_by_serial_and_make(switch: Switch) -> None:
    assert answer(switch, "QG", {"SER": "TRG4821", "MAK": "SW"})["records"][0]["file"] == "GUN"
    assert answer(switch, "QG", {"SER": "TRG4821", "MAK": "BER"})["records"] == []
    assert answer(switch, "QG", {"SER": "NOPE123", "CAL": "38"})["records"] == []


# -- III and Nlets -------------------------------------------------------------------------------
def test_qh_then_qr(switch: Switch) -> None:
    index = answer(switch, "QH", {"NAM": "FENRIX, AVERY D", "DOB": "19950519", "SEX": "M",
                                  "RAC": "B"}, purpose="C")
    (record,) = index["records"]
    assert record["file"] == "III" and record["hit"] is False and record["fields"]["FBI"] == \
        "T00008A"
    full = answer(switch, "QR", {"FBI": "T00008A"}, purpose="C")
    fields = full["records"][0]["fields"]
    assert fields["CHG"] == "2299 BURGLARY" and fields["CHG#2"] == "2404 VEHICLE THEFT"
    clean = answer(switch, "QH", {"NAM": "NORWEN, CASEY L", "DOB": "19900101", "SEX": "F",
                                  "RAC": "B"}, purpose="C")
    assert clean["records"] == [] and "NO RECORD" in clean["text"]


def test_dq_and_rq_answer_once_per_state(switch: Switch) -> None:
    _message, routed = route(switch, "DQ", {"OLN": "S100000008"}, ["VA", "MD"])
    parts = [d.body for d in routed.deliveries]
    assert [(p["source"], p["part"], p["parts"], len(p["records"])) for p in parts] == \
        [("VA", 1, 2, 1), ("MD", 2, 2, 0)]
    assert parts[0]["records"][0]["fields"]["STA"] == "SUSPENDED"
    assert routed.deliveries[0].delay < routed.deliveries[1].delay
    everywhere = answer(switch, "DQ", {"NAM": "FENRIX, AVERY D", "DOB": "19950519", "SEX": "M"},
                        ["NL"])
    assert everywhere["records"][0]["fields"]["OLN"] == "S100000008"
    registration = answer(switch, "RQ", {"LIC": "TRN6230"}, ["MD"])
    assert registration["mke"] == "RR" and registration["records"][0]["fields"]["NAM"] == \
        "ZANMIR, SOREN T"


def test_nl_broadcast_each_state_answers_on_its_own_over_a_minute(switch: Switch) -> None:
    """RQ to NL: one plate number issued in three states; each state answers with its own
    registration, one after another over up to a minute at the demo latency."""
    _message, routed = route(switch, "RQ", {"LIC": "NLS2024"}, ["NL"])
    parts = [d.body for d in routed.deliveries]
    assert [(p["source"], p["part"], p["parts"]) for p in parts] == \
        [("MD", 1, 3), ("NC", 2, 3), ("VA", 3, 3)]
    assert len({p["records"][0]["fields"]["VIN"] for p in parts}) == 3
    delays = [d.delay for d in routed.deliveries]
    assert delays == sorted(delays) and 40 <= delays[-1] <= 75
    _message, nothing = route(switch, "RQ", {"LIC": "ZZZ0000"}, ["NL"])
    [none] = [d.body for d in nothing.deliveries]
    assert none["source"] == "NL" and none["records"] == [] and "NO RECORD" in none["text"]
    quick = Switch(switch.world, latency=0.0, iar_delay=0.0, confirm_delay=0.0, seed=1)
    _message, at_once = route(quick, "RQ", {"LIC": "NLS2024"}, ["NL"])
    assert [d.delay for d in at_once.deliveries] == [0.0, 0.0, 0.0]  # latency 0: no spread


def test_iaq_acknowledged_at_once_answered_later(switch: Switch) -> None:
    fields = IAQ_FIELDS | {"NAM": "TALBRO, MIRELA V", "DOB": "19881121", "SEX": "F", "CUS": "N"}
    _message, routed = route(switch, "IAQ", fields, ["AX"], purpose="C")
    ack, iar = routed.deliveries
    assert ack.delay == 0 and ack.body["type"] == "ack"
    assert iar.delay > 15 and iar.body["mke"] == "IAR"
    assert iar.body["records"][0]["fields"]["STA"] == "ABSCONDER"
    nobody = IAQ_FIELDS | {"NAM": "NORWEN, CASEY L", "DOB": "19900101", "SEX": "F", "CUS": "Y"}
    _message, routed = route(switch, "IAQ", nobody, ["AX"], purpose="C")
    assert [d.body["type"] for d in routed.deliveries] == ["ack", "response"]
    assert routed.deliveries[1].body["records"] == []


def test_a_detainer_follows_the_iar_when_the_subject_is_in_custody(switch: Switch) -> None:
    fields = IAQ_FIELDS | {"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M", "CUS": "Y"}
    message, routed = route(switch, "IAQ", fields, ["AX"], purpose="C")
    kinds = [(d.recipient, d.body["type"]) for d in routed.deliveries]
    assert kinds == [("officer1", "ack"), ("officer1", "response"), ("officer1", "detainer"),
                     ("dispatch1", "detainer")]
    detainer = routed.deliveries[2]
    assert detainer.delay > routed.deliveries[1].delay
    assert detainer.body["in_reply_to"] == message["id"]
    assert detainer.body["basis"] and detainer.body["contact"]["ori"] == "VTICE0900"


# -- the switch's rules --------------------------------------------------------------------------
@pytest.mark.parametrize(("mke", "fields", "dest", "purpose", "field"), [
    ("ZZ", {"LIC": "X"}, ["NCIC"], None, "mke"),
    ("QV", {"LIC": "TRN4821"}, ["NCIC"], None, "LIC"),
    ("QW", {"NAM": "KOLVEX, DRAYTON Q"}, ["NCIC"], None, "NAM"),
    ("QH", {"NAM": "A, B", "DOB": "19900101", "SEX": "M", "RAC": "W"}, ["NCIC"], None, "PUR"),
    ("IAQ", {"NAM": "A, B", "DOB": "19900101", "SEX": "M"}, ["AX"], "C", "ATN"),
    ("DQ", {"OLN": "S1"}, [], None, "DEST"),
    ("DQ", {"OLN": "S1"}, ["MD", "VA", "PA", "DE", "DC", "WV"], None, "DEST"),
    ("YQ", {"RTY": "SV", "RNO": "1", "PRI": "X", "OCA": "1", "NIC": "V1", "VIN": "V"},
     ["VA0290000"], None, "PRI"),
    ("YQ", {"RTY": "WP", "RNO": "1", "PRI": "U", "OCA": "1", "NIC": "W1", "VIN": "V"},
     ["VA0290000"], None, "NAM"),
    ("YQ", {"RTY": "SV", "RNO": "1", "PRI": "U", "OCA": "1", "NIC": "V1", "VIN": "V"},
     ["VA"], None, "DEST"),
    ("AM", {}, ["VA0290000"], None, "TXT"),
])
def test_the_switch_rejects_what_the_forms_would_not_send(
        switch: Switch, mke: str, fields: dict[str, str], dest: list[str], purpose: str | None,
        field: str) -> None:
    event = answer(switch, mke, fields, dest, purpose)
    assert event["type"] == "status" and event["status"] == "rejected"
    assert event["field"] == field and event["text"].startswith("REJECT/")


# -- between terminals: YQ, YR, AM ---------------------------------------------------------------
YQ_FIELDS = {"RTY": "SV", "RNO": "1", "PRI": "U", "OCA": "26-004512", "NIC": "V260000001",
             "LIC": "TRN4821", "LIS": "VA", "RNA": "OFC TESS TRAINEE", "PHO": "410-555-0112"}


def test_a_yq_goes_to_the_dispatchers_of_the_entering_agency(switch: Switch) -> None:
    message, routed = route(switch, "YQ", YQ_FIELDS, ["VA0290000"])
    ack, request = routed.deliveries
    assert (ack.recipient, ack.body["type"]) == ("officer1", "ack")
    assert request.recipient == "dispatch2"  # the dispatcher, not officer3
    body = request.body
    assert body["type"] == "hit_confirmation_request" and body["request_id"] == message["id"]
    assert (body["rty"], body["rno"], body["pri"], body["nic"]) == ("SV", "1", "U", "V260000001")
    assert body["requesting_ori"] == "MD1012600" and body["requesting_name"] == "OFC TESS TRAINEE"
    assert body["data_set"] == {"LIC": "TRN4821", "LIS": "VA"}
    assert body["respond_by"] == "2027-01-15T08:10:00.000Z"  # 10 minutes: urgent
    assert body["text"].startswith("YQ.VA0290000.MD1012600\n")
    assert routed.confirmation is not None and routed.confirmation.dest == ["VA0290000"]
    routine = route(switch, "YQ", YQ_FIELDS | {"PRI": "R"}, ["VA0290000"])[1]
    assert routine.deliveries[1].body["respond_by"] == "2027-01-15T09:00:00.000Z"


def test_an_agency_without_a_trainee_is_answered_by_the_switch(switch: Switch) -> None:
    gun = {"RTY": "SG", "RNO": "1", "PRI": "U", "OCA": "26-004600", "NIC": "G260000001",
           "SER": "TRG4821"}
    message, routed = route(switch, "YQ", gun, ["MD0030000"])
    ack, confirmed = routed.deliveries
    assert ack.body["type"] == "ack" and confirmed.recipient == "officer1"
    assert confirmed.body["type"] == "hit_confirmation_response"
    assert confirmed.body["status"] == "CONFIRMED" and confirmed.body["in_reply_to"] == \
        message["id"]
    assert 30 < confirmed.delay < 60
    wrong = route(switch, "YQ", gun | {"NIC": "G999999999"}, ["MD0030000"])[1]
    assert wrong.deliveries[1].body["status"] == "NOT_CONFIRMED"
    lesc = route(switch, "YQ", {"RTY": "WP", "RNO": "1", "PRI": "U", "OCA": "X",
                                "NIC": "I260000002", "NAM": "ZANMIR, SOREN T",
                                "DOB": "19790704"}, ["VTICE0900"])[1]
    assert lesc.deliveries[1].body["status"] == "CONFIRMED"
    nowhere = route(switch, "YQ", YQ_FIELDS, ["ZZ0000000"])[1]
    (status,) = nowhere.deliveries
    assert status.body["status"] == "will_not_forward" and nowhere.confirmation is None


def test_a_yr_goes_back_to_whoever_asked(switch: Switch) -> None:
    found = Confirmation(request_id="the-yq", requester="officer1", requesting_ori="MD1012600",
                         dest=["VA0290000"], nic="V260000001", oca="26-004512", pri="U",
                         respond_by=0)
    desk = ACCOUNTS[3]
    yr = {"RTY": "SV", "RNO": "1", "OCA": "26-004512", "NIC": "V260000001", "CST": "T",
          "CTM": "0830", "LIC": "TRN4821", "LIS": "VA", "REM": "CHECKING THE FILE"}
    _message, routed = route(switch, "YR", yr, ["MD1012600"], sender=desk, found=found)
    ack, response = routed.deliveries
    assert (ack.recipient, ack.body["type"]) == ("dispatch2", "ack")
    assert response.recipient == "officer1" and response.body["in_reply_to"] == "the-yq"
    body = response.body
    assert body["status"] == "WILL_CONFIRM_BY" and body["confirm_by"] == "2027-01-15T08:30:00.000Z"
    assert body["confirming_ori"] == "VA0290000" and body["remarks"] == "CHECKING THE FILE"
    assert body["text"].startswith("YR.MD1012600.VA0290000\n")
    assert routed.answered == ("the-yq", "WILL_CONFIRM_BY", "dispatch2")


def test_an_am_reaches_every_terminal_of_the_agency(switch: Switch) -> None:
    _message, routed = route(switch, "AM", {"TXT": "ROAD CLOSED AT EXIT 4"}, ["VA0290000"])
    assert [(d.recipient, d.body["type"]) for d in routed.deliveries] == [
        ("officer1", "ack"), ("officer3", "admin"), ("dispatch2", "admin")]
    assert routed.deliveries[1].body["text"] == "AM.VA0290000.MD1012600\n\nROAD CLOSED AT EXIT 4"


# -- delayed inquiry -----------------------------------------------------------------------------
def test_a_new_record_matches_earlier_queries() -> None:
    world = World(1, persons=200)
    switch = Switch(world, latency=0, iar_delay=0)
    car = world.enter({"kind": "stolen_vehicle", "lic": "TRN7730", "lis": "MD", "nic": "V260007730",
                       "ori": "MD1012600"})
    asked = {"id": "q1", "mke": "QV", "fields": {"LIC": "trn7730", "LIS": "MD"}}
    hit = switch.delayed_hit(asked, "MD1012600", car)
    assert hit is not None and hit["type"] == "delayed_hit" and hit["in_reply_to"] == "q1"
    assert "DELAYED INQUIRY HIT" in hit["text"] and hit["records"][0]["nic"] == "V260007730"
    assert switch.delayed_hit({"id": "q2", "mke": "QV", "fields": {"LIC": "TRN7731",
                                                                   "LIS": "MD"}},
                              "MD1012600", car) is None
    person = world.enter({"kind": "wanted_person", "nam": "QUINWEN, ROWAN B", "dob": "19911111",
                          "nic": "W260009999"})
    near = {"id": "q3", "mke": "QW", "fields": {"NAM": "QUINWENN, ROWAN", "DOB": "19911111"}}
    assert switch.delayed_hit(near, "MD1012600", person) is not None
    assert answer(switch, "QV", {"LIC": "TRN7730", "LIS": "MD"})["records"][0]["hit"] is True
    with pytest.raises(ValueError, match="nic"):
        world.enter({"kind": "stolen_gun", "ser": "X1", "mak": "SW"})


# -- the text/records contract -------------------------------------------------------------------
CONTRACT_QUERIES = [
    ("QV", {"LIC": "TRN4821", "LIS": "VA"}, None, None),
    ("QV", {"LIC": "TRN5007", "LIS": "MD"}, None, None),
    ("QV", {"LIC": "CLN1000", "LIS": "MD"}, None, None),
    ("QW", {"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312"}, None, None),
    ("QW", {"NAM": "ZANMIR, SOREN T", "DOB": "19790704"}, None, None),
    ("QW", {"NAM": "HULGAR, BRENNA J", "DOB": "19860830"}, None, None),
    ("QG", {"SER": "TRG4821", "MAK": "SW"}, None, None),
    ("QH", {"NAM": "FENRIX, AVERY D", "DOB": "19950519", "SEX": "M", "RAC": "B"}, None, "C"),
    ("QR", {"FBI": "T00008A"}, None, "C"),
    ("DQ", {"OLN": "S100000008"}, ["VA"], None),
    ("RQ", {"LIC": "TRN6230"}, ["MD"], None),
    ("IAQ", IAQ_FIELDS | {"NAM": "DAXPEL, ORRIN K", "DOB": "19750215", "SEX": "M", "CUS": "N"},
     ["AX"], "C"),
]


@pytest.mark.parametrize(("mke", "fields", "dest", "purpose"), CONTRACT_QUERIES,
                         ids=[f"{q[0]}-{next(iter(q[1].values()))}" for q in CONTRACT_QUERIES])
def test_return_text_parses_back_into_the_records_sent(switch: Switch, mke: str,
                                                       fields: dict[str, str],
                                                       dest: list[str] | None,
                                                       purpose: str | None) -> None:
    _message, routed = route(switch, mke, fields, dest, purpose)
    (event,) = [d.body for d in routed.deliveries if d.body["type"] == "response"]
    parsed = parse_return(event["text"])
    assert parsed.warnings == []
    assert parsed.header == tuple(event["text"].split("\n")[0].split("."))
    assert [r.to_dict() for r in parsed.records] == event["records"]
    assert parsed.kind == ("records" if event["records"] else "no_record")


def test_every_key_the_forms_offer_is_acted_on_by_the_switch(switch: Switch) -> None:
    offered = {p.stem for p in (ROOT / "resources" / "forms").glob("*.json")}
    assert set(switch.rules.forms) == offered  # the switch reads every form the client ships
    assert set(switch.handlers) == offered


def test_answers_come_after_the_latency_with_a_little_jitter(world: World) -> None:
    delays = [Switch(world, latency=2.0, iar_delay=0, seed=s).jittered(2.0) for s in range(50)]
    assert all(1.7 <= d <= 2.3 for d in delays) and len(set(delays)) > 40
    assert Switch(world, latency=0, iar_delay=0).jittered(0) == 0


# -- scenarios -----------------------------------------------------------------------------------
def test_the_bundled_scenarios_are_valid() -> None:
    folder = ROOT / "resources" / "scenarios"
    scenarios = load_scenarios(folder)
    assert len(scenarios) == len(list(folder.glob("*.json"))) >= 4
    assert {"stolen-car-stop", "delayed-hit", "incoming-hit-confirmation"} <= set(scenarios)


@pytest.mark.parametrize(("expect", "words"), [
    ("all of them", "expect: a list of expectations."),
    ([{"do": "dance", "id": "a", "title": "A"}], "expectation 1: 'do' is one of"),
    ([{"do": "send", "id": "a"}], "expectation 1: needs an 'id' and a 'title'."),
    ([{"do": "send", "id": "a", "title": "A", "after": "b"}],
     "expectation a: 'after' names no expectation."),
])
def test_broken_expectations_are_refused_in_words(expect: Any, words: str) -> None:
    scenario = {"name": "ok", "expect": expect,
                "steps": [{"at": 0, "event": {"type": "admin", "text": "x"}}]}
    with pytest.raises(ScenarioError) as error:
        validate_scenario(scenario)
    assert error.value.field == "expect" and str(error.value).startswith(words)


def test_a_broken_scenario_file_is_skipped_naming_the_file_and_the_step(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "good.json").write_text(json.dumps(
        {"name": "good", "steps": [{"event": {"type": "admin", "text": "x"}}]}))
    (tmp_path / "bad.json").write_text(json.dumps(
        {"name": "bad", "steps": [{"enter": {"kind": "stolen_gun"}}]}))
    with caplog.at_level(logging.WARNING, logger="mdt-gateway"):
        assert set(load_scenarios(tmp_path)) == {"good"}
    assert "scenario bad.json skipped: step 1: an entered record needs its NIC." in caplog.text


def test_a_broken_step_is_named_by_its_number() -> None:
    scenario = {"name": "ok", "steps": [{"at": 0, "event": {"type": "admin"}},
                                        {"at": 90000, "event": {"type": "admin"}}]}
    with pytest.raises(ScenarioError) as error:
        validate_scenario(scenario)
    assert str(error.value) == "step 2: 'at' is seconds from the start (0 to 86400)."


@pytest.mark.parametrize(("change", "field"), [
    ({"name": "Has Spaces"}, "name"),
    ({"steps": []}, "steps"),
    ({"steps": [{"at": -1, "event": {"type": "admin"}}]}, "at"),
    ({"steps": [{"event": {"type": "response"}}]}, "type"),
    ({"steps": [{"event": {"type": "admin"}, "faults": {}}]}, "steps"),
    ({"steps": [{"event": {"type": "admin"}, "to": {"planet": "mars"}}]}, "to"),
    ({"steps": [{"enter": {"kind": "stolen_boat", "nic": "B1"}}]}, "kind"),
    ({"steps": [{"faults": {"gremlins": 1}}]}, "faults"),
])
def test_broken_scenarios_are_refused(change: dict[str, Any], field: str) -> None:
    scenario = {"name": "ok", "steps": [{"at": 0, "event": {"type": "admin", "text": "x"}}]}
    with pytest.raises(ScenarioError) as error:
        validate_scenario(scenario | change)
    assert error.value.field == field
