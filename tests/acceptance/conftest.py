"""The acceptance suite's fixtures: one training gateway and one signed-in window per module.

The suite's own ``mdt_home`` and ``memory_keyring`` (one per test, autouse, in tests/conftest.py)
are overridden here by module-scoped ones of the same names: the window signed in at the
module's start keeps its home and its keystore for every test of the module. Between tests a
trainer resets the faults (``trainer.calm()``) instead of starting a new gateway.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from pytestqt.qtbot import QtBot

from tests.acceptance.roles import Trainer
from tests.acceptance.screen import Screen, sign_in_by_keyboard
from tests.conftest import Gateway, MemoryKeyring, start_gateway

# LESC (VTICE0900) answers an IAQ and a YQ at once; an agency with a trainee dispatcher
# (MD1012600: dispatch1, VA0290000: dispatch2) is answered by that dispatcher or not at all.
GATEWAY_OPTIONS = ("--confirm-delay", "0.3", "--iar-delay", "0.3", "--heartbeat", "2")


@pytest.fixture(scope="module", autouse=True)
def mdt_home(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    home = tmp_path_factory.mktemp("mdt-home")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MDT_HOME", str(home))
        yield home


@pytest.fixture(scope="module", autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, mdt_home: Path) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path_factory.mktemp("gateway"), *GATEWAY_OPTIONS)
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def trainer(gateway: Gateway) -> Iterator[Trainer]:
    desk = Trainer(gateway)
    yield desk
    desk.close()


def _screen(request: pytest.FixtureRequest, gateway: Gateway, user: str) -> Iterator[Screen]:
    request.getfixturevalue("qapp")
    bot = QtBot(request)
    screen = sign_in_by_keyboard(bot, gateway, user)
    try:
        yield screen
    finally:
        screen.close()


@pytest.fixture(scope="module")
def officer(request: pytest.FixtureRequest, gateway: Gateway) -> Iterator[Screen]:
    """officer1's window, signed in by keyboard, 1200 × 800, offscreen."""
    yield from _screen(request, gateway, "officer1")


@pytest.fixture(scope="module")
def dispatcher(request: pytest.FixtureRequest, gateway: Gateway) -> Iterator[Screen]:
    """dispatch1's window, signed in by keyboard, 1200 × 800, offscreen."""
    yield from _screen(request, gateway, "dispatch1")
