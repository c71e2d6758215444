"""The full kill -9 torture: the headless client killed at random points N times (default 200)
while sending and syncing against the real gateway; then every query must have reached the gateway
exactly once, every event applied exactly once, the cache intact and the audit chain whole.
Prints one JSON object last.

    .venv/bin/python benchmarks/kill9.py [--kills 200] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.reliability.torture import torture


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--kills", type=int, default=200)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        result = torture(Path(folder), args.kills, args.seed)
    ok = not (result["lost"] or result["duplicated"] or result["unanswered"]) and \
        result["events_applied"] == result["events_at_gateway"] and result["integrity_ok"] and \
        result["audit_ok"]
    print(json.dumps({"bench": "kill9", "ok": ok, **{k: (len(v) if isinstance(v, list) else v)
                                                      for k, v in result.items()}}))


if __name__ == "__main__":
    main()
