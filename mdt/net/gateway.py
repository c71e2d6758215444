"""The HTTP client for the message-switch gateway (``docs/protocol.md``). No Qt.

Every call is ``async`` and meant for the network thread's event loop. Failures come out as one of
three exceptions, so callers can tell a dead link from a refusal:

- :class:`GatewayUnreachable`: no answer (connection refused, timeout, dropped mid-response,
  a 5xx, an answer that is not the protocol's JSON). Retry later; nothing was refused.
- :class:`AuthExpired`: the token is missing, expired or revoked. Ask the user to log in again.
- :class:`GatewayRefused`: the gateway understood and said no (bad credentials, locked account,
  a field it rejects). Retrying the same request will not help; ``field`` names the culprit.
"""

from __future__ import annotations

import importlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from types import ModuleType
from typing import TYPE_CHECKING, Any

from mdt import __version__
from mdt.net.errors import AuthExpired, GatewayError, GatewayRefused, GatewayUnreachable
from mdt.net.events import MAX_EVENT_BYTES
from mdt.net.sse import SseParser, StreamItem

__all__ = ["AuthExpired", "GatewayClient", "GatewayError", "GatewayRefused", "GatewaySession",
           "GatewayUnreachable", "GatewayUser", "InboxPage", "StreamItem"]


class _OnFirstUse:
    """A module imported at its first attribute, on whichever thread uses it first (the network
    worker): ``httpx`` (with ``rich`` through ``httpx._main``), ``asyncio`` and ``ssl`` cost about
    200 ms, and the sign-in page that imports this module for its error types needs none of them."""

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: ModuleType | None = None

    def __getattr__(self, attr: str) -> Any:
        module = self._module
        if module is None:  # the import lock makes a race between two threads harmless
            module = self._module = importlib.import_module(self._name)
        return getattr(module, attr)


if TYPE_CHECKING:
    import asyncio
    import ssl

    import httpx
else:
    asyncio = _OnFirstUse("asyncio")
    ssl = _OnFirstUse("ssl")
    httpx = _OnFirstUse("httpx")


@dataclass(frozen=True)
class GatewayUser:
    id: str
    name: str
    role: str
    ori: str
    unit: str = ""


def _untrusted_certificate(exc: BaseException) -> bool:
    """Whether a failed request failed on the server's certificate (anywhere in its causes)."""
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return False
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


@dataclass(frozen=True)
class GatewaySession:
    token: str
    expires_at: str
    user: GatewayUser
    training: bool


@dataclass
class InboxPage:
    events: list[Any] = field(default_factory=list)
    next_after: int = 0


def _too_big(limit: int) -> GatewayUnreachable:
    return GatewayUnreachable(f"The gateway's answer is larger than {limit // 1_000_000} MB; "
                              "it was not read.", code="too_big")


REDIRECTS = frozenset({301, 302, 303, 307, 308})  # (304 Not Modified is an answer: the ETag)


def _redirect(response: httpx.Response, base_url: str) -> GatewayError:
    """A 3xx answer. Never followed (the session token and the audit go to the gateway that
    issued the session only), and said for what it is: a plain http gateway that moved to https
    gets the hint."""
    target = response.headers.get("Location", "")
    where = f" to {target}" if target else ""
    hint = ""
    if base_url.startswith("http://") and target.startswith("https://"):
        hint = (" It looks like the gateway moved to https: set the gateway URL "
                "(gateway_url) to its https:// address.")
    return GatewayRefused(
        f"The gateway at {base_url} answered with a redirect ({response.status_code}){where}. MDT "
        f"does not follow redirects: nothing was sent there.{hint}", code="redirect",
        status=response.status_code)


def _error_from(response: httpx.Response) -> GatewayError:
    """Turn a non-2xx answer into the right exception, whatever the body holds."""
    status = response.status_code
    code, message, field_name = "", "", None
    try:
        body = response.json()
        err = body.get("error") if isinstance(body, dict) else None
        if isinstance(err, dict):
            code = str(err.get("code") or "")
            message = str(err.get("message") or "")
            field_value = err.get("field")
            field_name = str(field_value) if field_value else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        pass
    message = message[:300]
    if status >= 500 or status in (408, 429):
        return GatewayUnreachable(
            message or f"The gateway is not answering properly (HTTP {status}).",
            code=code or "unavailable", status=status)
    if status == 401 and code not in ("bad_credentials",):
        return AuthExpired(message or "Your session has expired. Please log in again.",
                           code=code or "unauthorized", status=status)
    if not message:
        message = f"The gateway refused the request (HTTP {status})."
    return GatewayRefused(message, code=code, status=status, field=field_name)


class GatewayClient:
    """One gateway, one user session. Create it on the loop that will use it."""

    max_response_bytes = 32_000_000  # one answer; a page of 500 big returns fits
    deadline = 60.0  # seconds for one whole call, however the bytes trickle in

    def __init__(self, base_url: str, *, ca_bundle: str | None = None, timeout: float = 15.0,
                 token: str | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        verify: ssl.SSLContext | bool = True
        if ca_bundle:  # the agency's CA (or a classroom's): trusted for this gateway only
            try:
                verify = ssl.create_default_context(cafile=ca_bundle)
            except (OSError, ssl.SSLError) as exc:
                raise GatewayUnreachable(
                    f"The CA bundle {ca_bundle} cannot be used: {exc}. Check the ca_bundle "
                    "setting.", code="ca_bundle") from exc
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            verify=verify,
            follow_redirects=False,  # a redirect is reported, never followed (_redirect)
            timeout=httpx.Timeout(timeout, connect=min(timeout, 5.0)),
            headers={"User-Agent": f"MDT/{__version__}", "Accept-Encoding": "gzip"},
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def _auth(self) -> dict[str, str]:
        if not self.token:
            raise AuthExpired("You are not logged in to the gateway.", code="unauthorized")
        return {"Authorization": f"Bearer {self.token}"}

    async def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """One call, bounded: at most :attr:`max_response_bytes` read and :attr:`deadline`
        seconds in all (a gateway trickling a byte at a time cannot hold the client)."""
        try:
            async with asyncio.timeout(self.deadline):
                request = self._http.build_request(method, path, **kwargs)
                response = await self._http.send(request, stream=True)
                try:
                    body = bytearray()
                    declared = response.headers.get("Content-Length", "")
                    if declared.isdigit() and int(declared) > self.max_response_bytes:
                        raise _too_big(self.max_response_bytes)
                    async for chunk in response.aiter_bytes():
                        body += chunk
                        if len(body) > self.max_response_bytes:
                            raise _too_big(self.max_response_bytes)
                finally:
                    await response.aclose()
                response._content = bytes(body)
        except TimeoutError as exc:
            raise GatewayUnreachable(
                f"The gateway at {self.base_url} did not finish answering within "
                f"{self.deadline:g} s.", code="too_slow") from exc
        except httpx.HTTPError as exc:  # connect, read, protocol, timeout errors alike
            if _untrusted_certificate(exc):
                raise GatewayUnreachable(
                    f"The gateway at {self.base_url} has a certificate this terminal does not "
                    "trust. Set the CA bundle (the agency's CA, or the classroom CA the training "
                    "gateway made) in the settings.", code="untrusted_certificate") from exc
            raise GatewayUnreachable(
                f"The gateway at {self.base_url} cannot be reached ({type(exc).__name__}).",
                code="unreachable") from exc
        if response.status_code in REDIRECTS:
            raise _redirect(response, self.base_url)
        if response.status_code >= 400:
            raise _error_from(response)
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._request(method, path, **kwargs)
        if response.status_code == 204:
            return None
        try:
            return response.json()
        except RecursionError as exc:
            error = GatewayUnreachable(
                "The gateway answered with JSON nested too deep to read.", code="too_deep",
                status=response.status_code)
            error.raw = response.content[:MAX_EVENT_BYTES * 2].decode("utf-8", "replace")
            raise error from exc
        except (ValueError, UnicodeDecodeError) as exc:
            raise GatewayUnreachable(
                "The gateway answered with something that is not JSON.", code="bad_answer",
                status=response.status_code) from exc

    @staticmethod
    def _expect_dict(body: Any, what: str) -> dict[str, Any]:
        if not isinstance(body, dict):
            raise GatewayUnreachable(f"The gateway's answer to {what} makes no sense.",
                                     code="bad_answer")
        return body

    async def health(self) -> dict[str, Any]:
        return self._expect_dict(await self._json("GET", "/v1/health"), "the health check")

    async def login(self, user_id: str, password: str, otp: str, device_id: str) -> GatewaySession:
        body = self._expect_dict(await self._json(
            "POST", "/v1/sessions",
            json={"user_id": user_id, "password": password, "otp": otp, "device_id": device_id}),
            "the login")
        try:
            user = body["user"]
            session = GatewaySession(
                token=str(body["token"]), expires_at=str(body["expires_at"]),
                user=GatewayUser(id=str(user["id"]), name=str(user["name"]),
                                 role=str(user["role"]), ori=str(user["ori"]),
                                 unit=str(user.get("unit") or "")),
                training=bool(body.get("training", False)))
        except (KeyError, TypeError) as exc:
            raise GatewayUnreachable("The gateway's login answer is missing fields.",
                                     code="bad_answer") from exc
        self.token = session.token
        return session

    async def logout(self) -> None:
        if self.token:
            await self._request("DELETE", "/v1/sessions/current", headers=self._auth())
            self.token = None

    async def send_message(self, message: dict[str, Any]) -> dict[str, Any]:
        headers = {**self._auth(), "Idempotency-Key": str(message["id"])}
        return self._expect_dict(
            await self._json("POST", "/v1/messages", json=message, headers=headers),
            "a sent message")

    async def inbox(self, after: int, limit: int = 500) -> InboxPage:
        body = self._expect_dict(await self._json(
            "GET", "/v1/inbox", params={"after": after, "limit": limit}, headers=self._auth()),
            "the inbox")
        events = body.get("events")
        if not isinstance(events, list):  # an item that is not an event is the engine's to judge
            raise GatewayUnreachable("The gateway's inbox answer has no event list.",
                                     code="bad_answer")
        try:
            next_after = int(body.get("next_after", after))
        except (TypeError, ValueError) as exc:
            raise GatewayUnreachable("The gateway's inbox cursor is not a number.",
                                     code="bad_answer") from exc
        return InboxPage(events=events, next_after=next_after)

    async def ship_audit(self, records: list[dict[str, Any]]) -> list[str]:
        """Send audit records; returns the ids the gateway holds now (idempotent per record)."""
        body = self._expect_dict(await self._json(
            "POST", "/v1/audit", json={"records": records}, headers=self._auth()),
            "the audit records")
        accepted = body.get("accepted")
        if not isinstance(accepted, list):
            raise GatewayUnreachable("The gateway's audit answer has no accepted list.",
                                     code="bad_answer")
        return [str(i) for i in accepted]

    async def ack(self, upto: int) -> None:
        await self._json("POST", "/v1/inbox/ack", json={"upto": upto}, headers=self._auth())

    async def stream(self, after: int, *, read_timeout: float = 45.0
                     ) -> AsyncIterator[dict[str, Any]]:
        """Live events (decoded JSON objects) after ``after``, until the link breaks. See
        :meth:`live` for the bounded reader under it."""
        async for item in self.live(after, idle_timeout=read_timeout):
            if item.kind == "event" and isinstance(item.event, dict):
                yield item.event
            elif item.kind == "unreadable":
                raise GatewayUnreachable("The gateway sent an event that is not JSON.",
                                         code="bad_answer")

    async def live(self, after: int, *, idle_timeout: float = 45.0,
                   max_event_bytes: int = MAX_EVENT_BYTES) -> AsyncIterator[StreamItem]:
        """The SSE stream from ``after`` as :class:`StreamItem` s: events (decoded, or
        ``unreadable`` with the reason) and heartbeats, until the stream ends.

        Bounded: ``idle_timeout`` seconds without a whole event or heartbeat (longer than the
        gateway's heartbeat period) is a dead link, even while bytes trickle in or one line never
        ends; a line or event over ``max_event_bytes`` and bytes that are not an SSE stream are
        garbage. Both raise :class:`GatewayUnreachable`."""
        headers = {**self._auth(), "Last-Event-ID": str(after), "Accept": "text/event-stream"}
        timeout = httpx.Timeout(idle_timeout, connect=5.0)
        try:
            async with asyncio.timeout(idle_timeout + 5.0):
                request = self._http.build_request("GET", "/v1/inbox/stream", headers=headers,
                                                   timeout=timeout)
                response = await self._http.send(request, stream=True)
        except TimeoutError as exc:
            raise GatewayUnreachable("The live inbox stream did not open in time.",
                                     code="stream_broken") from exc
        except httpx.HTTPError as exc:
            raise GatewayUnreachable(f"The live inbox stream broke ({type(exc).__name__}).",
                                     code="stream_broken") from exc
        try:
            if response.status_code in REDIRECTS:
                raise _redirect(response, self.base_url)
            if response.status_code >= 400:
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > 65536:
                        break
                response._content = bytes(body)
                raise _error_from(response)
            kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if kind != "text/event-stream":
                raise GatewayUnreachable("The gateway's live inbox is not an event stream.",
                                         code="stream_garbage")
            parser = SseParser(max_event_bytes)
            chunks = response.aiter_bytes().__aiter__()
            while True:
                try:
                    async with asyncio.timeout(idle_timeout):
                        items: list[StreamItem] = []
                        while not items:
                            try:
                                chunk = await chunks.__anext__()
                            except StopAsyncIteration:
                                return
                            items = parser.feed(chunk)
                except TimeoutError as exc:
                    raise GatewayUnreachable(
                        f"The live inbox stream sent no event and no heartbeat for "
                        f"{idle_timeout:g} s.", code="stream_silent") from exc
                for item in items:
                    yield item
        except httpx.HTTPError as exc:
            raise GatewayUnreachable(f"The live inbox stream broke ({type(exc).__name__}).",
                                     code="stream_broken") from exc
        finally:
            await response.aclose()

    async def forms(self, etag: str | None = None) -> tuple[str | None, Any]:
        """The gateway's form definitions: (etag, payload), or (etag, None) when unchanged."""
        headers = {**self._auth(), **({"If-None-Match": etag} if etag else {})}
        response = await self._request("GET", "/v1/forms", headers=headers)
        if response.status_code == 304:
            return etag, None
        try:
            return response.headers.get("ETag"), response.json()
        except (ValueError, UnicodeDecodeError) as exc:
            raise GatewayUnreachable("The gateway's forms are not JSON.", code="bad_answer") \
                from exc

    async def code_table(self, table: str, etag: str | None = None
                         ) -> tuple[str | None, dict[str, str] | None]:
        """A code table the gateway wants used: (etag, {code: description}), or (etag, None)
        when unchanged; a gateway without that table answers 404 (raised as GatewayRefused)."""
        headers = {**self._auth(), **({"If-None-Match": etag} if etag else {})}
        response = await self._request("GET", f"/v1/codes/{table}", headers=headers)
        if response.status_code == 304:
            return etag, None
        try:
            body = response.json()
            codes = {str(r["code"]): str(r["description"]) for r in body["codes"]}
        except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
            raise GatewayUnreachable(f"The gateway's code table {table} makes no sense.",
                                     code="bad_answer") from exc
        return response.headers.get("ETag"), codes

    async def demo_accounts(self) -> list[dict[str, Any]]:
        """The training gateway's demo accounts (a live gateway answers 404: none)."""
        try:
            body = await self._json("GET", "/v1/training/demo-accounts")
        except GatewayRefused:
            return []
        accounts = self._expect_dict(body, "the demo accounts").get("accounts", [])
        return [a for a in accounts if isinstance(a, dict)] if isinstance(accounts, list) else []

    async def units(self) -> list[dict[str, Any]]:
        """The terminals of the operator's agency: unit, name, role, signed in, last contact."""
        body = self._expect_dict(await self._json("GET", "/v1/units", headers=self._auth()),
                                 "the unit list")
        units = body.get("units")
        if not isinstance(units, list):
            raise GatewayUnreachable("The gateway's unit list makes no sense.", code="bad_answer")
        return [u for u in units if isinstance(u, dict) and isinstance(u.get("user_id"), str)]

    async def training(self, method: str, path: str, body: Any = None) -> dict[str, Any]:
        """A trainer endpoint of a training gateway (``/v1/training/...``); a live gateway
        answers 404 (refused)."""
        kwargs: dict[str, Any] = {"headers": self._auth()}
        if body is not None:
            kwargs["json"] = body
        return self._expect_dict(await self._json(method, f"/v1/training/{path}", **kwargs),
                                 f"the trainer's {path}")
