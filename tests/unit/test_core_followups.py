"""Follow-up queries offered from a record are prefilled from its own fields."""

from __future__ import annotations

from mdt.core.followups import FollowUp, follow_ups


def test_a_stolen_vehicle_offers_its_plate_and_vin() -> None:
    record = {"fields": {"LIC": "TRN4821", "LIS": "VA", "VIN": "1G4AH59H45G118341",
                         "OCA": "26-004512"}}
    assert follow_ups(record) == [
        FollowUp("Run this plate: TRN4821 (VA)", "QV", {"LIC": "TRN4821", "LIS": "VA"}),
        FollowUp("Run this VIN: 1G4AH59H45G118341", "QV", {"VIN": "1G4AH59H45G118341"}),
    ]


def test_a_person_offers_qw_dq_and_iaq() -> None:
    record = {"fields": {"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M",
                         "OLN": "S100000002", "OLS": "MD", "MNU": "AR-200000002"}}
    kinds = [(f.mke, f.values, f.dest) for f in follow_ups(record)]
    assert kinds == [
        ("QW", {"NAM": "ZANMIR, SOREN T", "DOB": "19790704", "SEX": "M"}, ()),
        ("DQ", {"OLN": "S100000002"}, ("MD",)),
        ("IAQ", {"ARN": "200000002", "NAM": "ZANMIR, SOREN T", "SEX": "M", "DOB": "19790704"},
         ()),
    ]


def test_nothing_to_follow_gives_nothing() -> None:
    assert follow_ups({}) == []
    assert follow_ups({"fields": {"NAM": "ONLY, NAME"}}) == []
