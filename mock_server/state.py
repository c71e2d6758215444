"""The training gateway's durable state, in SQLite (WAL): accounts, sessions and login failures
(their tables: :class:`mock_server.accounts.AccountTables`), messages (for idempotency),
per-recipient inboxes with gap-free ``seq``, what each client fetched and acknowledged,
deliveries and trainer actions scheduled for later, hit confirmation requests, records a trainer
entered, scenarios. A restart with the same data folder keeps all of it, so ``after=SEQ`` and
``Last-Event-ID`` keep working and answers already scheduled still arrive.

Used from the server's event-loop thread only; every call is one short statement or transaction.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from mdt.core.clock import format_time
from mock_server.accounts import SCHEMA as ACCOUNTS_SCHEMA
from mock_server.accounts import AccountTables

SCHEMA = ACCOUNTS_SCHEMA + """
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, body_hash TEXT NOT NULL, answer TEXT NOT NULL,
    body TEXT NOT NULL, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    recipient TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    created REAL, PRIMARY KEY (recipient, seq));
CREATE TABLE IF NOT EXISTS acks (recipient TEXT PRIMARY KEY, upto INTEGER NOT NULL, at REAL);
CREATE TABLE IF NOT EXISTS fetches (recipient TEXT PRIMARY KEY, upto INTEGER NOT NULL, at REAL);
CREATE TABLE IF NOT EXISTS audit (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, body TEXT NOT NULL, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    n INTEGER PRIMARY KEY AUTOINCREMENT, due REAL NOT NULL, recipient TEXT NOT NULL,
    body TEXT NOT NULL, held_for TEXT);
CREATE TABLE IF NOT EXISTS actions (
    n INTEGER PRIMARY KEY AUTOINCREMENT, due REAL NOT NULL, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS confirmations (
    request_id TEXT PRIMARY KEY, requester TEXT, requesting_ori TEXT NOT NULL,
    dest TEXT NOT NULL, nic TEXT NOT NULL, oca TEXT NOT NULL, pri TEXT NOT NULL,
    respond_by REAL NOT NULL, created REAL NOT NULL, answered_by TEXT, answered_at REAL,
    status TEXT);
CREATE TABLE IF NOT EXISTS entries (
    n INTEGER PRIMARY KEY AUTOINCREMENT, body TEXT NOT NULL, entered_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS scenarios (name TEXT PRIMARY KEY, body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    n INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, started_at REAL NOT NULL,
    body TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(due);
CREATE INDEX IF NOT EXISTS messages_user ON messages(user_id, received_at);
"""


def iso(ts: float) -> str:
    return format_time(datetime.fromtimestamp(ts, UTC), "milliseconds")


class State(AccountTables):
    """The gateway's one SQLite file: the account tables (:class:`AccountTables`) and the
    traffic and exercise tables below."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        # Owner-only: accounts, sessions and every trainee's traffic (SQLite gives the -wal and
        # -shm the mode of the file).
        # Made here only when new: closing a descriptor of a file this process already has open
        # in SQLite would drop SQLite's POSIX locks on it (another State in this process, e.g.
        # the trainer's line at start), and another process could then delete the live WAL.
        if not path.exists():
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        os.chmod(path, 0o600)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._depth = 0
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.execute("PRAGMA busy_timeout = 5000")
        self.db.executescript(SCHEMA)
        self._migrate()
        self._seed_accounts()

    def close(self) -> None:
        self.db.close()

    def _migrate(self) -> None:
        """Data folders of earlier versions: add the columns they lack."""
        wanted = {"deliveries": [("held_for", "TEXT")],
                  "accounts": [("demo", "INTEGER NOT NULL DEFAULT 1")],
                  "sessions": [("created_at", "REAL")],
                  "login_failures": [("source", "TEXT NOT NULL DEFAULT ''")],
                  "events": [("created", "REAL")]}
        for table, columns in wanted.items():
            have = {r[1] for r in self.db.execute(f"PRAGMA table_info({table})")}
            for name, kind in columns:
                if name not in have:
                    self.db.execute(f"ALTER TABLE {table} ADD COLUMN {name} {kind}")
        self._migrate_accounts()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transaction; nested uses join the outer one."""
        if self._depth:
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
            return
        self.db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        finally:
            self._depth = 0
        self.db.execute("COMMIT")

    _tx = transaction

    # -- messages (idempotency) ------------------------------------------------------------------
    def message(self, message_id: str) -> tuple[str, str, dict[str, Any]] | None:
        row = self.db.execute("SELECT user_id, body_hash, answer FROM messages WHERE id = ?",
                              (message_id,)).fetchone()
        return (row[0], row[1], json.loads(row[2])) if row else None

    def add_message(self, message_id: str, user_id: str, body_hash: str,
                    answer: dict[str, Any], body: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO messages VALUES (?, ?, ?, ?, ?, ?)",
                        (message_id, user_id, body_hash, json.dumps(answer), json.dumps(body),
                         time.time()))

    def messages_since(self, since: float, user_id: str | None = None,
                       keys: tuple[str, ...] = ()) -> list[tuple[str, float, dict[str, Any]]]:
        """(user id, received at, message) of messages received since ``since``, oldest first."""
        sql = "SELECT user_id, received_at, body FROM messages WHERE received_at >= ?"
        args: list[Any] = [since]
        if user_id is not None:
            sql += " AND user_id = ?"
            args.append(user_id)
        if keys:
            sql += f" AND upper(json_extract(body, '$.mke')) IN ({','.join('?' * len(keys))})"
            args += list(keys)
        rows = self.db.execute(sql + " ORDER BY received_at", args).fetchall()
        return [(r[0], r[1], json.loads(r[2])) for r in rows]

    # -- inboxes ---------------------------------------------------------------------------------
    def _append(self, recipient: str, body: dict[str, Any], now: float) -> dict[str, Any]:
        seq = self.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM events WHERE recipient = ?",
                              (recipient,)).fetchone()[0]
        event = {"seq": seq, "id": str(uuid.uuid4()), **body, "created_at": iso(now)}
        respond_in = event.pop("respond_in", None)
        if isinstance(respond_in, int | float) and not event.get("respond_by"):
            event["respond_by"] = iso(now + float(respond_in))
        self.db.execute("INSERT INTO events VALUES (?, ?, ?, ?, ?)",
                        (recipient, seq, event["id"], json.dumps(event), now))
        return event

    def append_event(self, recipient: str, body: dict[str, Any]) -> dict[str, Any]:
        with self._tx():
            return self._append(recipient, body, time.time())

    def events_after(self, recipient: str, after: int, limit: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body FROM events WHERE recipient = ? AND seq > ? "
                               "ORDER BY seq LIMIT ?", (recipient, after, limit)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def last_seq(self, recipient: str) -> int:
        row = self.db.execute("SELECT max(seq) FROM events WHERE recipient = ?",
                              (recipient,)).fetchone()
        return int(row[0] or 0)

    def recent_events(self, recipient: str, since: float, limit: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body FROM events WHERE recipient = ? AND created >= ? "
                               "ORDER BY seq DESC LIMIT ?", (recipient, since, limit)).fetchall()
        return [json.loads(r[0]) for r in reversed(rows)]

    def count_events(self, recipient: str, since: float) -> int:
        return int(self.db.execute("SELECT count(*) FROM events WHERE recipient = ? AND "
                                   "created >= ?", (recipient, since)).fetchone()[0])

    def ack(self, recipient: str, upto: int) -> None:
        self.db.execute("INSERT INTO acks VALUES (?, ?, ?) ON CONFLICT(recipient) DO UPDATE SET "
                        "upto = max(upto, excluded.upto), at = excluded.at",
                        (recipient, upto, time.time()))

    def acked(self, recipient: str) -> int:
        row = self.db.execute("SELECT upto FROM acks WHERE recipient = ?", (recipient,)).fetchone()
        return int(row[0]) if row else 0

    def fetched(self, recipient: str, upto: int) -> None:
        """The client was sent events up to ``upto`` (by a batch or the stream)."""
        self.db.execute("INSERT INTO fetches VALUES (?, ?, ?) ON CONFLICT(recipient) DO UPDATE "
                        "SET upto = max(upto, excluded.upto), at = excluded.at",
                        (recipient, upto, time.time()))

    def receipts(self, recipient: str) -> dict[str, Any]:
        fetched = self.db.execute("SELECT upto, at FROM fetches WHERE recipient = ?",
                                  (recipient,)).fetchone()
        acked = self.db.execute("SELECT upto, at FROM acks WHERE recipient = ?",
                                (recipient,)).fetchone()
        return {"fetched_upto": fetched[0] if fetched else 0,
                "fetched_at": iso(fetched[1]) if fetched and fetched[1] else None,
                "acked_upto": acked[0] if acked else 0,
                "acked_at": iso(acked[1]) if acked and acked[1] else None}

    # -- client audit records (kept by the server: CJIS wants a year) ------------------------------
    def add_audit(self, user_id: str, records: list[dict[str, Any]]) -> int:
        """Store records by their own ids; a repeat of a known id changes nothing."""
        before = self.db.total_changes
        self.db.executemany("INSERT OR IGNORE INTO audit VALUES (?, ?, ?, ?)",
                            [(str(r["id"]), user_id, json.dumps(r), time.time())
                             for r in records])
        return self.db.total_changes - before

    def audit_count(self, user_id: str) -> int:
        return int(self.db.execute("SELECT count(*) FROM audit WHERE user_id = ?",
                                   (user_id,)).fetchone()[0])

    # -- deliveries scheduled for later ----------------------------------------------------------
    def schedule(self, due: float, recipient: str, body: dict[str, Any],
                 held_for: str | None = None) -> None:
        self.db.execute("INSERT INTO deliveries(due, recipient, body, held_for) "
                        "VALUES (?, ?, ?, ?)", (due, recipient, json.dumps(body), held_for))

    def schedule_many(self, items: list[tuple[float, str, dict[str, Any]]],
                      held_for: str | None = None) -> None:
        """Several deliveries in one transaction."""
        with self._tx():
            self.db.executemany(
                "INSERT INTO deliveries(due, recipient, body, held_for) VALUES (?, ?, ?, ?)",
                [(due, r, json.dumps(body), held_for) for due, r, body in items])

    def release_held(self, destinations: list[str], now: float) -> None:
        """A destination is back up: what waited for it is due now."""
        marks = ",".join("?" * len(destinations))
        self.db.execute(f"UPDATE deliveries SET due = ?, held_for = NULL "
                        f"WHERE held_for IN ({marks})", (now, *destinations))

    def next_due(self) -> float | None:
        row = self.db.execute(
            "SELECT min(due) FROM (SELECT min(due) AS due FROM deliveries WHERE held_for IS NULL "
            "UNION ALL SELECT min(due) FROM actions)").fetchone()
        return row[0] if row and row[0] is not None else None

    def deliver_due(self, now: float) -> list[tuple[str, dict[str, Any]]]:
        """Move every delivery that is due into its inbox, in one transaction (a crash delivers
        all of them or none, never one twice). Events are stamped with the delivery time."""
        delivered: list[tuple[str, dict[str, Any]]] = []
        with self._tx():
            rows = self.db.execute("SELECT n, recipient, body FROM deliveries WHERE due <= ? "
                                   "AND held_for IS NULL ORDER BY due, n", (now,)).fetchall()
            for n, recipient, body in rows:
                delivered.append((recipient, self._append(recipient, json.loads(body), now)))
                self.db.execute("DELETE FROM deliveries WHERE n = ?", (n,))
        return delivered

    def pending_count(self, recipient: str | None = None) -> int:
        if recipient is None:
            return int(self.db.execute("SELECT count(*) FROM deliveries").fetchone()[0])
        return int(self.db.execute("SELECT count(*) FROM deliveries WHERE recipient = ?",
                                   (recipient,)).fetchone()[0])

    # -- trainer actions scheduled for later (scenario steps) -------------------------------------
    def schedule_actions(self, items: list[tuple[float, dict[str, Any]]]) -> None:
        with self._tx():
            self.db.executemany("INSERT INTO actions(due, body) VALUES (?, ?)",
                                [(due, json.dumps(body)) for due, body in items])

    def take_due_actions(self, now: float) -> list[dict[str, Any]]:
        with self._tx():
            rows = self.db.execute("SELECT n, body FROM actions WHERE due <= ? ORDER BY due, n",
                                   (now,)).fetchall()
            self.db.executemany("DELETE FROM actions WHERE n = ?", [(r[0],) for r in rows])
        return [json.loads(r[1]) for r in rows]

    PAUSE_SHIFT = 1e9  # seconds added to a paused scenario's steps: never due while paused

    def pause_actions(self, now: float) -> bool:
        """Hold the scenario's steps still to come (False if already paused)."""
        with self._tx():
            if self.get_meta("paused_at"):
                return False
            self.db.execute("UPDATE actions SET due = due + ?", (self.PAUSE_SHIFT,))
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('paused_at', ?)", (str(now),))
        return True

    def resume_actions(self, now: float) -> float:
        """Let the held steps come again, later by the time spent paused; returns that time."""
        with self._tx():
            paused = self.get_meta("paused_at")
            if not paused:
                return 0.0
            held = max(0.0, now - float(paused))
            self.db.execute("UPDATE actions SET due = due - ? + ?", (self.PAUSE_SHIFT, held))
            self.db.execute("DELETE FROM meta WHERE key = 'paused_at'")
        return held

    def paused_at(self) -> float | None:
        value = self.get_meta("paused_at")
        return float(value) if value else None

    def pending_actions(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM actions").fetchone()[0])

    def audit_records(self, user_id: str, since: float) -> list[dict[str, Any]]:
        """The audit records a client shipped (alert acknowledgements, views ...), oldest first."""
        rows = self.db.execute("SELECT body FROM audit WHERE user_id = ? AND received_at >= ?",
                               (user_id, since)).fetchall()
        records = [json.loads(r[0]) for r in rows]
        return sorted(records, key=lambda r: str(r.get("at") or ""))

    # -- hit confirmation requests ---------------------------------------------------------------
    def add_confirmation(self, request_id: str, requester: str | None, requesting_ori: str,
                         dest: list[str], nic: str, oca: str, pri: str, respond_by: float
                         ) -> None:
        self.db.execute("INSERT OR IGNORE INTO confirmations(request_id, requester, "
                        "requesting_ori, dest, nic, oca, pri, respond_by, created) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (request_id, requester, requesting_ori, json.dumps(dest), nic, oca, pri,
                         respond_by, time.time()))

    def find_confirmation(self, nic: str, oca: str, requesting_ori: str, answering_ori: str
                          ) -> tuple[Any, ...] | None:
        """The latest request with this NIC and OCA from ``requesting_ori`` to ``answering_ori``:
        (request id, requester, requesting ORI, dest, nic, oca, pri, respond_by)."""
        rows = self.db.execute(
            "SELECT request_id, requester, requesting_ori, dest, nic, oca, pri, respond_by "
            "FROM confirmations WHERE nic = ? AND oca = ? AND requesting_ori = ? "
            "ORDER BY created DESC", (nic, oca, requesting_ori)).fetchall()
        for row in rows:
            if answering_ori in json.loads(row[3]):
                return (row[0], row[1], row[2], json.loads(row[3]), *row[4:])
        return None

    def confirmation_answered(self, request_id: str) -> bool:
        """Whether a request was answered; a request the gateway does not know counts as
        answered (a reset took it away: nothing to escalate)."""
        row = self.db.execute("SELECT answered_at FROM confirmations WHERE request_id = ?",
                              (request_id,)).fetchone()
        return row is None or row[0] is not None

    def answer_confirmation(self, request_id: str, status: str, user_id: str) -> None:
        self.db.execute("UPDATE confirmations SET answered_by = ?, answered_at = ?, status = ? "
                        "WHERE request_id = ? AND answered_at IS NULL",
                        (user_id, time.time(), status, request_id))

    def confirmations(self, since: float) -> list[dict[str, Any]]:
        rows = self.db.execute(
            "SELECT request_id, requester, requesting_ori, dest, nic, oca, pri, respond_by, "
            "created, answered_by, answered_at, status FROM confirmations WHERE created >= ? "
            "ORDER BY created", (since,)).fetchall()
        out = []
        now = time.time()
        for r in rows:
            answered_at = r[10]
            out.append({"request_id": r[0], "requester": r[1], "requesting_ori": r[2],
                        "dest": json.loads(r[3]), "nic": r[4], "oca": r[5], "pri": r[6],
                        "sent_at": iso(r[8]), "respond_by": iso(r[7]), "answered_by": r[9],
                        "answered_at": iso(answered_at) if answered_at else None,
                        "status": r[11],
                        "on_time": (answered_at <= r[7]) if answered_at else
                        (None if now <= r[7] else False)})
        return out

    # -- records a trainer entered ---------------------------------------------------------------
    def add_entry(self, body: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO entries(body, entered_at) VALUES (?, ?)",
                        (json.dumps(body), time.time()))

    def entries(self) -> list[dict[str, Any]]:
        return [json.loads(r[0]) for r in self.db.execute("SELECT body FROM entries ORDER BY n")]

    # -- scenarios -------------------------------------------------------------------------------
    def save_scenario(self, name: str, body: dict[str, Any]) -> None:
        self.db.execute("INSERT OR REPLACE INTO scenarios VALUES (?, ?)", (name, json.dumps(body)))

    def saved_scenarios(self) -> dict[str, dict[str, Any]]:
        return {r[0]: json.loads(r[1]) for r in self.db.execute("SELECT name, body FROM scenarios")}

    def add_run(self, name: str, body: dict[str, Any]) -> None:
        self.db.execute("INSERT INTO runs(name, started_at, body) VALUES (?, ?, ?)",
                        (name, time.time(), json.dumps(body)))

    def last_run(self) -> tuple[str, float, dict[str, Any]] | None:
        row = self.db.execute("SELECT name, started_at, body FROM runs ORDER BY n DESC LIMIT 1"
                              ).fetchone()
        return (row[0], row[1], json.loads(row[2])) if row else None

    # -- meta and reset --------------------------------------------------------------------------
    def get_meta(self, key: str, default: str = "") -> str:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_meta(self, key: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def reset(self, now: float) -> None:
        """Back to the start of a class: nothing pending, no entered records, no lockouts, no open
        confirmation requests. Inboxes keep their events and numbering (a client's ``after=SEQ``
        stays valid); sessions stay, so trainees stay signed in."""
        with self._tx():
            for table in ("deliveries", "actions", "entries", "login_failures", "confirmations"):
                self.db.execute(f"DELETE FROM {table}")
            self.db.execute("DELETE FROM meta WHERE key = 'paused_at'")
            self.db.execute("INSERT OR REPLACE INTO meta VALUES ('reset_at', ?)", (str(now),))
