"""The gateway session's token: kept in the encrypted cache with the origin of the gateway that
issued it, and never sent anywhere else. No Qt."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mdt.services.network import Network
from mdt.services.session import Session

if TYPE_CHECKING:
    from mdt.store.cache import Cache


class SessionTokens:
    def __init__(self, session: Session, network: Network) -> None:
        self.session = session
        self.network = network

    def save(self, token: str) -> None:
        from mdt.core.origin import origin

        _, writer = self.session.require()
        issued_by = origin(self.network.client.base_url) if token else ""

        def keep(cache: Cache) -> None:
            cache.set_meta("session_token", token)
            cache.set_meta("session_origin", issued_by)

        writer.call(keep)

    def _kept(self) -> tuple[str, str]:
        token, issued_by = self.session.read().call(lambda c: (c.get_meta("session_token"),
                                                                c.get_meta("session_origin")))
        return str(token or ""), str(issued_by or "")

    def load(self) -> str | None:
        """The kept token, if the gateway set now is the one that issued it; otherwise None
        (and :meth:`elsewhere` says where it belongs)."""
        from mdt.core.origin import origin

        token, issued_by = self._kept()
        if not token or issued_by != origin(self.network.client.base_url):
            return None
        return token

    def elsewhere(self) -> str | None:
        """The origin of the gateway that issued the kept session, when it is not the gateway
        this terminal points at now (the URL was changed): that session is not used here."""
        from mdt.core.origin import origin

        token, issued_by = self._kept()
        here = origin(self.network.client.base_url)
        return issued_by if token and issued_by and issued_by != here else None

    def require_here(self) -> None:
        """Before any sync: a session issued by another gateway is never used with this one."""
        from mdt.net.gateway import AuthExpired

        elsewhere = self.elsewhere()
        if elsewhere is not None or not self.network.client.token:
            where = f" (the session belongs to {elsewhere})" if elsewhere else ""
            raise AuthExpired(f"Sign in to {self.network.client.base_url} first{where}: nothing "
                              "is sent to a gateway without a session it issued.",
                              code="unauthorized")
