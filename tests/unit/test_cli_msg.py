"""`mdt msg build` and `mdt msg parse`: for integrators checking what a switch sends."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdt.cli import run


def test_msg_build_prints_the_fixed_format_text(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["msg", "build", "QV", "LIC=abc1234", "LIS=md"]) == 0
    assert capsys.readouterr().out.strip() == "QV.MD1012600.NCIC.TXT\nLIC/ABC1234.LIS/MD"
    assert run(["msg", "build", "RQ", "LIC=ABC1234", "LIT=PC", "--dest", "VA", "--json"]) == 0
    message = json.loads(capsys.readouterr().out)
    assert message["text"] == "RQ.MD1012600.VA.TXT\nLIC/ABC1234.LIT/PC"
    assert message["dest"] == ["VA"] and message["fields"] == {"LIC": "ABC1234", "LIT": "PC"}


def test_msg_build_names_the_bad_field(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["msg", "build", "QV", "LIC=ABC1234", "LIS=ZZ"]) == 2
    assert "Plate state (LIS)" in capsys.readouterr().err
    assert run(["msg", "build", "QV", "LIC"]) == 2
    assert "TAG=value" in capsys.readouterr().err


def test_msg_parse_prints_records(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "return.txt"
    path.write_text("QV.MD1012600.NCIC\n\nMKE/STOLEN VEHICLE\nLIC/TRN4821 LIS/VA NIC/V260000001\n")
    assert run(["msg", "parse", str(path)]) == 0
    parsed = json.loads(capsys.readouterr().out)
    assert parsed["hit"] is True and parsed["records"][0]["nic"] == "V260000001"
    path.write_bytes(b"\xff\xfe garbage \x00\x01 MKE/")
    assert run(["msg", "parse", str(path)]) == 0  # garbage in: a partial result, not a crash
    assert "records" in json.loads(capsys.readouterr().out)
