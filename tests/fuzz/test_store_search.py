"""Properties of the cache: whatever is stored is found by each of its identifiers, however it is
typed; paging never loses or repeats a record; any text is a safe query; events apply once."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from mdt.store.cache import Cache

KEY = bytes(range(32))
FAST = settings(max_examples=30, deadline=None)


@contextmanager
def fresh_cache() -> Iterator[Cache]:
    with tempfile.TemporaryDirectory() as folder:
        cache = Cache.open(Path(folder) / "cache.db", KEY, create=True)
        try:
            yield cache
        finally:
            cache.close()


LAST = st.from_regex(r"[A-Z]{2,10}", fullmatch=True)
FIRST = st.from_regex(r"[A-Z]{2,8}", fullmatch=True)
DOB = st.dates().filter(lambda d: d.year >= 1900).map(lambda d: d.strftime("%Y%m%d"))


@st.composite
def person(draw: st.DrawFn) -> dict[str, Any]:
    digits = draw(st.from_regex(r"[0-9]{8,9}", fullmatch=True))
    return {
        "last": draw(LAST), "first": draw(FIRST), "middle": draw(st.sampled_from(["", "Q", "LEE"])),
        "dob": draw(DOB), "plate": draw(st.from_regex(r"[A-Z0-9]{2,8}", fullmatch=True)),
        "vin": draw(st.from_regex(r"[A-HJ-NPR-Z0-9]{17}", fullmatch=True)),
        "nic": draw(st.from_regex(r"[A-Z][0-9]{9}", fullmatch=True)),
        "oln": draw(st.from_regex(r"[A-Z][0-9]{6,12}", fullmatch=True)),
        "arn": digits, "arn_as_mnu": draw(st.booleans()),
    }


def as_record(p: dict[str, Any]) -> dict[str, Any]:
    name = f"{p['last']}, {p['first']} {p['middle']}".strip()
    fields = {"NAM": name, "DOB": p["dob"], "LIC": p["plate"], "VIN": p["vin"], "OLN": p["oln"]}
    if p["arn_as_mnu"]:
        fields["MNU"] = f"AR-{p['arn']}"
    else:
        fields["ARN"] = f"A{p['arn']}"
    return {"file": "WANTED", "hit": True, "nic": p["nic"], "category": None,
            "caution_codes": [], "caveats": [], "fields": fields}


def typed_variants(value: str) -> list[str]:
    """How an officer might type an identifier: lower case, with spaces or dashes."""
    half = len(value) // 2
    return [value, value.lower(), f"{value[:half]} {value[half:]}".strip(),
            f"{value[:half]}-{value[half:]}".strip("-")]


def hits_of(cache: Cache, query: str) -> list[tuple[str, int, int]]:
    hits, _ = cache.search(query, limit=500)
    return [(h.return_id, h.record, h.rank) for h in hits]


@FAST
@given(st.lists(person(), min_size=1, max_size=5))
def test_whatever_is_stored_is_found_by_each_of_its_identifiers(people: list[dict[str, Any]]
                                                                ) -> None:
    with fresh_cache() as cache:
        for seq, p in enumerate(people, 1):
            cache.apply_event({"seq": seq, "id": f"e{seq}", "type": "response", "mke": "QW",
                               "source": "NCIC", "text": "", "records": [as_record(p)]})
        for seq, p in enumerate(people, 1):
            me = (f"e{seq}", 0)
            for key in ("plate", "vin", "nic", "oln"):
                for typed in typed_variants(p[key]):
                    assert (*me, 0) in hits_of(cache, typed), (key, typed)
            for typed in (f"A{p['arn']}", f"AR-{p['arn']}", f"a{p['arn'].zfill(9)}"):
                assert (*me, 0) in hits_of(cache, typed), typed
            assert any(h[:2] == me and h[2] <= 1
                       for h in hits_of(cache, f"{p['last']}, {p['first']}"))
            assert (*me, 1) in hits_of(cache, f"{p['last'].lower()}, {p['first']} {p['dob']}")
            assert any(h[:2] == me for h in hits_of(cache, p["dob"]))
            assert any(h[:2] == me for h in hits_of(cache, f"{p['last']},"))


@FAST
@given(person(), st.data())
def test_a_name_with_a_vowel_changed_still_sounds_like_it(p: dict[str, Any],
                                                          data: st.DataObject) -> None:
    inner = [i for i, ch in enumerate(p["last"]) if i > 0 and ch in "AEIOU"]
    last = p["last"]
    if inner:
        i = data.draw(st.sampled_from(inner))
        last = last[:i] + data.draw(st.sampled_from([v for v in "AEIOU" if v != last[i]])) + \
            last[i + 1:]
    with fresh_cache() as cache:
        cache.apply_event({"seq": 1, "id": "e1", "type": "response", "records": [as_record(p)]})
        found = hits_of(cache, f"{last}, {p['first']}")
        assert [h[:2] for h in found] == [("e1", 0)]
        assert found[0][2] == (1 if last == p["last"] else 2)


WORDS = ["FRAUD", "ARSON", "ZANDER", "KOLVEX", "TRN4821", "19840312"]


@FAST
@given(st.lists(st.tuples(st.sampled_from(["ZANDER", "ZANDAR", "KOLVEX"]),
                          st.sampled_from(["ALEX", "ROWAN"]), st.sampled_from(WORDS)),
                min_size=1, max_size=25),
       st.sampled_from(["ZANDER, ALEX", "KOLVEX,", "FRAUD", "19840312", "TRN4821", "ZANDER"]),
       st.integers(1, 6))
def test_paging_gives_the_single_page_in_the_same_order(rows: list[tuple[str, str, str]],
                                                        query: str, limit: int) -> None:
    with fresh_cache() as cache:
        for seq, (last, first, word) in enumerate(rows, 1):
            fields = {"NAM": f"{last}, {first}", "OFF": word, "LIC": word if seq % 3 else "X",
                      "DOB": "19840312" if seq % 2 else "19900101"}
            cache.apply_event({"seq": seq, "id": f"e{seq}", "type": "response",
                               "records": [{"file": "WANTED", "hit": False, "fields": fields}]})
        whole, end = cache.search(query, limit=1000)
        assert end is None
        paged: list[Any] = []
        cursor = None
        for _ in range(1000):
            hits, cursor = cache.search(query, limit=limit, after=cursor)
            assert len(hits) <= limit
            paged += hits
            if cursor is None:
                break
        key = [(h.rank, h.return_id, h.record) for h in paged]
        assert key == [(h.rank, h.return_id, h.record) for h in whole]
        assert len(set(key)) == len(key)
        ranks = [h.rank for h in whole]
        assert ranks == sorted(ranks)


@settings(max_examples=60, deadline=None)
@given(st.text(max_size=60))
def test_any_text_is_a_safe_query(text: str) -> None:
    with fresh_cache() as cache:
        cache.apply_event({"seq": 1, "id": "e1", "type": "response",
                           "records": [{"file": "VEHICLE", "hit": True,
                                        "fields": {"LIC": "ABC1234", "NAM": "ZANDER, ALEX"}}]})
        hits, cursor = cache.search(text, limit=3)
        assert len(hits) <= 1 and cursor is None
        assert cache.search(text, limit=3, after=(0, "", "", 0))[0] is not None


@FAST
@given(st.lists(st.tuples(st.integers(1, 12), st.sampled_from(["response", "ack", "admin"])),
                min_size=1, max_size=30))
def test_events_apply_once_whatever_the_order_and_repeats(events: list[tuple[int, str]]) -> None:
    with fresh_cache() as cache:
        cache.add_outgoing({"id": "q1", "mke": "QV", "dest": ["NCIC"], "fields": {}, "text": "QV"})
        applied: dict[int, str] = {}
        for seq, kind in events:
            kind = applied.get(seq, kind)  # one id is one event: a repeat has the same type
            first = seq not in applied
            assert cache.apply_event({"seq": seq, "id": f"ev{seq}", "type": kind,
                                      "in_reply_to": "q1", "records": []}) is first
            applied[seq] = kind
        assert cache.inbox_cursor() == max(applied)
        returns = [seq for seq, kind in applied.items() if kind == "response"]
        assert len(cache.list_returns(limit=100)) == len(returns)
        state = cache.get_message("q1")["state"]  # type: ignore[index]
        assert state == ("answered" if returns else "acknowledged" if "ack" in applied.values()
                         else "queued")
