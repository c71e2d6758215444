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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from mdt import paths

FILE_NAME = "mdt-agency.toml"
ENV = "MDT_AGENCY_CONFIG"
CJIS_MAX_LOCK_MINUTES = 30  # CJIS Security Policy 5.5.5: session lock after at most 30 minutes
ROLES = ("officer", "dispatcher", "trainer")
SEVERITIES = ("critical", "high", "info")
IVF_CATEGORIES = ("DEPORTED_FELON", "ABSCONDER", "NSEERS")
KEYSTORES = ("os", "wrapped-file")

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

    def idle_lock(self, role: str) -> float | None:
        """Minutes of idle time before the screen locks for ``role``; None: an officer in a car
        where the agency exempts in-vehicle terminals."""
        return None if role == "officer" and self.in_vehicle_exempt else self.lock_after(role)

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


# -- the file, as pydantic validates it -----------------------------------------------------------
#
# Strict types (TOML has them: "30" is not a number, 1 is not true); an int is a float; unknown
# keys are refused. Each key's ``description`` is what is allowed, as the sentences say it; a rule
# a type cannot say raises a PydanticCustomError with the end of the sentence. :func:`_sentence`
# turns the first error into one sentence naming the file, the section and the key.

def _bad(message: str) -> PydanticCustomError:
    return PydanticCustomError("agency_config", "{message}", {"message": message})


def _text(allowed: str) -> Any:
    return Field(None, description=allowed)


class _Section(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid", frozen=True)


class AgencySection(_Section):
    name: str | None = _text("text")
    ori: str | None = _text("text")
    allow_training: bool | None = _text("true or false")

    @field_validator("ori")
    @classmethod
    def _ori(cls, ori: str | None) -> str | None:
        if ori and not (len(ori) == 9 and ori.isalnum() and ori[:2].isalpha()):
            raise _bad(f"must be 9 letters and digits starting with the state code (e.g. "
                       f"MD1012600), not {ori!r}.")
        return ori


class GatewaySection(_Section):
    url: str | None = _text("a URL")
    ca_bundle: str | None = _text("a path to a PEM file")

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url:
            parsed = urlparse(url)
            local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
            if parsed.scheme not in ("https", "http") or not parsed.hostname:
                raise _bad(f"must be an https:// URL, not {url!r}.")
            if parsed.scheme == "http" and not local:
                raise _bad("must use https:// for a gateway that is not on this machine (CJIS: "
                           "CJI is encrypted in transit).")
        return url

    @field_validator("ca_bundle")
    @classmethod
    def _ca_bundle(cls, ca_bundle: str | None, info: ValidationInfo) -> str | None:
        if not ca_bundle:
            return ca_bundle
        ca_path = _beside(info, ca_bundle)
        if not ca_path.is_file():
            raise _bad(f"names {ca_path}, which does not exist.")
        if b"-----BEGIN CERTIFICATE-----" not in ca_path.read_bytes()[:65536]:
            raise _bad(f"names {ca_path}, which holds no PEM certificate.")
        return str(ca_path)


def _beside(info: ValidationInfo, name: str) -> Path:
    """``name`` as written in the file: relative to the file's folder."""
    folder: Path = (info.context or {})["folder"]
    return Path(name) if Path(name).is_absolute() else folder / name


class LockedSection(_Section):
    retention_hours: float | None = _text("a number of hours")
    erase_on_logout: bool | None = _text("true or false")
    wipe_after_failures: int | None = _text("a whole number")
    keystore: str | None = _text("'os' or 'wrapped-file'")
    in_vehicle_exempt: bool | None = _text("true or false")

    @field_validator("retention_hours")
    @classmethod
    def _retention(cls, hours: float | None) -> float | None:
        if hours is not None and not 0.5 <= hours <= 168:
            raise _bad(f"must be between 0.5 and 168, not {hours:g}.")
        return hours

    @field_validator("wipe_after_failures")
    @classmethod
    def _wipe(cls, wipe: int | None) -> int | None:
        if wipe is not None and not 0 <= wipe <= 100:
            raise _bad(f"must be 0 (never) to 100, not {wipe}.")
        return wipe

    @field_validator("keystore")
    @classmethod
    def _keystore(cls, keystore: str | None) -> str | None:
        if keystore is not None and keystore not in KEYSTORES:
            raise _bad(f"must be 'os' or 'wrapped-file', not {keystore!r}.")
        return keystore


class LockMinutesSection(_Section):
    officer: float | None = _text("a number of minutes")
    dispatcher: float | None = _text("a number of minutes")
    trainer: float | None = _text("a number of minutes")

    @field_validator("officer", "dispatcher", "trainer")
    @classmethod
    def _cjis(cls, minutes: float | None) -> float | None:
        if minutes is not None and not 1 <= minutes <= CJIS_MAX_LOCK_MINUTES:
            raise _bad(f"must be between 1 and {CJIS_MAX_LOCK_MINUTES} (the CJIS maximum), not "
                       f"{minutes:g}.")
        return minutes


class IvfPolicySection(_Section):
    DEPORTED_FELON: str | None = _text("text")
    ABSCONDER: str | None = _text("text")
    NSEERS: str | None = _text("text")

    @field_validator(*IVF_CATEGORIES)
    @classmethod
    def _prompt(cls, text: str | None) -> str | None:
        if text is not None:
            if not text.strip() or len(text) > 500:
                raise _bad("must be 1 to 500 characters.")
            return text.strip()
        return text


class SoundsSection(_Section):
    critical: str | None = _text("'default' or a .wav file")
    high: str | None = _text("'default' or a .wav file")
    info: str | None = _text("'default' or a .wav file")

    @field_validator(*SEVERITIES)
    @classmethod
    def _wav(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or value == "default":
            return None
        sound = _beside(info, value)
        if sound.suffix.lower() != ".wav" or not sound.is_file():
            raise _bad(f"must be 'default' or an existing .wav file; {sound} is not.")
        return str(sound)


class AgencyFile(_Section):
    """The agency file (``mdt-agency.toml``), as validated; :meth:`read` gives the
    :class:`AgencyConfig` it sets."""

    agency: AgencySection = AgencySection()
    gateway: GatewaySection = GatewaySection()
    locked: LockedSection = LockedSection()
    lock_minutes: LockMinutesSection = LockMinutesSection()
    ivf_policy: IvfPolicySection = IvfPolicySection()
    sounds: SoundsSection = SoundsSection()

    def config(self, path: Path) -> AgencyConfig:
        locked, lock = self.locked, self.lock_minutes
        prompts = {c: getattr(self.ivf_policy, c) for c in IVF_CATEGORIES}
        sounds = {s: getattr(self.sounds, s) for s in SEVERITIES}
        minutes = {r: getattr(lock, r) for r in ROLES}
        return AgencyConfig(
            path=path, agency_name=self.agency.name or "", ori=(self.agency.ori or "").upper(),
            allow_training=bool(self.agency.allow_training),
            gateway_url=self.gateway.url or "", ca_bundle=self.gateway.ca_bundle or "",
            retention_hours=locked.retention_hours, erase_on_logout=locked.erase_on_logout,
            wipe_after_failures=locked.wipe_after_failures, keystore=locked.keystore,
            lock_minutes={r: float(m) for r, m in minutes.items() if m is not None},
            in_vehicle_exempt=bool(locked.in_vehicle_exempt),
            ivf_prompts={c: t for c, t in prompts.items() if t is not None},
            sounds={s: Path(f) for s, f in sounds.items() if f is not None})

    @classmethod
    def read(cls, raw: Any, path: Path) -> AgencyConfig:
        """The configuration in ``raw`` (the parsed TOML of ``path``); :class:`AgencyConfigError`
        naming the file, the section and the key when something is wrong."""
        try:
            return cls.model_validate(raw, context={"folder": path.parent}).config(path)
        except ValidationError as exc:
            raise AgencyConfigError(f"{path}: {_sentence(exc.errors())}") from None


def _sentence(errors: list[Any]) -> str:
    # The order the file is read in: unknown sections, sections that are not tables, then each
    # section's unknown keys before its values.
    def rank(error: Any) -> tuple[int, ...]:
        loc, extra = error["loc"], error["type"] == "extra_forbidden"
        if len(loc) == 1:
            return (0,) if extra else (1,)
        return (2, _SECTIONS.index(loc[0]), 0 if extra else 1)

    error = min(errors, key=rank)  # min keeps the first of equals: the file's order
    loc, kind, value = tuple(error["loc"]), error["type"], error.get("input")
    if len(loc) == 1 and kind == "extra_forbidden":
        return f"{loc[0]} is not a setting MDT knows (known: {', '.join(_SECTIONS)})."
    if len(loc) == 1:
        return f"[{loc[0]}] must be a table (a [section])."
    section, key = str(loc[0]), str(loc[1])
    model = AgencyFile.model_fields[section].annotation
    assert isinstance(model, type) and issubclass(model, _Section)
    if kind == "extra_forbidden":
        return (f"[{section}] {key} is not a setting MDT knows "
                f"(known: {', '.join(model.model_fields)}).")
    if kind == "agency_config":
        return f"[{section}] {key} {error['ctx']['message']}"
    return f"[{section}] {key} must be {model.model_fields[key].description}, not {value!r}."


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
    return AgencyFile.read(raw, path)


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
