"""Settings: typed, with defaults, saved atomically, refusing wrong kinds with the setting's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdt.settings import SETTINGS_VERSION, Settings, SettingsError


def test_defaults_and_a_device_id_are_made_on_first_start(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    assert settings.get("gateway_url").startswith("http")
    assert str(settings.get("device_id")).startswith("mdt-")
    assert json.loads((tmp_path / "settings.json").read_text())["device_id"] == \
        settings.get("device_id")


def test_values_survive_a_restart(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    settings.set("gateway_url", "https://switch.example.test")
    settings.set("theme", "night")
    settings.save()
    again = Settings(tmp_path / "settings.json")
    assert again.get("gateway_url") == "https://switch.example.test"
    assert again.get("theme") == "night"
    assert again.get("device_id") == settings.get("device_id")


def test_a_wrong_kind_names_the_setting(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    with pytest.raises(SettingsError, match="gateway_url"):
        settings.set("gateway_url", 42)
    (tmp_path / "bad.json").write_text('{"theme": 3}')
    with pytest.raises(SettingsError, match="theme"):
        Settings(tmp_path / "bad.json")


def test_an_unreadable_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text("{not json")
    with pytest.raises(SettingsError, match="cannot be read"):
        Settings(tmp_path / "broken.json")


def test_unknown_settings_are_refused(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    with pytest.raises(KeyError):
        settings.get("no_such_setting")


def test_settings_are_typed_attributes_with_the_same_checks(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    assert settings.theme == settings.get("theme") == "day"
    settings.font_scale = 2  # an int is a float
    assert settings.font_scale == 2.0 and isinstance(settings.get("font_scale"), float)
    with pytest.raises(SettingsError, match="theme"):
        settings.theme = "purple"
    with pytest.raises(SettingsError, match="font_scale"):
        settings.set("font_scale", 9.0)
    with pytest.raises(SettingsError, match="wipe_after_failures"):
        settings.set("wipe_after_failures", True)  # not a whole number


def test_check_names_the_first_problem_and_keeps_nothing(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    assert settings.check({"gateway_url": "https://switch.example.test", "theme": "night"}) == ""
    assert settings.check({"operator_phone": "4" * 21}) == \
        "Phone (operator_phone) must be at most 20 characters."
    assert "https" in settings.check({"gateway_url": "http://switch.example.test"})
    assert settings.theme == "day" and settings.operator_phone == ""


def test_an_older_file_is_upgraded(tmp_path: Path) -> None:
    # Version 1 checked a theme's name or the phone's length only in the settings dialog: a value
    # it let in goes back to the default instead of stopping the terminal; the rest is kept.
    (tmp_path / "settings.json").write_text(json.dumps(
        {"version": 1, "theme": "purple", "operator_phone": "4" * 30, "last_user": "officer1",
         "device_id": "mdt-old"}))
    settings = Settings(tmp_path / "settings.json")
    assert (settings.theme, settings.operator_phone) == ("day", "")
    assert (settings.last_user, settings.device_id) == ("officer1", "mdt-old")
    settings.save()
    assert json.loads((tmp_path / "settings.json").read_text())["version"] == SETTINGS_VERSION
