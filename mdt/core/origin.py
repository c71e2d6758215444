"""Which gateway a URL names, and whether MDT may talk to it. No Qt, no network.

A session belongs to the gateway *origin* (scheme, host, port) that issued it: its token, the
audit shipping and the events applied go to and come from that origin only
(:mod:`mdt.services`). A gateway is reached over https; plain http only to this machine's own
loopback (the bundled training gateway), or where the setting ``allow_plain_http`` says so for a
training class.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

__all__ = ["GatewayUrlError", "check_gateway_url", "is_loopback_host", "origin"]


class GatewayUrlError(ValueError):
    """A gateway URL MDT will not use; the message says why and names the setting."""


def is_loopback_host(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def origin(url: str) -> str:
    """``scheme://host:port`` of ``url`` (the port made explicit), lower case."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    try:
        port = parts.port or (443 if scheme == "https" else 80)
    except ValueError:
        port = 0
    shown = f"[{host}]" if ":" in host else host
    return f"{scheme}://{shown}:{port}"


def check_gateway_url(url: str, *, allow_plain_http: bool = False) -> str:
    """``url`` without a trailing slash, or GatewayUrlError: it must be ``https://host``, or
    ``http://`` to a loopback address (or any host with ``allow_plain_http``, a training class)."""
    text = url.strip()
    parts = urlsplit(text)
    try:
        parts.port  # noqa: B018 - raises for a port that is not a number
    except ValueError:
        raise GatewayUrlError(f"The gateway URL (gateway_url) {text!r} has a port that is not "
                              "a number.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise GatewayUrlError(f"The gateway URL (gateway_url) must be an https:// address, e.g. "
                              f"https://switch.agency.example, not {text!r}.")
    if parts.username or parts.password or parts.query or parts.fragment:
        raise GatewayUrlError("The gateway URL (gateway_url) must not carry a user, a password, "
                              "a query or a fragment.")
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not allow_plain_http:
        raise GatewayUrlError(
            f"The gateway URL (gateway_url) must use https:// for a gateway on another machine "
            f"({parts.hostname}): over plain http the password, the one-time code and every "
            "return would cross the network in clear. (A training class without TLS: set "
            "allow_plain_http.)")
    return text.rstrip("/")
