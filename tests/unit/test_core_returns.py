"""The return parser reads what the switch prints (docs/return-text.md), tolerates a real
switch's noise, and says how loud each record must be."""

from __future__ import annotations

import pytest

from mdt.core.cautions import (
    AlertLevel,
    Caution,
    Severity,
    alert_level,
    caution,
    cautions,
    highest_severity,
)
from mdt.core.codes import CodeTables
from mdt.core.returns import ReturnHeader, ReturnRecord, parse_return

HIT_CAVEAT = ("WARNING - A HIT IS NOT PROBABLE CAUSE. CONFIRM THE RECORD WITH THE ENTERING AGENCY "
              "(ORI) BEFORE ANY ACTION.")
STOLEN = f"""QV.MD1012600.NCIC

*** {HIT_CAVEAT} ***

MKE/STOLEN VEHICLE
ORI/VA0290000 LIC/TRN4821 LIS/VA LIY/2027 LIT/PC
VIN/1G4AH59H45G118341 VYR/2005 VMA/BUIC VMO/LES VST/4D VCO/BLK
DOT/20261120 OCA/26-004512 NIC/V123456789
CMC/00"""

STOLEN_FIELDS = {"ORI": "VA0290000", "LIC": "TRN4821", "LIS": "VA", "LIY": "2027", "LIT": "PC",
                 "VIN": "1G4AH59H45G118341", "VYR": "2005", "VMA": "BUIC", "VMO": "LES",
                 "VST": "4D", "VCO": "BLK", "DOT": "20261120", "OCA": "26-004512",
                 "NIC": "V123456789"}

PERSON = """QW.MD1012600.NCIC

*** WARNING - A HIT IS NOT PROBABLE CAUSE. ***

MKE/WANTED PERSON - CAUTION
ORI/VA0290000 NAM/KOLVEX, DRAYTON Q SEX/M RAC/W DOB/19840312
OFF/1399 OCA/26-1 NIC/W260000002
CMC/00 CMC/05

MKE/IMMIGRATION VIOLATOR - DEPORTED FELON
ORI/VTICE0900 NAM/KOLVEX, DRAYTON Q DOB/19840312 MNU/AR-200000002 NIC/W260000002

*** IMMIGRATION VIOLATOR FILE RECORD - ADMINISTRATIVE (CIVIL) WARRANT. DO NOT ARREST OR DETAIN
BASED SOLELY ON THIS INFORMATION. CONTACT LESC (VTICE0900) TO CONFIRM. ***"""


def test_the_documented_stolen_vehicle_hit() -> None:
    parsed = parse_return(STOLEN)
    assert parsed.header == ReturnHeader("QV", "MD1012600", "NCIC")
    assert parsed.header == ("QV", "MD1012600", "NCIC")  # a plain tuple too
    assert parsed.kind == "records" and parsed.hit and parsed.warnings == []
    assert parsed.caveats == [HIT_CAVEAT]
    (record,) = parsed.records
    assert record.to_dict() == {
        "file": "VEHICLE", "hit": True, "nic": "V123456789", "category": None,
        "caution_codes": ["00"], "caveats": [HIT_CAVEAT], "fields": STOLEN_FIELDS}
    assert list(record.fields) == list(STOLEN_FIELDS)  # in order
    assert record.title == "STOLEN VEHICLE"


def test_several_records_categories_and_record_caveats() -> None:
    parsed = parse_return(PERSON)
    wanted, ivf = parsed.records
    assert (wanted.file, wanted.title, wanted.hit) == ("WANTED", "WANTED PERSON - CAUTION", True)
    assert wanted.fields["NAM"] == "KOLVEX, DRAYTON Q" and wanted.caution_codes == ["00", "05"]
    assert (ivf.file, ivf.category, ivf.nic) == ("IVF", "DEPORTED_FELON", "W260000002")
    assert parsed.caveats == ["WARNING - A HIT IS NOT PROBABLE CAUSE."]
    assert wanted.caveats == parsed.caveats  # the whole-return caveat travels with each hit
    assert ivf.caveats[0] == parsed.caveats[0]
    assert ivf.caveats[1].startswith("IMMIGRATION VIOLATOR FILE RECORD") and \
        ivf.caveats[1].endswith("CONTACT LESC (VTICE0900) TO CONFIRM.")  # wrapped, joined


@pytest.mark.parametrize(
    ("title", "file", "hit", "category"),
    [
        ("STOLEN VEHICLE", "VEHICLE", True, None),
        ("WANTED PERSON", "WANTED", True, None),
        ("IMMIGRATION VIOLATOR - ABSCONDER", "IVF", True, "ABSCONDER"),
        ("IMMIGRATION VIOLATOR - NSEERS", "IVF", True, "NSEERS"),
        ("PROTECTION ORDER", "PROTECTION_ORDER", True, None),
        ("STOLEN GUN", "GUN", True, None),
        ("REGISTRATION", "REG", False, None),
        ("DRIVER LICENSE", "DL", False, None),
        ("CRIMINAL HISTORY", "III", False, None),
        ("LESC STATUS", "LESC", False, None),
    ],
)
def test_record_types(title: str, file: str, hit: bool, category: str | None) -> None:
    (record,) = parse_return(f"MKE/{title}\nNAM/DOE, JOHN").records
    assert (record.file, record.hit, record.category) == (file, hit, category)


def test_an_unknown_record_type_is_kept_and_treated_as_a_hit() -> None:
    parsed = parse_return("MKE/SECURITY ARTICLE\nZQX/SOMETHING NEW ORI/MD1012600 ORI/VA0290000 "
                          "ORI/PA0010000")
    (record,) = parsed.records
    assert record.file == "UNKNOWN" and record.hit and parsed.hit
    assert record.fields == {"ZQX": "SOMETHING NEW", "ORI": "MD1012600", "ORI#2": "VA0290000",
                             "ORI#3": "PA0010000"}
    assert parsed.warnings == ["Unknown record type 'SECURITY ARTICLE': kept as is, treated as a "
                               "hit to be safe."]


def test_no_record_status_error_and_empty() -> None:
    none = parse_return("QV.MD1012600.NCIC\n\nNO NCIC WANT LIC/ABC1234 LIS/MD")
    assert (none.kind, none.hit, none.records) == ("no_record", False, [])
    assert none.status_text == "NO NCIC WANT LIC/ABC1234 LIS/MD"
    assert parse_return("DQ.MD1012600.VA\n\nNO RECORD OLN/S1").kind == "no_record"
    status = parse_return("DQ.MD1012600.NLETS\n\nSTATUS/DESTINATION VA DOWN - WILL FORWARD")
    assert status.kind == "status" and status.status_text == "DESTINATION VA DOWN - WILL FORWARD"
    wrapped = parse_return("STATUS/DESTINATION VA DOWN\nWILL FORWARD WHEN BACK")
    assert wrapped.status_text == "DESTINATION VA DOWN WILL FORWARD WHEN BACK"
    error = parse_return("QV.MD1012600.NCIC\n\nREJECT/FIELD LIS INVALID")
    assert error.kind == "error" and error.status_text == "FIELD LIS INVALID"
    assert parse_return("ERROR/UNKNOWN MKE").kind == "error"
    for empty in ("", "\n\n  \r\n", "QV.MD1012600.NCIC"):
        assert parse_return(empty).kind == "empty"
    assert parse_return("QV.MD1012600.NCIC").header == ("QV", "MD1012600", "NCIC")


def test_a_header_without_source_and_text_without_header() -> None:
    assert parse_return("IAR.MD1012600\n\nMKE/LESC STATUS\nNAM/DOE, JOHN").header == \
        ReturnHeader("IAR", "MD1012600", None)
    parsed = parse_return("MKE/REGISTRATION\nLIC/TRN4821")
    assert parsed.header is None and parsed.records[0].fields == {"LIC": "TRN4821"}


def test_noise_is_tolerated() -> None:
    noisy = (STOLEN.lower().replace("\n", "\r\n").replace("lic/", "lic/ ")
             .replace("vco/blk", "vco/blk\x07").replace("  ", " ").replace(" ", "   "))
    parsed = parse_return(noisy)
    assert parsed.hit and parsed.records[0].fields == STOLEN_FIELDS
    assert parsed.warnings == ["Control characters were removed from the return."]
    assert parsed.caveats == [HIT_CAVEAT]


def test_missing_blank_lines_and_a_new_mke_starts_a_new_record() -> None:
    text = PERSON.replace("\n\n", "\n")
    parsed = parse_return(text)
    assert [r.file for r in parsed.records] == ["WANTED", "IVF"]
    assert parsed.records[0].fields["OCA"] == "26-1"
    assert len(parsed.records[1].caveats) == 2


def test_wrapped_values_and_record_types() -> None:
    text = ("MKE/IMMIGRATION VIOLATOR -\nDEPORTED FELON\nNAM/ZANMIR,\nSOREN T DOB/19790704 "
            "MIS/SUBJECT LAST SEEN\nIN BALTIMORE")
    (record,) = parse_return(text).records
    assert record.category == "DEPORTED_FELON" and record.title.endswith("DEPORTED FELON")
    assert record.fields == {"NAM": "ZANMIR, SOREN T", "DOB": "19790704",
                             "MIS": "SUBJECT LAST SEEN IN BALTIMORE"}


def test_fields_on_the_mke_line_and_values_with_slashes() -> None:
    (record,) = parse_return("MKE/STOLEN GUN SER/AB123 MAK/COL CAL/45 MIS/C/O 12/25 SALE").records
    assert record.title == "STOLEN GUN"
    assert record.fields == {"SER": "AB123", "MAK": "COL", "CAL": "45", "MIS": "C/O 12/25 SALE"}


def test_fields_before_any_record_type() -> None:
    parsed = parse_return("NAM/DOE, JOHN DOB/19800101")
    (record,) = parsed.records
    assert (record.file, record.hit) == ("UNKNOWN", False)
    assert "unnamed record" in parsed.warnings[0]
    lost = parse_return("NAM/DOE, JOHN NIC/W123456789 CMC/00")
    assert lost.hit and any("treated as a hit" in w for w in lost.warnings)


def test_lines_without_tags_are_kept_as_text_not_skipped() -> None:
    parsed = parse_return("QV.MD1012600.NCIC\n\nGARBLED LINE HERE")
    assert parsed.kind == "text" and parsed.records == [] and parsed.warnings == []
    assert parsed.narrative == ["GARBLED LINE HERE"] == parsed.text_lines


def test_a_caveat_without_its_closing_stars() -> None:
    parsed = parse_return("*** DO NOT ARREST BASED SOLELY ON THIS\nMKE/WANTED PERSON\n"
                          "NAM/DOE, JOHN")
    assert parsed.caveats == ["DO NOT ARREST BASED SOLELY ON THIS"]
    assert parsed.records[0].fields == {"NAM": "DOE, JOHN"}


def test_not_text_gives_a_warning_not_an_exception() -> None:
    parsed = parse_return(None)  # type: ignore[arg-type]
    assert parsed.kind == "empty" and parsed.warnings == ["The return is not text."]


# -- structured records --------------------------------------------------------------------------

def test_records_round_trip_through_the_protocol_shape() -> None:
    for record in parse_return(PERSON).records + parse_return(STOLEN).records:
        data = record.to_dict()
        assert set(data) == {"file", "hit", "nic", "category", "caution_codes", "caveats",
                             "fields"}
        assert ReturnRecord.from_dict(data).to_dict() == data


def test_structured_records_from_a_gateway_are_read_tolerantly() -> None:
    record = ReturnRecord.from_dict({"file": "wanted", "fields": {"NAM": "DOE, JOHN", "AGE": 40},
                                     "caution_codes": ["00"], "nic": "W1"})
    assert (record.file, record.hit, record.fields["AGE"]) == ("WANTED", True, "40")
    assert ReturnRecord.from_dict({"file": "REG"}).hit is False
    assert ReturnRecord.from_dict({"file": "REG", "hit": True}).hit is True
    broken = ReturnRecord.from_dict({"fields": "NAM", "caveats": "x", "caution_codes": 5})
    assert (broken.file, broken.hit, broken.fields, broken.caveats) == ("UNKNOWN", True, {}, [])
    assert ReturnRecord.from_dict("nonsense").to_dict()["file"] == "UNKNOWN"


# -- cautions ------------------------------------------------------------------------------------

TABLES = CodeTables.default()


def test_caution_codes_in_words_and_severity() -> None:
    assert caution("00") == Caution("00", "ARMED AND DANGEROUS", Severity.DANGER)
    assert caution("0").code == "00"
    assert caution("05").severity == Severity.DANGER  # violent tendencies
    assert caution("25").severity == Severity.CAUTION  # escape risk
    assert caution("90") == Caution("90", "DIABETIC", Severity.MEDICAL)
    assert caution("77") == Caution("77", "UNKNOWN CAUTION CODE 77", Severity.CAUTION)
    assert caution("00").text == "00 ARMED AND DANGEROUS"
    assert [c.code for c in cautions(["90", "25", "00", "90"], TABLES)] == ["00", "25", "90"]
    assert highest_severity(["90", "20"]) == Severity.CAUTION
    assert highest_severity([]) is None


def test_how_loud_a_record_is_shown() -> None:
    wanted, ivf = parse_return(PERSON).records
    assert alert_level(wanted) == AlertLevel.DANGER
    assert alert_level(ivf) == AlertLevel.HIT
    assert alert_level(wanted.to_dict()) == AlertLevel.DANGER
    assert alert_level({"hit": True, "caution_codes": ["90"]}) == AlertLevel.CAUTION
    assert alert_level({"hit": False, "caution_codes": ["00"]}) == AlertLevel.INFO
    assert AlertLevel.DANGER > AlertLevel.CAUTION > AlertLevel.HIT > AlertLevel.INFO


# -- a real switch's text ------------------------------------------------------------------------

def test_a_vin_wrapped_mid_value_is_joined_without_the_break() -> None:
    (record,) = parse_return("MKE/STOLEN VEHICLE\nLIC/TRN4821 LIS/VA VIN/1G4AH59H45G1\n"
                             "18341 VYR/2005 NIC/V12345\n6789").records
    assert record.fields == {"LIC": "TRN4821", "LIS": "VA", "VIN": "1G4AH59H45G118341",
                             "VYR": "2005", "NIC": "V123456789"}
    assert record.nic == "V123456789"


def test_an_iar_keeps_its_narrative_as_text() -> None:
    text = ("IAR.VTICE0900.MD1012600.TXT\n\nMKE/LESC STATUS\nNAM/ZANMIR, SOREN T DOB/19790704\n"
            "ARN/A200000002 CTZ/AA\nSUBJECT IS A PREVIOUSLY DEPORTED FELON.\n"
            "ICE WILL LODGE A DETAINER\n\nSTA/DEPORTED FELON DET/Y")
    parsed = parse_return(text)
    assert parsed.header == ReturnHeader("IAR", "MD1012600", "VTICE0900")
    assert parsed.headers == ["IAR.VTICE0900.MD1012600.TXT"] and parsed.warnings == []
    (record,) = parsed.records
    assert record.fields == {"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "ARN": "A200000002",
                             "CTZ": "AA", "STA": "DEPORTED FELON", "DET": "Y"}
    assert record.narrative == ["SUBJECT IS A PREVIOUSLY DEPORTED FELON.",
                                "ICE WILL LODGE A DETAINER"]
    assert record.to_dict()["narrative"] == record.narrative
    assert ReturnRecord.from_dict(record.to_dict()).to_dict() == record.to_dict()


def test_text_cut_at_the_terminal_width_is_joined_as_it_was() -> None:
    line = ("ORI/VA0290000 LIC/TRN4821 LIS/VA VIN/1G4AH59H45G118341 VYR/2005 VMA/BUIC "
            "VMO/LES MIS/RECOVERED AT THE CORNER OF FIFTH AND MAIN")
    cut = "\n".join(line[i:i + 64] for i in range(0, len(line), 64))
    parsed = parse_return(f"QV.MD1012600.NCIC\n\nMKE/STOLEN VEHICLE\n{cut}\nCMC/00")
    assert parsed.wrap_width == 64
    (record,) = parsed.records
    assert record.fields["VIN"] == "1G4AH59H45G118341"
    assert record.fields["MIS"] == "RECOVERED AT THE CORNER OF FIFTH AND MAIN"
    assert record.caution_codes == ["00"]


def test_many_repeated_tags_are_numbered() -> None:
    (record,) = parse_return("MKE/CRIMINAL HISTORY\n" + "DOA/20200101 " * 500).records
    assert len(record.fields) == 500 and record.fields["DOA#500"] == "20200101"


def test_hostile_shapes_stay_bounded() -> None:
    """What the output holds stays in proportion to the text (the times are in
    benchmarks/parse.py)."""
    (record,) = parse_return("MKE/STOLEN GUN\n" + "WORD\n" * 2000).records
    assert len(record.title) < 80 and len(record.narrative) > 1900  # kept as text, not a title
    caveats = "".join(f"*** C{i} ***\n" for i in range(100))
    parsed = parse_return(caveats + "MKE/STOLEN GUN\nSER/1\n" * 100)
    assert len(parsed.caveats) == 100 and all(len(r.caveats) == 16 for r in parsed.records)
    assert parsed.warnings == ["100 caveats for the whole return: the first 16 are copied onto "
                               "each hit record, all are on the return."]
    many = parse_return("NO RECORD\n" + "MORE WORDS\n" * 5000)
    assert len(many.status_text) > 50_000  # all of it kept
    assert len(parse_return("x\n" * 10_000 + "\x00" * 10_000).warnings) <= 51


def test_a_status_word_at_the_end_of_a_long_line_does_not_swallow_the_narrative() -> None:
    (record,) = parse_return("MKE/LESC STATUS\nNAM/ZANMIR, SOREN T SEX/M DOB/19790704 "
                             "STA/DEPORTED FELON\nSUBJECT IS A PREVIOUSLY REMOVED ALIEN.\n"
                             "ICE WILL LODGE A DETAINER").records
    assert record.fields["STA"] == "DEPORTED FELON"
    assert record.narrative == ["SUBJECT IS A PREVIOUSLY REMOVED ALIEN.",
                                "ICE WILL LODGE A DETAINER"]


def test_every_status_line_is_kept() -> None:
    parsed = parse_return("STATUS/DESTINATION VA DOWN\n\nREJECT/FIELD LIS INVALID\n\n"
                          "NO RECORD LIC/A\n\nSTATUS/WILL FORWARD")
    assert (parsed.kind, parsed.status_text) == ("error", "FIELD LIS INVALID")
    assert parsed.narrative == ["STATUS/DESTINATION VA DOWN", "STATUS/WILL FORWARD",
                                "NO RECORD LIC/A"]
    two = parse_return("NO RECORD LIC/A\nMKE/REGISTRATION\nLIC/B\nNO RECORD LIC/C")
    assert two.status_text == "NO RECORD LIC/A NO RECORD LIC/C"
