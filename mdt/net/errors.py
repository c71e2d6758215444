"""The gateway client's three errors, so callers can tell a dead link from a refusal (a
sentence for a person in ``str()``). No Qt, no network stack.

- :class:`GatewayUnreachable`: no answer (connection refused, timeout, dropped mid-response,
  a 5xx, an answer that is not the protocol's JSON). Retry later; nothing was refused.
- :class:`AuthExpired`: the token is missing, expired or revoked. Ask the user to log in again.
- :class:`GatewayRefused`: the gateway understood and said no (bad credentials, locked account,
  a field it rejects). Retrying the same request will not help; ``field`` names the culprit.
"""

from __future__ import annotations

__all__ = ["AuthExpired", "GatewayError", "GatewayRefused", "GatewayUnreachable"]


class GatewayError(Exception):
    """Base of the gateway client's errors; ``str()`` is a sentence for a person."""

    def __init__(self, message: str, *, code: str = "", status: int = 0,
                 field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.field = field
        self.raw = ""  # what the gateway sent, when the client keeps it (quarantine)


class GatewayUnreachable(GatewayError):
    """No usable answer: the link is down or the gateway is failing. Try again later."""


class AuthExpired(GatewayError):
    """The session token is no longer accepted: the user must log in again."""


class GatewayRefused(GatewayError):
    """The gateway answered and refused the request."""
