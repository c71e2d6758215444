"""A small hostile gateway on 127.0.0.1 for the sync tests: it speaks just enough of the protocol
(login, health, inbox, ack, audit, messages, the live stream) to sign a terminal in, then
misbehaves exactly as told, every time (no random timing):

- ``events``: the inbox, as raw JSON texts (so an event may hold a lone surrogate or nest 5,000
  deep) with their seq; ``GET /v1/inbox`` pages them and the stream sends them;
- ``status``: a path answers this HTTP status (``{"/v1/inbox": 403}``);
- ``stream``: ``"close"`` (the stream ends at once), ``"garbage"`` (binary bytes),
  ``"endless"`` (a data line that never ends: a byte every 0.2 s), ``"empty"`` (a 200 with no
  body), ``"events"`` (the events, then heartbeats);
- ``trickle``: ``GET /v1/inbox`` answers one byte every ``trickle`` seconds;
- ``huge``: ``GET /v1/inbox`` streams that many bytes (chunked: no length to refuse it by).

It counts requests per path (``hits``), keeps the acks and the messages sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + \
        f"{moment.microsecond // 1000:03d}Z"


@dataclass
class Hostile:
    events: list[tuple[int, str]] = field(default_factory=list)  # (seq, raw JSON text)
    status: dict[str, int] = field(default_factory=dict)
    stream: str = "events"
    trickle: float = 0.0
    huge: int = 0  # GET /v1/inbox streams this many bytes (chunked, no length given)
    grow: bool = False  # every GET /v1/inbox finds one new event first (a busy inbox)
    clock_offset: float = 0.0  # seconds the gateway's clock is ahead of this machine's
    hits: Counter[str] = field(default_factory=Counter)
    acks: list[int] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._run, daemon=True, name="hostile-gateway")
        self._thread.start()
        self._ready.wait(10)

    # -- scripting -----------------------------------------------------------------------------
    def add(self, event: dict[str, Any] | str, seq: int | None = None) -> int:
        """Append an event (a dict gets ``seq`` and ``id``; a str is sent as it is)."""
        seq = seq if seq is not None else (max((s for s, _ in self.events), default=0) + 1)
        if isinstance(event, dict):
            event = json.dumps({"seq": seq, "id": f"hostile-{seq}-{uuid.uuid4().hex[:6]}",
                                "created_at": iso(datetime.now(UTC)), **event})
        self.events.append((seq, event))
        return seq

    # -- the server ------------------------------------------------------------------------------
    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)

        async def start() -> None:
            self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
            port = self._server.sockets[0].getsockname()[1]
            self.url = f"http://127.0.0.1:{port}"
            self._ready.set()

        self._loop.run_until_complete(start())
        self._loop.run_forever()

    def close(self) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        self._loop.close()

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                line = await reader.readline()
                if not line:
                    return
                method, target, _ = line.decode("latin-1").split(" ", 2)
                headers: dict[str, str] = {}
                while True:
                    header = await reader.readline()
                    if header in (b"\r\n", b"\n", b""):
                        break
                    name, _, value = header.decode("latin-1").partition(":")
                    headers[name.strip().lower()] = value.strip()
                body = await reader.readexactly(int(headers.get("content-length", "0") or 0))
                keep = await self._answer(method, target, headers, body, writer)
                if not keep:
                    return
        except (ConnectionError, asyncio.IncompleteReadError, ValueError, asyncio.CancelledError):
            return
        finally:
            writer.close()

    @staticmethod
    async def _send(writer: asyncio.StreamWriter, status: int, body: bytes,
                    kind: str = "application/json") -> bool:
        writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: {kind}\r\nContent-Length: "
                     f"{len(body)}\r\n\r\n".encode() + body)
        await writer.drain()
        return True

    async def _answer(self, method: str, target: str, headers: dict[str, str], body: bytes,
                      writer: asyncio.StreamWriter) -> bool:
        parts = urlsplit(target)
        path, query = parts.path, parse_qs(parts.query)
        self.hits[path] += 1
        if path in self.status:
            code = self.status[path]
            return await self._send(writer, code, json.dumps({"error": {
                "code": "hostile", "message": f"refused with {code}"}}).encode())
        now = datetime.now(UTC) + timedelta(seconds=self.clock_offset)
        if path == "/v1/health":
            return await self._send(writer, 200, json.dumps(
                {"status": "ok", "time": iso(now), "version": "hostile", "training": True}
            ).encode())
        if path == "/v1/sessions" and method == "POST":
            login = json.loads(body)
            return await self._send(writer, 201, json.dumps({
                "token": "hostile-token", "expires_at": iso(now + timedelta(hours=10)),
                "user": {"id": login["user_id"], "name": "OFFICER ONE", "role": "officer",
                         "ori": "MD1012600", "unit": "12"}, "training": True}).encode())
        if path == "/v1/messages" and method == "POST":
            message = json.loads(body)
            self.sent.append(message)
            return await self._send(writer, 202, json.dumps({
                "id": message["id"], "status": "accepted", "accepted_at": iso(now)}).encode())
        if path == "/v1/audit":
            ids = [r["id"] for r in json.loads(body)["records"]]
            return await self._send(writer, 200, json.dumps({"accepted": ids}).encode())
        if path == "/v1/inbox/ack":
            upto = int(json.loads(body)["upto"])
            self.acks.append(upto)
            return await self._send(writer, 200, json.dumps({"upto": upto}).encode())
        if path == "/v1/inbox":
            if self.grow:
                self.add({"type": "admin", "text": "BUSY"})
            after = int(query.get("after", ["0"])[0])
            limit = int(query.get("limit", ["500"])[0])
            page = [raw for seq, raw in sorted(self.events, key=lambda e: e[0])
                    if seq > after][:limit]
            text = '{"events": [' + ", ".join(page) + f'], "next_after": {after}}}'
            data = text.encode("utf-8", "surrogatepass")
            if self.huge:
                writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             b"Transfer-Encoding: chunked\r\n\r\n")
                block = b'{"events": [' + b" " * (1 << 20)
                for _ in range(self.huge >> 20):
                    writer.write(f"{len(block):x}\r\n".encode() + block + b"\r\n")
                    await writer.drain()
                    block = b" " * (1 << 20)
                writer.write(b"0\r\n\r\n")
                await writer.drain()
                return True
            if self.trickle:
                writer.write(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                             f"Content-Length: {len(data)}\r\n\r\n".encode())
                for n in range(len(data)):
                    writer.write(data[n:n + 1])
                    await writer.drain()
                    await asyncio.sleep(self.trickle)
                return True
            return await self._send(writer, 200, data)
        if path == "/v1/inbox/stream":
            return await self._stream(headers, writer)
        return await self._send(writer, 404, b'{"error": {"code": "not_found", "message": "no"}}')

    async def _stream(self, headers: dict[str, str], writer: asyncio.StreamWriter) -> bool:
        mode = self.stream
        if mode == "empty":
            await self._send(writer, 200, b"", "text/event-stream")
            return False
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                     b"Connection: close\r\n\r\n")
        await writer.drain()
        if mode == "close":
            return False
        if mode == "garbage":
            writer.write(bytes(range(256)) * 4 + b"\n\n")
            await writer.drain()
            await asyncio.sleep(0.05)
            return False
        if mode == "endless":
            writer.write(b"data: {\"seq\": ")
            for _ in range(100_000):
                writer.write(b"1")
                await writer.drain()
                await asyncio.sleep(0.2)
            return False
        after = int(headers.get("last-event-id", "0") or 0)
        # what is there now, in seq order; what is added later, live, in the order it is added
        sent = len(self.events)
        for seq, raw in sorted(self.events, key=lambda e: e[0]):
            if seq > after:
                self._write_event(writer, seq, raw)
        await writer.drain()
        for _ in range(10_000):
            while sent < len(self.events):
                self._write_event(writer, *self.events[sent])
                sent += 1
            if self.stream == "events":  # told otherwise: the open stream falls silent
                writer.write(b": heartbeat\n\n")
            await writer.drain()
            await asyncio.sleep(0.2)
        return False

    @staticmethod
    def _write_event(writer: asyncio.StreamWriter, seq: int, raw: str) -> None:
        data = raw.encode("utf-8", "surrogatepass").replace(b"\n", b"\ndata: ")
        writer.write(f"id: {seq}\nevent: x\ndata: ".encode() + data + b"\n\n")


def sign_in(terminal: Any, url: str, user: str = "officer1") -> Any:
    """A terminal signed in to a hostile gateway (its own cache profile, password 'training')."""
    terminal.settings.set("gateway_url", url)
    return terminal.login(user, "training", "000000")


def wait_for(predicate: Any, timeout: float = 20.0, every: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout} s")
        time.sleep(every)
