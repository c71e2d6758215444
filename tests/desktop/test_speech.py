"""Read-aloud on the real services: espeak-ng through a PulseAudio server, recorded from its
null sink's monitor and measured with sox; the words said come from the alert, as the setting
allows; an acknowledgement cuts them off."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from mdt.core.alerts import alerts_for_event
from mdt.desktop.speech import EspeakEngine, choose_engine, read_aloud_enabled, spoken_text
from mdt.settings import Settings
from tests.desktop.conftest import RATE, Audio, Recording, likeness, require

pytestmark = pytest.mark.serial  # sound heard for as long as it lasts: alone on the machine

STOLEN_CAR = {"id": "ev-1", "type": "response", "records": [
    {"hit": True, "file": "VEHICLE", "nic": "V123456789", "caution_codes": ["00"],
     "fields": {"LIC": "TRN4821", "LIS": "VA", "VMA": "TOYT", "NIC": "V123456789"}}]}
WANTED = {"id": "ev-2", "type": "response", "records": [
    {"hit": True, "file": "WANTED", "nic": "W000000001", "caution_codes": ["00"],
     "fields": {"NAM": "ZANMIR, SOREN T", "DOB": "19800101", "NIC": "W000000001"}}]}
SAID = "Hit. Stolen vehicle. Plate T R N 4 8 2 1. Armed and dangerous."


def _alert(event: dict[str, Any]) -> dict[str, Any]:
    return alerts_for_event(event)[0].to_row()


def _engine() -> EspeakEngine:
    require("espeak-ng")
    engine, why = choose_engine("espeak-ng")
    assert isinstance(engine, EspeakEngine), why
    return engine


def _speech_span(recording: Recording) -> float:
    bursts = recording.bursts(gap_s=0.8)
    assert bursts, "nothing was heard"
    return bursts[-1][1] - bursts[0][0]


def _reference(text: str, folder: Path) -> Recording:
    """``text`` as espeak-ng says it at the engine's voice and rate, to a WAV file (no audio
    server), at the recording's rate."""
    wav = folder / f"reference-{abs(hash(text))}.wav"
    raw = wav.with_suffix(".raw")
    subprocess.run(["espeak-ng", "-v", EspeakEngine.voice, "-s", str(EspeakEngine.rate), "-w",
                    str(wav), "--", text], check=True, timeout=30)
    subprocess.run(["sox", str(wav), "-r", str(RATE), "-c", "1", "-b", "16", "-e", "signed",
                    "-t", "raw", str(raw)], check=True, timeout=30)
    from tests.desktop.conftest import _samples

    return Recording(raw, _samples(raw.read_bytes()))


def test_words_an_officer_understands_and_no_more_than_the_setting_allows() -> None:
    car = _alert(STOLEN_CAR)
    assert spoken_text(car) == SAID
    assert spoken_text(car, "kind") == "Hit. Stolen vehicle. Armed and dangerous."
    person = _alert(WANTED)
    assert spoken_text(person) == "Hit. Wanted person. Armed and dangerous."
    assert "Zanmir" not in spoken_text(person, "vehicle")
    assert spoken_text(person, "person") == "Hit. Wanted person. Soren T Zanmir. Armed and dangerous."
    for detail in ("kind", "vehicle", "person", "everything"):  # never a date of birth
        assert "1980" not in spoken_text(person, detail) and "19800101" not in spoken_text(
            person, detail)
    assert spoken_text(person, "everything") == spoken_text(person, "kind")  # wrong: the least


def test_read_aloud_is_on_by_default_for_an_officer_in_a_vehicle() -> None:
    settings = Settings()
    assert read_aloud_enabled(settings, "officer", in_vehicle=True)
    assert not read_aloud_enabled(settings, "officer", in_vehicle=False)
    assert not read_aloud_enabled(settings, "dispatcher", in_vehicle=True)
    settings.set("read_alerts_aloud", False)  # the officer turned it off: it stays off
    assert not read_aloud_enabled(settings, "officer", in_vehicle=True)
    settings.set("read_alerts_aloud", True)
    assert read_aloud_enabled(settings, "dispatcher", in_vehicle=False)


def test_a_critical_hit_is_heard_through_the_audio_server_for_as_long_as_its_words(
        audio: Audio, tmp_path: Path) -> None:
    engine = _engine()
    text = spoken_text(_alert(STOLEN_CAR))
    audio.start_recording()
    engine.say(text, urgent=True)
    engine.wait(30)
    time.sleep(0.5)
    recording = audio.stop_recording()
    assert engine.log[-1][1] == SAID  # the text the speech engine was given
    stats = recording.sox_stat()
    assert stats["Maximum amplitude"] > 0.1, f"silent: {stats}"  # sox: not silent
    assert stats["RMS     amplitude"] > 0.01, stats
    heard = _speech_span(recording)
    reference = _reference(text, tmp_path)
    expected = _speech_span(reference)
    assert abs(heard - expected) <= 0.2 * expected + 0.3, (heard, expected)
    # What was heard is these words: its loudness follows espeak-ng's own rendering of them
    # closely, and not that of other words (the same alert with the person's name in it).
    same = likeness(recording.envelope(), reference.envelope())
    other = likeness(recording.envelope(), _reference(
        "Hit. Stolen vehicle. Plate T R N 4 8 2 7. Armed. Soren Zanmir.", tmp_path).envelope())
    print(f"likeness: same words {same:.3f}, other words {other:.3f}")
    assert same > 0.9 and same - other > 0.15, (same, other)

    audio.start_recording()  # fewer words, less sound: the length follows the words
    engine.say("Hit.")
    engine.wait(30)
    time.sleep(0.5)
    short = _speech_span(audio.stop_recording())
    assert short < heard / 4, (short, heard)


def test_acknowledging_the_alert_cuts_the_reading_off(audio: Audio, qtbot: QtBot) -> None:
    from mdt.desktop.speech import Engine
    from mdt.ui.alert_sound import AlertSounder, Speaker

    class Silent:
        backend = "none"

        def play(self, severity: str) -> None:
            pass

    engine: Engine = _engine()
    sounder = AlertSounder(Silent(), speaker=Speaker(engine),  # type: ignore[arg-type]
                           read_aloud=lambda: True)
    car = _alert(STOLEN_CAR)
    audio.start_recording()
    sounder.update([car])
    assert sounder.spoken == [SAID]
    qtbot.wait(1500)  # it is being read
    assert engine.speaking
    acknowledged = time.monotonic()
    sounder.update([])  # the officer acknowledged it
    stopped_after = time.monotonic() - acknowledged
    assert not engine.speaking
    qtbot.wait(1500)
    recording = audio.stop_recording()
    bursts = recording.bursts(gap_s=0.8)
    assert bursts, f"nothing was heard before the acknowledgement: {recording.sox_stat()} {recording.seconds}"
    end = bursts[-1][1]
    assert end < recording.seconds - 1.0, f"still speaking after the acknowledgement ({end} s)"
    assert stopped_after < 0.5
    assert _speech_span(recording) < 3.0  # the whole sentence takes over 4 s


def test_the_settings_dialog_shows_read_aloud_in_force_and_keeps_the_default_unset(
        qtbot: QtBot) -> None:
    from mdt.agency_config import AgencyConfig
    from mdt.app.controller import AppController
    from mdt.services.session import Operator
    from mdt.services.terminal import Terminal
    from mdt.ui.settings_dialog import SettingsDialog

    settings = Settings()
    controller = AppController(Terminal(settings, agency=AgencyConfig(in_vehicle_exempt=True)))
    controller.operator = Operator(user_id="officer1", name="Officer Tess Trainee",
                                   role="officer", ori="MD1012600")
    try:
        dialog = SettingsDialog(controller)
        qtbot.addWidget(dialog)
        assert dialog.read_aloud.isChecked()  # on for an officer in a vehicle
        dialog.save()  # saving other settings does not turn the default into a choice
        assert not settings.is_set("read_alerts_aloud")
        dialog = SettingsDialog(controller)
        qtbot.addWidget(dialog)
        dialog.read_aloud.setChecked(False)
        dialog.save()
        assert settings.is_set("read_alerts_aloud") and not settings.get("read_alerts_aloud")
        assert not read_aloud_enabled(settings, "officer", in_vehicle=True)
    finally:
        controller.shutdown()


def test_the_windows_engine_keeps_one_sapi_process_and_sends_it_lines(tmp_path: Path) -> None:
    """SAPI itself is Windows only; here a stand-in for PowerShell records what it is sent."""
    import os

    from mdt.desktop.speech import SapiEngine

    said = tmp_path / "said.txt"
    fake = tmp_path / "powershell"
    fake.write_text(f"#!/bin/sh\ncat >> {said}\n")
    os.chmod(fake, 0o755)
    engine = SapiEngine(str(fake))
    engine.say(SAID, urgent=True)
    first = engine._process
    engine.stop()
    engine.say("Hit.\nDetainer.")
    assert engine._process is first  # started once, kept: later alerts do not wait for it
    engine.close()
    assert said.read_text().splitlines() == [f"SAY {SAID}", "STOP", "SAY Hit. Detainer."]
