"""Offline search, retention, damage and migration of the encrypted cache."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlcipher3
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mdt.store.cache import SCHEMA_VERSION, Cache, name_key, sound_key
from mdt.store.errors import CorruptCacheError

KEY = bytes(range(32))
DATA = Path(__file__).resolve().parent.parent / "data" / "caches"



def acknowledge_every_alert(cache: Cache) -> None:
    for alert in cache.list_alerts(open_only=True):
        cache.ack_alert(alert["id"], who="officer1")

def record(**fields: str) -> dict:  # type: ignore[type-arg]
    return {"file": "WANTED", "hit": True, "nic": fields.pop("NIC", None), "category": None,
            "caution_codes": [], "caveats": ["CONFIRM BEFORE ACTING"], "fields": fields}


def add(cache: Cache, seq: int, *records: dict) -> str:  # type: ignore[type-arg]
    event_id = f"e{seq}"
    cache.apply_event({"seq": seq, "id": event_id, "type": "response", "in_reply_to": None,
                       "mke": "QW", "source": "NCIC", "text": "MKE/WANTED PERSON",
                       "records": list(records)})
    return event_id


@pytest.fixture
def cache(tmp_path: Path) -> Cache:
    c = Cache.open(tmp_path / "cache.db", KEY, create=True)
    yield c  # type: ignore[misc]
    c.close()


def test_each_identifier_finds_its_record_first(cache: Cache) -> None:
    add(cache, 1, record(NAM="KOLVEX, DRAYTON Q", DOB="19840312", NIC="W260000001",
                         OLN="S100000001", MNU="AR-200000002"))
    add(cache, 2, record(LIC="TRN4821", LIS="VA", VIN="1G4AH59H45G118341"))
    add(cache, 3, record(NAM="KOLVECKS, DRAYTON Q", DOB="19840312"))
    for text, how in [("trn4821", "plate"), ("1G4AH59H45G118341", "VIN"), ("W260000001", "NIC"),
                      ("A200000002", "A-number"), ("AR-200000002", "A-number"),
                      ("S100000001", "licence number")]:
        hits, _ = cache.search(text)
        assert hits and hits[0].rank == 0 and hits[0].how == how, text


def test_names_match_exactly_then_by_sound(cache: Cache) -> None:
    add(cache, 1, record(NAM="KOLVEX, DRAYTON Q", DOB="19840312"))
    add(cache, 2, record(NAM="KOLVECKS, DRAYTON Q", DOB="19840312"))
    add(cache, 3, record(NAM="NORWEN, CASEY L", DOB="19900101"))
    hits, _ = cache.search("KOLVEX, DRAYTON Q")
    assert [(h.fields["NAM"], h.how) for h in hits[:2]] == [
        ("KOLVEX, DRAYTON Q", "name"), ("KOLVECKS, DRAYTON Q", "sounds like")]
    assert all(h.fields["NAM"] != "NORWEN, CASEY L" for h in hits if h.rank < 3)
    with_dob, _ = cache.search("KOLVEX, DRAYTON 19840312")
    assert {h.fields["NAM"] for h in with_dob if h.rank <= 2} == {"KOLVEX, DRAYTON Q",
                                                                 "KOLVECKS, DRAYTON Q"}
    assert name_key("KOLVEX, DRAYTON") == name_key("KOLVECKS, D")


def test_free_text_and_nothing(cache: Cache) -> None:
    add(cache, 1, record(NAM="NORWEN, CASEY L", OFF="BURGLARY"))
    hits, _ = cache.search("burglary")
    assert hits and hits[0].how == "text"
    assert cache.search("no such thing") == ([], None)
    assert cache.search('"; DROP TABLE returns; --') == ([], None)  # quoted, not executed
    assert cache.search("   ") == ([], None)


def test_keyset_paging_walks_every_hit_once(cache: Cache) -> None:
    for seq in range(1, 24):
        add(cache, seq, record(NAM=f"ZANDER, ALEX {chr(64 + seq)}", OFF="FRAUD"))
    seen, cursor, pages = [], None, 0
    while True:
        hits, cursor = cache.search("fraud", limit=5, after=cursor)
        seen += [(h.return_id, h.record) for h in hits]
        pages += 1
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 23 and pages == 5


PLATES = st.from_regex(r"[A-Z]{3}[0-9]{4}", fullmatch=True)
NAMES = st.tuples(st.sampled_from(["ZANDER", "KOLVEX", "TALBRO", "NORWEN", "DAXPEL"]),
                  st.sampled_from(["ALEX", "QUINN", "ROWAN"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(PLATES, NAMES, st.from_regex(r"19[5-9][0-9](0[1-9]|1[0-2])(0[1-9]|1[0-9])",
                                                       fullmatch=True)),
                min_size=1, max_size=6, unique_by=lambda t: t[0]))
def test_whatever_is_stored_is_found_by_each_identifier(tmp_path_factory: pytest.TempPathFactory,
                                                        rows: list[tuple[str, tuple[str, str], str]]
                                                        ) -> None:
    folder = tmp_path_factory.mktemp("prop")
    cache = Cache.open(folder / "cache.db", KEY, create=True)
    try:
        for seq, (plate, (last, first), dob) in enumerate(rows, 1):
            add(cache, seq, record(LIC=plate, LIS="MD", NAM=f"{last}, {first}", DOB=dob))
        for plate, (last, first), dob in rows:
            by_plate, _ = cache.search(plate)
            assert by_plate[0].fields["LIC"] == plate and by_plate[0].rank == 0
            by_name, _ = cache.search(f"{last}, {first} {dob}")
            assert any(h.fields["LIC"] == plate and h.rank == 1 for h in by_name)
    finally:
        cache.close()


def test_expiry_really_deletes(tmp_path: Path, cache: Cache) -> None:
    add(cache, 1, record(NAM="ZANMIR, SOREN T", LIC="EXPIRED1"))
    acknowledge_every_alert(cache)  # retention keeps open alerts
    cache.expire(12, now=datetime.now(UTC) + timedelta(hours=13))
    assert cache.list_returns() == [] and cache.search("EXPIRED1") == ([], None)
    cache.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("cache.db*"))
    reopened = Cache.open(tmp_path / "cache.db", KEY)
    try:
        assert reopened.list_returns() == []
        conn = reopened._conn
        assert conn.execute("SELECT count(*) FROM record_text").fetchone()[0] == 0
        assert int(conn.execute("PRAGMA freelist_count").fetchone()[0]) == 0  # pages reclaimed
    finally:
        reopened.close()
    assert b"EXPIRED1" not in raw


def test_fresh_returns_and_queued_queries_survive_expiry(cache: Cache) -> None:
    add(cache, 1, record(LIC="FRESH001"))
    cache.add_outgoing({"id": "q1", "mke": "QV", "dest": ["NCIC"], "fields": {"LIC": "X"},
                        "text": "QV", "created_at": "2020-01-01T00:00:00.000Z"})
    assert cache.expire(12) == 0
    assert len(cache.list_returns()) == 1 and [m["id"] for m in cache.outbox()] == ["q1"]


def test_audit_is_pruned_only_once_shipped_and_still_verifies(cache: Cache) -> None:
    for action in ("logon", "query", "view"):
        cache.audit(action, "success", who="officer1")
    later = datetime.now(UTC) + timedelta(hours=13)
    acknowledge_every_alert(cache)  # retention keeps open alerts
    cache.expire(12, now=later)
    assert cache.verify_audit().checked == 3  # not shipped: kept
    cache.mark_audit_shipped([r["id"] for r in cache.audit_unshipped()[:2]])
    acknowledge_every_alert(cache)  # retention keeps open alerts
    cache.expire(12, now=later)
    report = cache.verify_audit()
    assert report.ok and report.checked == 1
    cache.audit("logoff", "success", who="officer1")
    assert cache.verify_audit().ok


def test_a_flipped_byte_is_found_by_the_check(tmp_path: Path, cache: Cache) -> None:
    for seq in range(1, 40):
        add(cache, seq, record(NAM=f"ZANDER, ALEX {seq}", OFF="FRAUD " * 40))
    cache.reclaim()
    cache.close()
    path = tmp_path / "cache.db"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    try:
        reopened = Cache.open(path, KEY)
    except CorruptCacheError as exc:  # the damaged page was needed to open: moved aside
        assert exc.moved_to is not None and exc.moved_to.exists() and not path.exists()
        return
    try:
        report = reopened.check()
        assert not report.ok and "damaged" in report.problems[0]
    finally:
        reopened.close()



@pytest.mark.parametrize("tree", ["record_index_name", "returns_message", "events"])
def test_retention_finds_damage_in_the_first_page_of_a_table_or_index(
        tmp_path: Path, cache: Cache, tree: str) -> None:
    """Retention (at each sign-in) reads what is old by index only; it still reads the root of
    every table and index, so damage there is found now (flagged: set aside at the next open),
    not at the officer's next search."""
    for seq in range(1, 40):
        add(cache, seq, record(NAM=f"ZANDER, ALEX {seq}", OFF="FRAUD " * 40))
    page = int(cache._conn.execute("SELECT rootpage FROM sqlite_schema WHERE name = ?",
                                   (tree,)).fetchone()[0])
    cache.reclaim()
    cache.close()
    path = tmp_path / "cache.db"
    with open(path, "r+b") as handle:
        handle.seek((page - 1) * 4096 + 2000)
        handle.write(bytes(64))
    reopened = Cache.open(path, KEY)
    try:
        with pytest.raises(CorruptCacheError):
            reopened.expire(12)
    finally:
        reopened.close()
    with pytest.raises(CorruptCacheError) as moved:
        Cache.open(path, KEY)
    assert moved.value.moved_to is not None and not path.exists()

def test_a_schema_1_cache_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    shutil.copy(DATA / "cache-v1.db", path)
    cache = Cache.open(path, KEY)
    try:
        assert cache.schema_version() == SCHEMA_VERSION == 5
        (ret,) = cache.list_returns()
        assert ret.hit and ret.query is not None and ret.query["fields"]["LIC"] == "TRN4821"
        hits, _ = cache.search("TRN4821")
        assert hits and hits[0].how == "plate"  # the old returns are searchable
        assert cache.verify_audit().ok
    finally:
        cache.close()


def test_paging_through_names_and_sound_alikes_keeps_order_and_never_repeats(cache: Cache) -> None:
    for seq in range(1, 24):
        last = "ZANDER" if seq % 2 else "ZANDAR"
        add(cache, seq, record(NAM=f"{last}, ALEX Q", LIC=f"PG{seq:05d}"))
    seen: list[tuple[str, int]] = []
    ranks: list[int] = []
    cursor = None
    while True:
        hits, cursor = cache.search("ZANDER, ALEX Q", limit=4, after=cursor)
        seen += [(h.return_id, h.record) for h in hits]
        ranks += [h.rank for h in hits]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 23
    assert ranks == sorted(ranks) and ranks.count(1) == 12 and ranks.count(2) == 11


def test_an_identifier_is_not_listed_again_as_text(cache: Cache) -> None:
    add(cache, 1, record(LIC="TRN4821", LIS="VA"))
    hits, _ = cache.search("TRN4821")
    assert [(h.rank, h.how) for h in hits] == [(0, "plate")]


def test_a_schema_2_cache_is_migrated(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    shutil.copy(DATA / "cache-v2.db", path)
    cache = Cache.open(path, KEY)
    try:
        assert cache.schema_version() == 5
        assert cache.search("TRN4821")[0][0].how == "plate"
        assert [a["id"] for a in cache.list_alerts(open_only=True)] == ["v2-alert-1"]
        assert cache.verify_audit().ok
        (ret,) = cache.list_returns()
        assert ret.seq > 0  # the inbox order, taken from the events already stored
        assert ret.query is not None and ret.query["sent_at"] == ret.query["accepted_at"]
        cache.audit("view", "success", who="officer1")  # the chain goes on from the old records
        assert cache.verify_audit().ok
    finally:
        cache.close()


def test_sound_alikes_by_nysiis_and_soundex_and_last_names_alone(cache: Cache) -> None:
    add(cache, 1, record(NAM="KNIGHT, ROWAN J", DOB="19770405"))
    add(cache, 2, record(NAM="NIGHT, ROWAN", DOB="19770405"))  # Soundex K523 / N230: NYSIIS hears it
    add(cache, 3, record(NAM="KNIGHT, CASEY", DOB="19810101"))
    hits, _ = cache.search("KNIGHT, ROWAN")
    assert [(h.fields["NAM"], h.how) for h in hits] == [("KNIGHT, ROWAN J", "name"),
                                                       ("NIGHT, ROWAN", "sounds like")]
    everyone, _ = cache.search("knight,")  # a last name alone: every first name
    assert [(h.fields["NAM"], h.rank) for h in everyone] == [
        ("KNIGHT, CASEY", 1), ("KNIGHT, ROWAN J", 1), ("NIGHT, ROWAN", 2)]


@pytest.mark.parametrize("dob", ["19770405", "1977-04-05", "04/05/1977"])
def test_a_date_of_birth_in_any_usual_form(cache: Cache, dob: str) -> None:
    add(cache, 1, record(NAM="KNIGHT, ROWAN J", DOB="19770405"))
    add(cache, 2, record(NAM="KNIGHT, ROWAN J", DOB="19790101"))
    alone, _ = cache.search(dob)
    assert [(h.fields["DOB"], h.how) for h in alone] == [("19770405", "date of birth")]
    named, _ = cache.search(f"KNIGHT, ROWAN {dob}")
    assert [h.fields["DOB"] for h in named] == ["19770405"]


def test_identifiers_are_found_however_they_are_typed(cache: Cache) -> None:
    add(cache, 1, record(LIC="TRN 4821", VIN="1G4AH59H45G118341", ARN="A12345678",
                         OLN="S-100-000-001"))
    for text, how in [("trn-4821", "plate"), ("1g4ah59h45g118341", "VIN"),
                      ("A012345678", "A-number"), ("a-12345678", "A-number"),
                      ("AR-012345678", "A-number"), ("S100000001", "licence number")]:
        hits, _ = cache.search(text)
        assert [(h.rank, h.how) for h in hits] == [(0, how)], text


def test_a_record_is_listed_once_under_its_best_rank_across_pages(cache: Cache) -> None:
    """A licence number that is also a date: the record comes once, as an identifier."""
    add(cache, 1, record(OLN="19840312", DOB="19840312"))
    for seq in range(2, 6):
        add(cache, seq, record(NAM=f"DAXPEL, ROWAN {seq}", DOB="19840312"))
    seen: list[tuple[str, int, int]] = []
    cursor = None
    while True:
        hits, cursor = cache.search("19840312", limit=2, after=cursor)
        seen += [(h.return_id, h.record, h.rank) for h in hits]
        if cursor is None:
            break
    assert len(seen) == 5 and len({s[:2] for s in seen}) == 5
    assert seen[0] == ("e1", 0, 0) and [s[2] for s in seen[1:]] == [1, 1, 1, 1]


def test_the_last_full_page_has_no_cursor(cache: Cache) -> None:
    for seq in range(1, 5):
        add(cache, seq, record(OFF="ARSON"))
    hits, cursor = cache.search("arson", limit=4)
    assert len(hits) == 4 and cursor is None
    assert cache.search("arson", limit=3)[1] is not None


def test_audit_pruning_stops_at_the_first_record_not_shipped(cache: Cache) -> None:
    for action in ("logon", "query", "view", "logoff"):
        cache.audit(action, "success", who="officer1")
    records = cache.audit_unshipped()
    cache.mark_audit_shipped([records[0]["id"], records[2]["id"], records[3]["id"]])
    acknowledge_every_alert(cache)  # retention keeps open alerts
    cache.expire(12, now=datetime.now(UTC) + timedelta(hours=13))
    report = cache.verify_audit()
    assert report.ok and report.checked == 3  # "query" was not acknowledged: it and all after stay
    assert [r["action"] for r in cache.audit_unshipped()] == ["query"]


def test_erase_on_logout_keeps_the_outbox_and_the_audit_not_shipped(cache: Cache) -> None:
    add(cache, 1, record(LIC="GONE0001"))
    cache.add_alert({"id": "a1", "kind": "hit", "severity": "critical", "title": "HIT",
                     "body": {"LIC": "GONE0001"}})
    cache.add_outgoing({"id": "q1", "mke": "QV", "dest": ["NCIC"], "fields": {"LIC": "X"},
                        "text": "QV"})
    cache.audit("logoff", "success", who="officer1")
    assert cache.erase_cached() == 1
    assert cache.list_returns() == [] and cache.list_alerts() == [] and cache.list_events() == []
    assert [m["id"] for m in cache.outbox()] == ["q1"]
    assert [r["action"] for r in cache.audit_unshipped()] == ["logoff"]
    assert cache.search("GONE0001") == ([], None)


def test_a_schema_3_cache_opens_as_is(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    shutil.copy(DATA / "cache-v3.db", path)
    cache = Cache.open(path, KEY)
    try:
        assert cache.schema_version() == 5
        query = cache.get_message("00000000-0000-4000-8000-000000000003")
        assert query is not None and query["state"] == "answered"
        assert query["state_detail"] == "2 of 2 parts" and query["sent_at"] == query["accepted_at"]
        assert [r.part for r in cache.list_returns()] == [1, 2]  # newest first
        for text in ("TRN4823", "1G4AH59H45G118343", "W260000003", "A200000003", "S100000003"):
            assert cache.search(text)[0][0].rank == 0, text
        assert cache.search("KOLVECKS, DRAYTON")[0][0].how == "sounds like"
        assert cache.list_alerts()[0]["acked_by"] == "officer1"
        assert [e["id"] for e in cache.list_events(("detainer",))] == ["v3-detainer-1"]
        report = cache.verify_audit()
        assert report.ok and report.checked == 2  # the first one pruned: the chain has its anchor
        assert cache.inbox_cursor() == 4 and cache.check().ok
    finally:
        cache.close()


def test_a_schema_4_cache_gets_the_indexes_a_page_stops_on(tmp_path: Path) -> None:
    """Version 5 (issue #19): the search indexes hold what a page reads, in its order, and each
    record's rowid is its FTS5 row's; a kept version-4 file comes through with every record still
    found, by name, date of birth, sound and words, and new records after it."""
    path = tmp_path / "cache.db"
    shutil.copy(DATA / "cache-v4.db", path)
    # Version 4 gave a record its own rowid: two more records, each with the other's FTS rowid
    # (the move must not collide).
    raw = sqlcipher3.connect(str(path), isolation_level=None)
    raw.execute(f"PRAGMA key = \"x'{KEY.hex()}'\"")
    for rowid, text_rowid, name in ((7, 8, "ZANDER, ALEX"), (8, 7, "TALBRO, QUINN")):
        rec = record(NAM=name, DOB="19700101")
        raw.execute("INSERT INTO returns(id, message_id, mke, source, text, records, hit, part, "
                    "parts, received_at, seq) VALUES (?, NULL, 'QW', 'NCIC', '', ?, 1, 1, 1, "
                    "'2026-11-25T10:00:09.000000Z', ?)", (f"r{rowid}", json.dumps([rec]), rowid))
        raw.execute("INSERT INTO record_text(rowid, return_id, n, body) VALUES (?, ?, 0, ?)",
                    (text_rowid, f"r{rowid}", f"WANTED NAM {name}"))
        raw.execute("INSERT INTO record_index(rowid, return_id, n, received_at, file, hit, name, "
                    "name_key, sound_key, dob, text_rowid) VALUES (?, ?, 0, "
                    "'2026-11-25T10:00:09.000000Z', 'WANTED', 1, ?, ?, ?, '19700101', ?)",
                    (rowid, f"r{rowid}", name, name_key(name), sound_key(name), text_rowid))
    raw.close()
    cache = Cache.open(path, KEY)
    try:
        assert cache.schema_version() == 5
        conn = cache._conn
        columns = {name: [r[2] for r in conn.execute(f"PRAGMA index_info({name})")]
                   for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE "
                                               "type = 'index' AND tbl_name = 'record_index'")}
        assert columns["record_index_dob"] == ["dob", "received_at", "return_id", "n"]
        assert columns["record_index_name"][:4] == ["name", "received_at", "return_id", "n"]
        assert columns["record_index_name_key"][-1] == columns["record_index_sound_key"][-1] == "dob"
        pairs = conn.execute("SELECT ri.rowid, t.rowid FROM record_index ri JOIN record_text t "
                             "ON t.return_id = ri.return_id AND t.n = ri.n").fetchall()
        assert len(pairs) == 3 and all(a == b for a, b in pairs)
        assert [h.fields["NAM"] for h in cache.search("ZANDER, ALEX")[0]] == ["ZANDER, ALEX"]
        assert [h.fields["NAM"] for h in cache.search("TALBRO")[0]] == ["TALBRO, QUINN"]
        for text, how in (("KOLVEX, DRAYTON Q", "name"), ("19840312", "date of birth"),
                          ("KOLVECKS, DRAYTON", "sounds like"), ("CONFIRM", "text"),
                          ("TRN4823", "plate")):
            hits, _ = cache.search(text)
            assert [h.how for h in hits] == [how], text
            assert hits[0].fields["NAM"] == "KOLVEX, DRAYTON Q"
        add(cache, 10, record(NAM="KOLVEX, DRAYTON Q", DOB="19840312"))
        assert len(cache.search("19840312")[0]) == 2
        assert len(cache.search("19700101")[0]) == 2
        assert cache.check().ok
    finally:
        cache.close()
