"""Issue 16 through the real CLI against the real training gateway: ``mdt show`` says the
headline (a suspended licence is NOTABLE, not "no hit, nothing notable"), the age in the one
shared wording, and each query still waiting with its state in words; the rules' sentences are
the GUI's."""

from __future__ import annotations

import json
import time

import pytest

from mdt.cli import EXIT_OK, EXIT_USAGE, run
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


def test_show_says_the_headline_and_what_waits(gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    account = gateway.demo_account("officer1")
    monkeypatch.setenv("MDT_PASSWORD", account["password"])
    monkeypatch.setenv("MDT_OTP", gateway.demo_account("officer1")["otp_now"])
    assert run(["login", "--gateway", gateway.url, "--user", "officer1"]) == EXIT_OK

    capsys.readouterr()
    assert run(["send", "DQ", "OLN=S100000008", "OLS=VA", "--dest", "VA"]) == EXIT_USAGE
    assert "mdt: OLS is not a field of the DQ form." in capsys.readouterr().err
    assert run(["send", "QV", f"LIC={'A1' * 15}", "LIS=VA"]) == EXIT_USAGE
    assert "Plate (LIC) may contain only letters and digits, at most 10" in \
        capsys.readouterr().err

    assert run(["send", "DQ", "OLN=S100000008", "--dest", "VA"]) == EXIT_OK
    deadline = time.monotonic() + 20
    returns: list[dict] = []  # type: ignore[type-arg]
    while not returns and time.monotonic() < deadline:
        assert run(["sync", "--once"]) == EXIT_OK
        capsys.readouterr()
        assert run(["show", "--json"]) == EXIT_OK
        returns = json.loads(capsys.readouterr().out)
        time.sleep(0.2)
    (licence,) = returns
    assert licence["headline"]["text"] == "RECORD — DRIVER LICENSE: SUSPENDED"
    assert licence["headline"]["role"] == "warning"

    assert run(["send", "QV", "LIC=OFF9999", "LIS=MD", "--queue-only"]) == EXIT_OK
    capsys.readouterr()
    assert run(["show"]) == EXIT_OK
    listing = capsys.readouterr().out
    assert "[NOTABLE] DQ OLN/S100000008 — from " in listing
    assert "    RECORD — DRIVER LICENSE: SUSPENDED\n" in listing
    assert "nothing notable" not in listing and "No record" not in listing
    assert "s ago" in listing or "min ago" in listing
    assert "QV LIC/OFF9999 LIS/MD — Queued (offline) — goes out when the link is back" in listing
