"""The gateway port: the network thread and the one gateway client on it. No Qt.

The network stack (``httpx``, ``asyncio``) loads on first use, on a worker thread, so the GUI's
first window does not wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from mdt.settings import Settings

if TYPE_CHECKING:
    from mdt.net.gateway import GatewayClient
    from mdt.net.loop import EventLoopThread

T = TypeVar("T")


class Network:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._loop: EventLoopThread | None = None
        self._client: GatewayClient | None = None
        self._client_lock = threading.Lock()

    @property
    def loop(self) -> EventLoopThread:
        if self._loop is None:
            from mdt.net.loop import EventLoopThread

            self._loop = EventLoopThread()
        return self._loop

    @property
    def started(self) -> bool:
        return self._loop is not None

    def run(self, coro: Coroutine[Any, Any, T], timeout: float | None = 60.0) -> T:
        """Run a coroutine on the network thread and wait for its result."""
        return self.loop.submit(coro).result(timeout)

    def call_soon(self, fn: Any, *args: Any) -> None:
        self.loop.call_soon(fn, *args)

    @property
    def client(self) -> GatewayClient:
        """The client for the gateway the settings name (checked here, before any request)."""
        with self._client_lock:  # two first calls at once (a check and a login) make one
            if self._client is None:
                from mdt.core.origin import GatewayUrlError, check_gateway_url
                from mdt.settings import SettingsError

                try:  # a settings file edited by hand is checked here, before any request
                    url = check_gateway_url(self.settings.gateway_url,
                                            allow_plain_http=bool(
                                                self.settings.allow_plain_http))
                except GatewayUrlError as exc:
                    raise SettingsError(str(exc)) from None
                ca_bundle = self.settings.ca_bundle or None

                async def make() -> GatewayClient:
                    from mdt.net.gateway import GatewayClient

                    return GatewayClient(url, ca_bundle=ca_bundle)

                self._client = self.run(make())
            return self._client

    @property
    def existing_client(self) -> GatewayClient | None:
        """The client if one was made (None: nothing was ever asked of the gateway)."""
        return self._client

    def drop_client(self) -> None:
        """Close the client; the next call makes one for the gateway the settings name now."""
        if self._client is not None:
            old, self._client = self._client, None
            self.run(old.aclose(), timeout=10)

    # -- plain requests --------------------------------------------------------------------------
    def health(self) -> dict[str, Any]:
        return dict(self.run(self.client.health(), timeout=20))

    def units(self) -> list[dict[str, Any]]:
        return list(self.run(self.client.units(), timeout=20))

    def demo_accounts(self) -> list[dict[str, Any]]:
        return list(self.run(self.client.demo_accounts(), timeout=20))

    def close(self) -> None:
        self.drop_client()
        if self._loop is not None:
            self._loop.stop()
            self._loop = None
