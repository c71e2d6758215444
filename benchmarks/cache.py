"""The encrypted cache against the same code over plain SQLite, in one run.

Workload: insert N synthetic records (a queued query and its return of 10 records each, as a
batch catch-up would; ``--batch`` of them a transaction, 1 = a commit each as the app does), then
look-ups, each kind timed on its own and reported as p95 in ms (on the clock, and in the thread's CPU
time: on a shared machine the clock's p95 is mostly waiting for a core): name, sound-alike name, plate,
VIN, A-number and date of birth through ``Cache.search``, a page of the returns list
(``list_returns(before=...)`` keyset paging, from a random place) and one return by id. Also: open
+ unlock time (KDF + keystore + SQLCipher open + first read), the KDF alone, and erasing
everything (secure_delete + incremental vacuum). Prints one JSON object last.

    .venv/bin/python benchmarks/cache.py [--records 100000] [--lookups 200] [--batch 1]
        [--no-erase]

Goal (issue #19): every look-up kind's p95 <= 5 ms at ``--records 1000000``.

"Plain SQLite" is the same ``Cache`` class on a ``sqlcipher3`` connection that was never keyed
(SQLCipher without a key is plain SQLite), so only the encryption differs.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import keyring
import sqlcipher3
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

from mdt.store.cache import Cache
from mdt.store.keys import KeyVault, ScryptParams

LAST = ["ZANDER", "KOLVEX", "TALBRO", "NORWEN", "DAXPEL", "MIRTAL", "QUINBRO", "SEVLOR", "RIXTOV",
        "WENGAR", "HULJEX", "FENDAX", "PELNOR", "BROQUIN", "TALMIR", "LORSEV"]
FIRST = ["ALEX", "JORDAN", "CASEY", "MORGAN", "RILEY", "TAYLOR", "QUINN", "AVERY", "ROWAN"]


def make_records(n: int, seed: int = 7) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    records = []
    for i in range(n):
        last = rng.choice(LAST) + rng.choice(LAST)[:3]
        records.append({
            "file": rng.choice(["VEHICLE", "WANTED", "REG", "DL"]), "hit": rng.random() < 0.03,
            "nic": f"W{i:09d}", "category": None, "caution_codes": [], "caveats": [],
            "fields": {"NAM": f"{last}, {rng.choice(FIRST)} {chr(65 + i % 26)}",
                       "DOB": f"19{rng.randint(50, 99)}0{rng.randint(1, 9)}1{rng.randint(0, 9)}",
                       "LIC": f"B{i:07d}", "LIS": "MD", "VIN": f"1BENCH{i:011d}",
                       "MNU": f"AR-{100000000 + i}", "OFF": "BURGLARY"}})
    return records


def fill(cache: Cache, records: list[dict[str, Any]], per_event: int = 10,
         batch: int = 1) -> float:
    """Queue a query and apply its return, for each ``per_event`` records; ``batch`` queries and
    returns share one transaction (1: a commit each, as the app does)."""
    start = time.perf_counter()
    events = [{"seq": seq, "id": f"ev{seq}", "type": "response", "mke": "QW", "source": "NCIC",
               "in_reply_to": f"q{seq}", "text": "", "records": records[i:i + per_event]}
              for seq, i in enumerate(range(0, len(records), per_event), 1)]
    queries = [{"id": f"q{e['seq']}", "mke": "QW", "dest": ["NCIC"], "text": "QW",
                "fields": {"NAM": e["records"][0]["fields"]["NAM"]}} for e in events]
    for i in range(0, len(events), batch):
        if batch == 1:
            cache.add_outgoing(queries[i])
            cache.apply_event(events[i])
            continue
        with cache.connection.transaction():
            for query, event in zip(queries[i:i + batch], events[i:i + batch], strict=True):
                cache.repos.outbox.put(query)
                cache.repos.inbox.put(event)
    return time.perf_counter() - start


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[18] * 1000 if len(samples) > 1 else samples[0] * 1000


def lookups(cache: Cache, records: list[dict[str, Any]],
            count: int) -> tuple[dict[str, float], dict[str, float]]:
    """p95 of each look-up kind in ms: on the clock, and in this thread's CPU time (on a shared
    machine the clock's p95 is mostly the time the thread waited for a core)."""
    rng = random.Random(11)
    picks = [rng.choice(records)["fields"] for _ in range(count)]
    queries = {
        "name": [f["NAM"] for f in picks],
        "phonetic_name": [f["NAM"].split(",")[0][:-1] + "E, " + f["NAM"].split(", ")[1]
                          for f in picks],
        "plate": [f["LIC"] for f in picks],
        "vin": [f["VIN"] for f in picks],
        "a_number": [f["MNU"][3:] for f in picks],
        "dob": [f["DOB"] for f in picks],
    }
    events = len(records) // 10 or 1
    ids = [f"ev{rng.randint(1, events)}" for _ in range(count)]
    kinds: dict[str, tuple[Any, list[Any]]] = {
        kind: (lambda text: cache.search(text, limit=20), texts) for kind, texts in queries.items()}
    kinds["returns_page"] = (lambda i: cache.list_returns(50, before=i), ids)
    kinds["return_by_id"] = (cache.get_return, ids)
    wall, cpu = {}, {}
    for kind, (run, args) in kinds.items():
        samples, cpu_samples = [], []
        for arg in args:
            start, start_cpu = time.perf_counter(), time.thread_time()
            run(arg)
            samples.append(time.perf_counter() - start)
            cpu_samples.append(time.thread_time() - start_cpu)
        wall[kind], cpu[kind] = round(p95(samples), 3), round(p95(cpu_samples), 3)
    return wall, cpu


def plain_cache(path: Path) -> Cache:
    conn = sqlcipher3.connect(str(path), timeout=5.0, isolation_level=None)
    for pragma in ("journal_mode = WAL", "foreign_keys = ON", "secure_delete = ON",
                   "synchronous = NORMAL", "cache_size = -32768"):
        conn.execute(f"PRAGMA {pragma}")
    cache = Cache(conn, path)
    cache._migrate()
    return cache


class Memory(keyring.backend.KeyringBackend):
    """An in-memory keystore: the benchmark never touches the real OS keystore."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.entries.pop((service, username), None)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--lookups", type=int, default=200)
    parser.add_argument("--batch", type=int, default=1, help="events a transaction when filling")
    parser.add_argument("--no-erase", action="store_true", help="skip erasing everything")
    args = parser.parse_args()
    records = make_records(args.records)
    keyring.set_keyring(Memory())
    vault = KeyVault()  # the shipped KDF cost
    key = vault.create_profile("bench", "a passphrase")
    with tempfile.TemporaryDirectory() as folder:
        enc_path, plain_path = Path(folder) / "enc.db", Path(folder) / "plain.db"
        enc = Cache.open(enc_path, key, create=True)
        plain = plain_cache(plain_path)
        insert_enc = fill(enc, records, batch=args.batch)
        insert_plain = fill(plain, records, batch=args.batch)
        look_enc, cpu_enc = lookups(enc, records, args.lookups)
        look_plain, cpu_plain = lookups(plain, records, args.lookups)
        enc.close()
        plain.close()
        start = time.perf_counter()
        Cache.open(enc_path, key).close()
        open_ms = (time.perf_counter() - start) * 1000
        params = ScryptParams()
        start = time.perf_counter()
        Scrypt(salt=bytes(16), length=32, n=params.n, r=params.r, p=params.p).derive(b"pw")
        kdf_ms = (time.perf_counter() - start) * 1000
        start = time.perf_counter()  # what a sign-in costs: KDF, keystore, open, first read
        opened = Cache.open(enc_path, vault.unlock("bench", "a passphrase"))
        opened.list_returns(1)
        open_unlock_ms = (time.perf_counter() - start) * 1000
        erase_s = None
        if not args.no_erase:
            start = time.perf_counter()
            opened.erase_cached()
            erase_s = round(time.perf_counter() - start, 2)
        opened.close()
    ratios = {k: round(look_enc[k] / look_plain[k], 2) if look_plain[k] else None
              for k in look_enc}
    print(f"insert {args.records} records: SQLCipher {insert_enc:.1f} s, plain {insert_plain:.1f} s")
    for kind in look_enc:
        print(f"p95 {kind}: SQLCipher {look_enc[kind]:.2f} ms, plain {look_plain[kind]:.2f} ms "
              f"(CPU: {cpu_enc[kind]:.2f} ms, {cpu_plain[kind]:.2f} ms)")
    print(json.dumps({
        "bench": "cache", "records": args.records,
        "insert_s": round(insert_enc, 2), "insert_plain_s": round(insert_plain, 2),
        "insert_ratio": round(insert_enc / insert_plain, 2),
        "p95_ms": look_enc, "p95_plain_ms": look_plain, "p95_ratio": ratios,
        "p95_worst_ms": max(look_enc.values()),
        "p95_cpu_ms": cpu_enc, "p95_cpu_plain_ms": cpu_plain,
        "p95_cpu_worst_ms": max(cpu_enc.values()),
        "open_ms": round(open_ms, 1), "open_unlock_ms": round(open_unlock_ms, 1),
        "kdf_ms": round(kdf_ms, 1), "erase_all_s": erase_s, "batch": args.batch,
        "lookups": args.lookups, "goal_p95_ms": 5.0,
        "goal_met": max(look_enc.values()) <= 5.0}))


if __name__ == "__main__":
    main()
