"""The training gateway's settings (``mdt-gateway serve`` fills them from its options)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from pydantic import StrictBool

from mdt.paths import resources_dir
from mock_server.faults import Faults

RESOURCES = resources_dir()  # installed with the package (mdt_resources)


@dataclass
class GatewayConfig:
    data_dir: Path
    latency: float = 0.8
    iar_delay: float = 20.0
    confirm_delay: float = 45.0
    seed: int = 1
    heartbeat: float = 15.0
    token_ttl: float = 12 * 3600.0
    text_only: StrictBool = False
    wrap_width: int = 0  # return text cut at this many columns, as a legacy switch's (0: not)
    training: bool = True
    max_failures: int = 5  # per account and source address
    max_source_failures: int = 20  # per source address, across accounts
    failure_window: float = 900.0
    publish_accounts: bool = True  # the demo accounts listed (off by default beyond loopback)
    otp_future_steps: int = 1  # how far ahead the next code may lie (test suites: more)
    forms_dir: Path | None = None  # form definitions to serve; default: the project's resources
    scenarios_dir: Path | None = None  # bundled scenarios; default: the project's resources
    faults: Faults = field(default_factory=Faults)


def default_forms_dir() -> Path:
    return RESOURCES / "forms"


def default_scenarios_dir() -> Path:
    return RESOURCES / "scenarios"


def codes_dir() -> Path:
    return RESOURCES / "codes"
