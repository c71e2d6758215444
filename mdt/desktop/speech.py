"""Read-aloud for an officer who is driving: what is said for an alert, and who says it. No Qt.

**What is said** (:func:`spoken_text`): the kind of alert and of record, the vehicle's
identifiers spelled out, then the caution in words — "Hit. Stolen vehicle. Plate T R N 4 8 2 1.
Armed and dangerous." A person's name is said only when the agency allows it (setting
``read_aloud_detail`` in ``<config dir>/settings.json``; an unknown value counts as ``kind``):

- ``kind``: the kind of alert and record and the cautions only;
- ``vehicle`` (default): also plates, VINs and serials, character by character;
- ``person``: also the person's name.

Dates of birth, addresses, NICs and free text are never said.

**Who says it** (:func:`choose_engine`), decided by size, latency and what a fleet laptop has:

- Linux: ``espeak-ng`` called directly (about 2 MB, starts in well under 100 ms, no daemon, plays
  through the desktop's audio server — PulseAudio or PipeWire), else ``spd-say``
  (speech-dispatcher, which Debian and Ubuntu desktops install for the screen reader; its
  first utterance waits for the daemon to start).
- Windows: SAPI (``System.Speech``, in every Windows since 7) through one PowerShell process
  started with the first alert and kept, so later alerts do not wait for it to start.
- Not QtTextToSpeech: it ships only in PySide6-Addons (175 MB more, and a second binding wheel
  to keep in step with the pinned PySide6-Essentials), and on Linux it calls speech-dispatcher
  anyway.

An engine says one thing at a time: a new alert interrupts the one being read, and
:meth:`Engine.stop` (an acknowledgement) cuts it off.
"""

from __future__ import annotations

import abc
import contextlib
import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Mapping
from typing import Any

__all__ = ["DETAIL_LEVELS", "Engine", "choose_engine", "read_aloud_enabled", "spell",
           "spoken_text"]

DETAIL_LEVELS = ("kind", "vehicle", "person")

FILE_WORDS = {"VEHICLE": "Stolen vehicle", "WANTED": "Wanted person", "IVF":
              "Immigration violator", "PROTECTION_ORDER": "Protection order", "GUN": "Stolen gun",
              "PLATE": "Stolen plate", "BOAT": "Stolen boat", "ARTICLE": "Stolen article",
              "MISSING": "Missing person", "SECURITY": "Stolen security", "PART": "Stolen part"}
KIND_SPOKEN = {"hit": "Hit", "caution": "Hit", "ivf_hit": "Immigration violator hit",
               "delayed_hit": "Delayed hit", "detainer": "Detainer",
               "incoming_yq": "Hit confirmation request", "yr": "Hit confirmation response",
               "confirmation_overdue": "Confirmation overdue"}
_DIGITS = {"0": "zero"}  # "O" and "0" must not sound alike on a plate


def spell(value: str) -> str:
    """A plate or VIN character by character: ``TRN4821`` -> ``T R N 4 8 2 1``."""
    return " ".join(_DIGITS.get(c, c) for c in value.upper() if c.isalnum())


def _sentence(words: str) -> str:
    words = words.strip().rstrip(".")
    return words[:1].upper() + words[1:].lower() if words else ""


def _caution_words(body: Mapping[str, Any]) -> list[str]:
    out = []
    for text in body.get("cautions") or []:
        # "00 ARMED AND DANGEROUS" -> "Armed and dangerous"
        out.append(_sentence(re.sub(r"^\w{1,3}\s+", "", str(text)) if re.match(
            r"^\d", str(text)) else str(text)))
    return [w for w in out if w]


def _vehicle_words(subject: str) -> str:
    match = re.match(r"^(plate|VIN|serial)\s+(\S+)", subject)
    if not match:
        return ""
    what = {"plate": "Plate", "VIN": "VIN", "serial": "Serial"}[match.group(1)]
    return f"{what} {spell(match.group(2))}"


def _name_words(subject: str) -> str:
    name = re.sub(r"\s+DOB\s+\S+$", "", subject).strip()  # never the date of birth
    if not name or re.match(r"^(plate|VIN|serial)\s", name):
        return ""
    last, _, first = name.partition(",")
    return " ".join(p.strip().title() for p in (first, last) if p.strip())


def spoken_text(alert: Mapping[str, Any], detail: str = "vehicle") -> str:
    """What is read aloud for one alert (a row as the cache keeps it), in short sentences."""
    kind = str(alert.get("kind") or "")
    body = alert.get("body") if isinstance(alert.get("body"), Mapping) else {}
    assert isinstance(body, Mapping)
    if detail not in DETAIL_LEVELS:
        detail = "kind"  # the least said when the setting is wrong
    parts = [KIND_SPOKEN.get(kind, "Alert")]
    file = str(body.get("file") or "").upper()
    if kind in ("hit", "caution", "ivf_hit", "delayed_hit"):
        if file and file != "IVF":
            parts.append(FILE_WORDS.get(file, _sentence(file.replace("_", " "))))
        subject = str(body.get("subject") or "")
        if detail in ("vehicle", "person"):
            vehicle = _vehicle_words(subject)
            if vehicle:
                parts.append(vehicle)
        if detail == "person":
            name = _name_words(subject)
            if name:
                parts.append(name)
        parts.extend(_caution_words(body))
    elif kind == "detainer" and detail == "person":
        who = body.get("subject")
        name = _name_words(str(who.get("name") or "")) if isinstance(who, Mapping) else ""
        if name:
            parts.append(name)
    elif kind == "incoming_yq":
        if body.get("pri") == "U":
            parts.insert(0, "Urgent")
        rno = body.get("rno")
        if isinstance(rno, int) and rno > 1:
            parts.append({2: "Second request", 3: "Third request"}.get(rno, f"Request {rno}"))
    elif kind == "yr":
        status = str(body.get("status") or "")
        parts.append({"CONFIRMED": "Confirmed", "NOT_CONFIRMED": "Not confirmed. Do not act on "
                      "the hit", "WILL_CONFIRM_BY": "Will confirm later"}.get(status, ""))
    elif kind == "confirmation_overdue":
        parts.append("Send the next request")
    return " ".join(f"{p}." for p in parts if p)


def read_aloud_enabled(settings: Any, role: str | None, in_vehicle: bool) -> bool:
    """The setting ``read_alerts_aloud`` when the operator (or the agency) set it; otherwise on
    for an officer whose terminal the agency file says is in a vehicle
    (``[locked] in_vehicle_exempt = true``)."""
    if settings.is_set("read_alerts_aloud") or settings.is_locked("read_alerts_aloud"):
        return bool(settings.read_alerts_aloud)
    return role == "officer" and in_vehicle


class Engine(abc.ABC):
    """One text-to-speech program; ``name`` says which, ``log`` keeps what it was given.
    Subclasses say how one utterance is spoken (``_say``)."""

    name = "none"

    def __init__(self) -> None:
        self.log: list[tuple[float, str]] = []  # (perf_counter when asked, text)

    def say(self, text: str, *, urgent: bool = False) -> None:
        self.log.append((time.perf_counter(), text))
        self._say(text, urgent)

    @abc.abstractmethod
    def _say(self, text: str, urgent: bool) -> None:
        """Start speaking ``text`` (``urgent``: cut in at once)."""

    def stop(self) -> None:  # noqa: B027 - a no-op by default: an engine may have nothing to cut
        """Cut off what is being said (an acknowledgement, or a newer alert)."""

    @property
    def speaking(self) -> bool:
        return False

    def close(self) -> None:
        self.stop()


class ProcessEngine(Engine):
    """Starts one program per utterance; stopping ends it."""

    def __init__(self, program: str) -> None:
        super().__init__()
        self.program = program
        self._process: subprocess.Popen[bytes] | None = None

    @abc.abstractmethod
    def command(self, text: str, urgent: bool) -> list[str]:
        """The program's command line for one utterance."""

    def _say(self, text: str, urgent: bool) -> None:
        self.stop()
        self._process = subprocess.Popen(self.command(text, urgent), stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    @property
    def speaking(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def wait(self, timeout: float = 30.0) -> None:
        if self._process is not None:
            self._process.wait(timeout)

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(2)
            if process.poll() is None:
                process.kill()
                process.wait()


class EspeakEngine(ProcessEngine):
    name = "espeak-ng"
    voice = "en-us"
    rate = 160  # words a minute: clear over road noise

    def command(self, text: str, urgent: bool) -> list[str]:
        return [self.program, "-v", self.voice, "-s", str(self.rate), "--", text]


class SpeechDispatcherEngine(ProcessEngine):
    name = "speech-dispatcher"

    def command(self, text: str, urgent: bool) -> list[str]:
        return [self.program, "-w", "-P", "important" if urgent else "message", "--", text]

    def stop(self) -> None:
        was = self.speaking
        super().stop()
        if was:
            with contextlib.suppress(OSError):
                subprocess.run([self.program, "-S"], timeout=5, check=False,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


SAPI_SCRIPT = r"""
Add-Type -AssemblyName System.Speech
$s = New-Object System.Speech.Synthesis.SpeechSynthesizer
$s.SetOutputToDefaultAudioDevice()
while ($null -ne ($line = [Console]::In.ReadLine())) {
  if ($line -eq 'STOP') { $s.SpeakAsyncCancelAll() }
  elseif ($line.StartsWith('SAY ')) { $s.SpeakAsyncCancelAll(); [void]$s.SpeakAsync($line.Substring(4)) }
}
"""


class SapiEngine(Engine):
    """Windows SAPI through one PowerShell process kept for the session (its start, about a
    second, is paid once, when the first alert is read)."""

    name = "sapi"

    def __init__(self, program: str) -> None:
        super().__init__()
        self.program = program
        self._process: subprocess.Popen[str] | None = None

    def _send(self, line: str) -> None:
        if self._process is None or self._process.poll() is not None:
            flags = getattr(subprocess, "CREATE_NO_WINDOW", 0)
            self._process = subprocess.Popen(
                [self.program, "-NoProfile", "-NonInteractive", "-Command", SAPI_SCRIPT],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                text=True, creationflags=flags)
        assert self._process.stdin is not None
        self._process.stdin.write(line.replace("\n", " ") + "\n")
        self._process.stdin.flush()

    def _say(self, text: str, urgent: bool) -> None:
        self._send("SAY " + text)

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            with contextlib.suppress(OSError):
                self._send("STOP")

    def close(self) -> None:
        if self._process is not None:
            with contextlib.suppress(OSError):
                assert self._process.stdin is not None
                self._process.stdin.close()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._process.wait(5)


def choose_engine(preference: str = "auto") -> tuple[Engine | None, str]:
    """The engine to use and a sentence saying which, or why there is none. ``preference``
    (setting ``speech_engine``, or ``MDT_SPEECH`` in the environment): auto, espeak-ng,
    speech-dispatcher, sapi or none."""
    preference = os.environ.get("MDT_SPEECH") or preference or "auto"
    if preference == "none":
        return None, "Read-aloud is turned off (speech_engine = none)."
    candidates: list[str] = (["sapi"] if sys.platform == "win32" else
                             ["espeak-ng", "speech-dispatcher"]) if preference == "auto" \
        else [preference]
    for name in candidates:
        if name == "sapi" and sys.platform == "win32":
            program = shutil.which("powershell") or shutil.which("pwsh")
            if program:
                return SapiEngine(program), "Read-aloud through Windows SAPI."
        elif name == "espeak-ng":
            program = shutil.which("espeak-ng")
            if program:
                return EspeakEngine(program), "Read-aloud through espeak-ng."
        elif name == "speech-dispatcher":
            program = shutil.which("spd-say")
            if program:
                return SpeechDispatcherEngine(program), "Read-aloud through speech-dispatcher."
    wanted = ("Windows PowerShell (SAPI)" if sys.platform == "win32" else
              "espeak-ng or speech-dispatcher (sudo apt-get install espeak-ng)")
    return None, f"No text-to-speech here: read-aloud needs {wanted}."
