"""Small rooms: no module of the client or the training gateway is over 500 lines (a file doing
several jobs is where a newcomer gets lost). The test names each one that is."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 500


def test_no_module_is_over_500_lines() -> None:
    long = {str(path.relative_to(ROOT)): n for top in ("mdt", "mock_server")
            for path in sorted((ROOT / top).rglob("*.py"))
            if (n := len(path.read_text(encoding="utf-8").splitlines())) > LIMIT}
    assert not long, f"over {LIMIT} lines: {long}"
