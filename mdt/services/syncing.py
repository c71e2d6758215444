"""The sync engine's life: once (the CLI's ``mdt sync --once``) or in the background until the
terminal closes (the GUI), on the network thread. No Qt."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any

from mdt.services.gateway_time import GatewayTime
from mdt.services.network import Network
from mdt.services.session import Session
from mdt.services.tokens import SessionTokens
from mdt.settings import Settings

if TYPE_CHECKING:
    from concurrent.futures import Future

    from mdt.net.sync import SyncEngine, SyncListener, SyncReport
    from mdt.store.writer_thread import CacheWriter

log = logging.getLogger(__name__)


class Syncing:
    DEADLINE = 120.0  # seconds for one whole ``sync_once``, however the gateway behaves

    def __init__(self, session: Session, network: Network, time: GatewayTime,
                 tokens: SessionTokens, settings: Settings) -> None:
        self.session = session
        self.network = network
        self.time = time
        self.tokens = tokens
        self.settings = settings
        self.listener: SyncListener | None = None
        self.options: dict[str, Any] = {}  # SyncEngine keywords (backoff, idle timeout)
        self.engine: SyncEngine | None = None
        self.future: Future[Any] | None = None

    def poke(self) -> None:
        """Ask the sync engine for a round now (new outbox message or audit record)."""
        if self.engine is not None:
            self.network.call_soon(self.engine.poke)

    def _new_engine(self, writer: CacheWriter) -> SyncEngine:
        from mdt.net.sync import SyncEngine

        operator, _ = self.session.require()
        self.time.load()  # the engine measures it again every round
        return SyncEngine(self.network.client, writer, listener=self.listener,
                          clock=self.time.clock, who=operator.user_id,
                          device=self.settings.device_id, **self.options)

    def once(self, deadline: float | None = None) -> SyncReport:
        """Send what is queued and fetch what arrived, once, within ``deadline`` seconds in all
        (raises :class:`mdt.net.sync.SyncDeadline`)."""
        from mdt.net.sync import SyncDeadline

        _, writer = self.session.require()
        self.tokens.require_here()
        engine = self._new_engine(writer)
        limit = self.DEADLINE if deadline is None else deadline

        async def bounded() -> SyncReport:
            try:
                async with asyncio.timeout(limit):
                    return await engine.sync_once()
            except TimeoutError:
                raise SyncDeadline(limit, engine.phase) from None
            except Exception as exc:
                exc.sync_phase = engine.phase  # type: ignore[attr-defined]  # for the sentence
                raise

        return self.network.run(bounded(), timeout=limit + 15)

    @property
    def running(self) -> bool:
        return self.engine is not None and self.future is not None and not self.future.done()

    def start(self) -> None:
        """Keep in sync in the background until :meth:`stop`. An engine that ended (it should
        not: it is supervised) is replaced."""
        _, writer = self.session.require()
        if self.running:
            return
        self.engine = self._new_engine(writer)
        self.future = self.network.loop.submit(self.engine.run())

    @property
    def state(self) -> tuple[str, str]:
        """The background sync's state and the sentence that says why (``("", "")`` when it
        is not running)."""
        if not self.running:
            return "", ""
        assert self.engine is not None
        return self.engine.state.value, self.engine.detail

    def resume_with_token(self, token: str) -> None:
        if self.running:
            assert self.engine is not None
            self.network.call_soon(self.engine.set_token, token)
        elif self.engine is not None:
            self.start()  # a dead engine does not come back by itself: a new one

    def ship_audit_now(self) -> None:
        """Before a wipe: the local audit log goes with the cache, so the gateway keeps it."""
        from mdt.net.sync import SyncEngine

        client = self.network.existing_client
        if self.session.writer is None or client is None or not client.token:
            return
        try:
            self.network.run(SyncEngine(client, self.session.writer).ship_audit(), timeout=15)
        except Exception as exc:  # offline: the records cannot outlive the wipe
            log.warning("audit records not shipped before the wipe: %s", type(exc).__name__)

    def stop(self) -> None:
        if self.engine is not None and self.network.started:
            self.network.call_soon(self.engine.stop)
            if self.future is not None:
                try:
                    self.future.result(10)
                except Exception as exc:
                    log.info("sync engine ended with %s", type(exc).__name__)
            self.engine = None
            self.future = None
