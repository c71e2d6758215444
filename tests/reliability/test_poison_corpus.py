"""The poison corpus: malformed inbox events of every kind the issue names, and more. Each one is
refused by the event models at the boundary (with a reason that never quotes the value), and,
through ``mdt sync --once`` against a hostile gateway, each one is quarantined (kept encrypted
with its raw text, audited) while the next good event is applied, the cursor moves past it and a
queued query still goes out. The engine the GUI uses meets the same corpus in
``test_poison_engine.py``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from mdt.cli import EXIT_OK, run
from mdt.net.events import EventInvalid, parse_event_json, validate_event
from tests.reliability.hostile import Hostile

QUERY_ID = "00000000-0000-4000-8000-000000000099"
RECORD = {"file": "WANTED", "hit": True, "nic": "W260000099",
          "fields": {"NAM": "POISON, TEST", "DOB": "19800101"}}
SECRET = "ZZSECRETZZ"  # a value no reason, log line or audit detail may ever hold


def _hit(record: dict[str, Any] | None = None, **over: Any) -> dict[str, Any]:
    rec = {**RECORD, **(record or {})}
    return {"type": "delayed_hit", "in_reply_to": QUERY_ID, "mke": "QW", "source": "NCIC",
            "text": f"MKE/WANTED NAM/{SECRET}", "records": [rec], **over}


def _detainer(**over: Any) -> dict[str, Any]:
    return {"type": "detainer", "detainer_id": "DET-1", "text": f"DETAINER {SECRET}",
            "subject": {"name": SECRET, "dob": "19800101"},
            "requested_action": {"notify_before_release": True, "hold_hours": 48}, **over}


def _admin(**over: Any) -> dict[str, Any]:
    return {"type": "admin", "from_ori": "TRAINING", "from_name": "Trainer",
            "text": f"NOTE {SECRET}", **over}


def _yq(**over: Any) -> dict[str, Any]:
    return {"type": "hit_confirmation_request", "request_id": "r-1", "rty": "SV", "rno": "1",
            "pri": "U", "oca": "OCA1", "nic": "V260000099", "requesting_ori": "VA0290000",
            "data_set": {"LIC": SECRET}, "respond_by": "2026-12-01T10:00:00.000Z", **over}


def _yr(**over: Any) -> dict[str, Any]:
    return {"type": "hit_confirmation_response", "in_reply_to": "r-1", "status": "CONFIRMED",
            "confirming_ori": "VA0290000", **over}


def _nest(depth: int) -> Any:
    value: Any = SECRET
    for _ in range(depth):
        value = {"x": value}
    return value


@dataclass(frozen=True)
class Poison:
    name: str
    event: dict[str, Any] | None = None  # the body; the gateway (or the test) gives seq and id
    raw: str | None = None  # or the whole event as raw JSON text (seq included)
    injectable: bool = True  # the real training gateway carries it (a poison drill)
    kind: str = "unreadable"  # or "protocol" (a seq out of order)
    says: str = ""  # for a protocol error: what the report says
    repeat: bool = False  # it repeats the seq of the event before it (else: jumps far ahead)


# Events the real gateway carries when a trainer injects them unchecked: the body is wrong.
BODY = [
    Poison("fields is a string", _hit({"fields": f"NAM/{SECRET}"})),
    Poison("fields is a list", _hit({"fields": ["NAM", SECRET]})),
    Poison("caveats is a number", _hit({"caveats": 5})),
    Poison("caveats holds numbers", _hit({"caveats": [1, 2]})),
    Poison("caution_codes is a number", _hit({"caution_codes": 7})),
    Poison("part is a letter", _hit(part="X")),
    Poison("part beyond parts", _hit(part=3, parts=2)),
    Poison("parts is zero", _hit(parts=0)),
    Poison("records is a string", _hit(records="WANTED")),
    Poison("a record is a number", _hit(records=[5])),
    Poison("hit is a string", _hit({"hit": "yes"})),
    Poison("a field value is a number", _hit({"fields": {"NAM": 5}})),
    Poison("301 fields", _hit({"fields": {f"T{n}": SECRET for n in range(301)}})),
    Poison("a 5 kB field value", _hit({"fields": {"NAM": SECRET * 500}})),
    Poison("mke is a number", _hit(mke=5)),
    Poison("hold_hours 1e9", _detainer(requested_action={"hold_hours": 1e9})),
    Poison("hold_hours a string", _detainer(requested_action={"hold_hours": "48"})),
    Poison("hold_hours negative", _detainer(requested_action={"hold_hours": -5})),
    Poison("subject is a string", _detainer(subject=SECRET)),
    Poison("subject name a number", _detainer(subject={"name": 5})),
    Poison("contact is a string", _detainer(contact=SECRET)),
    Poison("related is a list", _detainer(related=[1])),
    Poison("in_reply_to is an object", _admin(in_reply_to={"id": SECRET})),
    Poison("in_reply_to is a number", _admin(type="status", in_reply_to=12)),
    Poison("text is a number", _admin(text=12)),
    Poison("text is true", _admin(text=True)),
    Poison("text of 300 kB", _admin(text=SECRET * 30_000)),
    Poison("from_name is a list", _admin(from_name=[SECRET])),
    Poison("status is an object", {"type": "status", "in_reply_to": QUERY_ID,
                                   "status": {"down": SECRET}}),
    Poison("respond_by is a number", _yq(respond_by=5)),
    Poison("data_set is a string", _yq(data_set=f"LIC/{SECRET}")),
    Poison("rno a million", _yq(rno=1_000_000)),
    Poison("pri is a list", _yq(pri=["U"])),
    Poison("confirm_by is a list", _yr(confirm_by=[SECRET])),
    Poison("nested 30 deep", _admin(extra=_nest(30))),
]

SURROGATE = '{"seq": %d, "id": "raw-%d", "type": "admin", "text": "LONE \\ud800 ' + SECRET + '"}'
DEEP = ('{"seq": %d, "id": "raw-%d", "type": "admin", "extra": ' + "[" * 5000 + "]" * 5000
        + "}")

# What the training gateway will not carry (it cannot store it, or it stamps seq, id and type
# itself): only a hostile gateway sends these.
FRAME = [
    Poison("seq 2^70", raw='{"seq": ' + str(2**70) + ', "id": "raw-%d", "type": "admin"}',
           injectable=False),
    Poison("seq is a string", raw='{"seq": "%d", "id": "raw-%d", "type": "admin"}',
           injectable=False),
    Poison("seq is true", raw='{"seq": true, "id": "raw-%d%d", "type": "admin"}',
           injectable=False),
    Poison("seq is 1.5", raw='{"seq": 1.5, "id": "raw-%d%d", "type": "admin"}',
           injectable=False),
    Poison("no seq", raw='{"id": "raw-%d%d", "type": "admin"}', injectable=False),
    Poison("no id", raw='{"seq": %d, "type": "admin", "x": %d}', injectable=False),
    Poison("id is a number", raw='{"seq": %d, "id": %d, "type": "admin"}', injectable=False),
    Poison("an unknown type", raw='{"seq": %d, "id": "raw-%d", "type": "teleport"}',
           injectable=False),
    Poison("no type", raw='{"seq": %d, "id": "raw-%d"}', injectable=False),
    Poison("a lone surrogate", raw=SURROGATE, injectable=False),
    Poison("JSON nested 5,000 deep", raw=DEEP, injectable=False),
    Poison("a list, not an object", raw="[%d, %d]", injectable=False),
    Poison("a number, not an object", raw="%d%d", injectable=False),
    Poison("null", raw="null", injectable=False),
    Poison("an event of 1.2 MB", raw='{"seq": %d, "id": "raw-%d", "type": "admin", "text": "'
           + "X" * 1_200_000 + '"}', injectable=False),
    Poison("seq 2^62", raw='{"seq": ' + str(2**62) + ', "id": "raw-%d", "type": "admin"}',
           injectable=False),
    Poison("seq 2^40: a jump past every later event",
           raw='{"seq": ' + str(2**40) + ', "id": "raw-%d", "type": "admin", "text": "X"}',
           injectable=False, kind="protocol", says="seq jumped"),
    Poison("the seq before, again, with other content",
           raw='{"seq": %d, "id": "raw-again-%d", "type": "admin", "text": "OTHER"}',
           injectable=False, kind="protocol", says="came again with other content",
           repeat=True),
]

CORPUS = BODY + FRAME
IDS = [p.name for p in CORPUS]


def raw_text(poison: Poison, seq: int) -> str:
    """The poison as the gateway would send it, at ``seq``."""
    if poison.raw is not None:
        return poison.raw.replace("%d", str(seq))
    assert poison.event is not None
    return json.dumps({"seq": seq, "id": f"poison-{seq}", "created_at":
                       "2026-12-01T10:00:00.000Z", "training": True, **poison.event})


def test_the_corpus_is_big_enough() -> None:
    assert len(CORPUS) >= 30 and len(BODY) >= 30
    assert len(set(IDS)) == len(IDS)


@pytest.mark.parametrize("poison", CORPUS, ids=IDS)
def test_every_poison_fails_the_models_without_quoting_it(poison: Poison) -> None:
    text = raw_text(poison, 7)
    if poison.kind == "protocol":  # well formed: the engine refuses where it stands
        validate_event(parse_event_json(text))
        return
    with pytest.raises(EventInvalid) as caught:
        validate_event(parse_event_json(text))
    assert SECRET not in caught.value.reason and len(caught.value.reason) < 300


@pytest.mark.parametrize("poison", CORPUS, ids=IDS)
def test_mdt_sync_quarantines_each_poison_and_goes_on(
        poison: Poison, mdt_home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
    hostile = Hostile()
    try:
        monkeypatch.setenv("MDT_PASSWORD", "training")
        monkeypatch.setenv("MDT_OTP", "000000")
        assert run(["login", "--gateway", hostile.url, "--user", "officer1"]) == EXIT_OK
        hostile.add({"type": "admin", "text": "BEFORE"})  # seq 1
        assert run(["send", "QV", "LIC=ABC1234", "LIS=MD", "--queue-only"]) == EXIT_OK
        poison_seq = 2
        if poison.repeat:  # it says #1 again, with other content; the next good one is #2
            hostile.events.append((1, raw_text(poison, 1)))
            last = hostile.add({"type": "admin", "text": "AFTER"}, seq=2)
        elif poison.kind == "protocol":  # it claims a seq far ahead; the next good one is #2
            hostile.events.append((2**40, raw_text(poison, poison_seq)))
            last = hostile.add({"type": "admin", "text": "AFTER"}, seq=2)
        else:
            hostile.events.append((poison_seq, raw_text(poison, poison_seq)))
            last = hostile.add({"type": "admin", "text": "AFTER"}, seq=3)
        capsys.readouterr()
        assert run(["sync", "--once"]) == EXIT_OK
        out = capsys.readouterr().out
        assert "Sent 1" in out and len(hostile.sent) == 1  # the queued query went out
        assert "Traceback" not in out
        if poison.kind == "protocol":
            assert "Protocol error from the gateway: " in out and poison.says in out
            assert "unreadable" not in out
        else:
            assert "1 unreadable message from the switch was kept aside" in out
            assert "Protocol error" not in out  # its place in the inbox was understood
        capsys.readouterr()
        assert run(["quarantine", "--json"]) == EXIT_OK
        [kept] = json.loads(capsys.readouterr().out)
        assert kept["kind"] == poison.kind
        if poison.kind == "unreadable":
            assert kept["title"].startswith("An unreadable message from the switch")
            assert kept["seq"] == poison_seq
        assert SECRET not in kept["reason"]
        assert run(["quarantine", "--show", kept["id"]]) == EXIT_OK
        shown = capsys.readouterr().out
        assert "raw text as the switch sent it" in shown
        if poison.raw is None:
            assert f'"poison-{poison_seq}"' in shown  # the raw text, one key away
        # the next good event was applied and the cursor moved past the poison
        from mdt.services.terminal import Terminal
        from mdt.settings import Settings

        terminal = Terminal(Settings())
        try:
            terminal.unlock("officer1", "training")
            assert terminal.writer is not None
            texts = [e.get("text") for e in terminal.writer.call(
                lambda c: c.list_events(("admin",)))]
            assert "AFTER" in texts and "BEFORE" in texts
            assert terminal.writer.call(lambda c: c.inbox_cursor()) == last
            details = terminal.writer.call(lambda c: [r[0] for r in c._conn.execute(
                "SELECT detail FROM audit WHERE action = 'inbox-quarantine'")])
            assert len(details) == 1 and SECRET not in details[0]  # audited, without data
            assert terminal.writer.call(lambda c: c.verify_audit().ok)
        finally:
            terminal.close()
        assert hostile.acks and hostile.acks[-1] == last
        assert SECRET not in caplog.text  # the record data never reached a log line
    finally:
        hostile.close()
