"""The whole path on text alone, as behind a legacy switch: the real training gateway on
127.0.0.1 in ``--text-only`` mode, cutting its return texts at 80 columns mid-value (``--wrap
80``); the client reads each text into records and a headline — a stolen car, an IVF hit and an
IAR with a detainer — stores them, and shows them."""

from __future__ import annotations

import json
import time
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from mdt.cli import EXIT_OK, run
from tests.conftest import Gateway, start_gateway

pytestmark = pytest.mark.e2e

IAQ = ["IAQ", "NAM=ZANMIR, SOREN T", "DOB=19790704", "SEX=M", "POB=MX", "CUS=Y", "OFF=5012",
       "ARN=A200000002", "PHN=410-555-0112", "--purpose", "C"]


@pytest.fixture
def legacy_gateway(tmp_path: Path) -> Any:
    gw = start_gateway(tmp_path / "gateway", "--text-only", "--wrap", "80", "--iar-delay", "0")
    yield gw
    gw.stop()


def _show(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    capsys.readouterr()
    assert run(["show", "--json"]) == EXIT_OK
    return list(json.loads(capsys.readouterr().out))


def test_text_only_at_80_columns_reads_to_records_and_headlines(
        legacy_gateway: Gateway, mdt_home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    account = legacy_gateway.demo_account("officer1")
    monkeypatch.setenv("MDT_PASSWORD", account["password"])
    monkeypatch.setenv("MDT_OTP", account["otp_now"])
    assert run(["login", "--gateway", legacy_gateway.url, "--user", "officer1"]) == EXIT_OK
    assert run(["send", "QV", "LIC=TRN4821", "LIS=VA"]) == EXIT_OK
    assert run(["send", "QW", "NAM=ZANMIR, SOREN T", "DOB=19790704"]) == EXIT_OK
    assert run(["send", *IAQ]) == EXIT_OK

    deadline = time.monotonic() + 30
    while True:
        assert run(["sync", "--once"]) == EXIT_OK
        returns = {r["mke"]: r for r in _show(capsys)}
        if {"QV", "QW", "IAR"} <= set(returns) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert {"QV", "QW", "IAR"} <= set(returns)

    cuts = []  # what came was text only, cut at 80 columns, in the middle of words and values
    for ret in returns.values():
        lines = ret["text"].split("\n")
        assert max(len(line) for line in lines) == 80
        cuts += [(a, b) for a, b in pairwise(lines)
                 if len(a) == 80 and a[-1] != " " and b[:1] not in ("", " ")]
    assert cuts

    (car,) = returns["QV"]["records"]  # read whole again
    assert (car["file"], car["hit"], car["nic"]) == ("VEHICLE", True, "V260000001")
    assert car["fields"]["VIN"] == "1G4AH59H45G118341" and car["fields"]["LIC"] == "TRN4821"
    assert any(c.startswith("WARNING - A HIT IS NOT PROBABLE CAUSE") for c in car["caveats"])
    assert returns["QV"]["headline"]["kind"] == "hit"
    assert returns["QV"]["headline"]["text"].startswith("HIT — STOLEN VEHICLE")

    ivf = [r for r in returns["QW"]["records"] if r["file"] == "IVF"]
    assert len(ivf) == 1 and ivf[0]["category"] == "DEPORTED_FELON"
    assert ivf[0]["fields"]["MNU"] == "AR-200000002"
    assert any("ADMINISTRATIVE (CIVIL) WARRANT" in c for c in ivf[0]["caveats"])
    assert returns["QW"]["headline"]["text"] == \
        "HIT — IMMIGRATION VIOLATOR (DEPORTED FELON)"

    (lesc,) = returns["IAR"]["records"]
    assert (lesc["file"], lesc["hit"]) == ("LESC", False)
    assert lesc["fields"]["ARN"] == "A200000002" and lesc["fields"]["DET"] == "Y"
    assert lesc["narrative"][-1] == ("ICE WILL LODGE A DETAINER. MAINTAIN CUSTODY AND CONTACT "
                                     "LESC (VTICE0900).")
    assert returns["IAR"]["headline"] == {
        "kind": "notable", "text": "RECORD — LESC STATUS: DEPORTED FELON, DETAINER",
        "role": "warning", "files": ["LESC"], "reasons": ["DEPORTED FELON", "DETAINER"]}

    # The listing an officer reads says the same, with LESC's words.
    capsys.readouterr()
    assert run(["show"]) == EXIT_OK
    listing = capsys.readouterr().out
    assert "    HIT — STOLEN VEHICLE" in listing
    assert "    HIT — IMMIGRATION VIOLATOR (DEPORTED FELON)" in listing
    assert "    RECORD — LESC STATUS: DEPORTED FELON, DETAINER" in listing
    assert "    TEXT: ICE WILL LODGE A DETAINER. MAINTAIN CUSTODY AND CONTACT LESC (VTICE0900)." \
        in listing
    assert "No record" not in listing

    # Offline search still finds the records read from text (narrative and all).
    capsys.readouterr()
    assert run(["search", "--json", "A200000002"]) == EXIT_OK
    found = json.loads(capsys.readouterr().out)
    assert {h["file"] for h in found} >= {"LESC"}
    # The narrative itself is searchable offline: LESC's instruction, by its words.
    capsys.readouterr()
    assert run(["search", "--json", "LODGE DETAINER"]) == EXIT_OK
    by_words = json.loads(capsys.readouterr().out)
    assert any(h["file"] == "LESC" for h in by_words), by_words
