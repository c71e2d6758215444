"""The kill -9 torture as a benchmark: the headless client killed at random points N times
(default 200) while sending and syncing against the real gateway; then every query must have
reached the gateway exactly once, every event applied exactly once, the cache intact, the audit
chain whole, and no run may have called the cache damaged. Also the price of a durable "Queued"
(synchronous=FULL: the commit is on the disk before MDT says so) against synchronous=NORMAL and
against plain SQLite, in ms per query. Prints one JSON object last.

    .venv/bin/python benchmarks/kill9.py [--kills 1000] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mdt.store.cache import Cache
from tests.reliability.torture import torture


def _queued_ms(folder: Path, synchronous: str, n: int = 300) -> float:
    """Median ms to queue one query (one committed transaction) in the encrypted cache."""
    cache = Cache.open(folder / f"q-{synchronous}.db", bytes(range(32)), create=True)
    cache._conn.execute(f"PRAGMA synchronous = {synchronous}")
    times = []
    for i in range(n):
        started = time.perf_counter()
        cache.add_outgoing({"id": f"m{i}", "mke": "QV", "fields": {"LIC": f"KL{i:05d}"},
                            "text": f"QV.MD1012600.LIC/KL{i:05d}.LIS/MD"})
        times.append(time.perf_counter() - started)
    cache.close()
    return round(statistics.median(times) * 1000, 3)


def _plain_ms(folder: Path, n: int = 300) -> float:
    conn = sqlite3.connect(folder / "plain.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("CREATE TABLE messages (id TEXT PRIMARY KEY, text TEXT)")
    times = []
    for i in range(n):
        started = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO messages VALUES (?, ?)", (f"m{i}", "QV" * 20))
        conn.execute("COMMIT")
        times.append(time.perf_counter() - started)
    conn.close()
    return round(statistics.median(times) * 1000, 3)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        full = _queued_ms(Path(folder), "FULL")
        normal = _queued_ms(Path(folder), "NORMAL")
        plain = _plain_ms(Path(folder))
        result = torture(Path(folder), args.kills, args.seed)
    ok = not (result["lost"] or result["duplicated"] or result["unanswered"]) and \
        result["events_applied"] == result["events_at_gateway"] and result["integrity_ok"] and \
        result["audit_ok"] and result["damaged"] == 0 and result["runs_failed"] == 0
    print(json.dumps({"bench": "kill9", "ok": ok,
                      **{k: (len(v) if isinstance(v, list) else v) for k, v in result.items()},
                      "queued_ms_durable": full, "queued_ms_normal": normal,
                      "baseline_plain_sqlite_full_ms": plain,
                      "durable_cost_ms": round(full - normal, 3),
                      "ratio_durable_to_plain": round(full / plain, 2) if plain else None}))


if __name__ == "__main__":
    main()
