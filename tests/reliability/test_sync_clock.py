"""Deadlines follow the gateway's clock, not this machine's: the offset is measured again on every
sync round (half the round trip) and between measurements the gateway's time runs on a clock no
one sets. A PC clock 3 h slow at sign-in, then corrected (as NTP does), neither raises a false
"NO ANSWER IN TIME" nor makes a fresh request look 3 h old."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import mdt.core.clock as clock_module
from mdt.cli import EXIT_OK, run
from mdt.core.clock import GatewayClock
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from tests.reliability.hostile import Hostile, iso, sign_in

pytestmark = pytest.mark.e2e

SLOW = timedelta(hours=3)


class _Shifted:
    """Stands in for ``datetime`` in :mod:`mdt.core.clock`: this PC's wall clock, shifted."""

    shift = timedelta(0)

    @classmethod
    def now(cls, tz: Any = None) -> datetime:
        return datetime.now(tz) + cls.shift

    fromisoformat = staticmethod(datetime.fromisoformat)


def test_a_jumping_wall_clock_moves_no_deadline() -> None:
    wall = [datetime(2026, 12, 1, 7, 0, tzinfo=UTC)]  # the PC: 3 h slow
    elapsed = [1000.0]
    clock = GatewayClock(system=lambda: wall[0], monotonic=lambda: elapsed[0], boot="b1")
    clock.observe_monotonic("2026-12-01T10:00:00.000Z", 999.9, 1000.1)  # half the round trip
    assert clock.offset_seconds == pytest.approx(3 * 3600, abs=0.01)
    elapsed[0] += 60
    wall[0] += SLOW + timedelta(seconds=60)  # a minute later NTP sets the PC right
    assert clock.now() == datetime(2026, 12, 1, 10, 1, tzinfo=UTC)  # not 13:01
    kept = clock.to_meta()
    again = GatewayClock(system=lambda: wall[0], monotonic=lambda: elapsed[0], boot="b1")
    again.load_meta(kept)  # another process, the same boot: the same clock
    assert again.now() == datetime(2026, 12, 1, 10, 1, tzinfo=UTC)
    rebooted = GatewayClock(system=lambda: wall[0], monotonic=lambda: 5.0, boot="b2")
    rebooted.load_meta(kept)  # after a reboot only the offset is left, until the next round
    assert rebooted.offset_seconds == pytest.approx(3 * 3600, abs=0.01)
    old = GatewayClock(system=lambda: wall[0])
    old.load_meta("420.5")  # what older versions kept
    assert old.offset_seconds == 420.5


def test_every_sync_round_measures_the_offset_again(mdt_home: Path) -> None:
    hostile = Hostile()
    terminal = Terminal(Settings())
    try:
        sign_in(terminal, hostile.url)
        hostile.clock_offset = 600.0  # the gateway's clock moves 10 min ahead
        terminal.sync_once()
        assert terminal.alert_desk.clock.offset_seconds == pytest.approx(600, abs=2)
        hostile.clock_offset = -30.0
        terminal.sync_once()
        assert terminal.alert_desk.clock.offset_seconds == pytest.approx(-30, abs=2)
        assert abs((terminal.alert_desk.now() - datetime.now(UTC)).total_seconds() + 30) < 2
    finally:
        terminal.close()
        hostile.close()


def test_a_pc_clock_corrected_after_sign_in_raises_no_false_alert(
        mdt_home: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    hostile = Hostile()
    try:
        monkeypatch.setattr(clock_module, "datetime", _Shifted)
        _Shifted.shift = -SLOW  # signed in with the PC clock 3 h slow
        monkeypatch.setenv("MDT_PASSWORD", "training")
        monkeypatch.setenv("MDT_OTP", "000000")
        assert run(["login", "--gateway", hostile.url, "--user", "officer1"]) == EXIT_OK
        respond_by = datetime.now(UTC) + timedelta(minutes=10)  # the gateway's time
        hostile.add({"type": "hit_confirmation_request", "request_id": "r-clock",
                     "rty": "SV", "rno": "1", "pri": "U", "oca": "OCA1", "nic": "V260000001",
                     "requesting_ori": "VA0290000", "requesting_name": "VA STATE POLICE",
                     "data_set": {"LIC": "TRN4821"}, "respond_by": iso(respond_by)})
        assert run(["sync", "--once"]) == EXIT_OK

        _Shifted.shift = timedelta(0)  # NTP corrects the PC clock
        capsys.readouterr()
        assert run(["alerts"]) == EXIT_OK  # no sync in between: the kept clock alone
        out = capsys.readouterr().out
        assert "OVERDUE" not in out and "NO ANSWER" not in out, out
        [left] = re.findall(r"\[(\d\d):(\d\d) left\]", out)
        assert 8 <= int(left[0]) <= 10  # about 10 minutes left, as on the gateway
        assert run(["sync", "--once"]) == EXIT_OK  # the next round measures it again
        capsys.readouterr()
        assert run(["alerts"]) == EXIT_OK
        [left] = re.findall(r"\[(\d\d):(\d\d) left\]", capsys.readouterr().out)
        assert 8 <= int(left[0]) <= 10
    finally:
        hostile.close()
