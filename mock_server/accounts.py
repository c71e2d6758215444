"""Who may sign in to the training gateway: accounts (the demo ones seeded, ``--live`` ones
added), passwords (scrypt), one-time code steps used, failed sign-ins, and sessions (tokens kept
hashed). Tables of the gateway's :class:`~mock_server.state.State`.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import sqlite3
import time
from dataclasses import dataclass
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS accounts (
    user_id TEXT PRIMARY KEY, password_hash TEXT NOT NULL, salt TEXT NOT NULL,
    otp_secret TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL, ori TEXT NOT NULL,
    unit TEXT NOT NULL, demo INTEGER NOT NULL DEFAULT 1);
CREATE TABLE IF NOT EXISTS sessions (
    token TEXT PRIMARY KEY, user_id TEXT NOT NULL, device_id TEXT, expires_at REAL NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0, created_at REAL);
CREATE TABLE IF NOT EXISTS otp_steps (
    user_id TEXT PRIMARY KEY, last_used INTEGER NOT NULL DEFAULT 0);
CREATE TABLE IF NOT EXISTS login_failures (user_id TEXT NOT NULL, at REAL NOT NULL,
    source TEXT NOT NULL DEFAULT '');
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
ROLES = ("officer", "dispatcher", "trainer")


def _random_secret() -> str:
    return base64.b32encode(secrets.token_bytes(20)).decode()


def otp_secret_for(user_id: str) -> str:
    """A fixed base32 TOTP secret per demo trainee account, so the docs can list it (never a
    trainer's: see ``State._seed_accounts``)."""
    return base64.b32encode(hashlib.sha256(f"mdt-demo-{user_id}".encode()).digest()[:20]).decode()


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
    demo: bool = True

    def public(self) -> dict[str, str]:
        return {"id": self.user_id, "name": self.name, "role": self.role, "ori": self.ori,
                "unit": self.unit}


_ACCOUNT_COLUMNS = "user_id, name, role, ori, unit, otp_secret, demo"


def _token_key(token: str) -> str:
    """How a session token is kept: its SHA-256 (a token is 256 random bits: no salt needed)."""
    return "sha256:" + hashlib.sha256(token.encode("utf-8")).hexdigest()


def _account(row: Any) -> Account:
    return Account(row[0], row[1], row[2], row[3], row[4], row[5], bool(row[6]))



class AccountTables:
    """The account and session tables of one SQLite connection (``db``)."""

    db: sqlite3.Connection

    def _migrate_accounts(self) -> None:
        """Data folders of earlier versions: session tokens an older version kept in clear are
        hashed in place (their sessions go on working): a copy of the file signs nobody in."""
        clear = [r[0] for r in self.db.execute(
            "SELECT token FROM sessions WHERE token NOT LIKE 'sha256:%'")]
        for token in clear:
            self.db.execute("UPDATE sessions SET token = ? WHERE token = ?",
                            (_token_key(token), token))

    def _seed_accounts(self) -> None:
        """The demo accounts, made once (a trainer's secret is this gateway's own)."""
        for user_id, name, role, ori, unit in DEMO_ACCOUNTS:
            row = self.db.execute("SELECT otp_secret FROM accounts WHERE user_id = ?",
                                  (user_id,)).fetchone()
            if row is not None:
                if role == "trainer" and row[0] == otp_secret_for(user_id):
                    # Made by an earlier version with the published secret: a trainee could
                    # compute the trainer's codes. A secret of this gateway's own, now.
                    self.db.execute("UPDATE accounts SET otp_secret = ? WHERE user_id = ?",
                                    (_random_secret(), user_id))
                continue
            salt = secrets.token_hex(8)
            # Trainees' secrets are published (the docs and the login page list them); a
            # trainer's is this gateway's own, shown only on the trainer's machine.
            secret = _random_secret() if role == "trainer" else otp_secret_for(user_id)
            self.db.execute("INSERT INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, 1)",
                            (user_id, _hash_password(DEMO_PASSWORD, salt), salt, secret, name,
                             role, ori, unit))


    def add_account(self, user_id: str, password: str, name: str, role: str, ori: str,
                    unit: str) -> Account:
        """A non-demo account (for a gateway run with ``--live``) with a random TOTP secret."""
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        salt = secrets.token_hex(8)
        secret = _random_secret()
        self.db.execute("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                        (user_id, _hash_password(password, salt), salt, secret, name, role,
                         ori, unit))
        return Account(user_id, name, role, ori, unit, secret, False)

    def otp_last_step(self, user_id: str) -> int:
        """The last step whose one-time code signed in (0: none yet)."""
        row = self.db.execute("SELECT last_used FROM otp_steps WHERE user_id = ?",
                              (user_id,)).fetchone()
        return int(row[0]) if row else 0

    def use_otp_step(self, user_id: str, step: int) -> bool:
        """Mark a code's step used; False when it (or a later one) already was: a replay lost
        the race."""
        self.db.execute("INSERT OR IGNORE INTO otp_steps(user_id) VALUES (?)", (user_id,))
        cur = self.db.execute("UPDATE otp_steps SET last_used = ? WHERE user_id = ? AND "
                              "last_used < ?", (step, user_id, step))
        return bool(cur.rowcount)

    def set_password(self, user_id: str, password: str) -> bool:
        """A new password for an account (demo accounts too); False when there is none."""
        salt = secrets.token_hex(8)
        cur = self.db.execute("UPDATE accounts SET password_hash = ?, salt = ? WHERE user_id = ?",
                              (_hash_password(password, salt), salt, user_id))
        return bool(cur.rowcount)

    def account(self, user_id: str) -> Account | None:
        row = self.db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts WHERE user_id = ?",
                              (user_id,)).fetchone()
        return _account(row) if row else None

    def accounts(self) -> list[Account]:
        rows = self.db.execute(f"SELECT {_ACCOUNT_COLUMNS} FROM accounts ORDER BY rowid")
        return [_account(r) for r in rows]

    def check_password(self, user_id: str, password: str) -> bool:
        row = self.db.execute("SELECT password_hash, salt FROM accounts WHERE user_id = ?",
                              (user_id,)).fetchone()
        return bool(row) and secrets.compare_digest(row[0], _hash_password(password, row[1]))

    def recent_failures(self, user_id: str | None, window: float, now: float,
                        source: str | None = None) -> list[float]:
        """Failed logins in the window: of ``user_id`` (any source, or only from ``source``), or
        with ``user_id`` None every failure from ``source`` (spraying across accounts)."""
        where, params = ["at > ?"], list[Any]([now - window])
        if user_id is not None:
            where.append("user_id = ?")
            params.append(user_id)
        if source is not None:
            where.append("source = ?")
            params.append(source)
        rows = self.db.execute(f"SELECT at FROM login_failures WHERE {' AND '.join(where)} "
                               "ORDER BY at", params).fetchall()
        return [r[0] for r in rows]

    def add_failure(self, user_id: str, now: float, source: str = "") -> None:
        self.db.execute("INSERT INTO login_failures(user_id, at, source) VALUES (?, ?, ?)",
                        (user_id, now, source))

    def clear_failures(self, user_id: str | None = None, source: str | None = None) -> None:
        if user_id is None:
            self.db.execute("DELETE FROM login_failures")
        elif source is None:
            self.db.execute("DELETE FROM login_failures WHERE user_id = ?", (user_id,))
        else:
            self.db.execute("DELETE FROM login_failures WHERE user_id = ? AND source = ?",
                            (user_id, source))

    def new_session(self, user_id: str, device_id: str, ttl: float) -> tuple[str, float]:
        token = secrets.token_urlsafe(32)
        now = time.time()
        self.db.execute("INSERT INTO sessions(token, user_id, device_id, expires_at, created_at) "
                        "VALUES (?, ?, ?, ?, ?)",
                        (_token_key(token), user_id, device_id, now + ttl, now))
        return token, now + ttl

    def session(self, token: str) -> tuple[str, float, bool] | None:
        row = self.db.execute("SELECT user_id, expires_at, revoked FROM sessions WHERE token = ?",
                              (_token_key(token),)).fetchone()
        return (row[0], row[1], bool(row[2])) if row else None

    def revoke(self, token: str) -> None:
        self.db.execute("UPDATE sessions SET revoked = 1 WHERE token = ?", (_token_key(token),))

    def last_login(self, user_id: str) -> float | None:
        row = self.db.execute("SELECT max(created_at) FROM sessions WHERE user_id = ?",
                              (user_id,)).fetchone()
        return row[0] if row else None

    def signed_in(self, user_id: str, now: float) -> bool:
        """Whether the user holds a session that is neither logged out nor expired."""
        return self.db.execute("SELECT 1 FROM sessions WHERE user_id = ? AND revoked = 0 AND "
                               "expires_at > ? LIMIT 1", (user_id, now)).fetchone() is not None

