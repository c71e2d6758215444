"""Gateway test fixtures: one training gateway shared by the tests of a module (the tests then
measure their inbox from where it stood, never from seq 1), reset between tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import Gateway, start_gateway
from tests.gateway.helpers import auth

# Short switch delays, so that the slow answers (IAR, a hit confirmation by an agency no trainee
# sits at) and the SSE heartbeat can be seen within a test.
SHARED_OPTIONS = ("--iar-delay", "0.6", "--confirm-delay", "0.6", "--heartbeat", "0.3")


@pytest.fixture(scope="module")
def shared_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path_factory.mktemp("shared") / "gateway", *SHARED_OPTIONS)
    yield gw
    gw.stop()


@pytest.fixture(scope="module")
def trainer_headers(shared_gateway: Gateway) -> dict[str, str]:
    return auth(shared_gateway, "trainer1")


@pytest.fixture
def gw(shared_gateway: Gateway, trainer_headers: dict[str, str]) -> Gateway:
    """The module's gateway with no faults switched on."""
    httpx.put(f"{shared_gateway.url}/v1/training/faults", json={},
              headers=trainer_headers).raise_for_status()
    return shared_gateway
