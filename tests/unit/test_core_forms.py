"""Forms as data: every key loads, a valid message builds for each, and every rule refuses what
the switch would reject with a sentence that names the field."""

from __future__ import annotations

import pytest

from mdt.core.codes import CodeTables
from mdt.core.forms import (
    KEYS,
    FormDef,
    FormDefinitionError,
    FormInvalid,
    all_forms,
    load_form,
    validate_field,
    validate_form,
)
from mdt.core.message import OperatorProfile, build_message, encode_text
from mdt.core.rules import vin_check_digit

TABLES = CodeTables.default()
OPERATOR = OperatorProfile(user_id="officer1", name="Officer Tess Trainee", ori="MD1012600",
                           unit="Car 12", atn="OFFICER TESS TRAINEE", phn="410-555-0100")

VALID: dict[str, tuple[dict[str, str], list[str] | None]] = {
    "QW": ({"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M"}, None),
    "QV": ({"LIC": "TRN4821", "LIS": "VA"}, None),
    "DQ": ({"OLN": "S100000002"}, ["MD", "VA"]),
    "RQ": ({"LIC": "TRN4821"}, ["VA"]),
    "IAQ": ({"NAM": "ZANMIR, SOREN T", "DOB": "070479", "SEX": "M", "POB": "MX", "CUS": "N"},
            None),
    "QH": ({"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M", "RAC": "W"}, None),
    "QR": ({"FBI": "T00002A"}, None),
    "QG": ({"SER": "AB12345", "CAL": "9"}, None),
    "YQ": ({"RTY": "SV", "RNO": "1", "PRI": "U", "OCA": "26-004512", "NIC": "V260000001",
            "LIC": "TRN4821", "LIS": "VA"}, ["VA0290000"]),
    "YR": ({"RTY": "SV", "RNO": "1", "OCA": "26-004512", "NIC": "V260000001", "CST": "Y"},
           ["MD1012600"]),
    "AM": ({"TXT": "CAR 12 CALL DISPATCH"}, ["MD1012600"]),
}


def test_every_key_in_the_domain_has_a_form() -> None:
    assert [f.mke for f in all_forms()] == list(KEYS)
    assert set(VALID) == set(KEYS)


@pytest.mark.parametrize("mke", KEYS)
def test_a_valid_form_builds_a_message(mke: str) -> None:
    values, dest = VALID[mke]
    form = load_form(mke)
    if form.field("CAL" if mke == "QG" else next(iter(values))).kind == "code" and mke == "QG":
        values = {**values, "CAL": next(iter(TABLES["CAL"].entries))}
    message = build_message(form, values, OPERATOR, dest=dest)
    assert message["mke"] == mke
    assert message["text"].startswith(f"{mke}.MD1012600.")
    assert not message["text"].endswith(".")
    for tag, value in values.items():
        assert f"{tag}/{value}" in message["text"]


@pytest.mark.parametrize("mke", KEYS)
def test_an_empty_form_names_what_is_missing(mke: str) -> None:
    form = load_form(mke)
    errors = validate_form(form, {}, TABLES)
    assert errors
    assert all(e.message.endswith(".") and e.severity == "error" for e in errors)
    for definition in form.fields:
        if definition.required and not definition.default_from and not definition.default:
            assert any(e.field == definition.tag and definition.tag in e.message for e in errors)


@pytest.mark.parametrize(
    ("mke", "tag", "value", "words"),
    [
        ("QW", "NAM", "SMITH JOHN", "LAST, FIRST"),
        ("QW", "NAM", "DR SMITH, JOHN", "titles"),
        ("QW", "NAM", "SMITH, JOHN-PAUL", "hyphen"),
        ("QW", "NAM", "A" * 20 + ", " + "B" * 12, "30"),
        ("QW", "DOB", "19801332", "not a real date"),
        ("QW", "DOB", "1980011", "CCYYMMDD"),
        ("QW", "DOB", "20991231", "future"),
        ("QW", "SEX", "X", "SEX"),
        ("QW", "MNU", "ZZ-123", "prefix"),
        ("QW", "MNU", "AR123456789", "hyphen"),
        ("QV", "LIC", "ABC-123", "letters and digits"),
        ("QV", "LIS", "ZZ", "not an NCIC"),
        ("QV", "VIN", "1G4AH59O45G118341", "I, O or Q"),
        ("QV", "VIN", "1G4AH59H4$G118341", "letters and digits"),
        ("QV", "LIT", "QQ", "LIT"),
        ("QV", "LIY", "99", "4-digit year"),
        ("IAQ", "DOB", "13450", "MMDDYY"),
        ("IAQ", "ARN", "A12", "A-number"),
        ("IAQ", "OFF", "9999", "OFF"),
        ("IAQ", "POB", "QQ", "POB"),
        ("YQ", "NIC", "V12345", "one letter and 9 digits"),
        ("YQ", "PRI", "X", "one of U, R"),
        ("QH", "RAC", "Z", "RAC"),
        ("QW", "SOC", "12345-678", "9 digits"),
    ],
)
def test_each_rule_refuses_with_a_sentence_naming_the_field(mke: str, tag: str, value: str,
                                                            words: str) -> None:
    errors = validate_field(load_form(mke), tag, value, TABLES)
    assert errors and errors[0].severity == "error", errors
    assert errors[0].field == tag and f"({tag})" in errors[0].message
    assert words.lower() in errors[0].message.lower()


def test_iaq_takes_both_date_forms() -> None:
    form = load_form("IAQ")
    assert validate_field(form, "DOB", "19790704", TABLES) == []
    assert validate_field(form, "DOB", "070479", TABLES) == []
    assert validate_field(load_form("QW"), "DOB", "070479", TABLES)  # QW: CCYYMMDD only


def test_nebraska_is_nb_in_ncic() -> None:
    form = load_form("QV")
    assert validate_field(form, "LIS", "NB", TABLES) == []


@pytest.mark.parametrize("vin", ["1G4AH59H45G118341", "11111111111111111", "1M8GDM9AXKP042788",
                                 "5GZCZ43D13S812715", "1HGCM82633A004352", "JH4KA7561PC008269"])
def test_vin_check_digit_on_published_examples(vin: str) -> None:
    assert vin_check_digit(vin) == vin[8]
    assert validate_field(load_form("QV"), "VIN", vin, TABLES) == []


def test_wrong_check_digit_and_short_vins_warn_but_do_not_block() -> None:
    form = load_form("QV")
    wrong = validate_field(form, "VIN", "1G4AH59H55G118341", TABLES)
    assert [e.severity for e in wrong] == ["warning"] and "check digit" in wrong[0].message
    old = validate_field(form, "VIN", "3P29S123456", TABLES)
    assert [e.severity for e in old] == ["warning"] and "17" in old[0].message
    assert build_message(form, {"VIN": "1G4AH59H55G118341"}, OPERATOR)["fields"]["VIN"]


def test_alternative_groups_across_fields() -> None:
    form = load_form("QV")
    errors = validate_form(form, {"LIC": "TRN4821"}, TABLES)
    assert len(errors) == 1 and errors[0].field is None
    assert "LIC" in errors[0].message and "LIS" in errors[0].message and "VIN" in errors[0].message
    assert validate_form(form, {"VIN": "1G4AH59H45G118341"}, TABLES) == []


def test_build_refuses_an_invalid_form_with_every_problem() -> None:
    with pytest.raises(FormInvalid) as info:
        build_message(load_form("QV"), {"LIC": "ABC-1", "LIS": "ZZ"}, OPERATOR)
    assert {e.field for e in info.value.errors} == {"LIC", "LIS"}


def test_destinations_are_checked() -> None:
    with pytest.raises(FormInvalid, match="destination"):
        build_message(load_form("RQ"), {"LIC": "TRN4821"}, OPERATOR)
    with pytest.raises(FormInvalid, match="At most 5"):
        build_message(load_form("DQ"), {"OLN": "S1"}, OPERATOR,
                      dest=["MD", "VA", "PA", "DE", "WV", "DC"])
    with pytest.raises(FormInvalid, match="not a state code"):
        build_message(load_form("RQ"), {"LIC": "TRN4821"}, OPERATOR, dest=["QQ"])


def test_operator_defaults_fill_iaq_and_purpose_defaults_to_first() -> None:
    values, _ = VALID["IAQ"]
    message = build_message(load_form("IAQ"), values, OPERATOR)
    assert message["fields"]["ATN"] == "OFFICER TESS TRAINEE"
    assert message["fields"]["PHN"] == "410-555-0100"
    assert message["fields"]["OFF"] == "0399"
    assert message["dest"] == ["AX"] and message["purpose"] == "C"


def test_encode_text_matches_the_domain_example() -> None:
    assert encode_text("RQ", "MD1012600", ["VA"], {"LIC": "ABC1234", "LIT": "PC"}) == \
        "RQ.MD1012600.VA.TXT\nLIC/ABC1234.LIT/PC"
    assert encode_text("QV", "MD1012600", ["NCIC"], {"LIC": "A", "LIY": ""}) == \
        "QV.MD1012600.NCIC.TXT\nLIC/A"


def test_a_broken_definition_says_what_is_wrong() -> None:
    with pytest.raises(FormDefinitionError, match="unknown kind"):
        FormDef.from_dict({"mke": "QX", "title": "x", "fields": [
            {"tag": "AAA", "label": "a", "kind": "telepathy"}]})
    with pytest.raises(FormDefinitionError, match="unknown fields"):
        FormDef.from_dict({"mke": "QX", "title": "x", "alternatives": [[["ZZZ"]]], "fields": [
            {"tag": "AAA", "label": "a", "kind": "text"}]})
    with pytest.raises(FormDefinitionError):
        FormDef.from_dict({"title": "no key"})
    with pytest.raises(FormDefinitionError, match="no form"):
        load_form("ZZ")


def test_code_tables_load_and_search() -> None:
    assert TABLES["LIS"].lookup("nb") == "Nebraska"
    assert TABLES["SEX"].entries == {"F": "FEMALE", "M": "MALE", "U": "UNKNOWN"}
    assert TABLES["LIT"].lookup("AP") == "Apportioned"
    assert TABLES["VMA"].search("buick")[0] == ("BUIC", "Buick")
    assert TABLES["OFF"].lookup("0399") == "IMMIGRATION"
    assert "00" in TABLES["CMC"] and "ZZZ" not in TABLES["CMC"]
    assert len(TABLES.names()) >= 28
    with pytest.raises(KeyError):
        TABLES["NOPE"]
