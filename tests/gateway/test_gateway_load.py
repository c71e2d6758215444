"""A small class on the real gateway (benchmarks/gateway_load.py, shortened): every query is
answered on its client's stream, no stream has a gap, no request fails."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.e2e

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "gateway_load.py"


def test_ten_trainees_for_five_seconds_lose_nothing(capsys: pytest.CaptureFixture[str]) -> None:
    spec = importlib.util.spec_from_file_location("gateway_load", BENCH)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    sys.modules["gateway_load"] = bench  # its dataclasses look themselves up there
    spec.loader.exec_module(bench)
    result = bench.main(["--clients", "10", "--seconds", "5"])
    assert result["queries"] >= 10
    assert result["errors"] == 0 and result["events_lost"] == 0
    assert result["events"] >= result["queries"]  # every answer came on its stream
    assert capsys.readouterr().out.strip().splitlines()[-1].startswith('{"bench": "gateway_load"')
