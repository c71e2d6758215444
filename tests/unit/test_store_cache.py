"""The encrypted cache: nothing in the clear, wrong keys change nothing, events apply once, the
outbox keeps its order and states, the audit chain catches tampering."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
import sqlcipher3

from mdt.store.cache import Cache
from mdt.store.errors import NotADatabaseError, WrongKeyError

KEY = bytes(range(32))


def message(n: int, plate: str = "SECRET42") -> dict:  # type: ignore[type-arg]
    return {"id": f"00000000-0000-4000-8000-{n:012d}", "mke": "QV", "dest": ["NCIC"],
            "fields": {"LIC": plate, "LIS": "MD"}, "text": f"QV.MD1012600.NCIC.TXT\nLIC/{plate}.LIS/MD",
            "created_at": f"2026-11-24T10:00:{n:02d}.000Z"}


def response(seq: int, reply_to: str, hit: bool = True) -> dict:  # type: ignore[type-arg]
    return {"seq": seq, "id": f"event-{seq}", "type": "response", "in_reply_to": reply_to,
            "mke": "QV", "source": "NCIC", "text": "MKE/STOLEN VEHICLE LIC/SECRET42",
            "records": [{"file": "VEHICLE", "hit": hit, "nic": "V123456789", "category": None,
                         "caution_codes": [], "caveats": ["CONFIRM BEFORE ACTING"],
                         "fields": {"LIC": "SECRET42", "NAM": "ZANDER, ALEX Q"}}]}


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    c = Cache.open(tmp_path / "cache.db", KEY, create=True)
    yield c  # type: ignore[misc]
    c.close()


def test_nothing_stored_is_readable_in_the_files(tmp_path: Path, cache: Cache) -> None:
    cache.add_outgoing(message(1))
    cache.apply_event(response(1, message(1)["id"]))
    cache.audit("query", "queued", who="officer1", detail="QV SECRET42")
    files = list(tmp_path.glob("cache.db*"))
    assert {p.name for p in files} >= {"cache.db", "cache.db-wal"}  # WAL not yet checkpointed
    for path in files:
        raw = path.read_bytes()
        for secret in (b"SECRET42", b"ZANDER", b"STOLEN VEHICLE", b"CONFIRM BEFORE", b"officer1"):
            assert secret not in raw, f"{secret!r} readable in {path.name}"


def test_wrong_key_is_a_clear_error_and_changes_nothing(tmp_path: Path, cache: Cache) -> None:
    cache.add_outgoing(message(1))
    cache.close()
    path = tmp_path / "cache.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(WrongKeyError) as info:
        Cache.open(path, b"\x01" * 32)
    assert "key" in info.value.user_message and info.value.kind == "environment"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    again = Cache.open(path, KEY)
    assert again.get_message(message(1)["id"]) is not None
    again.close()


def test_a_plain_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "plain.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = path.read_bytes()
    with pytest.raises(NotADatabaseError, match="unencrypted"):
        Cache.open(path, KEY)
    assert path.read_bytes() == before


def test_random_bytes_are_not_a_cache(tmp_path: Path) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(bytes(range(256)) * 64)
    with pytest.raises(WrongKeyError):
        Cache.open(path, KEY)


def test_outbox_order_states_and_cancel(cache: Cache) -> None:
    for n in (1, 2, 3):
        cache.add_outgoing(message(n))
    cache.add_outgoing(message(1))  # the same message twice is one message
    assert [m["id"] for m in cache.outbox()] == [message(n)["id"] for n in (1, 2, 3)]
    cache.set_message_state(message(1)["id"], "accepted", at="2026-11-24T10:01:00.000Z")
    assert cache.cancel_message(message(2)["id"]) is True
    assert cache.cancel_message(message(1)["id"]) is False  # already sent: too late
    assert [m["id"] for m in cache.outbox()] == [message(3)["id"]]
    first = cache.get_message(message(1)["id"])
    assert first is not None and first["state"] == "accepted"
    assert first["accepted_at"] == "2026-11-24T10:01:00.000Z"


def test_events_apply_once_and_move_the_cursor(cache: Cache) -> None:
    sent = message(1)
    cache.add_outgoing(sent)
    ack = {"seq": 1, "id": "ack-1", "type": "ack", "in_reply_to": sent["id"]}
    assert cache.apply_event(ack) is True
    assert cache.get_message(sent["id"])["state"] == "acknowledged"  # type: ignore[index]
    assert cache.apply_event(response(2, sent["id"])) is True
    assert cache.apply_event(response(2, sent["id"])) is False  # delivered twice, applied once
    assert cache.apply_event(ack) is False  # a late duplicate ack does not undo "answered"
    assert cache.inbox_cursor() == 2
    returns = cache.list_returns()
    assert len(returns) == 1 and returns[0].hit and returns[0].query is not None
    assert returns[0].query["fields"]["LIC"] == "SECRET42"
    assert cache.get_message(sent["id"])["state"] == "answered"  # type: ignore[index]


def test_status_and_parts_are_shown_on_the_query(cache: Cache) -> None:
    sent = message(1)
    cache.add_outgoing(sent)
    cache.apply_event({"seq": 1, "id": "s1", "type": "status", "in_reply_to": sent["id"],
                       "status": "destination_down", "text": "DESTINATION VA DOWN - WILL FORWARD"})
    assert cache.get_message(sent["id"])["state_detail"] == "DESTINATION VA DOWN - WILL FORWARD"  # type: ignore[index]
    second = response(2, sent["id"]) | {"id": "p2", "part": 2, "parts": 2}
    cache.apply_event(second)  # the second part first: parts come in any order
    assert cache.get_message(sent["id"])["state_detail"] == "1 of 2 parts — more to come"  # type: ignore[index]
    cache.apply_event(response(3, sent["id"]) | {"id": "p1", "part": 1, "parts": 2})
    assert cache.get_message(sent["id"])["state_detail"] == "2 of 2 parts"  # type: ignore[index]
    assert sorted(r.part for r in cache.list_returns()) == [1, 2]


def test_everything_survives_reopening(tmp_path: Path, cache: Cache) -> None:
    cache.add_outgoing(message(1))
    cache.apply_event(response(7, message(1)["id"]))
    cache.set_meta("session_token", "tok")
    cache.close()
    again = Cache.open(tmp_path / "cache.db", KEY)
    assert again.inbox_cursor() == 7
    assert again.get_meta("session_token") == "tok"
    assert again.list_returns()[0].records[0]["nic"] == "V123456789"
    again.close()


def _raw(tmp_path: Path) -> sqlcipher3.Connection:
    conn = sqlcipher3.connect(str(tmp_path / "cache.db"), isolation_level=None)
    conn.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    return conn


@pytest.mark.parametrize("tamper", ["edit", "remove", "insert", "reorder"])
def test_audit_chain_detects_tampering(tmp_path: Path, cache: Cache, tamper: str) -> None:
    for action in ("logon", "query", "view", "logoff"):
        cache.audit(action, "success", who="officer1", device="car-12")
    assert cache.verify_audit().ok
    cache.close()
    conn = _raw(tmp_path)
    if tamper == "edit":
        conn.execute("UPDATE audit SET outcome = 'failure' WHERE action = 'query'")
    elif tamper == "remove":
        conn.execute("DELETE FROM audit WHERE action = 'view'")
    elif tamper == "insert":
        row = conn.execute("SELECT at, prev_hash, hash FROM audit WHERE action = 'query'").fetchone()
        conn.execute("UPDATE audit SET n = n + 10 WHERE n >= 2")
        conn.execute("INSERT INTO audit(n, id, at, action, outcome, who, source, device, detail, "
                     "prev_hash, hash) VALUES (2, 'forged', ?, 'export', 'success', 'officer1', "
                     "'client', '', '', ?, ?)", row)
    else:
        conn.execute("UPDATE audit SET n = 99 WHERE action = 'query'")
    conn.close()
    reopened = Cache.open(tmp_path / "cache.db", KEY)
    report = reopened.verify_audit()
    reopened.close()
    assert not report.ok
    assert report.problems and all("Audit record" in p for p in report.problems)


@pytest.mark.parametrize(("message", "kind"), [
    ("database or disk is full", "DiskFullError"), ("database is locked", "CacheLockedError"),
    ("file is not a database", "WrongKeyError"),
    ("database disk image is malformed", "CorruptCacheError"),
    ("no such table: wat", "CacheBugError")])
def test_failures_are_sorted_into_what_a_person_can_act_on(tmp_path: Path, message: str,
                                                           kind: str) -> None:
    from mdt.store.cache import _classify

    error = _classify(sqlcipher3.OperationalError(message), tmp_path / "cache.db")
    assert type(error).__name__ == kind
    assert error.user_message.endswith(".")
    assert error.kind == ("bug" if kind == "CacheBugError" else "environment")


def test_alerts_are_kept_and_acknowledged_once_with_an_audit_record(cache: Cache) -> None:
    alert = {"id": "a1", "kind": "hit", "severity": "critical", "title": "HIT — VEHICLE",
             "body": {"nic": "V260000001"}, "deadline": "2026-11-24T10:10:00.000Z"}
    assert cache.add_alert(alert) is True and cache.add_alert(alert) is False
    assert [a["id"] for a in cache.list_alerts(open_only=True)] == ["a1"]
    assert cache.ack_alert("a1", who="officer1", note="confirmed with VA0290000") is True
    assert cache.ack_alert("a1", who="officer2") is False  # once
    (acked,) = cache.list_alerts()
    assert acked["acked_by"] == "officer1" and acked["acked_at"] and acked["body"]["nic"]
    assert cache.list_alerts(open_only=True) == []
    report = cache.verify_audit()
    assert report.ok and report.checked == 1


def test_a_fully_pruned_audit_log_goes_on_from_its_anchor(cache: Cache) -> None:
    from datetime import UTC, datetime, timedelta

    cache.audit("logon", "success", who="officer1")
    cache.mark_audit_shipped([r["id"] for r in cache.audit_unshipped()])
    cache.expire(12, now=datetime.now(UTC) + timedelta(hours=13))
    assert cache.verify_audit().checked == 0
    cache.audit("query", "queued", who="officer1")
    assert cache.verify_audit().ok
