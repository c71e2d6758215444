"""Batch catch-up of many inbox events, and what it does to the GUI.

A trainer injects N administrative messages (default 10,000) for officer1 on the real training
gateway; the client, signed in and with a QApplication running, catches up through
``GET /v1/inbox`` on its worker threads while a 5 ms watchdog timer on the GUI thread measures the
longest stall of the event loop. The same watchdog over an idle second is the baseline. Prints
one JSON object last.

    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/sync.py [--events 10000]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["MDT_HOME"] = str(Path(folder) / "home")
        import httpx
        import pyotp
        from PySide6.QtCore import QElapsedTimer, QTimer
        from PySide6.QtWidgets import QApplication

        from mdt.app.tasks import TaskRunner
        from mdt.settings import Settings
        from mdt.terminal import Terminal
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
    print(json.dumps({"bench": "sync", "events": applied, "seconds": round(elapsed, 2),
                      "events_per_s": round(applied / elapsed) if elapsed else None,
                      "gui_longest_stall_ms": round(stall, 1),
                      "idle_longest_stall_ms": round(idle_stall, 1)}))


if __name__ == "__main__":
    main()
