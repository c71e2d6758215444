"""The agency's configuration file: the shipped example loads; each mistake stops the start with
a sentence naming the file and the setting; locked settings stay locked; a live terminal refuses
a training gateway."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mdt.agency_config import (
    AgencyConfigError,
    TrainingNotAllowed,
    apply_agency_config,
    check_training_allowed,
    load_agency_config,
)
from mdt.services.terminal import Terminal
from mdt.settings import Settings, SettingsError
from mock_server.tls import ensure_tls
from tests.conftest import Gateway

EXAMPLE = Path(__file__).resolve().parents[2] / "packaging" / "mdt-agency.example.toml"


@pytest.fixture
def example(tmp_path: Path) -> Path:
    """The shipped example, beside a real CA certificate as its ca_bundle names."""
    target = tmp_path / "mdt-agency.toml"
    shutil.copy(EXAMPLE, target)
    shutil.copy(ensure_tls(tmp_path / "gw").ca, tmp_path / "agency-ca.pem")
    return target


def test_the_shipped_example_loads_completely(example: Path) -> None:
    config = load_agency_config(example)
    assert config.ori == "MD1012600" and config.allow_training is False
    assert config.gateway_url.startswith("https://")
    assert config.ca_bundle == str(example.parent / "agency-ca.pem")
    assert config.locked_settings == {"retention_hours": 12.0, "erase_on_logout": True,
                                      "wipe_after_failures": 10, "keystore": "os"}
    assert config.lock_after("officer") == 10 and config.lock_after("dispatcher") == 15
    assert config.ivf_prompt("ABSCONDER").startswith("Administrative warrant")
    assert config.sound_for("critical") is None  # "default": the shipped sound


def test_locked_settings_cannot_be_changed_and_the_gateway_is_preset(example: Path,
                                                                     tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    apply_agency_config(settings, load_agency_config(example))
    assert settings.get("retention_hours") == 12.0 and settings.get("erase_on_logout") is True
    assert settings.get("gateway_url") == "https://switch.academy-city.example:8443"
    with pytest.raises(SettingsError, match="set by the agency"):
        settings.set("retention_hours", 48.0)
    settings.set("theme", "night")  # not the agency's business
    chosen = Settings(tmp_path / "chosen.json")
    chosen.set("gateway_url", "https://other.example")
    apply_agency_config(chosen, load_agency_config(example))
    assert chosen.get("gateway_url") == "https://other.example"  # the operator's choice stays


@pytest.mark.parametrize(("text", "named"), [
    ("[agency]\nori = 'MD12'\n", "[agency] ori"),
    ("[gateway]\nurl = 'http://switch.example'\n", "[gateway] url"),
    ("[gateway]\nca_bundle = 'missing.pem'\n", "[gateway] ca_bundle"),
    ("[lock_minutes]\nofficer = 45\n", "[lock_minutes] officer"),
    ("[lock_minutes]\nofficer = 'ten'\n", "[lock_minutes] officer"),
    ("[locked]\nretention_hours = 0\n", "[locked] retention_hours"),
    ("[locked]\nkeystore = 'plain-file'\n", "[locked] keystore"),
    ("[locked]\nerase_on_logout = 'yes'\n", "[locked] erase_on_logout"),
    ("[ivf_policy]\nSMUGGLER = 'x'\n", "[ivf_policy] SMUGGLER"),
    ("[sounds]\ncritical = 'siren.mp3'\n", "[sounds] critical"),
    ("retention = 12\n", "retention"),
    ("[agency\nname = 'x'\n", "not valid TOML"),
])
def test_each_mistake_names_the_setting(tmp_path: Path, text: str, named: str) -> None:
    path = tmp_path / "mdt-agency.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(AgencyConfigError) as error:
        load_agency_config(path)
    assert str(path) in str(error.value) and named in str(error.value)


def test_the_file_is_found_by_environment_and_missing_ones_are_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_agency_config().path is None  # none: the defaults, training allowed
    assert load_agency_config().allow_training is True  # from source
    monkeypatch.setattr("sys.frozen", True, raising=False)  # a built app
    assert load_agency_config().allow_training is False  # a build is live by default
    monkeypatch.delattr("sys.frozen")
    monkeypatch.setenv("MDT_AGENCY_CONFIG", str(tmp_path / "nowhere.toml"))
    with pytest.raises(AgencyConfigError, match="missing"):
        load_agency_config()


def test_a_live_terminal_refuses_a_training_gateway(gateway: Gateway, tmp_path: Path) -> None:
    path = tmp_path / "mdt-agency.toml"
    path.write_text("[agency]\nname = 'Live PD'\n", encoding="utf-8")
    live = load_agency_config(path)
    assert live.allow_training is False  # an agency file must say so to allow training
    check_training_allowed(live, gateway_is_training=False)
    settings = Settings(tmp_path / "s.json")
    settings.set("gateway_url", gateway.url)
    terminal = Terminal(settings, agency=live)
    account = gateway.demo_account("officer1")
    with pytest.raises(TrainingNotAllowed, match="live use"):
        terminal.login("officer1", account["password"], account["otp_now"])
    assert terminal.operator is None  # nothing was opened or created
    terminal.close()
