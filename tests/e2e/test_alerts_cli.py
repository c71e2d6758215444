"""The alert commands of the headless CLI (what scripted trainees use) against the real gateway:
``mdt alerts``, ``mdt confirm``, ``mdt ack``, ``mdt queue``, ``mdt answer``."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import pytest

from mdt.cli import EXIT_OK, EXIT_USAGE, run
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


@pytest.fixture
def fast_gateway(gateway_with: Callable[..., Gateway]) -> Gateway:
    return gateway_with("--confirm-delay", "0.3")


def login(gateway: Gateway, monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    account = gateway.demo_account(user)
    monkeypatch.setenv("MDT_PASSWORD", account["password"])
    monkeypatch.setenv("MDT_OTP", account["otp_now"])
    assert run(["login", "--gateway", gateway.url, "--user", user]) == EXIT_OK


def alerts(capsys: pytest.CaptureFixture[str], *extra: str) -> list[dict]:  # type: ignore[type-arg]
    capsys.readouterr()
    assert run(["alerts", "--json", *extra]) == EXIT_OK
    return json.loads(capsys.readouterr().out)


def until(capsys: pytest.CaptureFixture[str], kind: str) -> dict:  # type: ignore[type-arg]
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        assert run(["sync", "--once"]) == EXIT_OK
        found = [a for a in alerts(capsys) if a["kind"] == kind]
        if found:
            return found[0]
        time.sleep(0.2)
    raise AssertionError(f"no {kind} alert came")


def test_cli_hit_confirm_and_acknowledge(fast_gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    login(fast_gateway, monkeypatch, "officer1")
    assert run(["send", "QW", "NAM=ZANMIR, SOREN T", "DOB=19790704"]) == EXIT_OK
    hit = until(capsys, "ivf_hit")  # LESC (simulated) answers YQs at once in this gateway
    assert "Deported felon" in hit["title"]
    capsys.readouterr()
    assert run(["alerts"]) == EXIT_OK
    assert "CRITICAL" in capsys.readouterr().out

    assert run(["confirm", hit["body"]["return_id"][:8], str(hit["body"]["record_index"]),
                "--priority", "R"]) == EXIT_OK
    sent = capsys.readouterr().out
    assert "Queued YQ" in sent and "PRI/R" in sent and "RTY/WP" in sent
    yr = until(capsys, "yr")
    assert yr["body"]["status"] == "CONFIRMED"

    assert run(["ack", hit["id"][:8], "--note", "stop at Main and 5th"]) == EXIT_OK
    assert "Acknowledged" in capsys.readouterr().out
    [acked] = [a for a in alerts(capsys, "--all") if a["id"] == hit["id"]]
    assert acked["acked_by"] == "officer1" and acked["ack_note"] == "stop at Main and 5th"
    assert run(["ack", "zzzz"]) == EXIT_USAGE  # no such alert: a clear error


def test_cli_queue_and_answer(fast_gateway: Gateway, monkeypatch: pytest.MonkeyPatch,
                              capsys: pytest.CaptureFixture[str]) -> None:
    """officer3 (VA) asks MD1012600 to confirm; dispatch1 answers from the command line."""
    login(fast_gateway, monkeypatch, "officer3")
    assert run(["send", "YQ", "RTY=SV", "RNO=1", "PRI=U", "OCA=26-004513", "NIC=V260000002",
                "LIC=TRN5007", "LIS=MD", "--dest", "MD1012600"]) == EXIT_OK
    login(fast_gateway, monkeypatch, "dispatch1")
    request = until(capsys, "incoming_yq")
    assert request["body"]["nic"] == "V260000002"
    capsys.readouterr()
    assert run(["queue"]) == EXIT_OK
    assert "V260000002 request 1 from VA0290000 (urgent)" in capsys.readouterr().out
    assert run(["answer", "V260000002", "T"]) == EXIT_USAGE  # T needs --by
    assert run(["answer", "V260000002", "Y", "--remarks", "HOLD"]) == EXIT_OK
    assert "CST/Y" in capsys.readouterr().out
    assert run(["queue"]) == EXIT_OK
    assert "answered" in capsys.readouterr().out
    assert not [a for a in alerts(capsys) if a["kind"] == "incoming_yq"]
