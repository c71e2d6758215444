"""Typed settings, declared once, with defaults. No Qt; no criminal-justice data.

The file is ``<config dir>/settings.json`` (see :mod:`mdt.paths`), written atomically (temp file,
fsync, replace). Secrets never live here: tokens and keys go to the OS keystore.
Window geometry and other pure UI state live in QSettings, not here.
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mdt import paths

SETTINGS_VERSION = 1


@dataclass(frozen=True)
class Setting:
    key: str
    type: type
    default: Any
    doc: str


_DECLARED = [
    Setting("gateway_url", str, "http://127.0.0.1:8765",
            "Base URL of the message-switch gateway (https:// for a live gateway)."),
    Setting("allow_plain_http", bool, False,
            "Allow a plain http:// gateway on another machine (a training class without TLS "
            "only; a live gateway is always https://)."),
    Setting("ca_bundle", str, "",
            "PEM file of the agency's CA, used to verify the gateway's TLS certificate. "
            "Empty: the system's trusted CAs."),
    Setting("device_id", str, "", "This terminal's id, sent at login (made at first start)."),
    Setting("last_user", str, "", "The user id last signed in on this terminal."),
    Setting("theme", str, "day", "Colour theme: day or night."),
    Setting("gateway_training", bool, False,
            "Whether the gateway said it is a training one when it last answered (shown on the "
            "sign-in page even when it is unreachable)."),
    Setting("operator_phone", str, "", "Phone number put in PHN fields (IAQ, YQ)."),
    Setting("retention_hours", float, 12.0,
            "How long cached returns live (hours); one shift by default. Older ones are erased "
            "at sign-in and every 10 minutes while signed in."),
    Setting("erase_on_logout", bool, False,
            "Erase every cached return when the operator logs out (an agency setting)."),
    Setting("wipe_after_failures", int, 0,
            "Wipe a profile's cache after this many wrong passwords in a row (0: never)."),
    Setting("unanswered_after_minutes", float, 5.0,
            "Show a sent query as unanswered after this many minutes without an answer (an "
            "acknowledged IAQ: six times as long)."),
    Setting("keystore", str, "os",
            "Where the wrapped cache key is held: 'os' (the OS keystore through keyring) or "
            "'wrapped-file' (a file holding only the password-wrapped key; an agency must allow "
            "it, for machines without a keystore, such as training laptops)."),
    Setting("workstation_layout", str, "auto",
            "The main screen's layout: auto (by the account's role), officer (one column, large "
            "type) or dispatcher (queue, units, returns side by side). Ctrl+Shift+D switches."),
    Setting("high_contrast", bool, False,
            "High contrast: white on black, yellow controls, thick focus outlines."),
    Setting("font_scale", float, 1.0, "All type larger or smaller (0.8 to 2.0)."),
    Setting("read_alerts_aloud", bool, False,
            "Read each new critical or high alert aloud in short sentences, for an officer who "
            "is driving. Until it is set, on for the officer role when the agency file says the "
            "terminal is in a vehicle ([locked] in_vehicle_exempt = true), off otherwise."),
    Setting("read_aloud_detail", str, "vehicle",
            "How much read-aloud may say about whom or what an alert is about: 'kind' (the "
            "kind of alert and record, and cautions), 'vehicle' (also plates, VINs and serials) "
            "or 'person' (also the person's name). Dates of birth are never read aloud."),
    Setting("speech_engine", str, "auto",
            "Text-to-speech: 'auto' (SAPI on Windows; espeak-ng, else speech-dispatcher, on "
            "Linux), 'espeak-ng', 'speech-dispatcher', 'sapi' or 'none'."),
]
DECLARED: dict[str, Setting] = {s.key: s for s in _DECLARED}


class SettingsError(ValueError):
    """A setting has a value of the wrong kind; the message names it."""


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so a crash leaves either the old or the new file, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


class Settings:
    def __init__(self, path: Path | None = None) -> None:
        self.path = path or paths.config_dir() / "settings.json"
        self._values: dict[str, Any] = {}
        self._locked: dict[str, Any] = {}  # set by the agency (mdt.agency_config): fixed
        if self.path.exists():
            try:
                loaded = json.loads(self.path.read_text(encoding="utf-8"))
            except (ValueError, OSError) as exc:
                raise SettingsError(f"The settings file {self.path} cannot be read: {exc}") from exc
            if isinstance(loaded, dict):
                for key, value in loaded.items():
                    if key in DECLARED:
                        self._values[key] = self._checked(key, value)
        if not self.get("device_id"):
            self.set("device_id", f"mdt-{uuid.uuid4()}")
            self.save()

    @staticmethod
    def _checked(key: str, value: Any) -> Any:
        setting = DECLARED[key]
        if setting.type is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, setting.type) or (setting.type is not bool
                                                   and isinstance(value, bool)):
            raise SettingsError(
                f"Setting '{key}' must be a {setting.type.__name__}, not {value!r}.")
        return value

    def get(self, key: str) -> Any:
        if key not in DECLARED:
            raise KeyError(f"unknown setting {key!r}")
        if key in self._locked:
            return self._locked[key]
        return self._values.get(key, DECLARED[key].default)

    def set(self, key: str, value: Any) -> None:
        if key not in DECLARED:
            raise KeyError(f"unknown setting {key!r}")
        checked = self._checked(key, value)
        if key == "gateway_url":  # every entry point: CLI, GUI, settings dialog, agency file
            from mdt.core.origin import GatewayUrlError, check_gateway_url

            try:
                checked = check_gateway_url(checked,
                                            allow_plain_http=bool(self.get("allow_plain_http")))
            except GatewayUrlError as exc:
                raise SettingsError(str(exc)) from None
        if key in self._locked and checked != self._locked[key]:
            raise SettingsError(f"Setting '{key}' is set by the agency and cannot be changed on "
                                "this terminal.")
        self._values[key] = checked

    def is_set(self, key: str) -> bool:
        """Whether the operator (or an earlier run) chose a value, rather than the default."""
        return key in self._values

    def lock(self, values: dict[str, Any]) -> None:
        """Fix these settings to the agency's values for this run (not written to the file)."""
        for key, value in values.items():
            if key not in DECLARED:
                raise KeyError(f"unknown setting {key!r}")
            self._locked[key] = self._checked(key, value)

    def is_locked(self, key: str) -> bool:
        return key in self._locked

    def save(self) -> None:
        body = {"version": SETTINGS_VERSION, **self._values}
        atomic_write_text(self.path, json.dumps(body, indent=2, sort_keys=True))
