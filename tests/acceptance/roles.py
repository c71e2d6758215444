"""Who else is in the room: the trainer at the gateway's machine, a dispatcher at a headless
terminal."""

from __future__ import annotations

from typing import Any

import httpx

from mdt.services.terminal import Terminal
from mdt.services.training import injection_events
from mdt.settings import Settings
from tests.conftest import Gateway


class Trainer:
    """trainer1 at the gateway's machine, on the trainer's endpoints: the events the trainer
    console injects (mdt.services.training.injection_events), a trainee's link cut or slowed,
    and everything calm again. (No terminal of its own: a trainer's cache would only cost a
    sign-in.)"""

    def __init__(self, gateway: Gateway) -> None:
        account = gateway.demo_account("trainer1")
        self.http = httpx.Client(base_url=gateway.url, timeout=10)
        answer = self.http.post("/v1/sessions", json={
            "user_id": "trainer1", "password": account["password"], "otp": account["otp_now"],
            "device_id": "acceptance"})
        answer.raise_for_status()
        self.http.headers["Authorization"] = f"Bearer {answer.json()['token']}"

    def _call(self, method: str, path: str, body: dict[str, Any]) -> None:
        answer = self.http.request(method, f"/v1/training/{path}", json=body)
        assert answer.status_code < 300, answer.text

    def calm(self) -> None:
        """No faults anywhere (the gateway-wide set clears every trainee's own)."""
        self._call("PUT", "faults", {})

    def cut_link(self, user: str) -> None:
        """The console's "Lost link (one trainee)"."""
        self._call("PUT", "faults", {"offline": True, "user": user})

    def slow_switch(self, user: str, seconds: float) -> None:
        self._call("PUT", "faults", {"latency": seconds, "user": user})

    def destination_down(self, user: str, state: str, latency: float = 0.0) -> None:
        """Messages ``user`` sends to ``state`` are answered "down, will forward" (after
        ``latency`` s); the answers are held until :meth:`calm`."""
        self._call("PUT", "faults", {"destinations_down": [state], "latency": latency,
                                     "user": user})

    def inject(self, kind: str, *, user: str | None = None, ori: str | None = None) -> None:
        """The console's "inject now" of ``kind`` (detainer, incoming_yq, ...)."""
        body: dict[str, Any] = {"events": injection_events(kind)}
        body.update({"user": user} if user else {"ori": ori})
        self._call("POST", "events", body)

    def request_confirmation(self, ori: str, *, nic: str, rty: str, data_set: dict[str, str],
                             respond_in: int = 600) -> None:
        """Another agency (VA0290000) asks ``ori`` to confirm its record ``nic`` (urgent)."""
        event = {"type": "hit_confirmation_request", "rty": rty, "rno": "1", "pri": "U",
                 "oca": "26-000777", "nic": nic, "requesting_ori": "VA0290000",
                 "requesting_name": "DEPUTY PAT PRACTICE", "phone": "703-555-0129",
                 "respond_in": respond_in, "data_set": data_set}
        self._call("POST", "events", {"ori": ori, "events": [event]})

    def close(self) -> None:
        self.http.close()


def sign_in_headless(gateway: Gateway, user: str) -> Terminal:
    settings = Settings()
    settings.set("gateway_url", gateway.url)
    terminal = Terminal(settings)
    account = gateway.demo_account(user)
    terminal.login(user, account["password"], account["otp_now"])
    return terminal
