"""The audit log's hash chain: each record's hash covers the one before it, so an edited,
removed, inserted or moved record shows. No Qt, no SQL (the cache stores the chain:
:mod:`mdt.store.audit`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["CHAINED_FIELDS", "GENESIS", "audit_hash", "chain_problems"]

GENESIS = "0" * 64
CHAINED_FIELDS = ("id", "at", "action", "outcome", "who", "source", "device", "detail")


def audit_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    body = json.dumps({k: row[k] for k in CHAINED_FIELDS}, sort_keys=True)
    return hashlib.sha256((prev_hash + body).encode("utf-8")).hexdigest()


def chain_problems(rows: Sequence[Mapping[str, Any]], *, anchor: str | None, anchor_n: int,
                   head: str | None) -> list[str]:
    """Walk the chain (``rows`` in order of ``n``, each with ``n``, the chained fields,
    ``prev_hash`` and ``hash``), starting after the pruned records (``anchor``, the hash of the
    last one, and ``anchor_n``, its number) and ending at ``head`` (the hash written last): name
    every record that was edited, removed, inserted or moved, in words for a person."""
    problems: list[str] = []
    by_hash = {row["hash"]: row for row in rows}

    def name(row: Mapping[str, Any]) -> str:
        return f"Audit record {row['n']} ({row['action']} at {row['at']})"

    prev_hash, prev_n = anchor or GENESIS, anchor_n
    for i, row in enumerate(rows):
        if audit_hash(row["prev_hash"], row) != row["hash"]:
            problems.append(f"{name(row)} was edited: its contents do not match its hash.")
        if row["prev_hash"] != prev_hash:
            two_back = rows[i - 2]["hash"] if i >= 2 else (anchor or GENESIS)
            if i >= 1 and row["prev_hash"] == two_back:
                problems.append(f"{name(rows[i - 1])} was inserted: the chain goes from the "
                                f"record before it straight to record {row['n']}.")
            elif row["prev_hash"] in by_hash and by_hash[row["prev_hash"]] is not row:
                problems.append(f"{name(row)} is out of order: it was written right after "
                                f"record {by_hash[row['prev_hash']]['n']}.")
            elif row["n"] > prev_n + 1:
                missing = (f"record {prev_n + 1}" if row["n"] == prev_n + 2
                           else f"records {prev_n + 1} to {row['n'] - 1}")
                problems.append(f"Audit {missing}, before record {row['n']}, "
                                "removed: the chain is broken there.")
            else:
                problems.append(f"{name(row)} does not follow the record before it: one was "
                                "removed, inserted or moved.")
        prev_hash, prev_n = row["hash"], int(row["n"])
    if head is None:
        if rows or anchor:
            problems.append("Audit records cannot be checked to the end: the log's end "
                            "marker was removed.")
    elif head != prev_hash:
        if head in by_hash:
            problems.append(f"{name(by_hash[head])} was the last one written, but the log "
                            f"now ends with record {rows[-1]['n']}: records were moved.")
        else:
            problems.append(f"Audit records written after record {prev_n or 'the start'} "
                            "were removed: the last one written is missing.")
    return problems
