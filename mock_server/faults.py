"""Faults a trainer (or a test) can switch on, for the whole gateway or for one user.

- ``error_rate``: that share of API calls answers 503 before doing anything;
- ``drop_rate``: that share of API calls is carried out, then the connection drops halfway
  through the answer (the client cannot know whether it worked: idempotency must save it);
- ``duplicate_rate``: that share of live (SSE) events is sent twice;
- ``latency``: extra seconds before every answer is delivered;
- ``offline``: every API call answers 503 (a dead link), training endpoints excepted;
- ``text_only``: returns carry text only, no structured records;
- ``destinations_down``: destinations (state codes, NCIC, AX ...) that answer "down, will
  forward"; their answers come when the destination is back up;
- ``parts_out_of_order``: an answer in several parts (DQ / RQ to several states) arrives last
  part first.

Implemented as a pure ASGI middleware, so a dropped connection is a real one.
"""

from __future__ import annotations

import random
from dataclasses import asdict, dataclass, field
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send


@dataclass
class Faults:
    error_rate: float = 0.0
    drop_rate: float = 0.0
    duplicate_rate: float = 0.0
    latency: float = 0.0
    offline: bool = False
    text_only: bool = False
    destinations_down: list[str] = field(default_factory=list)
    parts_out_of_order: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class FaultBook:
    """The gateway-wide faults and the per-user ones (a user's own faults win)."""

    def __init__(self, base: Faults, seed: int = 1) -> None:
        self.base = base
        self.per_user: dict[str, Faults] = {}
        self.rng = random.Random(seed)

    def for_user(self, user_id: str | None) -> Faults:
        return self.per_user.get(user_id or "", self.base)

    def set(self, faults: Faults, user_id: str | None = None) -> None:
        if user_id:
            self.per_user[user_id] = faults
        else:
            self.base = faults
            self.per_user.clear()

    def roll(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate


class DroppedConnection(Exception):
    """Raised after half an answer was sent: the server closes the connection."""


class FaultMiddleware:
    def __init__(self, app: ASGIApp, book: FaultBook, user_of: Any) -> None:
        self.app = app
        self.book = book
        self.user_of = user_of  # Authorization header -> user id or None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not path.startswith("/v1/") \
                or path.startswith("/v1/training/") or path == "/v1/health":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        faults = self.book.for_user(self.user_of(headers.get(b"authorization", b"").decode()))
        if faults.offline or self.book.roll(faults.error_rate):
            body = (b'{"error": {"code": "unavailable", "message": '
                    b'"The gateway is unavailable (training fault)."}}')
            await send({"type": "http.response.start", "status": 503,
                        "headers": [(b"content-type", b"application/json"),
                                    (b"content-length", str(len(body)).encode())]})
            await send({"type": "http.response.body", "body": body})
            return
        if path == "/v1/inbox/stream" or not self.book.roll(faults.drop_rate):
            await self.app(scope, receive, send)
            return
        # Do the work, then drop the connection halfway through the answer.
        start: Message | None = None
        chunks: list[bytes] = []

        async def capture(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, capture)
        body = b"".join(chunks)
        if start is None or len(body) < 2:
            raise DroppedConnection("dropped before the answer")
        await send(start)
        await send({"type": "http.response.body", "body": body[: len(body) // 2],
                    "more_body": True})
        raise DroppedConnection("dropped halfway through the answer")
