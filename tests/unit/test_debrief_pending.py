"""The trainer's debrief (``mock_server.debrief.verdicts``): a step not done is "pending" until
its time is up, "missed" after (issue 16: "missed" 49 s into a step with a 600 s limit), and
every step not done is missed once the run is over (``final``). Table-driven, on a trainee's
record of acts."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest

from mock_server.debrief import verdicts

T0 = 1_800_000_000.0


@dataclass
class Account:
    user_id: str = "officer2"
    role: str = "officer"
    ori: str = "MD1012600"


@dataclass
class Record:
    """What the gateway saw of one trainee: (when, what, trigger) per expectation id."""

    acts: dict[str, list[tuple[float, str, float | None]]] = field(default_factory=dict)
    account: Account = field(default_factory=Account)
    confirmations: list[dict[str, Any]] = field(default_factory=list)

    def find(self, expectation: dict[str, Any]) -> list[tuple[float, str, float | None]]:
        return self.acts.get(expectation["id"], [])


QW = {"id": "qw", "title": "QW", "do": "send", "mke": "QW", "within": 300}
YQ = {"id": "yq", "title": "YQ", "do": "send", "mke": "YQ", "after": "qw", "within": 600}
ACK = {"id": "ack", "title": "ack", "do": "acknowledge", "event": "detainer", "within": 300}
OPEN = {"id": "open", "title": "no limit", "do": "view", "mke": "QV"}
NO_YQ = {"id": "no-yq", "title": "no YQ", "do": "not_send", "mke": "YQ", "within": 600}


@pytest.mark.parametrize(("at", "acts", "final", "expected"), [
    # 49 s into the YQ step (600 s after the QW at T0+10): pending, not missed
    (T0 + 59, {"qw": [(T0 + 10, "sent QW", None)]}, False,
     {"qw": "met", "yq": "pending", "ack": "pending", "open": "pending", "no-yq": "met"}),
    (T0 + 301, {"qw": [(T0 + 10, "sent QW", None)]}, False,
     {"qw": "met", "yq": "pending", "ack": "missed", "open": "pending", "no-yq": "met"}),
    (T0 + 611, {"qw": [(T0 + 10, "sent QW", None)]}, False,
     {"qw": "met", "yq": "missed", "ack": "missed", "open": "pending", "no-yq": "met"}),
    # the QW not done: the YQ step's clock has not started
    (T0 + 5000, {}, False,
     {"qw": "missed", "yq": "pending", "ack": "missed", "open": "pending", "no-yq": "met"}),
    # the run is over: what was not done is missed
    (T0 + 59, {"qw": [(T0 + 10, "sent QW", None)]}, True,
     {"qw": "met", "yq": "missed", "ack": "missed", "open": "missed", "no-yq": "met"}),
    (T0 + 59, {"qw": [(T0 + 400, "sent QW", None)], "no-yq": [(T0 + 20, "sent YQ", None)]},
     False, {"qw": "late", "yq": "pending", "ack": "pending", "open": "pending",
             "no-yq": "violated"}),
])
def test_pending_until_the_time_is_up(at: float, acts: dict[str, Any], final: bool,
                                      expected: dict[str, str]) -> None:
    results = verdicts([QW, YQ, ACK, OPEN, NO_YQ], Record(acts), T0, 1.0, now=at, final=final)
    assert {r["id"]: r["verdict"] for r in results} == expected
    for result in results:
        if result["verdict"] == "pending":
            assert result["detail"] == "not done yet — time is not up"


def test_the_run_s_speed_shortens_the_time() -> None:
    results = verdicts([QW], Record(), T0, 30.0, now=T0 + 9, final=False)
    assert results[0]["verdict"] == "pending" and results[0]["limit_seconds"] == 10.0
    results = verdicts([QW], Record(), T0, 30.0, now=T0 + 11, final=False)
    assert results[0]["verdict"] == "missed"
