"""How fast the terminal answers an officer, and whether the GUI ever stalls.

Signed in on the real training gateway (its demo latency, 0.8 s, by default), with ``--records``
synthetic returns written into the real cache first (through the real store, off the GUI thread):

1. A plate, from a focused main window: Ctrl+L, the plate, Enter; the clock stops when the return
   is in the detail pane. Also the time from the answer's arrival (the sync engine handing the
   applied answer over, on the network thread) to the return on screen: what the GUI adds.
2. The longest stalls of the GUI thread's event loop (a 5 ms watchdog that also says where each
   stall happened) over a session of ``--queries`` queries; the three longest with their cause:
   the Qt events whose delivery took the GUI thread's work (type, receiver and its nearest named
   parent) and the MDT code running under each (mdt/app/event_trace.py). Baseline in the same
   run: the same watchdog on a bare PySide6 window for the same time.
3. F10, day ↔ night: the time from the key to the restyled window painted, over several switches.

    .venv/bin/python benchmarks/ui.py [--queries 100] [--records 10000] [--latency 0.8]
                                      [--switches 6] [--no-event-trace]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


def run_until(condition: Callable[[], bool], timeout: float) -> float:
    """Run the real event loop (never a sleep beside it, which the watchdog would count as a
    stall) until ``condition`` holds, checked every millisecond; the moment it first held."""
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the client did not get there in time")
        QTimer.singleShot(1, loop.quit)
        loop.exec()
    return time.perf_counter()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--records", "--cached", dest="records", type=int, default=10_000,
                        help="synthetic returns in the cache before the session")
    parser.add_argument("--latency", type=float, default=0.8)
    parser.add_argument("--switches", type=int, default=6, help="F10 day/night switches timed")
    parser.add_argument("--no-event-trace", dest="trace", action="store_false",
                        help="stalls without the Qt events behind them (the trace costs a few "
                             "µs an event)")
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

            def fill(cache: Any) -> None:
                # The inbox's own apply, a thousand events a transaction (one a transaction
                # took 8 minutes for 100 000 on this machine; the rows are the same).
                for first in range(0, args.records, 1000):
                    with cache.connection.transaction():
                        for n in range(first, min(first + 1000, args.records)):
                            cache.repos.inbox.put({
                                "id": f"bench-{n}", "seq": base + n, "type": "response",
                                "mke": "QV", "source": "NCIC", "text": f"QV BENCH{n:05d}",
                                "in_reply_to": None,
                                "records": [{"file": "VEHICLE", "hit": n % 50 == 0,
                                             "fields": {"LIC": f"BEN{n:04d}", "LIS": "MD",
                                                        "NAM": f"BENCHMARK, PERSON {n}"}}]})

            started = time.perf_counter()
            writer.call(fill)
            fill_s = time.perf_counter() - started
            page.reload()
            wait(app, lambda: len(page.model.rows) >= min(200, args.records), 60)

            # When the answer arrives: the engine's callback, on the network thread itself.
            arrived: list[float] = []

            def on_applied(events: list[dict[str, Any]]) -> None:
                if any(e.get("type") == "response" for e in events):
                    arrived.append(time.perf_counter())

            controller.sync.events_applied.connect(on_applied, Qt.ConnectionType.DirectConnection)

            # 1. A plate, from a focused main window to its return on screen.
            window.activateWindow()
            wait(app, lambda: True)
            plate = "CLN1000"
            keys = 0
            arrived.clear()
            started = time.perf_counter()
            QTest.keyClick(window, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
            keys += 1
            if not page.command.hasFocus():
                page.command.setFocus()  # offscreen window activation can lose the shortcut
            QTest.keyClicks(page.command, plate)
            keys += len(plate)
            QTest.keyClick(page.command, Qt.Key.Key_Return)
            keys += 1
            shown = run_until(lambda: any(
                r.ret is not None and (r.ret.query or {}).get("fields", {}).get("LIC") == plate
                for r in page.model.rows) and "No record" in page.detail.hit_banner.text(), 30)
            plate_s = shown - started
            answer_to_screen_ms = (shown - arrived[0]) * 1000 if arrived else None
            controller.sync.events_applied.disconnect(on_applied)

            # 2. The longest stalls over the session's queries with the cache full.
            watchdog = StallWatchdog(trace_events=args.trace)
            watchdog.start()
            started = time.perf_counter()
            for n in range(args.queries):
                page.command.setText(f"QV LIC/QRY{n:04d}.LIS/MD")
                page.run_command()
                run_until(lambda: True, 1)  # one turn of the loop between two queries
            run_until(lambda: sum(1 for r in page.model.rows if r.ret is not None and
                                  str((r.ret.query or {}).get("fields", {}).get("LIC", ""))
                                  .startswith("QRY")) >= args.queries, 120)
            session_s = time.perf_counter() - started
            stall = watchdog.stop()
            top = watchdog.top(3)
            busiest = watchdog.longest_cpu_ms

            # 3. F10: day ↔ night, key to painted window.
            switches = []
            for _ in range(args.switches):
                run_until(lambda: True, 1)
                before = time.perf_counter()
                QTest.keyClick(window, Qt.Key.Key_F10)
                app.processEvents()  # the restyled widgets repaint
                switches.append((time.perf_counter() - before) * 1000)
        finally:
            controller.shutdown()
            window.close()
            gateway.stop()

        bare = QMainWindow()
        bare.resize(1280, 820)
        bare.show()
        watchdog = StallWatchdog(trace_events=args.trace)
        watchdog.start()
        until = time.monotonic() + min(session_s, 10.0)
        run_until(lambda: time.monotonic() >= until, 30)
        bare_stall = watchdog.stop()
    print(f"plate {plate}: {keys} keystrokes, {plate_s:.2f} s to the return on screen "
          f"(gateway latency {args.latency} s); answer arrived → on screen "
          + (f"{answer_to_screen_ms:.1f} ms" if answer_to_screen_ms is not None else "not seen"))
    print(f"{args.queries} queries with {args.records} cached records: longest GUI stall "
          f"{stall:.1f} ms (bare window {bare_stall:.1f} ms); cache filled in {fill_s:.1f} s")
    print(f"  the most GUI-thread work in one go: {busiest:.1f} ms (CPU time)")
    for n, item in enumerate(top, 1):
        print(f"  {n}. {item}")
    print(f"F10 day ↔ night: median {statistics.median(switches):.1f} ms, "
          f"longest {max(switches):.1f} ms over {len(switches)} switches")
    print(json.dumps({"bench": "ui", "plate_keystrokes": keys,
                      "plate_seconds": round(plate_s, 3), "gateway_latency_s": args.latency,
                      "answer_to_screen_ms": round(answer_to_screen_ms, 1)
                      if answer_to_screen_ms is not None else None,
                      "queries": args.queries, "cached_records": args.records,
                      "session_seconds": round(session_s, 1),
                      "longest_gui_stall_ms": round(stall, 1),
                      "top_stalls": [{"ms": round(s.ms, 1), "gui_work_ms": round(s.cpu_ms, 1),
                                      "where": s.where,
                                      "causes": [str(cause) for cause in s.causes]}
                                     for s in top],
                      "most_gui_work_in_one_go_ms": round(busiest, 1),
                      "bare_window_stall_ms": round(bare_stall, 1),
                      "ratio": round(stall / bare_stall, 2) if bare_stall else None,
                      "f10_median_ms": round(statistics.median(switches), 1),
                      "f10_max_ms": round(max(switches), 1)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
