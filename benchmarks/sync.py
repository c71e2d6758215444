"""Batch catch-up of many inbox events, and what it does to the GUI; then what a misbehaving
gateway can make the sync engine do.

1. A trainer injects N administrative messages (default 10,000) for officer1 on the real training
   gateway; the client, signed in and with a QApplication running, catches up through
   ``GET /v1/inbox`` on its worker threads while a 5 ms watchdog timer on the GUI thread measures
   the longest stall of the event loop. The same watchdog over an idle second is its baseline.
2. Storms: the sync engine (``SyncEngine.run``, as the GUI runs it) against a hostile gateway on
   127.0.0.1 whose live stream closes at once, or sends binary garbage, or (for comparison) stays
   open with a heartbeat every 0.2 s. Each run is a separate process, so its CPU time is the
   engine's alone: reconnects per minute (goal for the closing stream: at most 12) and CPU seconds
   per minute. The baseline is the same storm against the code before issue 15 (``--before-rev``,
   taken from git; ``--before-rev ''`` skips it); ratio = before / now.

Prints one JSON object last.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/sync.py [--events 10000]
        [--storm-seconds 60] [--before-rev b98fea0]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


ROOT = Path(__file__).resolve().parent.parent


def storm_worker(mode_url: str, seconds: float, tree: str) -> None:
    """One engine (the code in ``tree``) against the hostile gateway for ``seconds``; prints its
    CPU and wall time."""
    import asyncio

    sys.path.insert(0, tree)

    from mdt.net.gateway import GatewayClient
    from mdt.net.sync import SyncEngine
    from mdt.store.writer_thread import CacheWriter

    with tempfile.TemporaryDirectory() as folder:
        writer = CacheWriter(Path(folder) / "cache.db", bytes(range(32)), create=True)

        async def go() -> None:
            client = GatewayClient(mode_url, token="bench")
            engine = SyncEngine(client, writer)
            task = asyncio.create_task(engine.run())
            await asyncio.sleep(seconds)
            engine.stop()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(task, 10)
            await client.aclose()

        cpu, wall = time.process_time(), time.perf_counter()
        asyncio.run(go())
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        writer.close()
    print(json.dumps({"cpu_s": cpu, "wall_s": wall}))


def storms(seconds: float, before_rev: str) -> dict[str, Any]:
    """Reconnects and CPU per minute for each stream mode, now and (if asked) before."""
    from tests.reliability.hostile import Hostile

    trees: dict[str, Path] = {"now": ROOT}
    scratch = tempfile.TemporaryDirectory()
    if before_rev:
        try:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", before_rev, "mdt"],
                                     capture_output=True, check=True).stdout
            subprocess.run(["tar", "-x", "-C", scratch.name], input=archive, check=True)
            trees["before"] = Path(scratch.name)
        except (OSError, subprocess.CalledProcessError) as exc:
            print(f"no baseline: {before_rev} not taken from git ({type(exc).__name__})")
    results: dict[str, Any] = {}
    hostile = Hostile()
    hostile.add({"type": "admin", "text": "STORM"})
    try:
        for label, tree in trees.items():
            for mode in ("close", "garbage", "events"):
                hostile.stream = mode
                hostile.hits.clear()
                out = subprocess.run(
                    [sys.executable, str(Path(__file__).resolve()), "--storm-worker", hostile.url,
                     "--storm-seconds", str(seconds), "--tree", str(tree)],
                    capture_output=True, text=True, timeout=seconds + 60)
                lines = out.stdout.strip().splitlines()
                if out.returncode != 0 or not lines:
                    print(f"storm worker failed ({label}, {mode}): {out.stderr[-500:]}")
                    continue
                measured = json.loads(lines[-1])
                minutes = measured["wall_s"] / 60
                results.setdefault(label, {})[mode] = {
                    "reconnects_per_min": round(hostile.hits["/v1/inbox/stream"] / minutes, 1),
                    "inbox_requests_per_min": round(hostile.hits["/v1/inbox"] / minutes, 1),
                    "cpu_s_per_min": round(measured["cpu_s"] / minutes, 2)}
                print(f"{label:6} stream {mode:7}: {results[label][mode]}")
    finally:
        hostile.close()
        scratch.cleanup()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    parser.add_argument("--storm-seconds", type=float, default=60.0)
    parser.add_argument("--before-rev", default="b98fea0",
                        help="git revision of the code before the fix, for the baseline")
    parser.add_argument("--storm-worker", metavar="URL", help=argparse.SUPPRESS)
    parser.add_argument("--tree", default=str(ROOT), help=argparse.SUPPRESS)
    parser.add_argument("--skip-catch-up", action="store_true",
                        help="only the storms (no batch catch-up with the GUI)")
    args = parser.parse_args()
    if args.storm_worker:
        storm_worker(args.storm_worker, args.storm_seconds, args.tree)
        return
    summary: dict[str, Any] = {"bench": "sync"}
    if not args.skip_catch_up:
        summary.update(catch_up(args.events))
    storm = storms(args.storm_seconds, args.before_rev)
    now, before = storm.get("now", {}), storm.get("before", {})
    summary["storms"] = storm
    summary["close_reconnects_per_min"] = now.get("close", {}).get("reconnects_per_min")
    summary["close_goal_per_min"] = 12
    summary["garbage_reconnects_per_min"] = now.get("garbage", {}).get("reconnects_per_min")
    summary["close_cpu_s_per_min"] = now.get("close", {}).get("cpu_s_per_min")
    summary["garbage_cpu_s_per_min"] = now.get("garbage", {}).get("cpu_s_per_min")
    summary["baseline"] = {"rev": args.before_rev, **{
        f"{mode}_{key}": before.get(mode, {}).get(key) for mode in ("close", "garbage")
        for key in ("reconnects_per_min", "cpu_s_per_min")}} if before else None

    def ratio(mode: str, key: str) -> float | None:
        was, is_now = before.get(mode, {}).get(key), now.get(mode, {}).get(key)
        return round(was / is_now, 1) if was and is_now else None

    summary["ratio"] = {f"{mode}_{key}_before_over_now": ratio(mode, key)
                        for mode in ("close", "garbage")
                        for key in ("reconnects_per_min", "cpu_s_per_min")} if before else None
    print(json.dumps(summary))


def catch_up(events: int) -> dict[str, Any]:
    args = argparse.Namespace(events=events)
    with tempfile.TemporaryDirectory() as folder:
        os.environ["MDT_HOME"] = str(Path(folder) / "home")
        import httpx
        import pyotp
        from PySide6.QtCore import QElapsedTimer, QTimer
        from PySide6.QtWidgets import QApplication

        from mdt.app.tasks import TaskRunner
        from mdt.services.terminal import Terminal
        from mdt.settings import Settings
        from tests.conftest import start_gateway

        gateway = start_gateway(Path(folder) / "gateway")
        app = QApplication([])
        try:
            settings = Settings()
            settings.set("gateway_url", gateway.url)
            settings.set("keystore", "wrapped-file")
            terminal = Terminal(settings)
            account = gateway.demo_account("officer1")
            terminal.login("officer1", account["password"], account["otp_now"])
            trainer = gateway.demo_account("trainer1")
            token = httpx.post(f"{gateway.url}/v1/sessions", json={
                "user_id": "trainer1", "password": trainer["password"],
                "otp": pyotp.TOTP(trainer["otp_secret"]).now(), "device_id": "bench"}
            ).json()["token"]
            for start in range(0, args.events, 5000):
                count = min(5000, args.events - start)
                httpx.post(f"{gateway.url}/v1/training/events", timeout=120,
                           headers={"Authorization": f"Bearer {token}"},
                           json={"user": "officer1", "events": [
                               {"type": "admin", "text": f"TRAINING NOTICE {start + i}",
                                "from_ori": "MD1012600"} for i in range(count)]})
            deadline = time.monotonic() + 60
            while httpx.get(f"{gateway.url}/v1/inbox", params={"after": args.events - 1},
                            headers={"Authorization": f"Bearer {terminal.client.token}"},
                            timeout=30).json()["events"] == [] and time.monotonic() < deadline:
                time.sleep(0.2)

            def watch(seconds: float | None, work: TaskRunner | None = None) -> tuple[float, float]:
                """Longest gap between 5 ms ticks while the work runs (or for `seconds`)."""
                clock = QElapsedTimer()
                longest = 0.0
                last = 0.0
                done: list[float] = []

                def tick() -> None:
                    nonlocal longest, last
                    now = clock.nsecsElapsed() / 1e6
                    longest = max(longest, now - last)
                    last = now

                timer = QTimer()
                timer.setInterval(5)
                timer.timeout.connect(tick)
                clock.start()
                timer.start()
                if work is not None:
                    started = time.perf_counter()
                    work.run(terminal.sync_once,
                             lambda _r, _e: done.append(time.perf_counter() - started))
                    while not done:
                        app.processEvents()
                        time.sleep(0.001)
                else:
                    end = time.perf_counter() + (seconds or 1)
                    while time.perf_counter() < end:
                        app.processEvents()
                        time.sleep(0.001)
                timer.stop()
                return longest - 5.0, (done[0] if done else 0.0)

            idle_stall, _ = watch(1.0)
            runner = TaskRunner()
            stall, elapsed = watch(None, runner)
            runner.shutdown()
            del runner
            applied = terminal.writer.call(  # type: ignore[union-attr]
                lambda c: c._conn.execute("SELECT count(*) FROM events").fetchone()[0])
            terminal.close()
        finally:
            gateway.stop()
    print(f"{applied} events applied in {elapsed:.1f} s; longest GUI stall {stall:.1f} ms "
          f"(idle baseline {idle_stall:.1f} ms)")
    return {"events": applied, "seconds": round(elapsed, 2),
            "events_per_s": round(applied / elapsed) if elapsed else None,
            "gui_longest_stall_ms": round(stall, 1),
            "idle_longest_stall_ms": round(idle_stall, 1)}


if __name__ == "__main__":
    main()
