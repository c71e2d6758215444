"""Field rules: for every field of every form, a value the switch takes passes and one it would
reject is refused with a sentence naming the field; the rules with more to them (names, dates,
VINs, ORIs, heights ...) are tried on their edge cases."""

from __future__ import annotations

from datetime import date

import pytest

from mdt.core.codes import CodeTables
from mdt.core.forms import KEYS, FormDef, load_form
from mdt.core.rules import (
    FieldError,
    normalize,
    normalize_value,
    validate_field,
    validate_form,
    vin_check_digit,
)

TABLES = CodeTables.default()
TODAY = date(2026, 11, 24)

# tag: (a valid value, an invalid one, words the refusal must contain)
SAMPLES: dict[str, tuple[str, str, str]] = {
    "NAM": ("ZANMIR, SOREN T", "ZANMIR SOREN", "LAST, FIRST"),
    "DOB": ("19790704", "19791304", "not a real date"),
    "SEX": ("M", "X", "not an NCIC SEX code"),
    "RAC": ("W", "Q", "not an NCIC RACE code"),
    "FBI": ("T00002A", "T0 2A", "up to 9 letters and digits"),
    "SOC": ("123456789", "12345678", "9 digits"),
    "OLN": ("S100000002", "S1000-0002", "letters and digits"),
    "OLS": ("NB", "NE1", "not an NCIC state code"),
    "MNU": ("AR-200000002", "ZZ-123", "prefix 'ZZ'"),
    "LIC": ("TRN4821", "TRN 4821", "letters and digits"),
    "LIS": ("VA", "ZZ", "not an NCIC state code"),
    "LIY": ("2027", "27", "4-digit year"),
    "LIT": ("PC", "QQ", "not an NCIC LIT code"),
    "VIN": ("1G4AH59H45G118341", "1G4AH59O45G118341", "I, O or Q"),
    "VYR": ("2005", "205", "4-digit year"),
    "VMA": ("BUIC", "ZZZZ", "not an NCIC VMA code"),
    "SER": ("AB12345", "AB 12345", "letters and digits"),
    "MAK": ("COL", "ZZZZZ", "not an NCIC MAK code"),
    "CAL": ("357", "ZZZ", "not an NCIC CAL code"),
    "TYP": ("P", "L", "not an NCIC TYP code"),
    "ATN": ("TRAINEE, TESS", "TRAINEE. TESS", "'.' or '/'"),
    "PHN": ("410-555-0100", "CALL DISPATCH", "phone number"),
    "PHO": ("(410) 555-0100 X12", "555", "phone number"),
    "POB": ("MX", "QQ", "not an NCIC state code"),
    "CUS": ("N", "X", "one of Y, N"),
    "OFF": ("0399", "9999", "not an NCIC OFF code"),
    "ARN": ("A200000002", "A12", "A-number"),
    "SID": ("MD12345678", "MD-1234", "hyphens"),
    "REM": ("SUBJECT COOPERATIVE, C/O JAIL", "OK.NAM/SMITH, JOHN", "field tag"),
    "IMQ": ("Y", "N", "one of Y"),
    "RTY": ("SV", "XX", "one of WP, SV"),
    "RNO": ("2", "4", "one of 1, 2, 3"),
    "PRI": ("U", "X", "one of U, R"),
    "OCA": ("26-004512", "26/004512", "'.' or '/'"),
    "NIC": ("V123456789", "V12345", "one letter and 9 digits"),
    "RNA": ("TRAINEE, TESS", "A/B", "'.' or '/'"),
    "CST": ("T", "Q", "one of Y, N, T"),
    "CTM": ("1430", "2561", "HHMM"),
    "TXT": ("CAR 12 CALL DISPATCH. THANKS", "CAR 12\x07", "control characters"),
}

FIELDS = [(mke, f.tag) for mke in KEYS for f in load_form(mke).fields]


def test_every_field_of_every_form_has_samples() -> None:
    assert {tag for _, tag in FIELDS} <= set(SAMPLES)


@pytest.mark.parametrize(("mke", "tag"), FIELDS)
def test_a_valid_value_passes(mke: str, tag: str) -> None:
    valid = SAMPLES[tag][0]
    assert validate_field(load_form(mke), tag, valid, TABLES, today=TODAY) == []
    # typed in lower case with stray spaces: the same
    assert validate_field(load_form(mke), tag, f" {valid.lower()} ", TABLES, today=TODAY) == []


@pytest.mark.parametrize(("mke", "tag"), FIELDS)
def test_an_invalid_value_is_refused_with_a_sentence_naming_the_field(mke: str, tag: str) -> None:
    _, invalid, words = SAMPLES[tag]
    errors = validate_field(load_form(mke), tag, invalid, TABLES, today=TODAY)
    assert errors and errors[0].severity == "error", errors
    assert errors[0].field == tag
    assert f"({tag})" in errors[0].message or errors[0].message.startswith(tag)
    assert words.lower() in errors[0].message.lower()
    assert errors[0].message.endswith(".")


def test_an_empty_or_unknown_field() -> None:
    qv = load_form("QV")
    assert validate_field(qv, "LIC", "", TABLES) == []
    assert validate_field(qv, "LIC", "   ", TABLES) == []
    assert validate_field(qv, "NAM", "DOE, JOHN", TABLES) == [
        FieldError("NAM", "NAM is not a field of the QV form.")]


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("DOE, JOHN", None),
        ("DOE,JOHN", None),
        ("DOE, JOHN ALBERT JR", None),
        ("SMITH-JONES, ANN MARIE", None),
        ("DE LA CRUZ, MARIA", None),
        ("SMITH JOHN", "LAST, FIRST"),
        ("SMITH, JOHN, A", "one comma"),
        ("SMITH,", "both a last and a first name"),
        (", JOHN", "both a last and a first name"),
        ("DR SMITH, JOHN", "titles or degrees (DR)"),
        ("SMITH, JOHN PHD", "titles or degrees (PHD)"),
        ("SMITH, MRS JANE", "titles or degrees (MRS)"),
        ("SMITH, JOHN-PAUL", "hyphen only in the last name"),
        ("-SMITH, JOHN", "misplaced hyphen"),
        ("O'BRIEN, PAT", "apostrophes"),
        ("SMITH, J. R.", "apostrophes and periods"),
        ("SMITH2, JOHN", "only letters"),
        ("A" * 20 + ", " + "B" * 10, "32 characters: at most 30"),
    ],
)
def test_names(value: str, words: str | None) -> None:
    errors = validate_field(load_form("QW"), "NAM", value, TABLES)
    if words is None:
        assert errors == []
    else:
        assert len(errors) == 1 and words in errors[0].message, errors
        assert errors[0].message.startswith("Name (NAM)")


@pytest.mark.parametrize(
    ("mke", "value", "words"),
    [
        ("QW", "19790704", None),
        ("QW", "20261124", None),  # today
        ("QW", "20000229", None),  # a leap day
        ("QW", "19000101", None),
        ("QW", "20261125", "in the future"),
        ("QW", "19990229", "not a real date"),
        ("QW", "19800132", "not a real date"),
        ("QW", "18991231", "before 1900"),
        ("QW", "1979074", "CCYYMMDD"),
        ("QW", "070479", "CCYYMMDD"),  # QW takes CCYYMMDD only
        ("QW", "1979-7-4", "CCYYMMDD"),
        ("QW", "1979-07-04", "CCYYMMDD"),
        ("IAQ", "070479", None),  # IAQ also takes MMDDYY
        ("IAQ", "19790704", None),
        ("IAQ", "112426", None),  # today, in MMDDYY
        ("IAQ", "112526", None),  # not in the future: 1926
        ("IAQ", "023099", "not a real date (CCYYMMDD or MMDDYY)"),
        ("IAQ", "13450", "CCYYMMDD or MMDDYY"),
    ],
)
def test_dates(mke: str, value: str, words: str | None) -> None:
    errors = validate_field(load_form(mke), "DOB", value, TABLES, today=TODAY)
    if words is None:
        assert errors == []
    else:
        assert len(errors) == 1 and words in errors[0].message, errors


# Published examples: domain.md; the all-ones VIN; Wikipedia's "1M8GDM9AXKP042788" (X);
# widely cited NHTSA decoder examples.
PUBLISHED_VINS = ["1G4AH59H45G118341", "11111111111111111", "1M8GDM9AXKP042788",
                  "5GZCZ43D13S812715", "1HGCM82633A004352", "JH4KA7561PC008269"]


@pytest.mark.parametrize("vin", PUBLISHED_VINS)
def test_vin_check_digit_on_published_examples(vin: str) -> None:
    assert vin_check_digit(vin) == vin[8]
    assert vin_check_digit(vin.lower()) == vin[8]
    assert validate_field(load_form("QV"), "VIN", vin, TABLES) == []


def test_the_domain_example_has_check_digit_4_and_x_stands_for_10() -> None:
    assert vin_check_digit("1G4AH59H45G118341") == "4"
    assert vin_check_digit("1M8GDM9AXKP042788") == "X"
    for bad in ("1G4AH59H45G11834", "1G4AH59H45G11834I", "1G4AH59H45G1183-1"):
        with pytest.raises(ValueError, match="17 letters and digits"):
            vin_check_digit(bad)


@pytest.mark.parametrize(
    ("vin", "severity", "words"),
    [
        ("1G4AH59H55G118341", "warning", "check digit (9th character) is 5, expected 4"),
        ("3P29S123456", "warning", "has 11 characters"),  # a pre-1981 VIN
        ("WDB12345678901234567", "warning", "has 20 characters"),
        ("1G4AH59H45G11834Q", "error", "I, O or Q"),
        ("1G4AH59I45G118341", "error", "I, O or Q"),
        ("1G4AH59H4-5G118341", "error", "letters and digits"),
        ("1G4AH59H45G1183412345", "error", "longer than 20"),
    ],
)
def test_vins_warn_or_refuse(vin: str, severity: str, words: str) -> None:
    errors = validate_field(load_form("QV"), "VIN", vin, TABLES)
    assert [e.severity for e in errors] == [severity] and words in errors[0].message, errors


# A form with the kinds the shipped forms do not use (ORI, height, weight) and a served pattern.
EXTRA = FormDef.from_dict({
    "mke": "QX", "title": "Extra kinds", "fields": [
        {"tag": "ORI", "label": "Agency", "kind": "ori"},
        {"tag": "HGT", "label": "Height", "kind": "height"},
        {"tag": "WGT", "label": "Weight", "kind": "weight"},
        {"tag": "NUM", "label": "Count", "kind": "number"},
        {"tag": "ZIP", "label": "Zip code", "kind": "text", "pattern": "[0-9]{5}",
         "pattern_help": "must be 5 digits."},
        {"tag": "ODD", "label": "Odd code", "kind": "code", "code_table": "NOSUCHTABLE"},
        {"tag": "HYP", "label": "Hyphenated", "kind": "text", "allow_hyphen": True},
    ]})


@pytest.mark.parametrize(
    ("tag", "value", "words"),
    [
        ("ORI", "MD1012600", None),
        ("ORI", "NB0010000", None),  # Nebraska is NB
        ("ORI", "VTICE0900", None),  # VT: Vermont
        ("ORI", "MD101260", "9 letters and digits"),
        ("ORI", "MD-101260", "9 letters and digits"),
        ("ORI", "QQ1012600", "state code, not 'QQ'"),
        ("HGT", "511", None),
        ("HGT", "600", None),
        ("HGT", "512", "inches under 12"),
        ("HGT", "59", "3 digits"),
        ("HGT", "071", "3 digits"),
        ("WGT", "185", None),
        ("WGT", "9", None),
        ("WGT", "1850", "1 to 3 digits"),
        ("WGT", "0", "1 to 3 digits"),
        ("WGT", "18O", "1 to 3 digits"),
        ("NUM", "0042", None),
        ("NUM", "4 2", "digits only"),
        ("ZIP", "21201", None),
        ("ZIP", "2120", "must be 5 digits"),
        ("HYP", "A-B", None),
        ("HYP", "A/B", "'.' or '/'"),
    ],
)
def test_extra_kinds(tag: str, value: str, words: str | None) -> None:
    errors = validate_field(EXTRA, tag, value, TABLES)
    if words is None:
        assert errors == []
    else:
        assert len(errors) == 1 and errors[0].severity == "error" and words in errors[0].message
        assert f"({tag})" in errors[0].message


def test_a_code_field_whose_table_is_missing_warns() -> None:
    (error,) = validate_field(EXTRA, "ODD", "A", TABLES)
    assert error.severity == "warning" and "no code table NOSUCHTABLE" in error.message


def test_hyphens_are_refused_in_inquiry_values_where_the_switch_forbids_them() -> None:
    qw = load_form("QW")
    for tag, value in (("SOC", "123-45-6789"), ("OLN", "S100-0002"), ("FBI", "T-2"),
                       ("SID", "MD-1")):
        (error,) = validate_field(qw if tag != "SID" else load_form("QR"), tag, value, TABLES)
        assert "hyphens" in error.message, error
    (error,) = validate_field(load_form("QV"), "LIC", "ABC-123", TABLES)
    assert error.message == ("Plate (LIC) cannot contain hyphens: the switch rejects them in "
                             "inquiries (enter ABC123).")
    # where NCIC uses them, they pass: a hyphenated last name, the MNU prefix, a case number
    assert validate_field(qw, "NAM", "SMITH-JONES, ANN", TABLES) == []
    assert validate_field(qw, "MNU", "AR-123456789", TABLES) == []
    assert validate_field(load_form("YQ"), "OCA", "26-004512", TABLES) == []


def test_mnu_shape_and_prefix() -> None:
    qw = load_form("QW")
    assert validate_field(qw, "MNU", "AN-12345678901", TABLES) == []
    (error,) = validate_field(qw, "MNU", "AR123456789", TABLES)
    assert "two-letter prefix, a hyphen" in error.message


def test_max_length() -> None:
    (error,) = validate_field(load_form("IAQ"), "ATN", "A" * 31, TABLES)
    assert error.message == "Attention (requester) (ATN) is longer than 30 characters."
    (error,) = validate_field(load_form("QV"), "LIC", "ABCDEFGHIJK", TABLES)  # said by the rule
    assert error.message == ("Plate (LIC) may contain only letters and digits, at most 10 (no "
                             "spaces or hyphens).")


# -- whole forms ---------------------------------------------------------------------------------

VALID: dict[str, dict[str, str]] = {
    "QW": {"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M"},
    "QV": {"LIC": "TRN4821", "LIS": "VA"},
    "DQ": {"OLN": "S100000002"},
    "RQ": {"LIC": "TRN4821"},
    "IAQ": {"ATN": "TRAINEE, TESS", "PHN": "410-555-0100", "NAM": "ZANMIR, SOREN T",
            "DOB": "070479", "SEX": "M", "POB": "MX", "CUS": "N", "OFF": "0399"},
    "QH": {"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M", "RAC": "W"},
    "QR": {"FBI": "T00002A"},
    "QG": {"SER": "AB12345", "CAL": "357"},
    "YQ": {"RTY": "SV", "RNO": "1", "PRI": "U", "OCA": "26-004512", "NIC": "V260000001",
           "LIC": "TRN4821", "LIS": "VA"},
    "YR": {"RTY": "SV", "RNO": "1", "OCA": "26-004512", "NIC": "V260000001", "CST": "Y",
           "LIC": "TRN4821", "LIS": "VA"},
    "AM": {"TXT": "CAR 12 CALL DISPATCH"},
}


@pytest.mark.parametrize("mke", KEYS)
def test_a_valid_form_has_no_errors(mke: str) -> None:
    assert validate_form(load_form(mke), VALID[mke], TABLES, today=TODAY) == []


@pytest.mark.parametrize("mke", KEYS)
def test_an_empty_form_names_what_is_missing(mke: str) -> None:
    form = load_form(mke)
    errors = validate_form(form, {}, TABLES, today=TODAY)
    assert errors and all(e.severity == "error" and e.message.endswith(".") for e in errors)
    for definition in form.fields:
        if definition.required:
            assert FieldError(definition.tag, f"{definition.label} ({definition.tag}) is "
                                              "required.") in errors
    if form.alternatives:
        assert any(e.field is None and e.message.startswith("Enter ") for e in errors)


def test_alternatives_across_fields() -> None:
    qv = load_form("QV")
    assert validate_form(qv, {}, TABLES) == [
        FieldError(None, "Enter plate (LIC) and plate state (LIS), or VIN.")]
    # half an option: what it still needs
    assert validate_form(qv, {"LIC": "TRN4821"}, TABLES) == [
        FieldError(None, "Enter plate state (LIS) with plate (LIC), or VIN.")]
    assert validate_form(qv, {"VIN": "1G4AH59H45G118341"}, TABLES) == []
    assert validate_form(qv, {"LIS": "VA", "VIN": "1G4AH59H45G118341"}, TABLES) == []
    qw = load_form("QW")
    assert validate_form(qw, {"SOC": "123456789"}, TABLES) == []
    assert validate_form(qw, {"OLN": "S1", "OLS": "MD"}, TABLES) == []
    (error,) = validate_form(qw, {"NAM": "DOE, JOHN"}, TABLES)
    assert error.field is None and error.message.startswith(
        "Enter date of birth (DOB) with name (NAM), or FBI number (FBI)")
    (error,) = validate_form(load_form("DQ"), {"NAM": "DOE, JOHN", "DOB": "19800101"}, TABLES)
    assert error == FieldError(None, "Enter sex (SEX) with name (NAM) and date of birth (DOB), "
                                      "or licence number (OLN).")
    (error,) = validate_form(load_form("QG"), {"SER": "AB1"}, TABLES)
    assert error.message == "Enter make (MAK), or caliber (CAL), or gun type (TYP)."


def test_the_hit_confirmation_data_set_depends_on_the_request_type() -> None:
    yq = load_form("YQ")
    base = {"RNO": "1", "PRI": "U", "OCA": "26-1", "NIC": "W123456789"}
    assert validate_form(yq, {**base, "RTY": "WP", "NAM": "DOE, JOHN", "DOB": "19800101"},
                         TABLES) == []
    (error,) = validate_form(yq, {**base, "RTY": "WP", "LIC": "TRN4821", "LIS": "VA"}, TABLES)
    assert error == FieldError(None, "For request type (RTY) WP, enter name (NAM) and date of "
                                     "birth (DOB).")
    (error,) = validate_form(yq, {**base, "RTY": "SV", "LIC": "TRN4821"}, TABLES)
    assert error.field is None and error.message.startswith("For request type (RTY) SV, enter")
    assert validate_form(yq, {**base, "RTY": "SG", "SER": "AB12345"}, TABLES) == []
    yr = load_form("YR")
    answer = {"RTY": "WP", "RNO": "1", "OCA": "26-1", "NIC": "W123456789",
              "NAM": "DOE, JOHN", "DOB": "19800101"}
    assert validate_form(yr, {**answer, "CST": "Y"}, TABLES) == []
    (error,) = validate_form(yr, {**answer, "CST": "T"}, TABLES)
    assert error.message == "For confirmation (CST) T, enter confirm by (time) (CTM)."
    assert validate_form(yr, {**answer, "CST": "T", "CTM": "1430"}, TABLES) == []


def test_validate_form_reports_unknown_fields_rules_and_warnings_in_order() -> None:
    errors = validate_form(load_form("QV"), {"lic": "abc-1", "LIS": "zz", "HAT": "X",
                                             "VIN": "1G4AH59H55G118341"}, TABLES)
    assert [(e.field, e.severity) for e in errors] == [
        ("HAT", "error"), ("LIC", "error"), ("LIS", "error"), ("VIN", "warning")]
    assert errors[0].message == "HAT is not a field of the QV form."


def test_normalize() -> None:
    form = load_form("QV")
    assert normalize(form, {"vin": " 1g4ah59h45g118341 ", "lic": "trn  4821", "LIS": "",
                            "HAT": "x", "LIT": None}) == {  # type: ignore[dict-item]
        "LIC": "TRN 4821", "VIN": "1G4AH59H45G118341"}
    assert list(normalize(form, {"VIN": "A", "LIC": "B", "LIS": "C"})) == ["LIC", "LIS", "VIN"]
    assert normalize_value("  call me.  ") == "CALL ME"
    assert normalize_value(None) == ""
    assert normalize_value(42) == "42"
