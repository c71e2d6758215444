"""The training gateway's HTTP app (``docs/protocol.md``): the wiring of the gateway, its
exercise, the routers of :mod:`mock_server.api`, the error answers and the middleware."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.middleware.gzip import GZipMiddleware

from mock_server import __version__
from mock_server.api import inbox, messages, reference, scenarios, sessions, training
from mock_server.config import GatewayConfig
from mock_server.errors import ERROR_RESPONSES, install_error_handlers
from mock_server.exercise import Exercise
from mock_server.faults import FaultMiddleware
from mock_server.gateway import Gateway

__all__ = ["GatewayConfig", "create_app"]


def create_app(config: GatewayConfig) -> FastAPI:
    gateway = Gateway(config)
    exercise = Exercise(gateway)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        task = asyncio.create_task(gateway.scheduler(exercise.run_action))
        try:
            yield
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            gateway.state.close()

    app = FastAPI(title="MDT training gateway", version=__version__, lifespan=lifespan,
                  description="The message-switch gateway contract of MDT (docs/protocol.md).",
                  responses=ERROR_RESPONSES)
    app.state.gateway = gateway
    app.state.exercise = exercise
    app.add_middleware(GZipMiddleware, minimum_size=1000)
    app.add_middleware(FaultMiddleware, book=gateway.faults, user_of=gateway.user_id_of)
    install_error_handlers(app)
    for router in (sessions.router, messages.router, inbox.router, reference.router):
        app.include_router(router)
    if config.training:  # on a live gateway the trainer's routes do not exist (404)
        app.include_router(training.router)
        app.include_router(scenarios.router)
    return app
