"""The agency's configuration: one TOML file an agency's IT ships beside the build.

It presets what an agency decides for its fleet — the gateway and its CA, the ORI, retention,
lock timeouts per role, erase on logout, the keystore, whether training is allowed at all, the
Immigration Violator File policy prompts and the alert sounds — and is validated at start: a
wrong value stops the terminal with a sentence naming the file, the setting, what was wrong and
what is allowed (:class:`AgencyConfigError`). No Qt.

Where it is looked for, first found wins:

1. the file named by the environment variable ``MDT_AGENCY_CONFIG``;
2. ``mdt-agency.toml`` beside the executable (a PyInstaller build: beside ``mdt.exe``);
3. ``mdt-agency.toml`` in the settings folder (:func:`mdt.paths.config_dir`).

No file: the defaults of :mod:`mdt.settings` stand; a run from source (a developer's or a
trainer's machine, ``make run``) may use a training gateway, a built app may not. A file that does
not say ``allow_training = true`` makes a live terminal: it refuses to sign in to a training
gateway. Settings the agency sets in ``[locked]`` sections
(retention, lock timeouts, erase on logout, wipe after failures, keystore) cannot be changed by
the operator; the others are defaults the operator may change. The complete example is
``packaging/mdt-agency.example.toml`` (documented in ``docs/agency-config.md``).
"""

from __future__ import annotations

import os
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from mdt import paths

FILE_NAME = "mdt-agency.toml"
ENV = "MDT_AGENCY_CONFIG"
CJIS_MAX_LOCK_MINUTES = 30  # CJIS Security Policy 5.5.5: session lock after at most 30 minutes
ROLES = ("officer", "dispatcher", "trainer")
SEVERITIES = ("critical", "high", "info")
IVF_CATEGORIES = ("DEPORTED_FELON", "ABSCONDER", "NSEERS")
KEYSTORES = ("os", "wrapped-file")

# section -> key -> (type, what is allowed, a check returning an error or "")
_SECTIONS = ("agency", "gateway", "locked", "lock_minutes", "ivf_policy", "sounds")


class AgencyConfigError(ValueError):
    """The agency file is wrong; the message names the file and the setting."""


@dataclass(frozen=True)
class AgencyConfig:
    path: Path | None = None
    agency_name: str = ""
    ori: str = ""
    allow_training: bool = True
    gateway_url: str = ""
    ca_bundle: str = ""
    retention_hours: float | None = None
    erase_on_logout: bool | None = None
    wipe_after_failures: int | None = None
    keystore: str | None = None
    lock_minutes: dict[str, float] = field(default_factory=dict)
    in_vehicle_exempt: bool = False
    ivf_prompts: dict[str, str] = field(default_factory=dict)
    sounds: dict[str, Path] = field(default_factory=dict)

    def ivf_prompt(self, category: str) -> str:
        from mdt.core.alerts import ivf_prompt

        return ivf_prompt(category, self.ivf_prompts)

    def lock_after(self, role: str) -> float:
        """Minutes of idleness before the screen locks for ``role`` (never above CJIS's 30)."""
        return min(float(self.lock_minutes.get(role, 15.0)), CJIS_MAX_LOCK_MINUTES)

    def sound_for(self, severity: str) -> Path | None:
        """The agency's sound for a severity, or None for the shipped one."""
        return self.sounds.get(severity)

    @property
    def locked_settings(self) -> dict[str, Any]:
        """The settings the operator may not change, with the agency's values."""
        values = {"retention_hours": self.retention_hours,
                  "erase_on_logout": self.erase_on_logout,
                  "wipe_after_failures": self.wipe_after_failures, "keystore": self.keystore}
        return {k: v for k, v in values.items() if v is not None}


def find_config_file() -> Path | None:
    """The agency file in force (see the module's docstring), or None."""
    named = os.environ.get(ENV)
    if named:
        return Path(named)  # named but missing: load_agency_config says so
    beside = Path(sys.executable).resolve().parent / FILE_NAME
    if getattr(sys, "frozen", False) and beside.exists():
        return beside
    in_settings = paths.config_dir() / FILE_NAME
    return in_settings if in_settings.exists() else None


def _fail(path: Path, key: str, message: str) -> AgencyConfigError:
    return AgencyConfigError(f"{path}: {key} {message}")


def _expect(path: Path, table: Mapping[str, Any], section: str, key: str, kind: type,
            allowed: str) -> Any:
    value = table.get(key)
    if value is None:
        return None
    ok = isinstance(value, kind) and not (kind is not bool and isinstance(value, bool))
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value, ok = float(value), True
    if not ok:
        raise _fail(path, f"[{section}] {key}", f"must be {allowed}, not {value!r}.")
    return value


def _unknown(path: Path, table: Mapping[str, Any], section: str, known: tuple[str, ...]) -> None:
    for key in table:
        if key not in known:
            raise _fail(path, f"[{section}] {key}" if section else key,
                        f"is not a setting MDT knows (known: {', '.join(known)}).")


def load_agency_config(path: Path | None = None) -> AgencyConfig:
    """Read and check the agency file (``path``, or the one :func:`find_config_file` finds).
    No file at all: the defaults. Raises :class:`AgencyConfigError`."""
    path = path or find_config_file()
    if path is None:  # a run from source may train; a build is live unless its agency says
        return AgencyConfig(allow_training=not getattr(sys, "frozen", False))
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AgencyConfigError(f"{path}: the agency configuration file is missing "
                                f"(named by {ENV} or expected beside the program).") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise AgencyConfigError(f"{path}: cannot be read: {exc}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise AgencyConfigError(f"{path}: is not valid TOML: {exc}") from exc
    _unknown(path, raw, "", _SECTIONS)
    for section in _SECTIONS:
        if section in raw and not isinstance(raw[section], dict):
            raise _fail(path, f"[{section}]", "must be a table (a [section]).")
    agency = raw.get("agency", {})
    _unknown(path, agency, "agency", ("name", "ori", "allow_training"))
    name = _expect(path, agency, "agency", "name", str, "text") or ""
    ori = _expect(path, agency, "agency", "ori", str, "text") or ""
    if ori and not (len(ori) == 9 and ori.isalnum() and ori[:2].isalpha()):
        raise _fail(path, "[agency] ori", f"must be 9 letters and digits starting with the "
                    f"state code (e.g. MD1012600), not {ori!r}.")
    allow_training = _expect(path, agency, "agency", "allow_training", bool, "true or false")

    gateway = raw.get("gateway", {})
    _unknown(path, gateway, "gateway", ("url", "ca_bundle"))
    url = _expect(path, gateway, "gateway", "url", str, "a URL") or ""
    if url:
        parsed = urlparse(url)
        local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
        if parsed.scheme not in ("https", "http") or not parsed.hostname:
            raise _fail(path, "[gateway] url", f"must be an https:// URL, not {url!r}.")
        if parsed.scheme == "http" and not local:
            raise _fail(path, "[gateway] url", "must use https:// for a gateway that is not on "
                        "this machine (CJIS: CJI is encrypted in transit).")
    ca_bundle = _expect(path, gateway, "gateway", "ca_bundle", str, "a path to a PEM file") or ""
    if ca_bundle:
        ca_path = Path(ca_bundle) if Path(ca_bundle).is_absolute() else path.parent / ca_bundle
        if not ca_path.is_file():
            raise _fail(path, "[gateway] ca_bundle", f"names {ca_path}, which does not exist.")
        if b"-----BEGIN CERTIFICATE-----" not in ca_path.read_bytes()[:65536]:
            raise _fail(path, "[gateway] ca_bundle", f"names {ca_path}, which holds no PEM "
                        "certificate.")
        ca_bundle = str(ca_path)

    locked = raw.get("locked", {})
    _unknown(path, locked, "locked", ("retention_hours", "erase_on_logout",
                                      "wipe_after_failures", "keystore", "in_vehicle_exempt"))
    retention = _expect(path, locked, "locked", "retention_hours", float, "a number of hours")
    if retention is not None and not 0.5 <= retention <= 168:
        raise _fail(path, "[locked] retention_hours", f"must be between 0.5 and 168, not "
                    f"{retention:g}.")
    erase = _expect(path, locked, "locked", "erase_on_logout", bool, "true or false")
    wipe = _expect(path, locked, "locked", "wipe_after_failures", int, "a whole number")
    if wipe is not None and not 0 <= wipe <= 100:
        raise _fail(path, "[locked] wipe_after_failures", f"must be 0 (never) to 100, not {wipe}.")
    keystore = _expect(path, locked, "locked", "keystore", str, "'os' or 'wrapped-file'")
    if keystore is not None and keystore not in KEYSTORES:
        raise _fail(path, "[locked] keystore", f"must be 'os' or 'wrapped-file', not "
                    f"{keystore!r}.")
    exempt = bool(_expect(path, locked, "locked", "in_vehicle_exempt", bool, "true or false"))

    lock = raw.get("lock_minutes", {})
    _unknown(path, lock, "lock_minutes", ROLES)
    lock_minutes: dict[str, float] = {}
    for role in ROLES:
        minutes = _expect(path, lock, "lock_minutes", role, float, "a number of minutes")
        if minutes is None:
            continue
        if not 1 <= minutes <= CJIS_MAX_LOCK_MINUTES:
            raise _fail(path, f"[lock_minutes] {role}", f"must be between 1 and "
                        f"{CJIS_MAX_LOCK_MINUTES} (the CJIS maximum), not {minutes:g}.")
        lock_minutes[role] = minutes

    prompts_raw = raw.get("ivf_policy", {})
    _unknown(path, prompts_raw, "ivf_policy", IVF_CATEGORIES)
    prompts = {}
    for category in IVF_CATEGORIES:
        text = _expect(path, prompts_raw, "ivf_policy", category, str, "text")
        if text is not None:
            if not text.strip() or len(text) > 500:
                raise _fail(path, f"[ivf_policy] {category}", "must be 1 to 500 characters.")
            prompts[category] = text.strip()

    sounds_raw = raw.get("sounds", {})
    _unknown(path, sounds_raw, "sounds", SEVERITIES)
    sounds = {}
    for severity in SEVERITIES:
        value = _expect(path, sounds_raw, "sounds", severity, str, "'default' or a .wav file")
        if value is None or value == "default":
            continue
        sound = Path(value) if Path(value).is_absolute() else path.parent / value
        if sound.suffix.lower() != ".wav" or not sound.is_file():
            raise _fail(path, f"[sounds] {severity}", f"must be 'default' or an existing .wav "
                        f"file; {sound} is not.")
        sounds[severity] = sound

    return AgencyConfig(
        path=path, agency_name=name, ori=ori.upper(),
        allow_training=bool(allow_training) if allow_training is not None else False,
        gateway_url=url, ca_bundle=ca_bundle, retention_hours=retention,
        erase_on_logout=erase, wipe_after_failures=wipe, keystore=keystore,
        lock_minutes=lock_minutes, in_vehicle_exempt=exempt, ivf_prompts=prompts,
        sounds=sounds)


def apply_agency_config(settings: Any, config: AgencyConfig) -> None:
    """Preset the settings from the agency file: the gateway (when the operator has not chosen
    one), and the locked settings, which the operator then cannot change."""
    if config.path is None:
        return
    if config.gateway_url and not settings.is_set("gateway_url"):
        settings.set("gateway_url", config.gateway_url)
        settings.set("ca_bundle", config.ca_bundle)
    settings.lock(config.locked_settings)


class TrainingNotAllowed(RuntimeError):
    """A live terminal met a training gateway (or a training account)."""


def check_training_allowed(config: AgencyConfig, gateway_is_training: bool) -> None:
    if gateway_is_training and not config.allow_training:
        raise TrainingNotAllowed(
            f"This terminal is configured for live use ({config.path}): it does not sign in "
            "to a training gateway. An agency allows training with allow_training = true in "
            "[agency].")
