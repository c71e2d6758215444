"""Offline search over cached records: exact identifiers, names (exact and sounding alike),
dates of birth and free text (FTS5), ranked and keyset-paged, each branch served by its own
index. How a search text is read: :func:`mdt.core.identifiers.search_terms`. No Qt."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from mdt.core.identifiers import search_terms
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
        name, given, dob, ident, arn = terms.name, terms.given, terms.dob, terms.ident, terms.arn
        prefix, skey, nkey = terms.name_prefix, terms.name_key, terms.sound_key
        params: dict[str, Any] = {
            "ident": ident or None, "arn": arn or None, "name": name or None,
            "name_lo": prefix, "name_hi": prefix + "\U0010ffff", "dob": dob,
            "skey": skey or None, "skey_hi": skey + "\U0010ffff",
            "nkey": nkey or None, "nkey_hi": nkey + "\U0010ffff",
            "fetch": limit + 1}
        # (rank, how, condition on record_index); a record is listed under its best rank only.
        branches: list[tuple[int, str, str]] = []
        if not name and ident:
            branches += [(0, "plate", "plate = :ident"), (0, "VIN", "vin = :ident"),
                         (0, "NIC", "nic = :ident"), (0, "licence number", "oln = :ident")]
            if arn:
                branches.append((0, "A-number", "arn = :arn"))
        exact_name = "(name = :name OR (name >= :name_lo AND name < :name_hi))"
        with_dob = "(:dob IS NULL OR dob = :dob)"
        if name:
            branches.append((1, "name", f"{exact_name} AND {with_dob}"))
            # A last name alone ("KOLVEX,") sounds like every first name.
            sounds = [("name_key = :skey", "name_key >= :skey AND name_key < :skey_hi"),
                      ("sound_key = :nkey", "sound_key >= :nkey AND sound_key < :nkey_hi")]
            for full, partial in sounds:
                if skey:
                    branches.append((2, "sounds like", f"{full if given else partial} AND "
                                                       f"{with_dob}"))
        elif dob:
            branches.append((1, "date of birth", "dob = :dob"))

        def better(rank: int) -> str:
            conds = [f"({cond})" for r, _, cond in branches if r < rank]
            return f" AND NOT coalesce({' OR '.join(conds)}, 0)" if conds else ""

        if after is not None:
            params.update(zip(("a_rank", "a_at", "a_id", "a_n"), after, strict=True))

        def keyset(rank: int, prefix: str = "") -> str:
            if after is None or rank > after[0]:
                return "1"
            if rank < after[0]:
                return "0"
            return (f"({prefix}received_at < :a_at OR ({prefix}received_at = :a_at AND "
                    f"({prefix}return_id > :a_id OR ({prefix}return_id = :a_id AND "
                    f"{prefix}n > :a_n))))")

        # Each branch brings at most one page (+1, to know whether there is more), newest first,
        # from its own index, so a common name costs a page, not every record that sounds like it.
        selects = [
            f"SELECT * FROM (SELECT {rank} AS rank, return_id, n, '{how}' AS how, received_at "
            f"FROM record_index WHERE {cond}{better(rank)} AND {keyset(rank)} "
            "ORDER BY received_at DESC, return_id, n LIMIT :fetch)"
            for rank, how, cond in branches if keyset(rank) != "0"]
        fts = "" if name else " ".join(f'"{t}"' for t in terms.tokens)
        if fts and keyset(3) != "0":
            params["fts"] = fts
            selects.append(
                "SELECT * FROM (SELECT 3 AS rank, t.return_id, CAST(t.n AS INTEGER) AS n, "
                "'text' AS how, ri.received_at FROM record_text t JOIN record_index ri "
                "ON ri.return_id = t.return_id AND ri.n = t.n "
                f"WHERE record_text MATCH :fts{better(3)} AND {keyset(3, 'ri.')} "
                "ORDER BY ri.received_at DESC, t.return_id, t.n LIMIT :fetch)")
        if not selects:
            return [], None
        sql = (f"WITH m AS ({' UNION ALL '.join(selects)}) "
               "SELECT min(m.rank) AS rank, m.return_id, m.n, m.how, ri.file, ri.hit, "
               f"ri.received_at, r.records, r.message_id, {_MESSAGE} FROM m "
               "JOIN record_index ri ON ri.return_id = m.return_id AND ri.n = m.n "
               "JOIN returns r ON r.id = m.return_id "
               "LEFT JOIN messages msg ON msg.id = r.message_id "
               "GROUP BY m.return_id, m.n "
               "ORDER BY rank, ri.received_at DESC, m.return_id, m.n LIMIT :fetch")
        rows = self.db.execute(sql, params).fetchall()
        hits = []
        for row in rows[:limit]:
            rank, return_id, n, how, file, hit, received_at, records, message_id = row[:9]
            record = json.loads(records)[n]
            message = row[9:]
            query_message = (message_from_row(message) if message_id and message[0] is not None
                             else None)
            hits.append(SearchHit(return_id=return_id, record=n, rank=rank, how=how, file=file,
                                  hit=bool(hit), received_at=received_at,
                                  fields=dict(record.get("fields") or {}), query=query_message))
        cursor = None
        if len(rows) > limit:
            last_hit = hits[-1]
            cursor = (last_hit.rank, last_hit.received_at, last_hit.return_id, last_hit.record)
        return hits, cursor
