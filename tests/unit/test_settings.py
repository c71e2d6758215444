"""Settings: typed, with defaults, saved atomically, refusing wrong kinds with the setting's name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mdt.settings import Settings, SettingsError


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
