"""The deterministic crash matrix: every commit point of send, sync, alert acknowledgement and
retention is forced, and every state opens with everything the user was told about.

Two ways, both on purpose at each point, every time:

- in-process: a commit hook copies the cache's files right after each commit of a real session
  against the real gateway (the main file and a WAL still holding frames not yet checkpointed,
  no -shm: what a kill -9, or with synchronous=FULL a power cut, leaves there);
- real processes: ``mdt send`` and ``mdt sync --once`` SIGKILL themselves right after their Nth
  commit (``MDT_FAULT_KILL_AFTER_COMMIT``), for every N the command has.

Each state is then opened through the normal path (key probe, WAL recovery, migrations), checked
by SQLite's and SQLCipher's own checks, compared with what the commit made visible, and resumed:
the terminal unlocks on it, syncs, and the gateway ends up with every query exactly once.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from mdt.core import trusted_time
from mdt.services.session import cache_path
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.cache import Cache
from tests.conftest import Gateway, start_gateway
from tests.reliability.crashkit import CommitState, Snapshots, content, hooked

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _terminal(gateway: Gateway, **settings: object) -> Terminal:
    config = Settings()
    config.set("gateway_url", gateway.url)
    for key, value in settings.items():
        config.set(key, value)
    config.save()
    return Terminal(config)


def _gateway_messages(data_dir: Path) -> Counter[str]:
    conn = sqlite3.connect(f"file:{data_dir / 'gateway.sqlite'}?mode=ro", uri=True)
    try:
        return Counter(r[0] for r in conn.execute(
            "SELECT id FROM messages WHERE user_id = 'officer1'"))
    finally:
        conn.close()


def _check_opens_whole(state: CommitState, key: bytes) -> None:
    """The copy opens through the normal path; SQLite's and SQLCipher's checks find nothing;
    it holds exactly what the commit had made visible."""
    work = state.folder / "open"
    work.mkdir()
    for name in ("cache.db", "cache.db-wal"):
        if (state.folder / name).exists():
            shutil.copyfile(state.folder / name, work / name)
    cache = Cache.open(work / "cache.db", key)
    try:
        conn = cache._conn
        assert [r[0] for r in conn.execute("PRAGMA integrity_check")] == ["ok"], state
        assert conn.execute("PRAGMA cipher_integrity_check").fetchall() == [], state
        assert cache.verify_audit().ok, state
        now = content(cache)
        assert now["messages"] == state.messages, (state.flow, state.n)
        assert now["alerts"] == state.alerts, (state.flow, state.n)
        assert now["events"] == state.events and now["returns"] == state.returns
        assert now["audit"] == state.audit and now["cursor"] == state.cursor
    finally:
        cache.close()


def test_every_commit_point_of_a_session_opens_with_what_the_user_was_told(
        tmp_path: Path, mdt_home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    gateway = start_gateway(tmp_path / "gateway")
    snapshots = Snapshots(tmp_path / "states")
    told: dict[int, set[str]] = {}  # state number -> queries the user had been told were queued
    queued: set[str] = set()
    try:
        terminal = _terminal(gateway)
        account = gateway.demo_account("officer1")
        terminal.login("officer1", account["password"], account["otp_now"])
        with hooked(snapshots):
            with snapshots.recording("send"):
                for plate, state in (("TRN4821", "VA"), ("ZZZ1234", "MD")):  # stolen, clean
                    message = terminal.send("QV", {"LIC": plate, "LIS": state})
                    queued.add(message["id"])  # "Queued QV ..." is on the screen from here
                    told[len(snapshots.states)] = set(queued)
            with snapshots.recording("sync"):
                for _ in range(20):
                    terminal.sync_once()
                    msgs = terminal.messages()
                    if all(m["state"] == "answered" for m in msgs if m["mke"] == "QV"):
                        break
            alerts = terminal.alert_desk.snapshot().open_alerts
            assert alerts, "the stolen car raised no alert"
            with snapshots.recording("ack"):
                for alert in alerts:
                    assert terminal.alert_desk.acknowledge(alert["id"], "crash matrix")
            # 13 hours later by the boot clock (the PC clock is not trusted for this).
            real = trusted_time.boot_reading()
            assert real is not None, "no boot clock here"
            later = trusted_time.BootReading(real.boot_id, real.seconds + 13 * 3600)
            monkeypatch.setattr(trusted_time, "boot_reading", lambda: later)
            with snapshots.recording("retention"):
                assert terminal.expire() >= 2
        key = terminal.session.key
        assert key is not None
        terminal.close()

        states = snapshots.states
        flows = Counter(s.flow for s in states)
        assert set(flows) == {"send", "sync", "ack", "retention"}, flows
        hot = sum(1 for s in states if s.wal_bytes > 0)
        assert hot >= len(states) * 0.9  # the WAL still held frames at nearly every point
        for state in states:
            _check_opens_whole(state, key)
            promised = next((v for n, v in sorted(told.items(), reverse=True)
                             if n <= state.n), set())
            if state.flow != "retention":  # retention may erase answered queries, by design
                assert promised <= set(state.messages), (state.flow, state.n)

        # Every state, resumed: unlock on it and sync; each query reaches the gateway once.
        resumed = 0
        for state in states:
            live = cache_path("officer1")
            for suffix in ("-wal", "-shm"):
                Path(f"{live}{suffix}").unlink(missing_ok=True)
            shutil.copyfile(state.folder / "cache.db", live)
            if (state.folder / "cache.db-wal").exists():
                shutil.copyfile(state.folder / "cache.db-wal", f"{live}-wal")
            again = _terminal(gateway)
            try:
                again.unlock("officer1", account["password"])
                assert again.notices == [], again.notices  # no false "damaged"
                again.sync_once()
                assert not [m for m in again.messages() if m["state"] == "queued"]
            finally:
                again.close()
            resumed += 1
        at_gateway = _gateway_messages(gateway.data_dir)
        assert queued <= set(at_gateway) and max(at_gateway.values()) == 1, at_gateway
    finally:
        gateway.stop()
    with capsys.disabled():
        print(f"\ncrash matrix (in-process): {len(states)} commit states "
              f"({', '.join(f'{f} {n}' for f, n in flows.items())}), {hot} with a hot WAL, "
              f"every one opened whole and resumed ({resumed})")


# -- real processes killed right after their Nth commit ----------------------------------------
def _env(home: Path, **extra: str) -> dict[str, str]:
    return {**os.environ, "MDT_HOME": str(home), "MDT_PASSWORD": "training",
            "PYTHONUNBUFFERED": "1", **extra}


def _mdt(home: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mdt", *args], capture_output=True, text=True,
                          env=_env(home, **extra), timeout=60)


def _client(home: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """What a terminal opening the cache the killed process left finds (in this process: the
    same open path, key probe, WAL recovery and migrations as a new process's)."""
    with monkeypatch.context() as patch:
        patch.setenv("MDT_HOME", str(home))
        terminal = Terminal(Settings())
        try:
            terminal.unlock("officer1", "training")
            return {"notices": list(terminal.notices),
                    "messages": {m["id"]: m["state"] for m in terminal.messages(10000)}}
        finally:
            terminal.close()


@pytest.mark.timeout(360)  # 32 processes killed and reopened: ~70 s of CPU, slower on a busy machine
def test_a_process_killed_right_after_each_of_its_commits_loses_nothing_it_said(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
        ) -> None:
    gateway = start_gateway(tmp_path / "gateway")
    home = tmp_path / "home"
    (home / "config").mkdir(parents=True)
    # A subprocess has no in-memory keystore: the agency-allowed wrapped-key file stands in.
    (home / "config" / "settings.json").write_text(json.dumps(
        {"gateway_url": gateway.url, "keystore": "wrapped-file"}))
    kills = Counter[str]()
    hot_wal = 0
    try:
        login = _mdt(home, "login", "--user", "officer1",
                     MDT_OTP=gateway.demo_account("officer1")["otp_now"])
        assert login.returncode == 0, login.stderr
        said: set[str] = set()
        for command in (["send", "QV", "LIC=KL00001", "LIS=MD"], ["sync", "--once"],
                        ["send", "QV", "LIC=TRN4821", "LIS=VA"], ["sync", "--once"]):
            for n in range(1, 60):
                result = _mdt(home, *command, MDT_FAULT_KILL_AFTER_COMMIT=str(n))
                said |= {line.split()[2].rstrip(":") for line in result.stdout.splitlines()
                         if line.startswith("Queued QV ")}
                wal = home / "data" / "profiles" / "officer1" / "cache.db-wal"
                if result.returncode == -9:
                    kills[command[0]] += 1
                    hot_wal += wal.exists() and wal.stat().st_size > 0
                state = _client(home, monkeypatch)  # opens after the kill: never "damaged"
                assert state["notices"] == [], (command, n, state["notices"])
                assert said <= set(state["messages"]), (command, n)
                if result.returncode != -9:
                    assert result.returncode == 0, (command, n, result.stderr)
                    break
            else:
                raise AssertionError(f"{command} never finished")
        final = _mdt(home, "sync", "--once")
        assert final.returncode == 0, final.stderr
        state = _client(home, monkeypatch)
        assert not [i for i, s in state["messages"].items() if s == "queued"]
        at_gateway = _gateway_messages(gateway.data_dir)
        assert said <= set(at_gateway) and max(at_gateway.values()) == 1
        check = _mdt(home, "cache", "check")
        assert check.returncode == 0, check.stdout + check.stderr
    finally:
        gateway.stop()
    assert kills["send"] >= 4 and kills["sync"] >= 4, kills
    with capsys.disabled():
        print(f"\ncrash matrix (processes): {sum(kills.values())} kills right after a commit "
              f"({dict(kills)}), {hot_wal} left a non-empty WAL; every state opened")

