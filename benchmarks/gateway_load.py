"""Can the training gateway carry a class? N trainee clients (default 50) for S seconds (default
60), each signed in with its own account, each holding an SSE stream (``GET /v1/inbox/stream``)
and sending a query (QV, QW or DQ with synthetic values) every 2 to 4 seconds.

Measured per query: from the send to the ``response`` event arriving on that client's stream,
minus the configured latency (default 0: the figure is the gateway's own overhead); p50 / p99,
errors (HTTP failures, dropped streams), events lost (a gap in any stream's ``seq``, or a query
never answered). Baseline in the same run: the same clients, at the same pace, calling
``GET /v1/health`` (a bare round trip), p99; ratio = query p99 / baseline p99.

    .venv/bin/python benchmarks/gateway_load.py [--clients 50] [--seconds 60] [--latency 0]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
LISTENING = re.compile(r"listening on (http://[\d.]+:\d+)")
PASSWORD = "load-test-password"
STATES = ("MD", "VA", "NC", "PA", "DE")
NAMES = ("LORGARSEV, RILEY G", "KOLVEX, DRAYTON Q", "NORWEN, CASEY L", "ZANMIR, SOREN T",
         "TALBRO, MIRELA V", "DOE, JOHN A")


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def a_query(rng: random.Random) -> dict[str, Any]:
    kind = rng.choice(("QV", "QV", "QW", "DQ"))
    if kind == "QV":
        plate = "".join(rng.choice("ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(3)) + \
            f"{rng.randrange(10000):04d}"
        fields, dest = {"LIC": plate, "LIS": rng.choice(STATES)}, ["NCIC"]
    elif kind == "QW":
        fields = {"NAM": rng.choice(NAMES), "DOB": f"19{rng.randint(50, 99)}0{rng.randint(1, 9)}"
                  f"1{rng.randint(0, 9)}"}
        dest = ["NCIC"]
    else:
        fields, dest = {"OLN": f"S{rng.randrange(10**9):09d}"}, [rng.choice(STATES)]
    text = kind + " " + ".".join(f"{k}/{v}" for k, v in fields.items())
    return {"id": str(uuid.uuid4()), "mke": kind, "dest": dest, "fields": fields, "text": text,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}


@dataclass
class Client:
    user_id: str
    secret: str
    token: str = ""
    sent: dict[str, float] = field(default_factory=dict)  # message id -> send time
    answered: dict[str, float] = field(default_factory=dict)  # message id -> seconds
    last_seq: int = 0
    gaps: int = 0
    errors: int = 0
    events: int = 0
    failures: list[str] = field(default_factory=list)


async def sign_in(http: Any, client: Client) -> None:
    import pyotp

    answer = await http.post("/v1/sessions", json={
        "user_id": client.user_id, "password": PASSWORD,
        "otp": pyotp.TOTP(client.secret).now(), "device_id": f"load-{client.user_id}"})
    answer.raise_for_status()
    client.token = answer.json()["token"]


async def listen(http: Any, client: Client, stop: asyncio.Event, latency: float) -> None:
    """Hold the stream; reconnect from the last seq if it drops (counted as an error)."""
    from httpx_sse import aconnect_sse

    while not stop.is_set():
        headers = {"Authorization": f"Bearer {client.token}",
                   "Last-Event-ID": str(client.last_seq)}
        try:
            async with aconnect_sse(http, "GET", "/v1/inbox/stream", headers=headers,
                                    timeout=None) as source:
                async for sse in source.aiter_sse():
                    if not sse.id or not sse.data:  # a heartbeat (the last id is kept)
                        continue
                    seq = int(sse.id)
                    if seq != client.last_seq + 1:
                        client.gaps += 1
                    client.last_seq = max(client.last_seq, seq)
                    client.events += 1
                    event = json.loads(sse.data)
                    reply_to = event.get("in_reply_to")
                    if event.get("type") == "response" and reply_to in client.sent and \
                            reply_to not in client.answered:
                        client.answered[reply_to] = time.monotonic() - client.sent[reply_to] \
                            - latency
                    if stop.is_set():
                        return
        except asyncio.CancelledError:
            return
        except Exception as exc:
            if not stop.is_set():
                client.errors += 1
                client.failures.append(type(exc).__name__)
                await asyncio.sleep(0.2)


async def send_queries(http: Any, client: Client, until: float, rng: random.Random) -> None:
    await asyncio.sleep(rng.uniform(0, 2))  # clients do not start in step
    while time.monotonic() < until:
        message = a_query(rng)
        client.sent[message["id"]] = time.monotonic()  # the answer may beat the 202 home
        try:
            answer = await http.post("/v1/messages", json=message, headers={
                "Authorization": f"Bearer {client.token}", "Idempotency-Key": message["id"]})
            if answer.status_code != 202:
                client.errors += 1
                client.sent.pop(message["id"], None)
        except Exception:
            client.errors += 1
        await asyncio.sleep(rng.uniform(2, 4))


async def baseline(http: Any, clients: list[Client], seconds: float) -> list[float]:
    """The same clients at the same pace, calling GET /v1/health: a bare round trip."""
    timings: list[float] = []
    until = time.monotonic() + seconds

    async def one(rng: random.Random) -> None:
        await http.get("/v1/health")  # a warm connection, as the queries will have
        await asyncio.sleep(rng.uniform(0, 1))
        while time.monotonic() < until:
            started = time.monotonic()
            answer = await http.get("/v1/health")
            if answer.status_code == 200:
                timings.append(time.monotonic() - started)
            await asyncio.sleep(rng.uniform(0.5, 1.0))

    await asyncio.gather(*(one(random.Random(i)) for i in range(len(clients))))
    return timings


async def run_load(url: str, clients: list[Client], seconds: float, latency: float
                   ) -> dict[str, Any]:
    import httpx

    limits = httpx.Limits(max_connections=len(clients) * 3, max_keepalive_connections=len(clients) * 3)
    async with httpx.AsyncClient(base_url=url, timeout=30, limits=limits) as http:
        await asyncio.gather(*(sign_in(http, c) for c in clients))
        health = await baseline(http, clients, min(10.0, seconds / 3))
        stop = asyncio.Event()
        streams = [asyncio.create_task(listen(http, c, stop, latency)) for c in clients]
        await asyncio.sleep(0.5)
        until = time.monotonic() + seconds
        await asyncio.gather(*(send_queries(http, c, until, random.Random(i))
                               for i, c in enumerate(clients)))
        grace = time.monotonic() + 10 + latency * 3  # the last answers still on their way
        while time.monotonic() < grace and any(len(c.answered) < len(c.sent) for c in clients):
            await asyncio.sleep(0.1)
        stop.set()
        for task in streams:
            task.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
    delays = [d for c in clients for d in c.answered.values()]
    unanswered = sum(len(c.sent) - len(c.answered) for c in clients)
    return {
        "queries": sum(len(c.sent) for c in clients),
        "p50_ms": round(percentile(delays, 50) * 1000, 1),
        "p99_ms": round(percentile(delays, 99) * 1000, 1),
        "max_ms": round(max(delays, default=float("nan")) * 1000, 1),
        "errors": sum(c.errors for c in clients),
        "events_lost": sum(c.gaps for c in clients) + unanswered,
        "events": sum(c.events for c in clients),
        "baseline_health_p50_ms": round(percentile(health, 50) * 1000, 1),
        "baseline_health_p99_ms": round(percentile(health, 99) * 1000, 1),
        "mean_ms": round(statistics.fmean(delays) * 1000, 1) if delays else None,
        "stream_failures": sorted({f for c in clients for f in c.failures}),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--latency", type=float, default=0.0,
                        help="the gateway's configured answer latency (subtracted)")
    args = parser.parse_args(argv)
    from mock_server.state import State

    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "gateway"
        data.mkdir()
        state = State(data / "gateway.sqlite")
        clients = []
        try:
            for n in range(args.clients):
                account = state.add_account(f"trainee{n:02d}", PASSWORD, f"Trainee {n:02d}",
                                            "officer", "MD1012600", f"Car {100 + n}")
                clients.append(Client(account.user_id, account.otp_secret))
        finally:
            state.close()
        gateway = subprocess.Popen(
            [sys.executable, "-m", "mock_server", "serve", "--port", "0", "--data-dir",
             str(data), "--latency", str(args.latency), "--exit-with-parent"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=ROOT)
        try:
            assert gateway.stdout is not None
            url = ""
            for line in gateway.stdout:
                found = LISTENING.search(line)
                if found:
                    url = found.group(1)
                    break
            if not url:
                raise SystemExit("the gateway did not start")
            figures = asyncio.run(run_load(url, clients, args.seconds, args.latency))
        finally:
            gateway.terminate()
            gateway.wait(10)
            if gateway.stdout is not None:
                gateway.stdout.close()
    p99, base = figures["p99_ms"], figures["baseline_health_p99_ms"]
    result = {"bench": "gateway_load", "clients": args.clients, "seconds": args.seconds,
              "latency_s": args.latency, **figures,
              "ratio_p99_to_health_p99": round(p99 / base, 2) if base else None}
    print(json.dumps(result))
    return result


if __name__ == "__main__":
    main()
