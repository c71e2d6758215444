"""The NCIC code tables load lazily from resources/codes, read cleanly and can be searched the way
an operator types."""

from __future__ import annotations

from pathlib import Path

import pytest

from mdt.core.codes import CodeTable, CodeTables, clean_description
from mdt.paths import resources_dir

TABLES = CodeTables.default()


def test_default_tables_come_from_the_shipped_resources() -> None:
    assert TABLES.folder == resources_dir() / "codes"
    names = TABLES.names()
    for name in ("LIS", "LIT", "SEX", "RACE", "EYE", "HAI", "SKN", "POB", "VMA", "OFF", "MNU",
                 "CMC", "TYP", "MAK", "CAL"):
        assert name in names


def test_tables_load_lazily_and_once() -> None:
    tables = CodeTables(CodeTables.default().folder)  # a fresh set of the shipped tables
    assert tables._tables == {}
    lis = tables["LIS"]
    assert list(tables._tables) == ["LIS"]
    assert tables["LIS"] is lis and tables["OLS"] is lis  # a field tag finds its table
    # the shipped set is one per process: a table is read from its file once, not per call
    assert CodeTables.default() is CodeTables.default()
    assert CodeTables.default()["CMC"] is CodeTables.default()["CMC"]


def test_lookup_is_case_insensitive_and_nebraska_is_nb() -> None:
    lis = TABLES["LIS"]
    assert lis.lookup("nb") == "Nebraska" == lis.lookup(" NB ")
    assert lis.lookup("ZZ") is None
    assert "NB" in lis and "nb" in lis and "ZZ" not in lis and 42 not in lis
    assert TABLES["SEX"].entries == {"F": "FEMALE", "M": "MALE", "U": "UNKNOWN"}
    assert TABLES["RAC"].name == "RACE" and "W" in TABLES["RAC"]
    assert TABLES["OFF"].lookup("0399") == "IMMIGRATION"
    assert TABLES["MNU"].lookup("AR") == "ALIEN REGISTRATION NUMBER"
    assert TABLES["CMC"].lookup("00") == "ARMED AND DANGEROUS"


def test_a_table_is_a_read_only_mapping() -> None:
    sex = TABLES["SEX"]
    assert len(sex) == 3 and list(sex) == ["F", "M", "U"]
    assert sex["m"] == "MALE" and dict(sex)["F"] == "FEMALE"
    with pytest.raises(KeyError):
        sex["X"]


def test_unknown_tables_say_so() -> None:
    assert "NOPE" not in TABLES and "LIS" in TABLES and "RAC" in TABLES
    with pytest.raises(KeyError, match="no code table 'NOPE'"):
        TABLES["NOPE"]


@pytest.mark.parametrize(
    ("table", "code", "expected"),
    [
        ("LIT", "AP", "Apportioned"),  # ApportionedThe word "APPORTIONED" must appear...
        ("LIT", "AQ", "Antique"),
        ("LIT", "OB", "Omnibus"),  # Omnibus"OMNIBUS" must appear on the plate.
        ("LIT", "FM", "Farm Vehicle"),  # Farm Vehicleincludes farm and agriculture plates
        ("LIT", "AT", "All-terrain vehicles"),  # All-terrain vehiclesIn instances where...
        ("LIT", "BU", "Bus"),  # BusChurch, scouting franchise, ...
        ("LIT", "PC", "Regular Passenger Automobile Plates"),
        ("LIS", "CD", "Canada"),  # Canada(See separate list of ...)
        ("LIS", "BS", "British Solomon Islands (now Solomon Islands)"),  # missing space only
        ("LIS", "GS", "South Georgia and the South Sandwich Islands"),
        ("VMA", "AIRS", "Airstream Travel Trailers"),  # ...TrailersJackson Center, Ohio
        ("VMA", "SNBR", "SunBird, Inc."),  # a real inner capital
        ("VMA", "BUIC", "Buick"),
        ("VST", "4D", "SEDAN, 4 DOOR; TRUCK/PICK-UP 4 DOOR"),
        ("MAK", "AAC", "AA Arms Corp."),  # AA Arms Corp.Model Hill, NC
        ("CAL", "357", ".357 Remington Magnum, .357 Maximum, .357 AutoMag"),
    ],
)
def test_descriptions_keep_the_first_words(table: str, code: str, expected: str) -> None:
    assert TABLES[table].lookup(code) == expected


def test_clean_description_leaves_clean_text_alone() -> None:
    for text in ("ARMED AND DANGEROUS", "McLaren", "DeSoto Motors", "Maryland", "A & B Co."):
        assert clean_description(text) == text
    assert clean_description("  Spaced   out  ") == "Spaced out"
    assert clean_description("") == ""


def test_every_shipped_description_cleans_to_something() -> None:
    for name in TABLES.names():
        for code, description in TABLES[name].entries.items():
            assert code == code.strip().upper()
            assert description.strip() or not description, (name, code)


def test_search_by_code_prefix_then_description_words() -> None:
    assert TABLES["VMA"].search("buick")[0] == ("BUIC", "Buick")
    assert TABLES["LIS"].search("NB")[0] == ("NB", "Nebraska")  # the exact code first
    assert TABLES["LIS"].search("nebr")[0] == ("NB", "Nebraska")  # words, any case
    assert ("DBL", "BLUE, DARK") in TABLES["VCO"].search("dark blue")  # every word, any order
    by_prefix = TABLES["LIS"].search("N", limit=5)
    assert len(by_prefix) == 5 and all(code.startswith("N") for code, _ in by_prefix)
    assert TABLES["LIT"].search("pass") == [("PC", "Regular Passenger Automobile Plates"),
                                            ("PP", "Civilian, Passenger")]
    assert TABLES["SEX"].search("") == [("F", "FEMALE"), ("M", "MALE"), ("U", "UNKNOWN")]
    assert TABLES["SEX"].search("xyzzy") == []
    assert TABLES["LIS"].search("M", limit=0) == []


def test_served_tables_take_the_place_of_shipped_ones() -> None:
    served = TABLES.with_served({"SEX": {"m": "Male", "f": "Female", "x": "Unspecified"},
                                 "NEW": {"A": "AlphaThe note"}})
    assert served["SEX"].lookup("X") == "Unspecified"
    assert served["NEW"].lookup("a") == "Alpha"
    assert "NEW" in served.names() and "NEW" not in TABLES.names()
    assert served["LIS"].lookup("NB") == "Nebraska"  # the rest still shipped
    assert TABLES["SEX"].lookup("X") is None  # the original is untouched


def test_a_table_from_any_csv(tmp_path: Path) -> None:
    path = tmp_path / "T.csv"
    path.write_text('code,description\na1,"First entryThe note"\n,skipped\nB2,Second\n',
                    encoding="utf-8")
    table = CodeTable.from_csv("T", path)
    assert table.entries == {"A1": "First entry", "B2": "Second"}
    assert repr(table) == "CodeTable('T', 2 codes)"
