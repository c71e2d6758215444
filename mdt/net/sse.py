"""The live inbox stream's Server-Sent Events, read incrementally and with bounds (a line or an
event's data over the limit, or bytes that are not SSE, are garbage). No Qt, no network stack."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mdt.net.errors import GatewayUnreachable
from mdt.net.events import EventInvalid, parse_event_json

__all__ = ["SseParser", "StreamItem"]


@dataclass
class StreamItem:
    """One thing the live stream said: ``event`` (``event`` holds the decoded JSON, ``data``
    the raw text), ``unreadable`` (``reason`` says why; ``data`` the raw text, maybe cut) or
    ``heartbeat``. ``sse_id`` is the SSE ``id:`` (the gateway's seq), as sent."""

    kind: str
    data: str = ""
    event: Any = None
    sse_id: str = ""
    reason: str = ""


class SseParser:
    """Server-Sent Events, incrementally, with bounds (a line or an event's data over
    ``limit`` bytes, or bytes that are not SSE, are garbage: GatewayUnreachable)."""

    FIELDS = frozenset({"data", "id", "event", "retry"})

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._buffer = bytearray()
        self._data: list[str] = []
        self._size = 0
        self._id = ""
        self._pending_cr = False

    def _garbage(self, why: str) -> GatewayUnreachable:
        return GatewayUnreachable(f"The live inbox stream sent garbage ({why}).",
                                  code="stream_garbage")

    def feed(self, chunk: bytes) -> list[StreamItem]:
        items: list[StreamItem] = []
        self._buffer += chunk
        while True:
            ends = [i for i in (self._buffer.find(b"\n"), self._buffer.find(b"\r")) if i >= 0]
            cut = min(ends) if ends else -1
            if cut < 0:
                if len(self._buffer) > self.limit + 64:
                    raise self._garbage("a line longer than the largest event")
                return items
            line = bytes(self._buffer[:cut])
            ending = self._buffer[cut]
            del self._buffer[:cut + 1]
            if ending == 13 and self._buffer[:1] == b"\n":
                del self._buffer[:1]
            self._line(line, items)

    def _line(self, raw: bytes, items: list[StreamItem]) -> None:
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise self._garbage("bytes that are not UTF-8") from None
        if not line:  # a blank line ends an event
            if self._data:
                data = "\n".join(self._data)
                self._data, self._size = [], 0
                try:
                    items.append(StreamItem("event", data, parse_event_json(data), self._id))
                except EventInvalid as exc:
                    items.append(StreamItem("unreadable", data, None, self._id, exc.reason))
            return
        if line.startswith(":"):
            items.append(StreamItem("heartbeat"))
            return
        name, _, value = line.partition(":")
        value = value[1:] if value.startswith(" ") else value
        if name not in self.FIELDS:
            raise self._garbage("a line that is not Server-Sent Events")
        if name == "data":
            self._size += len(raw)
            if self._size > self.limit:
                raise self._garbage("an event larger than the largest allowed")
            self._data.append(value)
        elif name == "id" and "\0" not in value:
            self._id = value
