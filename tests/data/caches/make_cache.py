"""Write ``cache-v<SCHEMA_VERSION>.db`` here with the current code: run it once when a schema version
is released, and keep the file as the next migration's test input (key ``bytes(range(32))``).

    .venv/bin/python tests/data/caches/make_cache.py
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from mdt.store.cache import SCHEMA_VERSION, Cache

KEY = bytes(range(32))
QUERY = {"id": "00000000-0000-4000-8000-000000000003", "mke": "QW", "dest": ["NCIC"],
         "fields": {"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312"},
         "text": "QW.MD1012600.NCIC.TXT\nNAM/KOLVEX, DRAYTON Q.DOB/19840312",
         "created_at": "2026-11-25T10:00:00.000Z", "purpose": "C"}
RECORD = {"file": "WANTED", "hit": True, "nic": "W260000003", "category": None,
          "caution_codes": ["00"], "caveats": ["CONFIRM BEFORE ACTING"],
          "fields": {"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312", "OLN": "S100000003",
                     "MNU": "AR-200000003", "LIC": "TRN4823", "VIN": "1G4AH59H45G118343"}}


def main() -> None:
    path = Path(__file__).resolve().parent / f"cache-v{SCHEMA_VERSION}.db"
    for old in path.parent.glob(path.name + "*"):
        old.unlink()
    cache = Cache.open(path, KEY, create=True)
    cache.audit("logon", "success", who="officer1", device="car-12", detail="online login")
    cache.mark_audit_shipped([r["id"] for r in cache.audit_unshipped()])
    cache.expire(0, now=datetime.now(UTC) + timedelta(seconds=1))  # pruned: the chain has an anchor
    cache.add_outgoing(QUERY)
    cache.set_message_state(QUERY["id"], "accepted", at="2026-11-25T10:00:01.000Z")
    cache.audit("query", "queued", who="officer1", device="car-12", detail=f"QW {QUERY['id']}")
    cache.apply_event({"seq": 1, "id": "v3-ack-1", "type": "ack", "in_reply_to": QUERY["id"]})
    cache.apply_event({"seq": 2, "id": "v3-part-2", "type": "response", "in_reply_to": QUERY["id"],
                       "mke": "QW", "source": "NCIC", "text": "MKE/WANTED PERSON (2 of 2)",
                       "records": [], "part": 2, "parts": 2})
    cache.apply_event({"seq": 3, "id": "v3-part-1", "type": "response", "in_reply_to": QUERY["id"],
                       "mke": "QW", "source": "NCIC", "text": "MKE/WANTED PERSON",
                       "records": [RECORD], "part": 1, "parts": 2})
    cache.apply_event({"seq": 4, "id": "v3-detainer-1", "type": "detainer",
                       "text": "DETAINER ON FILE"})
    cache.add_alert({"id": "v3-alert-1", "kind": "hit", "severity": "critical",
                     "title": "HIT — WANTED", "body": {"nic": "W260000003"},
                     "event_id": "v3-part-1", "message_id": QUERY["id"]})
    cache.ack_alert("v3-alert-1", who="officer1", note="confirmed", device="car-12")
    cache.set_meta("forms_etag", '"v3"')
    cache.reclaim()
    cache.close()
    for extra in path.parent.glob(path.name + "-*"):
        extra.unlink()
    print(path)


if __name__ == "__main__":
    main()
