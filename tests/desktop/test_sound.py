"""A critical alert's sound through the real audio server (paplay to PulseAudio), recorded from
the null sink: it repeats until the alert is acknowledged, with the window minimised."""

from __future__ import annotations

import itertools

import pytest
from pytestqt.qtbot import QtBot

from tests.desktop.conftest import Audio

pytestmark = pytest.mark.serial  # sound heard for as long as it lasts: alone on the machine


def test_a_critical_alert_repeats_until_acknowledged_while_minimised(audio: Audio,
                                                                     qtbot: QtBot) -> None:
    from PySide6.QtWidgets import QWidget

    from mdt.ui.alert_sound import AlertSounder, SoundPlayer

    window = QWidget()
    qtbot.addWidget(window)
    window.showMinimized()
    player = SoundPlayer()
    assert player.backend == "paplay"  # the desktop's audio server, not a beep
    sounder = AlertSounder(player, repeat_ms=1500, read_aloud=lambda: False, parent=None)
    critical = {"id": "c1", "kind": "detainer", "severity": "critical", "title": "DETAINER"}

    audio.start_recording()
    sounder.update([critical])
    qtbot.wait(5200)  # the first time and three repeats
    assert window.isMinimized()
    acknowledged_at = audio.position()
    sounder.update([])  # acknowledged
    assert not sounder.repeating
    qtbot.wait(3500)
    recording = audio.stop_recording()

    bursts = recording.bursts(gap_s=0.3)
    before = [b for b in bursts if b[0] < acknowledged_at]
    after = [b for b in bursts if b[0] >= acknowledged_at + 0.8]  # the last one may be ending
    assert len(before) >= 3, f"the critical sound did not repeat: {bursts}"
    starts = [b[0] for b in before]
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    assert all(1.2 <= g <= 1.9 for g in gaps), gaps  # every repeat_ms
    assert all(0.5 <= b[1] - b[0] <= 1.0 for b in before), before  # critical.wav: 0.72 s
    assert after == [], f"still sounding after the acknowledgement: {after}"
    assert sounder.played == ["critical"] * len(sounder.played)
    assert recording.sox_stat()["Maximum amplitude"] > 0.1
