"""Writes the alert sounds in resources/sounds/ (run once; the WAV files are committed).

Three distinct patterns, so an officer can tell them apart without looking: critical is a
fast, high two-tone warble; high is two mid-pitch beeps; info is one soft low tone.
"""

from __future__ import annotations

import math
import struct
import wave
from pathlib import Path

RATE = 22050
OUT = Path(__file__).resolve().parent.parent / "resources" / "sounds"


def tone(freq: float, seconds: float, volume: float = 0.5) -> list[int]:
    n = int(RATE * seconds)
    fade = max(1, int(RATE * 0.01))
    samples = []
    for i in range(n):
        envelope = min(1.0, i / fade, (n - i) / fade)
        samples.append(int(32767 * volume * envelope * math.sin(2 * math.pi * freq * i / RATE)))
    return samples


def silence(seconds: float) -> list[int]:
    return [0] * int(RATE * seconds)


PATTERNS = {
    "critical": [*tone(1400, 0.12, 0.7), *tone(950, 0.12, 0.7)] * 3,
    "high": [*tone(880, 0.15), *silence(0.08), *tone(880, 0.15)],
    "info": tone(520, 0.25, 0.35),
}


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    for name, samples in PATTERNS.items():
        with wave.open(str(OUT / f"{name}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(RATE)
            out.writeframes(b"".join(struct.pack("<h", s) for s in samples))
        print(OUT / f"{name}.wav")


if __name__ == "__main__":
    main()
