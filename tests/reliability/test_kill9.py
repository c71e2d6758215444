"""A short kill -9 torture run in CI (the full one: benchmarks/kill9.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.reliability.torture import torture

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_killed_at_random_the_client_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    result = torture(tmp_path, kills=15, seed=3)
    assert result["killed_mid_run"] >= 3, result  # the run really was interrupted
    assert result["lost"] == [] and result["duplicated"] == [] and result["unanswered"] == []
    assert result["sends_confirmed"] <= result["messages_at_gateway"] <= result["sends_attempted"]
    assert result["events_applied"] == result["events_at_gateway"]
    assert result["integrity_ok"] and result["audit_ok"]
    assert result["damaged"] == 0 and result["runs_failed"] == 0, result
