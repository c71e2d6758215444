"""The sync engine is supervised: every failure ends in a visible state that says why and when it
tries again, it tries again with a capped backoff, and a re-login or a new engine brings a dead
one back. Against a hostile gateway on 127.0.0.1 that fails the same way every time: 403, 404,
500, a full disk, garbage, an empty stream, a line that never ends, an answer that trickles."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mdt.cli import EXIT_CACHE, EXIT_DEADLINE, EXIT_OK, EXIT_REFUSED, run
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.cache import Cache
from mdt.store.errors import DiskFullError
from tests.reliability.hostile import Hostile, sign_in, wait_for

pytestmark = pytest.mark.e2e

# rng 0.5: every pause is exactly the backoff step (no jitter): 1 s, 2 s, 4 s ... capped
FAST = {"rng": lambda: 0.5, "backoff_cap": 2.0, "refusal_backoff": 1.0, "idle_timeout": 1.0,
        "healthy_after": 5.0}


@pytest.fixture
def hostile() -> Iterator[Hostile]:
    server = Hostile()
    server.add({"type": "admin", "text": "GOOD MORNING"})
    yield server
    server.close()


@pytest.fixture
def terminal(hostile: Hostile) -> Iterator[Terminal]:
    term = Terminal(Settings())
    term.sync_options = dict(FAST)
    sign_in(term, hostile.url)
    yield term
    term.close()


def _state(terminal: Terminal, state: str, *words: str) -> tuple[str, str]:
    def ok() -> tuple[str, str] | None:
        now = terminal.sync_state
        return now if now[0] == state and all(w in now[1] for w in words) else None
    return wait_for(ok, timeout=20)


def _admin_texts(terminal: Terminal) -> list[str]:
    assert terminal.writer is not None
    return [e.get("text") for e in terminal.writer.call(lambda c: c.list_events(("admin",)))]


@pytest.mark.parametrize(("path", "words"), [
    ("/v1/inbox", "the inbox (403)"),
    ("/v1/inbox/ack", "the delivery receipt (ack) (403)"),
    ("/v1/audit", "the audit records (403)"),
])
def test_a_403_stops_sync_visibly_and_it_retries(hostile: Hostile, terminal: Terminal,
                                                 path: str, words: str) -> None:
    hostile.status[path] = 403
    terminal.start_sync()
    _, detail = _state(terminal, "stopped", words)
    assert detail.startswith(f"Sync stopped: the gateway refused {words} — retrying in ")
    tries = hostile.hits[path]
    wait_for(lambda: hostile.hits[path] > tries, timeout=10)  # it tries again by itself
    del hostile.status[path]
    _state(terminal, "online")
    assert "GOOD MORNING" in _admin_texts(terminal)


def test_a_404_on_the_stream_is_said_and_retried(hostile: Hostile, terminal: Terminal) -> None:
    hostile.status["/v1/inbox/stream"] = 404
    terminal.start_sync()
    _, detail = _state(terminal, "stopped", "the live inbox stream (404)")
    assert "retrying in" in detail
    assert "GOOD MORNING" in _admin_texts(terminal)  # the catch-up before it went through
    del hostile.status["/v1/inbox/stream"]
    _state(terminal, "online")


def test_a_500_is_offline_with_the_reason_and_the_retry(hostile: Hostile,
                                                        terminal: Terminal) -> None:
    hostile.status["/v1/inbox"] = 500
    terminal.start_sync()
    _, detail = _state(terminal, "offline", "retrying in")
    assert "refused with 500" in detail  # the gateway's own words
    del hostile.status["/v1/inbox"]
    _state(terminal, "online")


def test_a_full_disk_stops_sync_visibly_then_nothing_is_lost(
        hostile: Hostile, terminal: Terminal, monkeypatch: pytest.MonkeyPatch) -> None:
    real = Cache.apply_event

    def full(self: Cache, event: dict[str, Any]) -> bool:
        raise DiskFullError()

    monkeypatch.setattr(Cache, "apply_event", full)
    terminal.start_sync()
    _, detail = _state(terminal, "stopped", "cache is full")
    assert detail.startswith("Sync stopped: The disk holding the cache is full") \
        and "retrying in" in detail
    assert terminal.writer is not None
    assert terminal.writer.call(lambda c: c.inbox_cursor()) == 0  # not moved past it
    monkeypatch.setattr(Cache, "apply_event", real)
    _state(terminal, "online")
    wait_for(lambda: "GOOD MORNING" in _admin_texts(terminal))


@pytest.mark.parametrize(("mode", "state", "words"), [
    ("garbage", "offline", "sent garbage"),
    ("close", "degraded", "closed at once"),
    ("empty", "degraded", "closed at once"),
    ("endless", "offline", "no event and no heartbeat for 1 s"),
])
def test_a_misbehaving_stream_is_said_and_reconnects_only_per_backoff_step(
        hostile: Hostile, terminal: Terminal, mode: str, state: str, words: str) -> None:
    hostile.stream = mode
    terminal.start_sync()
    _, detail = _state(terminal, state, words)
    assert "in " in detail and " s" in detail  # when the next try is
    opened = hostile.hits["/v1/inbox/stream"]
    time.sleep(3.0)
    # backoff 1 s, 2 s, 2 s ... (plus the idle timeout for the endless line): at most 3 more
    assert hostile.hits["/v1/inbox/stream"] - opened <= 3
    assert hostile.hits["/v1/inbox"] - opened <= 4  # no storm of catch-ups either


@pytest.mark.parametrize(("mode", "words"), [("close", "closed at once"),
                                             ("garbage", "sent garbage")])
def test_a_busy_inbox_does_not_excuse_a_misbehaving_stream(
        hostile: Hostile, terminal: Terminal, mode: str, words: str) -> None:
    hostile.grow = True  # every round applies something: the link is not dead, yet ...
    hostile.stream = mode
    terminal.start_sync()
    _state(terminal, "degraded", words)
    opened = hostile.hits["/v1/inbox/stream"]
    time.sleep(6.0)
    # ... it still backs off: 1, 2, 2 s (one a second, as a poor link would be, makes 6)
    assert hostile.hits["/v1/inbox/stream"] - opened <= 3


def test_online_only_while_events_or_heartbeats_arrive(hostile: Hostile,
                                                      terminal: Terminal) -> None:
    terminal.sync_options["idle_timeout"] = 2.0  # room for a loaded machine: 10 heartbeats
    terminal.start_sync()  # events, then a heartbeat every 0.2 s
    _state(terminal, "online")
    time.sleep(4.0)  # twice the idle timeout: the heartbeats keep it online
    assert terminal.sync_state[0] == "online"
    hostile.stream = "silent"  # the open stream says nothing more
    _, detail = _state(terminal, "offline", "no event and no heartbeat for 2 s")
    assert "retrying in" in detail


def test_a_dead_engine_is_replaced_by_start_sync_and_by_a_relogin(
        hostile: Hostile, terminal: Terminal) -> None:
    terminal.start_sync()
    _state(terminal, "online")
    engine = terminal.syncing.engine
    assert engine is not None
    terminal.loop.call_soon(engine.stop)  # an engine that ended, whatever the reason
    wait_for(lambda: terminal.syncing.future.done())
    assert terminal.sync_state == ("", "")
    terminal.relogin("training", "000000")  # the re-login brings sync back
    _state(terminal, "online")
    assert terminal.syncing.engine is not engine
    again = terminal.syncing.engine
    assert again is not None
    terminal.loop.call_soon(again.stop)
    wait_for(lambda: terminal.syncing.future.done())
    terminal.start_sync()  # no longer returns early while a dead engine exists
    _state(terminal, "online")
    assert terminal.syncing.engine is not again


def _cli_login(hostile: Hostile, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MDT_PASSWORD", "training")
    monkeypatch.setenv("MDT_OTP", "000000")
    assert run(["login", "--gateway", hostile.url, "--user", "officer1"]) == EXIT_OK


def test_mdt_sync_once_says_why_it_stopped(hostile: Hostile, monkeypatch: pytest.MonkeyPatch,
                                           capsys: pytest.CaptureFixture[str],
                                           mdt_home: Path) -> None:
    _cli_login(hostile, monkeypatch)
    hostile.status["/v1/inbox"] = 403
    capsys.readouterr()
    assert run(["sync", "--once"]) == EXIT_REFUSED
    err = capsys.readouterr().err
    assert "Sync stopped: the gateway refused the inbox (403)" in err
    assert "Traceback" not in err
    del hostile.status["/v1/inbox"]
    assert run(["sync", "--once"]) == EXIT_OK
    assert "applied 1 events" in capsys.readouterr().out


def test_mdt_sync_once_has_a_total_deadline(hostile: Hostile, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str],
                                            mdt_home: Path) -> None:
    _cli_login(hostile, monkeypatch)
    hostile.trickle = 0.5  # a byte every 0.5 s: no read timeout ever trips
    capsys.readouterr()
    assert run(["sync", "--once", "--deadline", "2"]) == EXIT_DEADLINE
    err = capsys.readouterr().err
    assert "did not finish within 2 s" in err and "waiting on the inbox" in err
    assert "Traceback" not in err and "TimeoutError" not in err


def test_mdt_sync_once_on_a_full_disk(hostile: Hostile, monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str],
                                      mdt_home: Path) -> None:
    _cli_login(hostile, monkeypatch)

    def full(self: Cache, event: dict[str, Any]) -> bool:
        raise DiskFullError()

    monkeypatch.setattr(Cache, "apply_event", full)
    capsys.readouterr()
    assert run(["sync", "--once"]) == EXIT_CACHE
    assert "Sync stopped: The disk holding the cache is full" in capsys.readouterr().err


def test_an_answer_too_big_is_not_read(hostile: Hostile, terminal: Terminal,
                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from mdt.net.gateway import GatewayClient, GatewayUnreachable

    monkeypatch.setattr(GatewayClient, "max_response_bytes", 200_000)
    hostile.add({"type": "admin", "text": "X" * 150_000})
    hostile.add({"type": "admin", "text": "Y" * 150_000})
    with pytest.raises(GatewayUnreachable, match="larger than"):
        terminal.sync_once()


def test_the_status_bar_says_what_mdt_sync_and_the_log_say() -> None:
    from mdt.core.present import connection_text, quarantine_text

    sentence = "Sync stopped: the gateway refused the inbox (403) — retrying in 30 s"
    assert connection_text("stopped", sentence) == (sentence, "ConnOffline")
    why = "The live inbox stream sent no event and no heartbeat for 45 s. — retrying in 4 s"
    # the state and the next try, read whole at a glance (why: the label's tooltip)
    assert connection_text("offline", why) == (
        "Offline — queries wait in the outbox · retrying in 4 s", "ConnOffline")
    assert connection_text("degraded", "The live inbox stream closed at once — reconnecting "
                                        "in 2 s")[0] == \
        "Poor link — queries wait in the outbox · reconnecting in 2 s"
    assert connection_text("offline", "No route")[0] == \
        "Offline — queries wait in the outbox · No route"  # no next try named: why, whole
    assert connection_text("online", "") == ("Online", "ConnOnline")
    assert quarantine_text(1) == "1 unreadable message from the switch (Ctrl+Shift+U)"
    assert quarantine_text(0) == ""


def test_a_300_mb_answer_is_cut_off_without_the_memory(hostile: Hostile,
                                                      terminal: Terminal) -> None:
    import resource

    from mdt.net.gateway import GatewayUnreachable

    hostile.huge = 300 << 20
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB on Linux
    with pytest.raises(GatewayUnreachable, match="larger than 32 MB"):
        terminal.sync_once()
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 150, grown_mb  # 32 MB read at most, then the answer is dropped
