"""The training gateway's durable state, in SQLite (WAL): accounts, sessions, login failures,
messages (for idempotency), per-recipient inboxes with gap-free ``seq``, acks, and deliveries
scheduled for later. A restart with the same data folder keeps all of it, so ``after=SEQ`` and
``Last-Event-ID`` keep working and answers already scheduled still arrive.

Used from the server's event-loop thread only.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import sqlite3
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    user_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL, salt TEXT NOT NULL,
    otp_secret TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, ori TEXT NOT NULL,
    unit TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY, user_id TEXT NOT NULL, device_id TEXT, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS login_failures (user_id TEXT NOT NULL, at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, body_hash TEXT NOT NULL, answer TEXT NOT NULL,
    body TEXT NOT NULL, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS events (
    recipient TEXT NOT NULL, seq INTEGER NOT NULL, id TEXT NOT NULL, body TEXT NOT NULL,
    PRIMARY KEY (recipient, seq));
CREATE TABLE IF NOT EXISTS acks (recipient TEXT PRIMARY KEY, upto INTEGER NOT NULL, at REAL);
CREATE TABLE IF NOT EXISTS audit (
    id TEXT PRIMARY KEY, user_id TEXT NOT NULL, body TEXT NOT NULL, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS deliveries (
    n INTEGER PRIMARY KEY AUTOINCREMENT, due REAL NOT NULL, recipient TEXT NOT NULL,
    body TEXT NOT NULL, held_for TEXT);
"""

# (user id, name, role, ORI, unit). Password for every demo account: "training".
DEMO_ACCOUNTS = [
    ("officer1", "Officer Tess Trainee", "officer", "MD1012600", "Car 12"),
    ("officer2", "Officer Ravi Rookie", "officer", "MD1012600", "Car 14"),
    ("dispatch1", "Dispatcher Dana Desk", "dispatcher", "MD1012600", "Dispatch"),
    ("officer3", "Officer Vic Virginia", "officer", "VA0290000", "Unit 3"),
    ("dispatch2", "Dispatcher Val Queue", "dispatcher", "VA0290000", "Dispatch"),
    ("officer4", "Officer Mo County", "officer", "MD0030000", "Car 40"),
    ("trainer1", "Trainer Terry Teach", "trainer", "MD1012600", "Academy"),
]
DEMO_PASSWORD = "training"


def otp_secret_for(user_id: str) -> str:
    """A fixed base32 TOTP secret per demo account, so the docs can list it."""
    return base64.b32encode(hashlib.sha256(f"mdt-demo-{user_id}".encode()).digest()[:20]).decode()


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _hash_password(password: str, salt: str) -> str:
    return hashlib.scrypt(password.encode(), salt=salt.encode(), n=2**12, r=8, p=1).hex()


@dataclass
class Account:
    user_id: str
    name: str
    role: str
    ori: str
    unit: str
    otp_secret: str

    def public(self) -> dict[str, str]:
        return {"id": self.user_id, "name": self.name, "role": self.role, "ori": self.ori,
                "unit": self.unit}


class State:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self.db.execute("PRAGMA journal_mode = WAL")
        self.db.execute("PRAGMA synchronous = NORMAL")
        self.db.executescript(SCHEMA)
        columns = {r[1] for r in self.db.execute("PRAGMA table_info(deliveries)")}
        if "held_for" not in columns:  # a data folder from before destination faults
            self.db.execute("ALTER TABLE deliveries ADD COLUMN held_for TEXT")
        self._seed_accounts()

    def _seed_accounts(self) -> None:
        for user_id, name, role, ori, unit in DEMO_ACCOUNTS:
            if self.db.execute("SELECT 1 FROM accounts WHERE user_id = ?", (user_id,)).fetchone():
                continue
            salt = secrets.token_hex(8)
            self.db.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (user_id, _hash_password(DEMO_PASSWORD, salt), salt,
                             otp_secret_for(user_id), name, role, ori, unit))

    # -- accounts and sessions -------------------------------------------------------------------
    def account(self, user_id: str) -> Account | None:
        row = self.db.execute("SELECT user_id, name, role, ori, unit, otp_secret FROM accounts "
                              "WHERE user_id = ?", (user_id,)).fetchone()
        return Account(*row) if row else None

    def accounts(self) -> list[Account]:
        rows = self.db.execute("SELECT user_id, name, role, ori, unit, otp_secret FROM accounts "
                               "ORDER BY rowid").fetchall()
        return [Account(*r) for r in rows]

    def check_password(self, user_id: str, password: str) -> bool:
        row = self.db.execute("SELECT password_hash, salt FROM accounts WHERE user_id = ?",
                              (user_id,)).fetchone()
        return bool(row) and secrets.compare_digest(row[0], _hash_password(password, row[1]))

    def recent_failures(self, user_id: str, window: float, now: float) -> list[float]:
        rows = self.db.execute("SELECT at FROM login_failures WHERE user_id = ? AND at > ? "
                               "ORDER BY at", (user_id, now - window)).fetchall()
        return [r[0] for r in rows]

    def add_failure(self, user_id: str, now: float) -> None:
        self.db.execute("INSERT INTO login_failures VALUES (?, ?)", (user_id, now))

    def clear_failures(self, user_id: str) -> None:
        self.db.execute("DELETE FROM login_failures WHERE user_id = ?", (user_id,))

    def new_session(self, user_id: str, device_id: str, ttl: float) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        expires = time.time() + ttl
        self.db.execute("INSERT INTO sessions(token, user_id, device_id, expires_at) "
                        "VALUES (?, ?, ?, ?)", (token, user_id, device_id, expires))
        return token, expires

    def session(self, token: str) -> tuple[str, float, bool] | None:
        row = self.db.execute("SELECT user_id, expires_at, revoked FROM sessions WHERE token = ?",
                              (token,)).fetchone()
        return (row[0], row[1], bool(row[2])) if row else None

    def revoke(self, token: str) -> None:
        self.db.execute("UPDATE sessions SET revoked = 1 WHERE token = ?", (token,))

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

    # -- inboxes ---------------------------------------------------------------------------------
    def append_event(self, recipient: str, body: dict[str, Any]) -> dict[str, Any]:
        self.db.execute("BEGIN IMMEDIATE")
        try:
            seq = self.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM events WHERE "
                                  "recipient = ?", (recipient,)).fetchone()[0]
            event = {"seq": seq, "id": str(uuid.uuid4()), **body}
            self.db.execute("INSERT INTO events VALUES (?, ?, ?, ?)",
                            (recipient, seq, event["id"], json.dumps(event)))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return event

    def events_after(self, recipient: str, after: int, limit: int) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT body FROM events WHERE recipient = ? AND seq > ? "
                               "ORDER BY seq LIMIT ?", (recipient, after, limit)).fetchall()
        return [json.loads(r[0]) for r in rows]

    def ack(self, recipient: str, upto: int) -> None:
        self.db.execute("INSERT INTO acks VALUES (?, ?, ?) ON CONFLICT(recipient) DO UPDATE SET "
                        "upto = max(upto, excluded.upto), at = excluded.at",
                        (recipient, upto, time.time()))

    def acked(self, recipient: str) -> int:
        row = self.db.execute("SELECT upto FROM acks WHERE recipient = ?", (recipient,)).fetchone()
        return int(row[0]) if row else 0

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

    def schedule_many(self, items: list[tuple[float, str, dict[str, Any]]]) -> None:
        """Several deliveries in one transaction."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.executemany("INSERT INTO deliveries(due, recipient, body) VALUES (?, ?, ?)",
                                [(due, r, json.dumps(body)) for due, r, body in items])
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def release_held(self, destinations: list[str], now: float) -> None:
        """A destination is back up: what waited for it is due now."""
        marks = ",".join("?" * len(destinations))
        self.db.execute(f"UPDATE deliveries SET due = ?, held_for = NULL "
                        f"WHERE held_for IN ({marks})", (now, *destinations))

    def next_due(self) -> float | None:
        row = self.db.execute("SELECT min(due) FROM deliveries WHERE held_for IS NULL").fetchone()
        return row[0] if row and row[0] is not None else None

    def deliver_due(self, now: float) -> list[tuple[str, dict[str, Any]]]:
        """Move every delivery that is due into its inbox, in one transaction (a crash delivers
        all of them or none, never one twice)."""
        delivered: list[tuple[str, dict[str, Any]]] = []
        self.db.execute("BEGIN IMMEDIATE")
        try:
            rows = self.db.execute("SELECT n, recipient, body FROM deliveries WHERE due <= ? "
                                   "AND held_for IS NULL ORDER BY due, n", (now,)).fetchall()
            for n, recipient, body in rows:
                seq = self.db.execute("SELECT coalesce(max(seq), 0) + 1 FROM events WHERE "
                                      "recipient = ?", (recipient,)).fetchone()[0]
                event = {"seq": seq, "id": str(uuid.uuid4()), **json.loads(body)}
                self.db.execute("INSERT INTO events VALUES (?, ?, ?, ?)",
                                (recipient, seq, event["id"], json.dumps(event)))
                self.db.execute("DELETE FROM deliveries WHERE n = ?", (n,))
                delivered.append((recipient, event))
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return delivered
