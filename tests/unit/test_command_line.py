"""The main window's command line turns what an operator types into the right form."""

from __future__ import annotations

import pytest

from mdt.core.command import Command, parse_command


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("QV LIC/ABC1234.LIS/MD", Command("QV", {"LIC": "ABC1234", "LIS": "MD"})),
        ("qv.lic/abc1234.lis/md", Command("QV", {"LIC": "ABC1234", "LIS": "MD"})),
        ("  QW   NAM/DOE, JOHN.DOB/19800101 ", Command("QW", {"NAM": "DOE, JOHN", "DOB": "19800101"})),
        ("1G4AH59H45G118341", Command("QV", {"VIN": "1G4AH59H45G118341"})),
        ("trn4821", Command("QV", {"LIC": "TRN4821", "LIS": "MD"})),
        ("DOE, JOHN 19800101", Command("QW", {"NAM": "DOE, JOHN", "DOB": "19800101"})),
        ("IAQ", Command("IAQ", {})),
    ],
)
def test_commands_open_the_right_form(typed: str, expected: Command) -> None:
    assert parse_command(typed, home_state="MD") == expected


@pytest.mark.parametrize("typed", ["", "   ", "hello there", "QX LIC/ABC", "ABCDEFG", "!!!"])
def test_what_is_not_understood_gives_none(typed: str) -> None:
    assert parse_command(typed, home_state="MD") is None


def test_bare_plate_without_home_state_leaves_state_empty() -> None:
    assert parse_command("ABC1234") == Command("QV", {"LIC": "ABC1234"})
