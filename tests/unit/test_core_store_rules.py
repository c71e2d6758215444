"""The domain rules the cache applies, on their own (no SQL): identifier keys, what an inbox event
does, the audit chain (``mdt/core/identifiers.py``, ``traffic.py``, ``audit_chain.py``)."""

from __future__ import annotations

import pytest

from mdt.core.audit_chain import GENESIS, audit_hash, chain_problems
from mdt.core.identifiers import (
    digits_arn,
    name_key,
    normalize_dob,
    normalize_ident,
    record_keys,
    search_terms,
    sound_key,
)
from mdt.core.traffic import parts_detail, plan_event


def test_identifiers_are_keyed_as_they_are_typed() -> None:
    assert normalize_ident(" ab-12 c ") == "AB12C"
    assert digits_arn("AR-12345678") == "012345678" and digits_arn("A123456789") == "123456789"
    assert digits_arn("B123") == ""
    assert normalize_dob("03/15/1965") == normalize_dob("1965-03-15") == "19650315"
    assert name_key("Zander, Alex") == name_key("ZANDAR,ALEX Q")
    assert sound_key("KNIGHT, A") == sound_key("NIGHT, ANN")
    keys = record_keys({"file": "WANTED", "hit": True, "nic": "w-123",
                        "fields": {"NAM": "zander,  alex q", "MNU": "AR-12345678",
                                   "LIC": "ab 12", "DOB": "1965-03-15"}})
    assert (keys.name, keys.arn, keys.plate, keys.dob, keys.nic, keys.hit) == (
        "ZANDER, ALEX Q", "012345678", "AB12", "19650315", "W123", True)
    assert keys.body.startswith("WANTED NAM ZANDER,  ALEX Q")  # the words as written


def test_a_search_text_is_read_once() -> None:
    terms = search_terms("zander, alex 03/15/1965")
    assert (terms.name, terms.dob, terms.given, terms.name_prefix) == (
        "ZANDER, ALEX", "19650315", "ALEX", "ZANDER, ALEX ")
    last_only = search_terms("ZANDER,")
    assert last_only.name == "ZANDER" and last_only.name_prefix == "ZANDER, "
    assert search_terms("ab-12").ident == "AB12" and search_terms("ab-12").name == ""


def test_what_an_event_does() -> None:
    plan = plan_event({"id": "e1", "seq": "3", "type": "response", "in_reply_to": "q1",
                       "parts": 2, "part": 2, "records": [{"hit": True}, "junk"]})
    assert plan.seq == 3 and plan.ret is not None and plan.ret.hit and plan.ret.parts == 2
    assert len(plan.ret.records) == 1 and plan.alerts  # a hit on my query raises an alert
    assert plan_event({"id": "a", "seq": 1, "type": "ack", "in_reply_to": "q1"}).ack
    assert not plan_event({"id": "a", "seq": 1, "type": "ack"}).ack
    status = plan_event({"id": "s", "seq": 1, "type": "status", "in_reply_to": "q", "text": "DOWN"})
    assert status.status == "DOWN" and status.ret is None
    assert parts_detail(1, 1) is None
    assert parts_detail(1, 3) == "1 of 3 parts — more to come"
    assert parts_detail(3, 3) == "3 of 3 parts"
    with pytest.raises(KeyError):
        plan_event({"seq": 1, "type": "ack"})


def _chain(n: int) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    prev = GENESIS
    for i in range(1, n + 1):
        row: dict[str, object] = {"n": i, "id": f"r{i}", "at": f"t{i}", "action": "query",
                                  "outcome": "success", "who": "o", "source": "client",
                                  "device": "", "detail": ""}
        row["prev_hash"], row["hash"] = prev, audit_hash(prev, row)
        prev = str(row["hash"])
        rows.append(row)
    return rows


def test_the_audit_chain_names_what_was_changed() -> None:
    rows = _chain(4)
    assert chain_problems(rows, anchor=None, anchor_n=0, head=str(rows[-1]["hash"])) == []
    edited = [dict(r) for r in rows]
    edited[1]["detail"] = "changed"
    assert "was edited" in chain_problems(edited, anchor=None, anchor_n=0,
                                          head=str(rows[-1]["hash"]))[0]
    removed = rows[:1] + rows[2:]
    assert "record 2" in chain_problems(removed, anchor=None, anchor_n=0,
                                        head=str(rows[-1]["hash"]))[0]
    assert "last one written is missing" in chain_problems(
        rows[:3], anchor=None, anchor_n=0, head=str(rows[-1]["hash"]))[0]


def test_what_the_operator_reads_for_an_event_kept_aside() -> None:
    from mdt.core.traffic import quarantine_title

    assert quarantine_title("unreadable", 7, "not JSON") == (
        "An unreadable message from the switch (inbox #7): not JSON")
    assert quarantine_title("protocol", None, "seq jump") == (
        "A message from the switch out of order: seq jump")
