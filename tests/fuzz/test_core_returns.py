"""The return parser reads what the switch prints, tolerates noise, and never raises."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdt.core.message import decode_text, encode_text
from mdt.core.returns import ParsedReturn, ReturnRecord, parse_return

STOLEN = """QV.MD1012600.NCIC

*** WARNING - A HIT IS NOT PROBABLE CAUSE. CONFIRM THE RECORD WITH THE ENTERING AGENCY (ORI)
BEFORE ANY ACTION. ***

MKE/STOLEN VEHICLE
ORI/VA0290000 LIC/TRN4821 LIS/VA LIY/2027 LIT/PC
VIN/1G4AH59H45G118341 VYR/2005 VMA/BUIC VMO/LES VST/4D VCO/BLK
DOT/20261120 OCA/26-004512 NIC/V123456789
CMC/00"""


def test_a_stolen_vehicle_return() -> None:
    parsed = parse_return(STOLEN)
    assert parsed.header == ("QV", "MD1012600", "NCIC")
    assert parsed.kind == "records" and parsed.hit and not parsed.warnings
    (record,) = parsed.records
    assert record.file == "VEHICLE" and record.nic == "V123456789"
    assert record.caution_codes == ["00"]
    assert record.fields["VIN"] == "1G4AH59H45G118341" and record.fields["OCA"] == "26-004512"
    assert "PROBABLE CAUSE" in parsed.caveats[0] and record.caveats == parsed.caveats


def test_several_records_categories_and_values_with_spaces() -> None:
    text = ("QW.MD1012600.NCIC\n\nMKE/WANTED PERSON - CAUTION\nNAM/KOLVEX, DRAYTON Q DOB/19840312"
            " CMC/00 CMC/05\nMKE/IMMIGRATION VIOLATOR - DEPORTED FELON\nNAM/ZANMIR, SOREN T "
            "MNU/AR-200000002\n\n*** ADMINISTRATIVE WARRANT ***")
    parsed = parse_return(text)
    wanted, ivf = parsed.records
    assert wanted.fields["NAM"] == "KOLVEX, DRAYTON Q" and wanted.caution_codes == ["00", "05"]
    assert ivf.file == "IVF" and ivf.category == "DEPORTED_FELON"
    assert ivf.caveats == ["ADMINISTRATIVE WARRANT"]


def test_no_record_status_and_reject() -> None:
    assert parse_return("QV.MD1012600.NCIC\n\nNO NCIC WANT LIC/ABC1234 LIS/MD").kind == "no_record"
    status = parse_return("STATUS/DESTINATION VA DOWN - WILL FORWARD")
    assert status.kind == "status" and "WILL FORWARD" in status.status_text
    assert parse_return("REJECT/FIELD LIS INVALID").kind == "error"
    assert parse_return("").kind == "empty"


def test_noise_is_tolerated_with_warnings() -> None:
    noisy = STOLEN.lower().replace("\n", "\r\n").replace("lic/", "lic/ ").replace("vco/blk",
                                                                                  "vco/blk\x07")
    parsed = parse_return(noisy)
    assert parsed.hit and parsed.records[0].fields["LIC"] == "TRN4821"
    assert any("Control characters" in w for w in parsed.warnings)


def test_unknown_tags_and_types_are_kept() -> None:
    parsed = parse_return("MKE/SECURITY ARTICLE\nZQX/SOMETHING NEW ORI/MD1012600 ORI/VA0290000")
    record = parsed.records[0]
    assert record.fields["ZQX"] == "SOMETHING NEW" and record.fields["ORI#2"] == "VA0290000"
    assert record.hit and parsed.warnings  # unknown record type: treated as a hit, with a warning


def test_structured_records_round_trip() -> None:
    record = parse_return(STOLEN).records[0]
    assert ReturnRecord.from_dict(record.to_dict()).to_dict() == record.to_dict()


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.text())
def test_the_parser_never_raises_on_any_text(text: str) -> None:
    assert isinstance(parse_return(text), ParsedReturn)


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_the_parser_never_raises_on_mutated_returns(data: st.DataObject) -> None:
    text = STOLEN
    for _ in range(data.draw(st.integers(1, 6))):
        pos = data.draw(st.integers(0, len(text)))
        action = data.draw(st.sampled_from(["insert", "delete", "swap"]))
        chunk = data.draw(st.text(max_size=8))
        if action == "insert":
            text = text[:pos] + chunk + text[pos:]
        elif action == "delete":
            text = text[:pos] + text[pos + len(chunk):]
        else:
            text = text[pos:] + text[:pos]
    parsed = parse_return(text)
    assert all(isinstance(r.to_dict(), dict) for r in parsed.records)


TAGS = st.from_regex(r"[A-Z][A-Z0-9]{1,2}", fullmatch=True)
# Inquiry values: letters, digits, spaces, commas, hyphens (the rules forbid "." and "/").
VALUES = st.from_regex(r"[A-Z0-9]([A-Z0-9 ,-]{0,20}[A-Z0-9])?", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(TAGS, VALUES, min_size=1, max_size=8),
       st.lists(st.from_regex(r"[A-Z]{2}", fullmatch=True), min_size=1, max_size=5))
def test_anything_encoded_decodes_to_the_same_fields(fields: dict[str, str],
                                                     dest: list[str]) -> None:
    text = encode_text("QV", "MD1012600", dest, fields)
    assert decode_text(text) == ("QV", "MD1012600", dest, fields)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(TAGS.filter(lambda t: t not in ("CMC", "NIC", "MKE")),
                       st.from_regex(r"[A-Z0-9][A-Z0-9 ,-]{0,20}[A-Z0-9]", fullmatch=True),
                       min_size=1, max_size=8))
def test_return_fields_parse_back(fields: dict[str, str]) -> None:
    """Fields printed as a switch prints them (TAG/value, space separated) read back the same."""
    text = "MKE/REGISTRATION\n" + " ".join(f"{t}/{v}" for t, v in fields.items())
    record = parse_return(text).records[0]
    assert record.fields == {t: " ".join(v.split()) for t, v in fields.items()}
