"""Typed settings, declared once, with defaults, a version and upgrade steps. No Qt; no
criminal-justice data.

Every setting is an :class:`Option` attribute of :class:`Settings`: ``settings.theme`` is a
``str``, ``settings.font_scale`` a ``float`` (``get(key)`` / ``set(key, value)`` are the same
thing by name). Each value is validated by pydantic (strict: a ``"5"`` is not a number, a ``1``
is not true) and by the option's own limits (choices, range, length) whoever sets it: the
settings dialog, the command line or the agency file. :meth:`Settings.check` says the first
problem with a set of values, as a sentence naming the setting.

The file is ``<config dir>/settings.json`` (see :mod:`mdt.paths`), written atomically
(:mod:`mdt.atomic`) with its ``version``; an older file is brought up to date one step at a time
(:data:`UPGRADES`, after Picard's ``config_upgrade.py``). Secrets never live here: tokens and keys
go to the OS keystore. Window geometry and other pure UI state live in QSettings, not here.

pydantic loads when a value is first checked (reading the file, setting a value), not when this
module is imported: the GUI's first window reads only :func:`first_look` (the theme, before the
window is shown) and validates the settings after it (:mod:`mdt.ui.application`).
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, NamedTuple, TypeVar, overload

from mdt import paths
from mdt.atomic import atomic_write_text  # (also imported from here: mdt.terminal)

if TYPE_CHECKING:
    from pydantic import TypeAdapter

__all__ = ["DECLARED", "SETTINGS_VERSION", "UPGRADES", "Look", "Option", "Settings",
           "SettingsError", "atomic_write_text", "first_look", "upgrade"]

SETTINGS_VERSION = 2

T = TypeVar("T", str, bool, int, float)


class SettingsError(ValueError):
    """A setting has a value of the wrong kind; the message names it."""


class Option(Generic[T]):
    """One setting: its type, its default, what it means (shown as the dialog's tool tip) and
    the values it allows (``choices``; ``minimum``/``maximum``; ``max_length`` for text)."""

    key: str

    def __init__(self, kind: type[T], default: T, doc: str, *, choices: tuple[T, ...] = (),
                 minimum: float | None = None, maximum: float | None = None,
                 max_length: int | None = None, label: str = "") -> None:
        self.type: type[T] = kind
        self.default: T = default
        self.doc = doc
        self.choices: tuple[T, ...] = choices
        self.minimum, self.maximum = minimum, maximum
        self.max_length, self.label = max_length, label

    @functools.cached_property
    def _adapter(self) -> TypeAdapter[T]:
        # All of pydantic at once, pydantic.fields with it: a pydantic half loaded before PySide6
        # and finished after it goes through shiboken's import hook, which asks the half-loaded
        # module for ``__wrapped__`` and breaks the import (tests/unit/test_import_order.py).
        import pydantic.fields  # noqa: F401
        from pydantic import ConfigDict, TypeAdapter

        return TypeAdapter(self.type, config=ConfigDict(strict=True))

    def __set_name__(self, owner: type, name: str) -> None:
        self.key = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> Option[T]: ...
    @overload
    def __get__(self, obj: Settings, owner: type | None = None) -> T: ...
    def __get__(self, obj: Settings | None, owner: type | None = None) -> Option[T] | T:
        if obj is None:
            return self
        value: T = obj.get(self.key)
        return value

    def __set__(self, obj: Settings, value: T) -> None:
        obj.set(self.key, value)

    def checked(self, value: Any) -> T:
        """``value`` as this setting's type (an int is a float); :class:`SettingsError` naming
        the setting when it is the wrong kind or outside what the setting allows."""
        adapter = self._adapter
        from pydantic import ValidationError

        try:
            typed = adapter.validate_python(value)
        except ValidationError:
            raise SettingsError(f"Setting '{self.key}' must be a {self.type.__name__}, "
                                f"not {value!r}.") from None
        problem = self.problem(typed)
        if problem:
            raise SettingsError(problem)
        return typed

    def refuses(self, value: Any) -> bool:
        """Whether ``value`` is of the right kind but outside what the setting allows."""
        adapter = self._adapter
        from pydantic import ValidationError

        try:
            return bool(self.problem(adapter.validate_python(value)))
        except ValidationError:
            return False

    def problem(self, value: T) -> str:
        """What is wrong with a value of the right type, or ''."""
        if self.choices and value not in self.choices:
            return (f"Setting '{self.key}' must be one of {', '.join(map(str, self.choices))}, "
                    f"not {value!r}.")
        low = float("-inf") if self.minimum is None else self.minimum
        high = float("inf") if self.maximum is None else self.maximum
        if isinstance(value, float) and not low <= value <= high:
            return f"Setting '{self.key}' must be between {low:g} and {high:g}, not {value:g}."
        if self.max_length is not None and isinstance(value, str) and len(value) > self.max_length:
            return f"{self.label or self.key} ({self.key}) must be at most {self.max_length} characters."
        return ""


def _v1_to_v2(values: dict[str, Any]) -> dict[str, Any]:
    """Version 2 checks choices, the type size's range and the phone's length wherever a value
    is set (version 1 left them to the settings dialog): a value a version-1 MDT let in that
    version 2 refuses goes back to its default, so the terminal still starts."""
    kept = {}
    for key, value in values.items():
        option = DECLARED.get(key)
        if option is None:
            kept[key] = value  # not ours to judge: read (and ignored) as before
            continue
        if not option.refuses(value):
            kept[key] = value  # (the wrong kind is refused when read, as in version 1)
    return kept


# version -> the step that brings a file of that version to the next one
UPGRADES: dict[int, Callable[[dict[str, Any]], dict[str, Any]]] = {1: _v1_to_v2}


def upgrade(values: dict[str, Any], version: int) -> dict[str, Any]:
    """The values of a settings file of ``version``, brought to :data:`SETTINGS_VERSION`."""
    for step in range(version, SETTINGS_VERSION):
        values = UPGRADES[step](values)
    return values


class Settings:
    """The operator's settings (one file per terminal), with the agency's locked values on top."""

    gateway_url: Option[str] = Option(
        str, "http://127.0.0.1:8765",
        "Base URL of the message-switch gateway (https:// for a live gateway).")
    allow_plain_http: Option[bool] = Option(
        bool, False,
        "Allow a plain http:// gateway on another machine (a training class without TLS "
        "only; a live gateway is always https://).")
    ca_bundle: Option[str] = Option(
        str, "",
        "PEM file of the agency's CA, used to verify the gateway's TLS certificate. "
        "Empty: the system's trusted CAs.")
    device_id: Option[str] = Option(
        str, "",
        "This terminal's id, sent at login (made at first start).")
    last_user: Option[str] = Option(
        str, "",
        "The user id last signed in on this terminal.")
    theme: Option[str] = Option(
        str, "day",
        "Colour theme: day or night.",
        choices=("day", "night"))
    gateway_training: Option[bool] = Option(
        bool, False,
        "Whether the gateway said it is a training one when it last answered (shown on the "
        "sign-in page even when it is unreachable).")
    operator_phone: Option[str] = Option(
        str, "",
        "Phone number put in PHN fields (IAQ, YQ).",
        max_length=20, label="Phone")
    retention_hours: Option[float] = Option(
        float, 12.0,
        "How long cached returns live (hours); one shift by default. Older ones are erased "
        "at sign-in and every 10 minutes while signed in.")
    erase_on_logout: Option[bool] = Option(
        bool, False,
        "Erase every cached return when the operator logs out (an agency setting).")
    wipe_after_failures: Option[int] = Option(
        int, 0,
        "Wipe a profile's cache after this many wrong passwords in a row (0: never).")
    unanswered_after_minutes: Option[float] = Option(
        float, 5.0,
        "Show a sent query as unanswered after this many minutes without an answer (an "
        "acknowledged IAQ: six times as long).")
    keystore: Option[str] = Option(
        str, "os",
        "Where the wrapped cache key is held: 'os' (the OS keystore through keyring) or "
        "'wrapped-file' (a file holding only the password-wrapped key; an agency must allow "
        "it, for machines without a keystore, such as training laptops).",
        choices=("os", "wrapped-file"))
    workstation_layout: Option[str] = Option(
        str, "auto",
        "The main screen's layout: auto (by the account's role), officer (one column, large "
        "type) or dispatcher (queue, units, returns side by side). Ctrl+Shift+D switches.",
        choices=("auto", "officer", "dispatcher"))
    high_contrast: Option[bool] = Option(
        bool, False,
        "High contrast: white on black, yellow controls, thick focus outlines.")
    font_scale: Option[float] = Option(
        float, 1.0,
        "All type larger or smaller (0.8 to 2.0).",
        minimum=0.8, maximum=2.0)
    read_alerts_aloud: Option[bool] = Option(
        bool, False,
        "Read each new critical or high alert aloud in short sentences, for an officer who "
        "is driving. Until it is set, on for the officer role when the agency file says the "
        "terminal is in a vehicle ([locked] in_vehicle_exempt = true), off otherwise.")
    read_aloud_detail: Option[str] = Option(
        str, "vehicle",
        "How much read-aloud may say about whom or what an alert is about: 'kind' (the "
        "kind of alert and record, and cautions), 'vehicle' (also plates, VINs and serials) "
        "or 'person' (also the person's name). Dates of birth are never read aloud.",
        choices=("kind", "vehicle", "person"))
    speech_engine: Option[str] = Option(
        str, "auto",
        "Text-to-speech: 'auto' (SAPI on Windows; espeak-ng, else speech-dispatcher, on "
        "Linux), 'espeak-ng', 'speech-dispatcher', 'sapi' or 'none'.",
        choices=("auto", "espeak-ng", "speech-dispatcher", "sapi", "none"))

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
                version = loaded.pop("version", 1)
                if isinstance(version, int) and not isinstance(version, bool) and version >= 1:
                    loaded = upgrade(loaded, version)
                for key, value in loaded.items():
                    if key in DECLARED:
                        self._values[key] = self._checked(key, value)
        if not self.device_id:
            import uuid

            self.device_id = f"mdt-{uuid.uuid4()}"
            self.save()

    @staticmethod
    def _checked(key: str, value: Any) -> Any:
        return DECLARED[key].checked(value)

    def get(self, key: str) -> Any:
        """The value in force (the agency's, else the operator's, else the default)."""
        if key not in DECLARED:
            raise KeyError(f"unknown setting {key!r}")
        if key in self._locked:
            return self._locked[key]
        return self._values.get(key, DECLARED[key].default)

    def set(self, key: str, value: Any) -> None:
        """Keep a value (checked: :class:`SettingsError` names the setting); :meth:`save` writes."""
        self._values[key] = self._accepted(key, value, self.allow_plain_http)

    def check(self, values: Mapping[str, Any]) -> str:
        """The first problem with these values (as :meth:`set` would find it), as a sentence
        naming the setting, or ''. Nothing is kept."""
        plain = values.get("allow_plain_http", self.allow_plain_http)
        for key, value in values.items():
            try:
                self._accepted(key, value, bool(plain))
            except SettingsError as exc:
                return str(exc)
        return ""

    def _accepted(self, key: str, value: Any, allow_plain_http: bool) -> Any:
        if key not in DECLARED:
            raise KeyError(f"unknown setting {key!r}")
        checked = self._checked(key, value)
        if key == "gateway_url":  # every entry point: CLI, GUI, settings dialog, agency file
            from mdt.core.origin import GatewayUrlError, check_gateway_url

            try:
                checked = check_gateway_url(checked, allow_plain_http=allow_plain_http)
            except GatewayUrlError as exc:
                raise SettingsError(str(exc)) from None
        if key in self._locked and checked != self._locked[key]:
            raise SettingsError(f"Setting '{key}' is set by the agency and cannot be changed on "
                                "this terminal.")
        return checked

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


DECLARED: dict[str, Option[Any]] = {name: option for name, option in vars(Settings).items()
                                    if isinstance(option, Option)}


class Look(NamedTuple):
    """What the first window looks like: the theme, high contrast, the type size. (A named
    tuple: a dataclass would import :mod:`dataclasses` and compile its methods before the
    first window.)"""

    theme: str = Settings.theme.default
    high_contrast: bool = Settings.high_contrast.default
    font_scale: float = Settings.font_scale.default


def first_look(path: Path | None = None) -> Look:
    """The look of the settings file for the first window, read before the settings are
    validated (so a night start never flashes a light window, and the window is not laid out
    twice). A value is taken only when it already is one its setting allows, exactly (one of
    the themes, ``true``/``false``, a number in range); anything else, or a file that cannot be
    read, gives the default. :class:`Settings` then reads and validates the whole file, and the
    window takes its look where it differs."""
    try:
        loaded = json.loads((path or paths.config_dir() / "settings.json").read_text("utf-8"))
    except (ValueError, OSError):
        return Look()
    if not isinstance(loaded, dict):
        return Look()

    def plain(option: Option[Any]) -> Any:
        value = loaded.get(option.key)
        if option.type is float and type(value) is int:
            value = float(value)
        if type(value) is option.type and not option.problem(value):
            return value
        return option.default

    return Look(theme=plain(Settings.theme), high_contrast=plain(Settings.high_contrast),
                font_scale=plain(Settings.font_scale))
