"""Time from a critical alert arriving to its first spoken word, heard on the audio server.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/speech.py [--runs 5]

Starts a PulseAudio server of its own with a null sink (unless PULSE_SERVER names one), records
the sink's monitor with parec, and for each run hands the alert desk's snapshot (a new critical
hit) to :class:`mdt.ui.alert_sound.AlertSounder` with read-aloud on, then finds the first
loud sample of the recording after that moment. The alert's tone is played to a second null
sink so that what is measured is the speech. The baseline is espeak-ng started directly with
the same words, timed the same way (the engine's own start and the audio server's latency).
Needs espeak-ng, pulseaudio, pulseaudio-utils (``make desktop-test-services``). The last line is
one JSON object: ``{"bench": "speech", "first_word_ms": median, "first_word_ms_max": ...,
"baseline_ms": ..., "overhead_ms": ..., "engine": "espeak-ng", "runs": n}``.
"""

from __future__ import annotations

import argparse
import array
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

RATE = 16000
EVENT = {"id": "bench", "type": "response", "records": [
    {"hit": True, "file": "VEHICLE", "nic": "V123456789", "caution_codes": ["00"],
     "fields": {"LIC": "TRN4821", "LIS": "VA", "NIC": "V123456789"}}]}


def start_pulse(folder: Path) -> subprocess.Popen[bytes] | None:
    if os.environ.get("PULSE_SERVER"):
        return None
    socket = folder / "native"
    env = {**os.environ, "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    process = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "--disable-shm=yes",
         "-L", f"module-null-sink sink_name=mdt_null rate={RATE} channels=1",
         "-L", f"module-null-sink sink_name=mdt_tones rate={RATE} channels=1",
         "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1",
         "--log-target=stderr"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 15
    while not socket.exists():
        if time.monotonic() > deadline:
            raise SystemExit("pulseaudio did not start (apt-get install pulseaudio)")
        time.sleep(0.05)
    os.environ["PULSE_SERVER"] = f"unix:{socket}"
    subprocess.run(["pactl", "set-default-sink", "mdt_null"], check=True, timeout=10)
    return process


class Recorder:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.file = open(path, "wb")  # noqa: SIM115
        self.process = subprocess.Popen(
            ["parec", "-d", "mdt_null.monitor", "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=10"], stdout=self.file, stderr=subprocess.DEVNULL)
        while path.stat().st_size < RATE // 5:
            time.sleep(0.005)

    def position(self) -> int:
        return self.path.stat().st_size // 2

    def first_sound_after(self, start: int, timeout: float = 10.0) -> float:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            raw = self.path.read_bytes()
            samples = array.array("h")
            samples.frombytes(raw[start * 2: len(raw) // 2 * 2])
            for i, value in enumerate(samples):
                if abs(value) >= 500:
                    return i / RATE * 1000
            time.sleep(0.02)
        raise SystemExit("nothing was heard")

    def close(self) -> None:
        self.process.terminate()
        self.process.wait()
        self.file.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args(argv)
    from PySide6.QtWidgets import QApplication

    from mdt.core.alerts import alerts_for_event
    from mdt.desktop.speech import EspeakEngine, choose_engine, spoken_text
    from mdt.ui.alert_sound import AlertSounder, SoundPlayer, Speaker

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="mdt-speech-bench-"))
    pulse = start_pulse(folder)
    recorder = Recorder(folder / "recording.raw")
    engine, why = choose_engine()
    if engine is None:
        raise SystemExit(why)

    class TonesElsewhere(SoundPlayer):  # the alert's tone on the other sink: speech is measured
        def play(self, severity: str) -> None:
            path = self.sounds.get(severity) or self.sounds["info"]
            subprocess.Popen(["paplay", "-d", "mdt_tones", str(path)])

    first: list[float] = []
    baseline: list[float] = []
    text = spoken_text(alerts_for_event(EVENT)[0].to_row())
    try:
        for run in range(args.runs):
            sounder = AlertSounder(TonesElsewhere(), speaker=Speaker(engine),
                                   read_aloud=lambda: True)
            start = recorder.position()
            began = time.perf_counter()
            row = alerts_for_event({**EVENT, "id": f"bench-{run}"})[0].to_row()  # it arrives
            sounder.update([row])
            queued_ms = (time.perf_counter() - began) * 1000
            first.append(recorder.first_sound_after(start) )
            sounder.update([])  # acknowledged: stop
            app.processEvents()
            time.sleep(0.5)
            start = recorder.position()
            direct = subprocess.Popen(["espeak-ng", "-v", EspeakEngine.voice, "-s",
                                       str(EspeakEngine.rate), "--", text])
            baseline.append(recorder.first_sound_after(start))
            direct.terminate()
            direct.wait()
            time.sleep(0.5)
            print(f"run {run + 1}: first word {first[-1]:.0f} ms after the alert (handed to the "
                  f"engine in {queued_ms:.1f} ms); espeak-ng alone {baseline[-1]:.0f} ms")
    finally:
        recorder.close()
        engine.close()
        if pulse is not None:
            pulse.terminate()
            pulse.wait()
    result = {"bench": "speech", "engine": engine.name, "runs": args.runs, "words": text,
              "first_word_ms": round(statistics.median(first), 1),
              "first_word_ms_max": round(max(first), 1),
              "baseline_ms": round(statistics.median(baseline), 1),
              "overhead_ms": round(statistics.median(first) - statistics.median(baseline), 1)}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
