"""A valid form becomes the switch's fixed-format text and the gateway's JSON message
(docs/protocol.md); an invalid one is refused with every problem named."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

import pytest

from mdt.core.codes import CodeTables
from mdt.core.forms import KEYS, FormInvalid, load_form
from mdt.core.message import (
    OperatorProfile,
    build_message,
    decode_text,
    encode_text,
    resolve_destination,
)
from mdt.core.returns import parse_return
from tests.unit.test_core_rules import VALID

TABLES = CodeTables.default()
OPERATOR = OperatorProfile(user_id="officer1", name="Tess Trainee", ori="MD1012600",
                           unit="Car 12", atn="TRAINEE, TESS", phn="410-555-0100")
NOW = datetime(2026, 11, 24, 15, 40, 0, 123000, tzinfo=UTC)
DEST: dict[str, list[str] | None] = {"DQ": ["MD", "VA"], "RQ": ["VA"], "YQ": ["VA0290000"],
                                     "YR": ["VA0290000"], "AM": ["MD1012600"]}


def test_encode_text_matches_the_domain_example() -> None:
    assert encode_text("RQ", "MD1012600", ["VA"], {"LIC": "ABC1234", "LIT": "PC"}) == \
        "RQ.MD1012600.VA.TXT\nLIC/ABC1234.LIT/PC"


def test_encode_text_leaves_blank_fields_out_and_never_ends_with_a_period() -> None:
    assert encode_text("QV", "MD1012600", ["NCIC"], {"LIC": "A", "LIY": "", "LIT": "PC"}) == \
        "QV.MD1012600.NCIC.TXT\nLIC/A.LIT/PC"
    assert encode_text("QV", "MD1012600", ["NCIC"], {"LIC": "", "LIS": ""}) == \
        "QV.MD1012600.NCIC.TXT"


def test_encode_text_control_field_and_several_destinations() -> None:
    assert encode_text("DQ", "MD1012600", ["VA", "PA", "DE"], {"OLN": "S1"}, control="C12") == \
        "DQ.MD1012600.VA,PA,DE.C12.TXT\nOLN/S1"
    assert encode_text("AM", "MD1012600", ["VA0290000"], {"TXT": "CALL ME. NOW"},
                       untagged={"TXT"}) == "AM.MD1012600.VA0290000.TXT\nCALL ME. NOW"
    for bad in (["V.A"], [], ["VA PA"]):
        with pytest.raises(ValueError, match="Header parts"):
            encode_text("DQ", "MD1012600", bad, {"OLN": "S1"})
    with pytest.raises(ValueError):
        encode_text("DQ", "MD1012600", ["VA"], {"OLN": "S1"}, control="A.B")


@pytest.mark.parametrize("mke", KEYS)
def test_a_valid_form_builds_the_protocol_message(mke: str) -> None:
    values = VALID[mke]
    message = build_message(load_form(mke), values, OPERATOR, dest=DEST.get(mke), now=NOW)
    assert set(message) >= {"id", "mke", "dest", "fields", "text", "created_at"}
    assert str(uuid.UUID(message["id"], version=4)) == message["id"]
    assert message["mke"] == mke and message["created_at"] == "2026-11-24T15:40:00.123Z"
    assert message["text"].startswith(f"{mke}.MD1012600.{','.join(message['dest'])}.TXT\n")
    assert not message["text"].endswith(".")
    assert ("purpose" in message) == bool(load_form(mke).purpose_codes)
    for tag, value in values.items():
        assert message["fields"][tag] == value
    assert list(message["fields"]) == [t for t in load_form(mke).tags if t in message["fields"]]
    if mke != "AM":
        _, _, _, decoded = decode_text(message["text"])
        decoded.pop("PUR", None)
        assert decoded == message["fields"]


def test_qv_goes_to_ncic_and_fills_the_home_state() -> None:
    message = build_message(load_form("QV"), {"lic": " trn4821 "}, OPERATOR,
                            msg_id="11111111-1111-4111-8111-111111111111", now=NOW)
    assert message == {
        "id": "11111111-1111-4111-8111-111111111111", "mke": "QV", "dest": ["NCIC"],
        "fields": {"LIC": "TRN4821", "LIS": "MD"},
        "text": "QV.MD1012600.NCIC.TXT\nLIC/TRN4821.LIS/MD",
        "created_at": "2026-11-24T15:40:00.123Z"}
    # a fixed destination ignores what it is given
    assert build_message(load_form("QV"), {"VIN": "1G4AH59H45G118341"}, OPERATOR,
                         dest=["VA"])["dest"] == ["NCIC"]


def test_purpose_goes_first_in_the_text_and_in_its_own_key() -> None:
    message = build_message(load_form("IAQ"), VALID["IAQ"], OPERATOR, purpose="f", now=NOW)
    assert message["purpose"] == "F" and message["dest"] == ["AX"]
    assert message["text"] == (
        "IAQ.MD1012600.AX.TXT\nPUR/F.ATN/TRAINEE, TESS.PHN/410-555-0100.NAM/ZANMIR, SOREN T."
        "DOB/070479.SEX/M.POB/MX.CUS/N.OFF/0399")
    assert "PUR" not in message["fields"]
    assert build_message(load_form("QH"), VALID["QH"], OPERATOR)["purpose"] == "C"  # the first
    with pytest.raises(FormInvalid, match=r"Purpose \(PUR\) must be one of C, F"):
        build_message(load_form("IAQ"), VALID["IAQ"], OPERATOR, purpose="J")


def test_operator_defaults_fill_blank_fields() -> None:
    values = {k: v for k, v in VALID["IAQ"].items() if k not in ("ATN", "PHN", "OFF")}
    fields = build_message(load_form("IAQ"), values, OPERATOR)["fields"]
    assert (fields["ATN"], fields["PHN"], fields["OFF"]) == ("TRAINEE, TESS", "410-555-0100",
                                                             "0399")
    nameless = OperatorProfile(user_id="u", name="Tess Trainee", ori="MD1012600")
    assert nameless.defaults()["atn"] == "Tess Trainee" and nameless.state == "MD"
    fields = build_message(load_form("IAQ"), {**values, "PHN": "4105550100"}, nameless)["fields"]
    assert fields["ATN"] == "TESS TRAINEE"  # no ATN in the profile: the operator's name
    with pytest.raises(FormInvalid, match=r"Phone \(PHN\) is required"):
        build_message(load_form("IAQ"), values, nameless)


def test_build_refuses_an_invalid_form_with_every_problem() -> None:
    with pytest.raises(FormInvalid) as info:
        build_message(load_form("QV"), {"LIC": "ABC-1", "LIS": "ZZ"}, OPERATOR)
    assert [e.field for e in info.value.errors] == ["LIC", "LIS"]
    assert "Plate (LIC) cannot contain hyphens" in str(info.value)


def test_warnings_do_not_block() -> None:
    message = build_message(load_form("QV"), {"VIN": "1G4AH59H55G118341"}, OPERATOR)
    assert message["fields"] == {"LIS": "MD", "VIN": "1G4AH59H55G118341"}


@pytest.mark.parametrize(
    ("mke", "dest", "words"),
    [
        ("RQ", None, "Enter the destination: a state code (The state that registered"),
        ("RQ", ["VA", "PA"], "at most 1 destination, not 2"),
        ("RQ", ["QQ"], "'QQ' is not an NCIC state code"),
        ("DQ", ["MD", "VA", "PA", "DE", "WV", "DC"], "at most 5 destinations, not 6"),
        ("DQ", ["NL", "VA"], "NL stands alone"),
        ("YQ", ["VA029000"], "'VA029000' is not a 9-character ORI"),
        ("YQ", ["QQ0290000"], "starting with a state code"),
        ("YQ", ["VA0290000", "MD1012600", "PA0010000", "DE0010000"], "at most 3"),
        ("AM", [], "Enter the destination: ORIs"),
    ],
)
def test_destinations_are_checked(mke: str, dest: list[str] | None, words: str) -> None:
    with pytest.raises(FormInvalid) as info:
        build_message(load_form(mke), VALID[mke], OPERATOR, dest=dest)
    assert any(e.field == "DEST" and words in e.message for e in info.value.errors), \
        info.value.errors


def test_destinations_as_typed() -> None:
    dq = load_form("DQ")
    assert resolve_destination(dq, "va, pa  de", TABLES) == (["VA", "PA", "DE"], [])
    assert resolve_destination(dq, ["VA", "va"], TABLES) == (["VA"], [])  # repeats once
    assert resolve_destination(dq, "NL", TABLES) == (["NL"], [])  # all states
    assert resolve_destination(dq, ["NB"], TABLES) == (["NB"], [])  # Nebraska
    assert resolve_destination(load_form("IAQ"), None, TABLES) == (["AX"], [])


def test_the_terminal_ori_and_control_field_are_checked() -> None:
    bad = OperatorProfile(user_id="u", name="n", ori="MD10")
    with pytest.raises(FormInvalid, match="terminal's ORI 'MD10'"):
        build_message(load_form("QV"), VALID["QV"], bad)
    with pytest.raises(FormInvalid, match="control field"):
        build_message(load_form("QV"), VALID["QV"], OPERATOR, control="A.B")
    text = build_message(load_form("QV"), VALID["QV"], OPERATOR, control="X1")["text"]
    assert text.startswith("QV.MD1012600.NCIC.X1.TXT\n")


def test_created_at_is_utc_with_z() -> None:
    eastern = timezone(timedelta(hours=-5))
    message = build_message(load_form("QV"), VALID["QV"], OPERATOR,
                            now=datetime(2026, 11, 24, 10, 40, tzinfo=eastern))
    assert message["created_at"] == "2026-11-24T15:40:00.000Z"
    assert build_message(load_form("QV"), VALID["QV"], OPERATOR)["created_at"].endswith("Z")


def test_the_administrative_message_text_is_untagged() -> None:
    message = build_message(load_form("AM"), {"TXT": "car 12, call dispatch. thanks."}, OPERATOR,
                            dest="VA0290000,MD1012600")
    assert message["text"] == ("AM.MD1012600.VA0290000,MD1012600.TXT\n"
                               "CAR 12, CALL DISPATCH. THANKS")
    assert message["fields"] == {"TXT": "CAR 12, CALL DISPATCH. THANKS"}


def test_decode_text_reads_what_encode_text_writes() -> None:
    text = encode_text("YQ", "MD1012600", ["VA0290000", "PA0010000"],
                       {"RTY": "SV", "OCA": "26-004512", "NAM": "DOE, JOHN A"})
    assert decode_text(text) == ("YQ", "MD1012600", ["VA0290000", "PA0010000"],
                                 {"RTY": "SV", "OCA": "26-004512", "NAM": "DOE, JOHN A"})
    with pytest.raises(ValueError, match=r"MKE\.ORI\.DEST"):
        decode_text("NOT A HEADER")


@pytest.mark.parametrize("mke", ["QW", "QV", "DQ", "RQ", "QH", "QG", "YQ", "YR"])
def test_fields_sent_come_back_the_same_when_a_switch_echoes_them(mke: str) -> None:
    """encode → a return that echoes the fields (TAG/value, as switches print) → parse."""
    message = build_message(load_form(mke), VALID[mke], OPERATOR, dest=DEST.get(mke))
    echoed = "MKE/REGISTRATION\n" + " ".join(f"{t}/{v}" for t, v in message["fields"].items())
    (record,) = parse_return(f"{mke}.MD1012600.NCIC\n\n{echoed}").records
    nic = message["fields"].get("NIC")
    assert record.fields == message["fields"] and record.nic == nic
