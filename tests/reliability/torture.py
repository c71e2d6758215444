"""kill -9 torture: the headless client sends and syncs against the real gateway while being
killed at random points; afterwards nothing may be lost, duplicated or damaged.

Used by ``benchmarks/kill9.py`` (200+ kills). A random kill may or may not land where it
matters, so it is a benchmark, not a test: the suite forces every commit point instead
(tests/reliability/test_crash_matrix.py).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from tests.conftest import start_gateway

PASSWORD = "training"


def _env(home: Path) -> dict[str, str]:
    return {**os.environ, "MDT_HOME": str(home), "MDT_PASSWORD": PASSWORD,
            "PYTHONUNBUFFERED": "1", "QT_QPA_PLATFORM": "offscreen"}


def _mdt(home: Path, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mdt", *args], capture_output=True, text=True,
                          env=_env(home), timeout=timeout)


def torture(workdir: Path, kills: int, seed: int = 1) -> dict[str, Any]:
    rng = random.Random(seed)
    home = workdir / "home"
    (home / "config").mkdir(parents=True, exist_ok=True)
    gateway = start_gateway(workdir / "gateway", "--latency", "0.05")
    try:
        # A subprocess has no in-memory keystore: the agency-allowed wrapped-key file stands in.
        (home / "config" / "settings.json").write_text(json.dumps(
            {"gateway_url": gateway.url, "keystore": "wrapped-file"}))
        env = _env(home) | {"MDT_OTP": gateway.demo_account("officer1")["otp_now"]}
        login = subprocess.run([sys.executable, "-m", "mdt", "login", "--user", "officer1"],
                               capture_output=True, text=True, env=env, timeout=60)
        assert login.returncode == 0, login.stderr
        confirmed: set[str] = set()
        attempted = 0
        killed = 0
        hot_wal = 0  # kills that left a non-empty WAL behind
        damaged = 0  # any run that said "damaged" or set the cache aside
        failed = 0  # runs that ended on their own with an error
        wal = home / "data" / "profiles" / "officer1" / "cache.db-wal"
        started = time.monotonic()
        for i in range(kills):
            if rng.random() < 0.7:
                attempted += 1
                args = ["send", "QV", f"LIC=KL{seed % 100:02d}{i:05d}", "LIS=MD"]
            else:
                args = ["sync", "--once"]
            before = _stamp(wal)
            proc = subprocess.Popen([sys.executable, "-m", "mdt", *args], stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, text=True, env=_env(home))
            # The kill lands while the process has the cache open (its WAL exists), at a random
            # point of that window: before it, a kill tests nothing about the cache.
            opened_by = time.monotonic() + 10
            while proc.poll() is None and _stamp(wal) == before and time.monotonic() < opened_by:
                time.sleep(0.002)
            time.sleep(rng.uniform(0.0, 0.12))
            was_killed = proc.poll() is None
            if was_killed:
                proc.send_signal(signal.SIGKILL)
                killed += 1
            out, err = proc.communicate(timeout=30)
            if was_killed and wal.exists() and wal.stat().st_size > 0:
                hot_wal += 1
            if "damaged" in out + err or "set aside" in out + err:
                damaged += 1
            if not was_killed and proc.returncode != 0:
                failed += 1
            for line in out.splitlines():
                if line.startswith("Queued QV "):
                    confirmed.add(line.split()[2].rstrip(":"))
        torture_s = time.monotonic() - started
        # The link is back and nobody kills the client: everything must settle.
        deadline = time.monotonic() + 120
        while True:
            result = _mdt(home, "sync", "--once")
            assert result.returncode == 0, result.stderr
            state = _client_state(home)
            gateway_events = _gateway_events(gateway.data_dir)
            if not state["queued"] and state["cursor"] == len(gateway_events) and \
                    all(m["state"] == "answered" for m in state["messages"]):
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"did not settle: {state['queued']} queued, cursor "
                                     f"{state['cursor']} of {len(gateway_events)}")
            time.sleep(0.2)
        check = _mdt(home, "cache", "check")
        audit = _mdt(home, "audit", "verify")
    finally:
        gateway.stop()

    client_ids = {m["id"] for m in state["messages"]}
    at_gateway = _gateway_messages(gateway.data_dir)
    answers = Counter(e.get("in_reply_to") for e in gateway_events if e["type"] == "response")
    lost = sorted(confirmed - client_ids) + sorted(client_ids - set(at_gateway))
    duplicated = sorted(m for m, n in answers.items() if n > 1)
    unanswered = sorted(m for m in client_ids if answers.get(m) != 1)
    return {
        "kills": kills, "killed_mid_run": killed, "kills_leaving_hot_wal": hot_wal,
        "damaged": damaged + len(list(wal.parent.glob("cache.db.damaged-*"))),
        "runs_failed": failed, "sends_attempted": attempted,
        "sends_confirmed": len(confirmed), "messages_at_gateway": len(at_gateway),
        "lost": lost, "duplicated": duplicated, "unanswered": unanswered,
        "events_at_gateway": len(gateway_events), "events_applied": state["events"],
        "integrity_ok": check.returncode == 0, "audit_ok": audit.returncode == 0,
        "torture_s": round(torture_s, 1),
    }


def _stamp(path: Path) -> tuple[int, int] | None:
    """Size and modification time: a WAL that changed has a writer working in it."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return stat.st_size, stat.st_mtime_ns


def _client_state(home: Path) -> dict[str, Any]:
    code = ("import json, os; from mdt.settings import Settings; from mdt.services.terminal import "
            "Terminal; t = Terminal(Settings()); t.unlock('officer1', os.environ['MDT_PASSWORD']);"
            "w = t.writer; msgs = w.call(lambda c: c.list_messages(100000));"
            "events = w.call(lambda c: c._conn.execute('SELECT count(*) FROM events')"
            ".fetchone()[0]); cursor = w.call(lambda c: c.inbox_cursor());"
            "print(json.dumps({'messages': [{'id': m['id'], 'state': m['state']} for m in msgs],"
            "'queued': [m['id'] for m in msgs if m['state'] == 'queued'], 'events': events,"
            "'cursor': cursor})); t.close()")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=_env(home), timeout=60)
    assert result.returncode == 0, result.stderr
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _gateway_db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data_dir / 'gateway.sqlite'}?mode=ro", uri=True)


def _gateway_events(data_dir: Path) -> list[dict[str, Any]]:
    conn = _gateway_db(data_dir)
    try:
        rows = conn.execute("SELECT body FROM events WHERE recipient = 'officer1' ORDER BY seq")
        return [json.loads(r[0]) for r in rows]
    finally:
        conn.close()


def _gateway_messages(data_dir: Path) -> list[str]:
    conn = _gateway_db(data_dir)
    try:
        return [r[0] for r in conn.execute("SELECT id FROM messages WHERE user_id = 'officer1'")]
    finally:
        conn.close()
