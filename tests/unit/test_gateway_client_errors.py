"""The gateway client sorts every failure into unreachable / expired / refused, whatever a broken
or hostile gateway sends back, so the app can say something clear and keep the outbox."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from mdt.net.gateway import AuthExpired, GatewayClient, GatewayRefused, GatewayUnreachable

# path -> (status, content type, body)
ANSWERS: dict[str, tuple[int, str, bytes]] = {
    "/v1/health": (200, "text/html", b"<html>proxy login page</html>"),
    "/v1/sessions": (401, "application/json",
                     b'{"error": {"code": "bad_credentials", "message": "Wrong password or code."}}'),
    "/v1/messages": (422, "application/json",
                     b'{"error": {"code": "validation", "message": "LIS is not a state code.", '
                     b'"field": "LIS"}}'),
    "/v1/inbox": (200, "application/json", b'{"events": "not a list"}'),
    "/v1/inbox/ack": (500, "text/plain", b"Traceback (most recent call last): ..."),
    "/v1/inbox/stream": (401, "application/json",
                         b'{"error": {"code": "token_expired", "message": "Session expired."}}'),
}


class Nonsense(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        path = self.path.split("?")[0]
        status, ctype, body = ANSWERS.get(path, (404, "text/plain", b"nope"))
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_DELETE = _answer

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def nonsense_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Nonsense)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(coro):  # type: ignore[no-untyped-def]
    return asyncio.run(coro)


def _closed_port() -> int:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def test_nobody_listening_is_unreachable() -> None:
    async def go() -> None:
        client = GatewayClient(f"http://127.0.0.1:{_closed_port()}", timeout=2)
        try:
            with pytest.raises(GatewayUnreachable, match="cannot be reached"):
                await client.health()
        finally:
            await client.aclose()

    run(go())


def test_html_instead_of_json_is_unreachable_not_a_crash(nonsense_url: str) -> None:
    async def go() -> None:
        client = GatewayClient(nonsense_url)
        try:
            with pytest.raises(GatewayUnreachable, match="not JSON"):
                await client.health()
        finally:
            await client.aclose()

    run(go())


def test_bad_credentials_are_refused_with_the_gateways_words(nonsense_url: str) -> None:
    async def go() -> None:
        client = GatewayClient(nonsense_url)
        try:
            with pytest.raises(GatewayRefused, match="Wrong password or code") as info:
                await client.login("officer1", "x", "000000", "dev")
            assert info.value.code == "bad_credentials"
        finally:
            await client.aclose()

    run(go())


def test_a_refused_field_is_named(nonsense_url: str) -> None:
    async def go() -> None:
        client = GatewayClient(nonsense_url, token="t")
        try:
            with pytest.raises(GatewayRefused) as info:
                await client.send_message({"id": "1", "mke": "QV", "fields": {}})
            assert info.value.field == "LIS"
        finally:
            await client.aclose()

    run(go())


def test_a_wrong_shaped_inbox_and_a_500_are_unreachable(nonsense_url: str) -> None:
    async def go() -> None:
        client = GatewayClient(nonsense_url, token="t")
        try:
            with pytest.raises(GatewayUnreachable, match="no event list"):
                await client.inbox(0)
            with pytest.raises(GatewayUnreachable, match="HTTP 500"):
                await client.ack(3)
        finally:
            await client.aclose()

    run(go())


def test_an_expired_token_on_the_stream_asks_for_login(nonsense_url: str) -> None:
    async def go() -> None:
        client = GatewayClient(nonsense_url, token="t")
        try:
            with pytest.raises(AuthExpired, match="Session expired"):
                async for _event in client.stream(0):
                    pass
        finally:
            await client.aclose()

    run(go())


def test_no_token_means_not_logged_in() -> None:
    async def go() -> None:
        client = GatewayClient("http://127.0.0.1:9")
        try:
            with pytest.raises(AuthExpired, match="not logged in"):
                await client.inbox(0)
        finally:
            await client.aclose()

    run(go())
