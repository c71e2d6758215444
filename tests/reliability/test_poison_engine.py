"""The poison corpus against the engine the GUI uses (``Terminal.start_sync``, live stream):

- on the real training gateway, a trainer's poison drill (every body-level poison, injected
  unchecked, each followed by a good event) while the officer's terminal is online: each one is
  quarantined, each good one applied, the cursor at the last event, a query queued in the middle
  goes out and is answered, the engine stays online, the gateway's inbox still answers;
- on a hostile gateway, the poisons the training gateway will not carry (bad seq, id, type, a
  lone surrogate, JSON nested 5,000 deep, not an object, 1.2 MB, a seq 2^40 jump), live.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from mdt.net.events import EventInvalid, validate_event
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store import quarantine
from tests.conftest import Gateway, start_gateway
from tests.gateway.helpers import auth
from tests.reliability.hostile import Hostile, sign_in, wait_for
from tests.reliability.test_poison_corpus import BODY, FRAME, SECRET, raw_text

pytestmark = pytest.mark.e2e


@pytest.fixture
def drill_gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path / "gw", "--heartbeat", "0.5")
    yield gw
    gw.stop()


def _admin_texts(terminal: Terminal) -> list[str]:
    assert terminal.writer is not None
    return [str(e.get("text")) for e in terminal.writer.call(
        lambda c: c.list_events(("admin",), limit=1000))]


def test_a_poison_drill_on_the_real_gateway(drill_gateway: Gateway,
                                           caplog: pytest.LogCaptureFixture) -> None:
    gw = drill_gateway
    trainer = auth(gw, "trainer1")
    terminal = Terminal(Settings())
    terminal.settings.set("gateway_url", gw.url)
    try:
        account = gw.demo_account("officer1")
        terminal.login("officer1", account["password"], account["otp_now"])
        terminal.start_sync()
        wait_for(lambda: terminal.sync_state[0] == "online")

        # Without "unchecked" the gateway holds to the event contract itself.
        refused = httpx.post(f"{gw.url}/v1/training/events", headers=trainer, timeout=10,
                             json={"user": "officer1", "events": [BODY[0].event]})
        assert refused.status_code == 422 and "unchecked" in refused.json()["error"]["message"]
        surrogate = httpx.post(
            f"{gw.url}/v1/training/events", timeout=10,
            headers={**trainer, "Content-Type": "application/json"},
            content=b'{"user": "officer1", "unchecked": true, "events": [{"type": "admin", '
                    b'"text": "LONE \\ud800"}]}')
        assert surrogate.status_code == 422  # it could never be served: refused at injection

        half = len(BODY) // 2
        events = []
        for n, poison in enumerate(BODY):
            assert poison.event is not None
            events += [poison.event, {"type": "admin", "text": f"GOOD {n}"}]
        answer = httpx.post(f"{gw.url}/v1/training/events", headers=trainer, timeout=30,
                            json={"user": "officer1", "unchecked": True,
                                  "events": events[:2 * half]})
        assert answer.status_code == 200, answer.text
        query = terminal.send("QV", {"LIC": "TRN4821", "LIS": "VA"})  # queued mid-drill
        answer = httpx.post(f"{gw.url}/v1/training/events", headers=trainer, timeout=30,
                            json={"user": "officer1", "unchecked": True,
                                  "events": events[2 * half:]})
        assert answer.status_code == 200, answer.text

        wait_for(lambda: all(f"GOOD {n}" in _admin_texts(terminal) for n in range(len(BODY))),
                 timeout=60)
        wait_for(lambda: {m["id"]: m["state"] for m in terminal.messages(50)}.get(
            query["id"]) == "answered", timeout=30)
        assert terminal.writer is not None
        inbox = httpx.get(f"{gw.url}/v1/inbox", params={"after": 0, "limit": 1000},
                          headers=auth(gw, "officer1"), timeout=10)
        assert inbox.status_code == 200  # the gateway still serves this inbox
        served = inbox.json()["events"]
        wait_for(lambda: terminal.writer.call(lambda c: c.inbox_cursor()) == served[-1]["seq"])
        # Exactly what breaks the contract was quarantined, everything else applied. (The
        # gateway mends two poisons itself: it sets respond_by and upper-cases pri; the switch
        # asks again for an unanswered YQ, so one poison comes twice, as two events.)
        bad = set()
        for event in served:
            try:
                validate_event(event)
            except EventInvalid:
                bad.add(event["seq"])
        assert len(bad) >= len(BODY) - 2
        kept = terminal.quarantined(limit=500)
        assert {k.seq for k in kept} == bad
        assert all(k.kind == "unreadable" and k.title.startswith(
            "An unreadable message from the switch") for k in kept)
        applied = set(terminal.writer.call(lambda c: [r[0] for r in c._conn.execute(
            "SELECT seq FROM events")]))
        assert applied == {e["seq"] for e in served} - bad
        assert terminal.sync_state[0] == "online"
        raw = terminal.quarantined_raw(kept[0].id)
        assert raw is not None and raw.raw.startswith("{")  # the raw text, one call away
        assert SECRET not in caplog.text
        assert terminal.writer.call(lambda c: quarantine.count_open(c)) == len(bad)
    finally:
        terminal.close()


def test_frame_poisons_live_through_the_engine(caplog: pytest.LogCaptureFixture) -> None:
    hostile = Hostile()
    terminal = Terminal(Settings())
    terminal.sync_options = {"rng": lambda: 0.5, "backoff_cap": 1.0, "refusal_backoff": 1.0}
    try:
        hostile.add({"type": "admin", "text": "BEFORE"})
        sign_in(terminal, hostile.url)
        terminal.start_sync()
        wait_for(lambda: terminal.sync_state[0] == "online")
        nxt, goods = 2, []
        for n, poison in enumerate(FRAME):
            if poison.repeat:  # the seq of the good event just before, with other content
                hostile.events.append((nxt - 1, raw_text(poison, nxt - 1)))
            elif poison.kind == "protocol":
                hostile.events.append((2**40, raw_text(poison, nxt)))
            else:
                hostile.events.append((nxt, raw_text(poison, nxt)))
                nxt += 1
            hostile.add({"type": "admin", "text": f"GOOD {n}"}, seq=nxt)
            goods.append(nxt)
            nxt += 1
        terminal.send("QV", {"LIC": "ABC1234", "LIS": "MD"})
        wait_for(lambda: all(f"GOOD {n}" in _admin_texts(terminal) for n in range(len(FRAME))),
                 timeout=60)
        wait_for(lambda: len(hostile.sent) == 1)  # the queued query went out
        assert terminal.writer is not None
        wait_for(lambda: terminal.writer.call(lambda c: c.inbox_cursor()) == goods[-1])
        kept = terminal.quarantined(limit=500)
        unreadable = [k for k in kept if k.kind == "unreadable"]
        protocol = [k for k in kept if k.kind == "protocol"]
        protocols = [p for p in FRAME if p.kind == "protocol"]
        assert len(unreadable) == len(FRAME) - len(protocols)
        assert sorted(k.reason for k in protocol) == sorted(
            next(k.reason for k in protocol if p.says in k.reason) for p in protocols)
        assert terminal.writer.call(lambda c: c.inbox_cursor()) < 2**40  # never skipped there
        assert SECRET not in caplog.text
        wait_for(lambda: terminal.sync_state[0] == "online", timeout=20)
    finally:
        terminal.close()
        hostile.close()
