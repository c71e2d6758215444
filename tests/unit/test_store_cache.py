"""The encrypted cache: nothing in the clear, wrong keys change nothing, events apply once, the
outbox keeps its order and states, the audit chain catches tampering."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import sqlcipher3

from mdt.store.cache import Cache
from mdt.store.errors import (
    CacheBugError,
    CacheError,
    CorruptCacheError,
    NotADatabaseError,
    WrongKeyError,
)

KEY = bytes(range(32))



def acknowledge_every_alert(cache: Cache) -> None:
    for alert in cache.list_alerts(open_only=True):
        cache.ack_alert(alert["id"], who="officer1")

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


def test_after_a_crash_a_wrong_key_touches_neither_file_and_the_right_one_recovers(
        tmp_path: Path, cache: Cache) -> None:
    cache.add_outgoing(message(1))  # committed to the WAL, not yet checkpointed
    crashed = tmp_path / "crashed"
    crashed.mkdir()
    for name in ("cache.db", "cache.db-wal"):  # the files as a power cut would leave them
        shutil.copy(tmp_path / name, crashed / name)
    digest = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in crashed.iterdir()}
    with pytest.raises(WrongKeyError):
        Cache.open(crashed / "cache.db", b"\x02" * 32)
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in crashed.iterdir()} == digest
    recovered = Cache.open(crashed / "cache.db", KEY)
    assert [m["id"] for m in recovered.outbox()] == [message(1)["id"]]
    recovered.close()


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


@pytest.mark.parametrize("content", [
    b"officer notes: nothing to see here\n" * 200,  # a text file
    bytes(range(256)) * 64,  # whole pages, but not encrypted
    os.urandom(4096 * 3 + 100),  # random, but not whole pages
    os.urandom(100),  # too short
], ids=["text", "pattern", "torn", "short"])
def test_a_file_that_is_not_a_cache_is_refused_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.db"
    path.write_bytes(content)
    with pytest.raises(NotADatabaseError) as info:
        Cache.open(path, KEY)
    assert "not" in info.value.user_message and info.value.kind == "environment"
    assert path.read_bytes() == content
    assert [p.name for p in tmp_path.glob("junk.db*")] == ["junk.db"]  # no -wal, no -shm


def test_random_pages_look_like_a_cache_under_another_key(tmp_path: Path) -> None:
    """Encrypted data and random bytes cannot be told apart: a wrong key, said so, untouched."""
    path = tmp_path / "junk.db"
    content = os.urandom(4096 * 4)
    path.write_bytes(content)
    with pytest.raises(WrongKeyError, match="could not be opened with this key"):
        Cache.open(path, KEY)
    assert path.read_bytes() == content


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


def test_a_late_202_does_not_take_an_answered_query_back_to_waiting(cache: Cache) -> None:
    # The stream brought the switch's ack and the answer before the POST's 202 was handled
    # (the training gateway answers at once): the query stays answered, its time of sending
    # and acceptance are still kept.
    sent = message(1)
    cache.add_outgoing(sent)
    cache.set_message_state(sent["id"], "sending")
    assert cache.apply_event({"seq": 1, "id": "ack-1", "type": "ack", "in_reply_to": sent["id"]})
    assert cache.apply_event(response(2, sent["id"]))
    cache.set_message_state(sent["id"], "accepted", at="2026-11-24T10:01:00.000Z")
    stored = cache.get_message(sent["id"])
    assert stored is not None and stored["state"] == "answered"
    assert stored["accepted_at"] == "2026-11-24T10:01:00.000Z" and stored["sent_at"]
    other = message(2)  # acknowledged, then the late 202: still acknowledged
    cache.add_outgoing(other)
    assert cache.apply_event({"seq": 3, "id": "ack-2", "type": "ack", "in_reply_to": other["id"]})
    cache.set_message_state(other["id"], "accepted")
    assert cache.get_message(other["id"])["state"] == "acknowledged"  # type: ignore[index]
    cache.set_message_state(other["id"], "failed", "refused")  # other moves still take
    assert cache.get_message(other["id"])["state"] == "failed"  # type: ignore[index]


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


@pytest.mark.parametrize(("tamper", "expected"), [
    ("edit", ["Audit record 2 (query at {2}) was edited"]),
    ("remove", ["Audit record 3, before record 4, removed"]),
    ("remove-last", ["Audit records written after record 3 were removed"]),
    ("insert", ["Audit record 2 (export at {2}) was edited",
                "Audit record 2 (export at {2}) was inserted"]),
    ("reorder", ["Audit record 3 (view at {3}) is out of order: it was written right after "
                 "record 99", "Audit record 99 (query at {2}) is out of order: it was written "
                 "right after record 1", "Audit record 4 (logoff at {4}) was the last one"]),
    ("head", ["Audit records cannot be checked to the end"]),
])
def test_audit_chain_names_the_tampered_record(tmp_path: Path, cache: Cache, tamper: str,
                                               expected: list[str]) -> None:
    for action in ("logon", "query", "view", "logoff"):
        cache.audit(action, "success", who="officer1", device="car-12")
    assert cache.verify_audit().ok
    at = {n: a for n, a in cache._conn.execute("SELECT n, at FROM audit")}
    cache.close()
    conn = _raw(tmp_path)
    if tamper == "edit":
        conn.execute("UPDATE audit SET outcome = 'failure' WHERE action = 'query'")
    elif tamper == "remove":
        conn.execute("DELETE FROM audit WHERE action = 'view'")
    elif tamper == "remove-last":
        conn.execute("DELETE FROM audit WHERE action = 'logoff'")
    elif tamper == "insert":
        row = conn.execute("SELECT at, prev_hash, hash FROM audit WHERE action = 'query'").fetchone()
        conn.execute("UPDATE audit SET n = n + 10 WHERE n >= 2")
        conn.execute("INSERT INTO audit(n, id, at, action, outcome, who, source, device, detail, "
                     "prev_hash, hash) VALUES (2, 'forged', ?, 'export', 'success', 'officer1', "
                     "'client', '', '', ?, ?)", row)
    elif tamper == "reorder":
        conn.execute("UPDATE audit SET n = 99 WHERE action = 'query'")
    else:
        conn.execute("DELETE FROM meta WHERE key = 'audit_head'")
    conn.close()
    reopened = Cache.open(tmp_path / "cache.db", KEY)
    report = reopened.verify_audit()
    reopened.close()
    assert not report.ok
    wanted = [e.format(*(at.get(n) for n in range(5))) for e in expected]
    for sentence in wanted:
        assert any(p.startswith(sentence) for p in report.problems), (sentence, report.problems)
    assert len(report.problems) == len(wanted), report.problems


@pytest.mark.parametrize(("code", "kind"), [
    (13, "DiskFullError"), (5, "CacheLockedError"), (6, "CacheLockedError"),
    (26, "WrongKeyError"), (11, "CorruptCacheError"), (8, "ReadOnlyCacheError"),
    (10 | (3 << 8), "CacheIOError"),  # SQLITE_IOERR_WRITE on a disk with room
    (1, "CacheBugError"), (21, "CacheBugError")])
def test_failures_are_sorted_by_their_sqlite_code(tmp_path: Path, code: int, kind: str) -> None:
    from mdt.store.cache import _classify

    # The message text says something else each time: only the code decides.
    error_in = sqlcipher3.OperationalError("database disk image is malformed; disk is full")
    error_in.sqlite_errorcode = code  # type: ignore[attr-defined]
    error = _classify(error_in, tmp_path / "cache.db")
    assert type(error).__name__ == kind
    assert error.user_message.endswith(".")
    assert error.kind == ("bug" if kind == "CacheBugError" else "environment")


def test_an_os_error_on_the_cache_files_is_sorted_by_errno(tmp_path: Path) -> None:
    import errno

    from mdt.store.cache import _classify

    full = _classify(OSError(errno.ENOSPC, "No space left on device"), tmp_path / "cache.db")
    assert type(full).__name__ == "DiskFullError" and "full" in full.user_message
    ro = _classify(OSError(errno.EROFS, "Read-only file system"), tmp_path / "cache.db")
    assert type(ro).__name__ == "ReadOnlyCacheError" and "read-only" in ro.user_message


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
    acknowledge_every_alert(cache)  # retention keeps open alerts
    cache.expire(12, now=datetime.now(UTC) + timedelta(hours=13))
    assert cache.verify_audit().checked == 0
    cache.audit("query", "queued", who="officer1")
    assert cache.verify_audit().ok


def test_sent_and_accepted_times_and_unknown_states(cache: Cache) -> None:
    sent = message(1)
    cache.add_outgoing(sent)
    queued = cache.get_message(sent["id"])
    assert queued is not None and queued["state"] == "queued" and queued["sent_at"] is None
    assert queued["created_at"] == sent["created_at"] and queued["state_at"]
    cache.set_message_state(sent["id"], "sending", at="2026-11-24T10:00:30.000Z")
    cache.set_message_state(sent["id"], "accepted", at="2026-11-24T10:00:31.000Z")
    got = cache.get_message(sent["id"])
    assert got is not None
    assert (got["sent_at"], got["accepted_at"]) == ("2026-11-24T10:00:30.000Z",
                                                    "2026-11-24T10:00:31.000Z")
    cache.set_message_state(sent["id"], "failed", detail="refused by the switch")
    got = cache.get_message(sent["id"])
    assert got is not None and got["state_detail"] == "refused by the switch"
    assert got["sent_at"] == "2026-11-24T10:00:30.000Z"  # when it went stays known
    with pytest.raises(ValueError, match="unknown message state"):
        cache.set_message_state(sent["id"], "lost")
    assert cache.get_message("no-such-id") is None
    assert [m["id"] for m in cache.list_messages()] == [sent["id"]]


def test_list_messages_is_newest_first(cache: Cache) -> None:
    for n in (1, 2, 3):
        cache.add_outgoing(message(n))
    assert [m["id"] for m in cache.list_messages(limit=2)] == [message(3)["id"], message(2)["id"]]


def test_other_events_are_kept_raw_and_move_the_cursor(cache: Cache) -> None:
    alert = {"seq": 5, "id": "d1", "type": "detainer", "text": "DETAINER ON FILE"}
    assert cache.apply_event(alert) is True
    assert cache.apply_event(alert) is False
    assert cache.inbox_cursor() == 5
    assert cache.list_events(("detainer",)) == [alert]
    assert cache.list_returns() == []


def test_a_lower_seq_never_moves_the_cursor_back(cache: Cache) -> None:
    cache.apply_event({"seq": 9, "id": "a", "type": "admin"})
    cache.apply_event({"seq": 3, "id": "b", "type": "admin"})
    assert cache.inbox_cursor() == 9


def test_a_failing_effect_leaves_nothing_applied(cache: Cache) -> None:
    """The event, its effects and the cursor go in one transaction: all or nothing."""
    bad = response(4, "q") | {"records": [{"hit": True, "fields": {"LIC": object()}}]}
    with pytest.raises(TypeError):
        cache.apply_event(bad)
    assert cache.inbox_cursor() == 0 and cache.list_returns() == []
    assert cache.apply_event(response(4, "q")) is True  # and it can be applied afterwards


def test_returns_page_newest_first_by_keyset(cache: Cache) -> None:
    for seq in range(1, 8):
        cache.apply_event(response(seq, "q") | {"id": f"r{seq}"})
    first = cache.list_returns(limit=3)
    assert [r.id for r in first] == ["r7", "r6", "r5"]
    every = cache.list_returns()
    assert [r.received_at for r in every] == sorted({r.received_at for r in every}, reverse=True)
    assert [r.id for r in cache.list_returns(limit=3, before=first[-1])] == ["r4", "r3", "r2"]
    assert [r.id for r in cache.list_returns(limit=3, before="r2")] == ["r1"]
    assert cache.list_returns(before="gone") == []
    got = cache.get_return("r3")
    assert got is not None and got.seq == 3 and got.parts == 1 and got.received_at.endswith("Z")
    assert cache.get_return("nope") is None


def test_writer_and_reader_threads_share_the_file_each_with_its_own_cache(
        tmp_path: Path, cache: Cache) -> None:
    path = tmp_path / "cache.db"
    with ThreadPoolExecutor(1) as writer, ThreadPoolExecutor(1) as reader:
        w = writer.submit(Cache.open, path, KEY).result()
        r = reader.submit(Cache.open, path, KEY).result()
        writer.submit(w.add_outgoing, message(1)).result()
        writer.submit(w.audit, "query", "queued", who="officer1").result()
        assert reader.submit(lambda: [m["id"] for m in r.outbox()]).result() == [message(1)["id"]]
        with pytest.raises(CacheBugError, match="thread") as info:
            w.outbox()  # this thread did not open it
        assert info.value.kind == "bug"
        writer.submit(w.close).result()
        reader.submit(r.close).result()


@pytest.mark.parametrize("bulk", [False, True], ids=["few", "many"])
def test_nothing_in_the_clear_in_any_page_once_expired(tmp_path: Path, cache: Cache, bulk: bool,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """secure_delete and FTS5 secure-delete (or, for many, 'optimize'): decrypting every page of
    the file (free pages included) shows nothing of an expired record; the WAL is emptied."""
    from datetime import datetime, timedelta

    monkeypatch.setattr(Cache, "BULK_ERASE_ROWS", 0 if bulk else 1000)
    for seq in range(10, 60):  # more, older records around it, so that pages are shared
        cache.apply_event(response(seq, "q") | {"id": f"other{seq}", "records": [
            {"file": "VEHICLE", "hit": False, "fields": {"LIC": f"OLD{seq}", "NAM": "OLDER, ONE"}}]})

    cache.apply_event(response(1, "q") | {"id": "old"})
    assert b"SECRET42" in b"".join(_decrypted_pages(tmp_path / "cache.db", wal=True))
    cache.reclaim()
    assert b"SECRET42" in b"".join(_decrypted_pages(tmp_path / "cache.db"))  # the check can see
    cache.apply_event({"seq": 2, "id": "new", "type": "response", "in_reply_to": None,
                       "mke": "QV", "source": "NCIC", "text": "KEPT TEXT",
                       "records": [{"file": "VEHICLE", "hit": False, "fields": {"LIC": "KEEP1"}}]})
    received_new = cache.get_return("new").received_at  # type: ignore[union-attr]
    cutoff = datetime.fromisoformat(received_new.replace("Z", "+00:00"))
    with cache._conn:  # all but the last one, long ago
        cache._conn.execute("UPDATE returns SET received_at = '2000-01-01T00:00:00.000Z' "
                            "WHERE id != 'new'")
        cache._conn.execute("UPDATE record_index SET received_at = '2000-01-01T00:00:00.000Z' "
                            "WHERE return_id != 'new'")
        cache._conn.execute("UPDATE events SET applied_at = '2000-01-01T00:00:00.000Z' "
                            "WHERE id != 'new'")
    acknowledge_every_alert(cache)  # retention keeps open alerts
    assert cache.expire(1, now=cutoff + timedelta(minutes=59)) == 1 + 50
    assert [r.id for r in cache.list_returns()] == ["new"]
    plain = b"".join(_decrypted_pages(tmp_path / "cache.db"))
    assert b"KEEP1" in plain
    assert b"keep1" in plain  # FTS5 keeps its words folded to lower case
    for secret in (b"SECRET42", b"ZANDER", b"STOLEN VEHICLE", b"CONFIRM BEFORE", b"OLD10",
                   b"OLDER, ONE", b"secret42", b"zander", b"old10", b"older"):
        assert secret not in plain, secret
    assert (tmp_path / "cache.db-wal").stat().st_size == 0


def _decrypted_pages(path: Path, wal: bool = False) -> list[bytes]:
    """SQLCipher 4 pages decrypted with the raw key: AES-256-CBC, 4096-byte pages, 80 reserved
    bytes at the end of each (16 IV + 64 HMAC), page 1 starting after its 16-byte salt."""
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    raw = path.read_bytes()
    frames = [raw[i:i + 4096] for i in range(0, len(raw), 4096)]
    if wal:
        data = (path.parent / (path.name + "-wal")).read_bytes()[32:]
        frames += [data[i + 24:i + 24 + 4096] for i in range(0, len(data), 4096 + 24)]
    pages = []
    for n, page in enumerate(frames):
        start = 16 if n == 0 else 0
        if len(page) < 4096:
            continue
        dec = Cipher(algorithms.AES(KEY), modes.CBC(page[4016:4032])).decryptor()
        pages.append(dec.update(page[start:4016]) + dec.finalize())
    return pages


def test_damage_found_while_open_moves_the_file_aside_at_the_next_open(
        tmp_path: Path, cache: Cache) -> None:
    from mdt.store.cache import damage_marker

    cache.add_outgoing(message(1))
    damage = sqlcipher3.DatabaseError("database disk image is malformed")
    damage.sqlite_errorcode = 11  # type: ignore[attr-defined]
    error = cache._fail(damage)
    # Not moved yet (it is open): the sentence says what will happen, never that it was moved.
    assert isinstance(error, CorruptCacheError) and "moved aside" not in error.user_message
    assert "Sign out and in again" in error.user_message
    cache.close()
    path = tmp_path / "cache.db"
    assert damage_marker(path).exists()
    with pytest.raises(CorruptCacheError) as info:
        Cache.open(path, KEY, create=True)  # never silently recreated
    moved = info.value.moved_to
    assert moved is not None and moved.exists() and not path.exists()
    assert not damage_marker(path).exists()
    kept = Cache.open(moved, KEY)  # kept whole, for inspection
    assert kept.get_message(message(1)["id"]) is not None
    kept.close()
    Cache.open(path, KEY, create=True).close()  # a new one only when asked again


def test_a_newer_schema_is_refused_untouched(tmp_path: Path, cache: Cache) -> None:
    cache._conn.execute("PRAGMA user_version = 99")
    cache.close()
    path = tmp_path / "cache.db"
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(CacheError, match="newer MDT"):
        Cache.open(path, KEY)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before


def test_no_cache_there_and_a_short_key(tmp_path: Path) -> None:
    with pytest.raises(CacheError, match="no cache"):
        Cache.open(tmp_path / "none.db", KEY)
    with pytest.raises(WrongKeyError, match="256 bits"):
        Cache.open(tmp_path / "none.db", b"short", create=True)
    assert not (tmp_path / "none.db").exists()


def test_the_settings_of_an_open_cache(cache: Cache) -> None:
    pragma = lambda name: cache._conn.execute(f"PRAGMA {name}").fetchone()[0]  # noqa: E731
    assert pragma("journal_mode") == "wal"
    assert pragma("foreign_keys") == 1 and pragma("secure_delete") == 1
    assert pragma("auto_vacuum") == 2  # incremental
    assert pragma("cipher_page_size") == "4096" and pragma("cipher_hmac_algorithm") == "HMAC_SHA512"
    assert pragma("user_version") == 5
    assert "record_text" in cache.db.table_names()  # sqlite-utils on the keyed connection


def test_reserved_meta_keys_are_the_cache_s_own(cache: Cache) -> None:
    with pytest.raises(ValueError, match="kept by the cache"):
        cache.set_meta("inbox_cursor", "999")
    cache.set_meta("forms_etag", "abc")
    assert cache.get_meta("forms_etag") == "abc" and cache.get_meta("nope", "d") == "d"
