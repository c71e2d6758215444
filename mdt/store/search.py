"""Offline search over cached records: exact identifiers, names (exact and sounding alike),
dates of birth and free text (FTS5), ranked and keyset-paged, each branch served by its own
index. How a search text is read: :func:`mdt.core.identifiers.search_terms`. No Qt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mdt.core.identifiers import SearchTerms, search_terms
from mdt.store.connection import CacheConnection, sorted_errors
from mdt.store.outbox import MESSAGE_KEYS, message_from_row

__all__ = ["Search", "SearchCursor", "SearchHit"]


@dataclass
class SearchHit:
    """One cached record that matches a search, with how it matched and where it came from."""

    return_id: str
    record: int
    rank: int  # 0 exact identifier, 1 exact name / date of birth, 2 sounds alike, 3 free text
    how: str
    file: str
    hit: bool
    received_at: str
    fields: dict[str, str]
    query: dict[str, Any] | None


SearchCursor = tuple[int, str, str, int]  # rank, received_at, return id, record

# the query each hit's return answers, in the same statement (not one more per hit)
_MESSAGE = ", ".join(f"msg.{k}" for k in MESSAGE_KEYS)


class Search:
    def __init__(self, db: CacheConnection) -> None:
        self.db = db

    @sorted_errors
    def search(self, query: str, limit: int = 50, after: SearchCursor | None = None
               ) -> tuple[list[SearchHit], SearchCursor | None]:
        """Cached records matching ``query``: a plate, VIN, NIC, A-number (``A…``, ``AR-…``), OLN,
        a name (``LAST, FIRST`` — also names that sound alike, by Soundex or NYSIIS), a date of
        birth (``YYYYMMDD``, ``YYYY-MM-DD``, ``MM/DD/YYYY``; with a name it narrows it), or any
        words (FTS5). Exact identifiers first (rank 0), then the exact name or date of birth (1),
        then sound-alikes (2), then free text (3); newest first within each rank. Keyset-paged:
        pass the returned cursor as ``after``; it is None on the last page."""
        terms = search_terms(query)
        if not terms.text or limit < 1:
            return [], None
        params = _params(terms, limit)
        if after is not None:
            params.update(zip(("a_rank", "a_at", "a_id", "a_n"), after, strict=True))
        sql = _statement(terms, after)
        if sql is None:
            return [], None
        rows = self.db.execute(sql, params).fetchall()
        hits = []
        for row in rows[:limit]:
            rank, return_id, n, how, file, hit, received_at, record_json, message_id = row[:9]
            record = json.loads(record_json) if record_json else {}
            message = row[9:]
            query_message = (message_from_row(message) if message_id and message[0] is not None
                             else None)
            fields = record.get("fields") if isinstance(record, dict) else None
            hits.append(SearchHit(return_id=return_id, record=n, rank=rank, how=how, file=file,
                                  hit=bool(hit), received_at=received_at,
                                  fields=dict(fields or {}), query=query_message))
        cursor = None
        if len(rows) > limit:
            last_hit = hits[-1]
            cursor = (last_hit.rank, last_hit.received_at, last_hit.return_id, last_hit.record)
        return hits, cursor


def _params(terms: SearchTerms, limit: int) -> dict[str, Any]:
    prefix, skey, nkey = terms.name_prefix, terms.name_key, terms.sound_key
    return {"ident": terms.ident or None, "arn": terms.arn or None, "name": terms.name or None,
            "name_lo": prefix, "name_hi": prefix + "\U0010ffff", "dob": terms.dob,
            "skey": skey or None, "skey_hi": skey + "\U0010ffff",
            "nkey": nkey or None, "nkey_hi": nkey + "\U0010ffff", "fetch": limit + 1,
            "fts": " ".join(f'"{t}"' for t in terms.tokens)}


def _branches(terms: SearchTerms) -> list[tuple[int, str, str]]:
    """(rank, how, condition on record_index), each condition served by one index; a record
    is listed under its best rank only."""
    name, given, dob, ident, arn = terms.name, terms.given, terms.dob, terms.ident, terms.arn
    branches: list[tuple[int, str, str]] = []
    if not name and ident:
        branches += [(0, "plate", "plate = :ident"), (0, "VIN", "vin = :ident"),
                     (0, "NIC", "nic = :ident"), (0, "licence number", "oln = :ident")]
        if arn:
            branches.append((0, "A-number", "arn = :arn"))
    # "+dob": the name's indexes (which hold dob) serve it, not the date of birth's.
    with_dob = " AND +dob = :dob" if dob else ""
    if name:
        # The name as typed (served in order), then names that go on from it ("ZANDER, ALEX"
        # also finds "ZANDER, ALEX Q"): two branches, so the first can stop after a page.
        branches += [(1, "name", f"name = :name{with_dob}"),
                     (1, "name", f"name >= :name_lo AND name < :name_hi{with_dob}")]
        # A last name alone ("KOLVEX,") sounds like every first name.
        sounds = [("name_key = :skey", "name_key >= :skey AND name_key < :skey_hi"),
                  ("sound_key = :nkey", "sound_key >= :nkey AND sound_key < :nkey_hi")]
        for full, partial in sounds if terms.name_key else []:
            branches.append((2, "sounds like", f"{full if given else partial}{with_dob}"))
    elif dob:
        branches.append((1, "date of birth", "dob = :dob"))
    return branches


_ORDER = "ORDER BY received_at DESC, return_id, n"


def _statement(terms: SearchTerms, after: SearchCursor | None) -> str | None:
    """One statement for a page of hits: each branch brings at most one page (+1, to know
    whether there is more) from its own index, newest first, stopping there (the indexes hold
    what the branch reads, so the table is not visited); a record a better rank lists is left
    out by rowid; the page is then cut, and only its records are read from ``returns``, each
    record alone (``records -> n``), with the query it answers."""
    branches = _branches(terms)

    def better(rank: int) -> list[str]:
        return [f"SELECT rowid FROM record_index WHERE {cond}"
                for r, _, cond in branches if r < rank]

    def keyset(rank: int) -> str | None:
        if after is None or rank > after[0]:
            return ""
        if rank < after[0]:
            return None
        return (" AND received_at <= :a_at AND (received_at < :a_at OR (received_at = :a_at AND "
                "(return_id > :a_id OR (return_id = :a_id AND n > :a_n))))")

    selects = []
    for rank, how, cond in branches:
        page = keyset(rank)
        if page is None:
            continue
        excluded = better(rank)
        unlisted = f" AND rowid NOT IN ({' UNION ALL '.join(excluded)})" if excluded else ""
        selects.append(f"SELECT * FROM (SELECT {rank} AS rank, rowid AS rid, '{how}' AS how, "
                       f"received_at, return_id, n FROM record_index WHERE {cond}{unlisted}"
                       f"{page} {_ORDER} LIMIT :fetch)")
    page = keyset(3)
    if not terms.name and terms.tokens and page is not None:
        # FTS5 gives rowids (the record's own); those a better rank lists go before the join.
        found = " EXCEPT ".join(["SELECT rowid FROM record_text WHERE record_text MATCH :fts",
                                 *better(3)])
        selects.append("SELECT * FROM (SELECT 3 AS rank, rowid AS rid, 'text' AS how, "
                       f"received_at, return_id, n FROM record_index WHERE rowid IN ({found})"
                       f"{page} {_ORDER} LIMIT :fetch)")
    if not selects:
        return None
    return (f"WITH m AS ({' UNION ALL '.join(selects)}), "
            "best AS MATERIALIZED (SELECT min(rank) AS rank, rid, how, received_at, return_id, n "
            "FROM m GROUP BY rid ORDER BY rank, received_at DESC, return_id, n LIMIT :fetch) "
            "SELECT b.rank, ri.return_id, ri.n, b.how, ri.file, ri.hit, ri.received_at, "
            f"r.records -> ri.n, r.message_id, {_MESSAGE} FROM best b "
            "JOIN record_index ri ON ri.rowid = b.rid JOIN returns r ON r.id = ri.return_id "
            "LEFT JOIN messages msg ON msg.id = r.message_id "
            "ORDER BY b.rank, b.received_at DESC, b.return_id, b.n")
