"""How fast the terminal answers an officer, and whether the GUI ever stalls.

1. Keystrokes and seconds from a focused main window to a displayed plate return: signed in on
   the real training gateway (its demo latency, 0.8 s, by default), the officer presses Ctrl+L,
   types the plate and Enter; the clock stops when the return is in the detail pane.
2. The longest stall of the GUI thread's event loop (a 5 ms watchdog) during a session of 100
   queries with 10,000 records already in the cache. Baseline in the same run: the same watchdog
   on a bare PySide6 window for the same time; the ratio is MDT's longest stall over the bare one.

    .venv/bin/python benchmarks/ui.py [--queries 100] [--cached 10000] [--latency 0.8]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--cached", type=int, default=10_000)
    parser.add_argument("--latency", type=float, default=0.8)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        os.environ["MDT_HOME"] = str(Path(folder) / "home")
        from PySide6.QtCore import Qt
        from PySide6.QtTest import QTest
        from PySide6.QtWidgets import QApplication, QMainWindow
        from take_screenshots import sign_in, wait

        from mdt.app.stall_watchdog import StallWatchdog
        from mdt.devrun import allow_file_keystore_if_needed
        from mdt.settings import Settings
        from mdt.ui.application import create_window
        from mdt.ui.theme import apply_theme
        from tests.conftest import start_gateway

        allow_file_keystore_if_needed()
        gateway = start_gateway(Path(folder) / "gateway", "--latency", str(args.latency))
        app = QApplication(sys.argv[:1])
        apply_theme(app, "night")
        settings = Settings()
        settings.set("gateway_url", gateway.url)
        controller, window = create_window(settings)
        window.resize(1280, 820)
        window.show()
        try:
            sign_in(app, window, "officer1")
            page = window.terminal
            wait(app, lambda: "QV" in page.views and window.connection.text() == "Online", 30)

            # Fill the cache with synthetic returns through the real store, off the GUI thread.
            writer = controller.terminal.writer
            assert writer is not None
            base = writer.call(lambda c: c.inbox_cursor()) + 1_000_000

            def fill(cache: object) -> None:
                for n in range(args.cached):
                    cache.apply_event({  # type: ignore[attr-defined]
                        "id": f"bench-{n}", "seq": base + n, "type": "response", "mke": "QV",
                        "source": "NCIC", "text": f"QV BENCH{n:05d}", "in_reply_to": None,
                        "records": [{"file": "VEHICLE", "hit": n % 50 == 0,
                                     "fields": {"LIC": f"BEN{n:04d}", "LIS": "MD",
                                                "NAM": f"BENCHMARK, PERSON {n}"}}]})

            started = time.perf_counter()
            writer.call(fill)
            fill_s = time.perf_counter() - started

            # 1. A plate, from a focused main window to its return on screen.
            window.activateWindow()
            wait(app, lambda: True)
            plate = "CLN1000"
            keys = 0
            started = time.perf_counter()
            QTest.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
            keys += 1
            if not page.command.hasFocus():
                page.command.setFocus()  # offscreen window activation can lose the shortcut
            QTest.keyClicks(page.command, plate)
            keys += len(plate)
            QTest.keyClick(page.command, Qt.Key.Key_Return)
            keys += 1
            wait(app, lambda: any(r.ret is not None and (r.ret.query or {}).get(
                "fields", {}).get("LIC") == plate for r in page.model.rows) and
                 "No record" in page.detail.hit_banner.text(), 30)
            plate_s = time.perf_counter() - started

            # 2. The longest stall over 100 queries with the cache full.
            watchdog = StallWatchdog()
            watchdog.start()
            started = time.perf_counter()
            for n in range(args.queries):
                page.command.setText(f"QV LIC/QRY{n:04d}.LIS/MD")
                page.run_command()
                app.processEvents()
            wait(app, lambda: sum(1 for r in page.model.rows if r.ret is not None and
                                  str((r.ret.query or {}).get("fields", {}).get("LIC", ""))
                                  .startswith("QRY")) >= args.queries, 120)
            session_s = time.perf_counter() - started
            stall = watchdog.stop()
        finally:
            controller.shutdown()
            window.close()
            gateway.stop()

        bare = QMainWindow()
        bare.resize(1280, 820)
        bare.show()
        watchdog = StallWatchdog()
        watchdog.start()
        until = time.monotonic() + min(session_s, 10.0)
        while time.monotonic() < until:
            app.processEvents()
            time.sleep(0.001)
        bare_stall = watchdog.stop()
    print(f"plate {plate}: {keys} keystrokes, {plate_s:.2f} s to the return on screen "
          f"(gateway latency {args.latency} s)")
    print(f"{args.queries} queries with {args.cached} cached records: longest GUI stall "
          f"{stall:.1f} ms (bare window {bare_stall:.1f} ms); cache filled in {fill_s:.1f} s")
    print(json.dumps({"bench": "ui", "plate_keystrokes": keys,
                      "plate_seconds": round(plate_s, 2), "gateway_latency_s": args.latency,
                      "queries": args.queries, "cached_records": args.cached,
                      "session_seconds": round(session_s, 1),
                      "longest_gui_stall_ms": round(stall, 1),
                      "bare_window_stall_ms": round(bare_stall, 1),
                      "ratio": round(stall / bare_stall, 2) if bare_stall else None}))


if __name__ == "__main__":
    main()
