"""The memory (RSS) of the signed-in GUI with a full cache, against a bare PySide6 window in the
same run (issue #19: at most 250 MB with 100,000 cached records).

The real GUI (``MainWindow``, offscreen) signs in on the real training gateway with a demo
account, each time in a fresh Python process whose RSS is read from ``/proc/self/status``:

1. **catch-up**: signed in, ``--records`` synthetic returns (one record each) are written into the
   real cache through the session's cache writer (off the GUI thread, ``--batch`` a
   transaction), as a sync that catches up writes them; the returns list shown; ``--searches``
   searches (names, plates, VINs, words) on the session's reader thread; then signed out.
2. **signed in**: a new process signs in on that cache (holding the records) and shows the returns
   list, as an officer starting the next shift would; the list is scrolled through
   ``--pages`` pages of older returns (keyset paging) and back to the top; the same searches.
3. **bare**: a ``QMainWindow`` of the same size, shown, nothing else.

Each reading is taken once the window has settled (its event loop turning, idle for a second,
after ``gc.collect()``): RSS now, and ``peak_mb`` (VmHWM, the most it held: the sign-in's
Argon2id key derivation alone takes 128 MiB for a moment). ``signed_in_rss_mb`` is the most of a
phase's readings; the goal is on it and on the catch-up's. ``MEMDEBUG=1`` also prints what SQLite
holds, the largest mappings and any statement the session ran that read a whole table.

    .venv/bin/python benchmarks/memory.py [--records 100000] [--pages 5] [--batch 500]
        [--searches 400]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import re
import subprocess
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

GOAL_MB = 250.0


def memory_mb() -> tuple[float, float]:
    """This process's resident set now and at its highest (VmRSS, VmHWM), in MB (2**20)."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, rest = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            values[key] = int(rest.split()[0]) / 1024  # kB
    return round(values["VmRSS"], 1), round(values["VmHWM"], 1)


def sqlite_mb() -> float:
    """What SQLite (SQLCipher) itself holds now: its page caches, statements, schema."""
    import ctypes

    import sqlcipher3._sqlite3 as module

    used = ctypes.CDLL(module.__file__).sqlite3_memory_used
    used.restype = ctypes.c_int64
    return round(float(used()) / 2**20, 1)


def settle(app: Any, seconds: float = 1.0) -> tuple[float, float]:
    """Let the event loop turn (timers, paints, tasks' results) for ``seconds``, then read."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(int(seconds * 1000), loop.quit)
    loop.exec()
    gc.collect()
    app.processEvents()
    return memory_mb()


def wait(app: Any, condition: Callable[[], bool], timeout: float) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    deadline = time.monotonic() + timeout
    loop = QEventLoop()
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the client did not get there in time")
        QTimer.singleShot(5, loop.quit)
        loop.exec()


def diagnose(writer: Any, traced: dict[str, str]) -> None:
    """With ``MEMDEBUG=1`` (to stderr, shown by the parent): what SQLite holds, the largest
    mappings, and every statement the session ran whose plan reads a whole table."""
    import ctypes

    print("DEBUG rss, peak, sqlite MB:", *memory_mb(), sqlite_mb(), file=sys.stderr)
    maps: list[tuple[int, str]] = []
    mapping = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        first = line.split(" ")[0]
        if "-" in first and not first.endswith(":"):
            mapping = line
        elif line.startswith("Rss:"):
            maps.append((int(line.split()[1]), mapping))
    for kb, mapping in sorted(maps, reverse=True)[:12]:
        print(f"DEBUG map {kb / 1024:.1f} MB {mapping}", file=sys.stderr)

    def scans(cache: Any) -> None:
        for sql in traced.values():
            plan = [r[3] for r in cache.connection.conn.execute("EXPLAIN QUERY PLAN " + sql)]
            if any(step.startswith("SCAN") and "CONSTANT" not in step for step in plan):
                print("DEBUG SCAN", " ".join(sql.split())[:300], plan, file=sys.stderr)

    writer.call(scans)
    ctypes.CDLL("libc.so.6").malloc_trim(0)
    print("DEBUG after malloc_trim:", *memory_mb(), file=sys.stderr)


def bare() -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication, QMainWindow

    app = QApplication(sys.argv[:1])
    window = QMainWindow()
    window.resize(1280, 820)
    window.show()
    rss, peak = settle(app)
    window.close()
    return {"rss_mb": rss, "peak_mb": peak}


def gui(phase: str, url: str, records: int, pages: int, batch: int,
        searches: int) -> dict[str, Any]:
    from PySide6.QtWidgets import QApplication
    from take_screenshots import sign_in

    from mdt.devrun import allow_file_keystore_if_needed
    from mdt.settings import Settings
    from mdt.ui.application import create_window
    from mdt.ui.theme import apply_theme

    allow_file_keystore_if_needed()
    traced: dict[str, str] = {}  # a statement's shape (no literals): its first text
    if os.environ.get("MEMDEBUG"):
        import mdt.store.connection as connection_module
        real_connect = connection_module.connect

        def trace(sql: str) -> None:  # reads only, one of each shape: bounded (not each INSERT)
            if sql.lstrip().upper().startswith(("SELECT", "WITH", "DELETE", "UPDATE")) \
                    and not re.search(r"LIMIT 1\s*$", sql):  # (one row: what retention reads
                # of each table and index, and the audit chain's head)
                traced.setdefault(re.sub(r"'[^']*'|\b\d+\b", "?", sql), sql)

        def tracing(*a: Any, **k: Any) -> Any:
            conn = real_connect(*a, **k)
            conn.set_trace_callback(trace)
            return conn
        connection_module.connect = tracing
    app = QApplication(sys.argv[:1])
    apply_theme(app, "night")
    settings = Settings()
    settings.set("gateway_url", url)
    controller, window = create_window(settings)
    window.resize(1280, 820)
    window.show()
    result: dict[str, Any] = {}
    try:
        sign_in(app, window, "officer1")
        try:
            wait(app, lambda: "QV" in window.terminal.views
                 and window.connection.text() == "Online", 60)
        except TimeoutError:
            raise TimeoutError(f"not signed in: {window.connection.text()!r}, "
                               f"{window.login.error.text()!r}") from None
        page = window.terminal
        writer = controller.terminal.writer
        assert writer is not None
        if phase == "fill":
            # The gateway's own sequence is left as it is (a cursor past it would be acked
            # back and refused): the synthetic returns come with the cursor's number.
            cursor = writer.call(lambda c: c.inbox_cursor())

            def fill(cache: Any) -> None:
                for start in range(0, records, batch):
                    with cache.connection.transaction():
                        for n in range(start, min(start + batch, records)):
                            cache.repos.inbox.put({
                                "id": f"bench-{n}", "seq": cursor, "type": "response",
                                "mke": "QV", "source": "NCIC", "text": f"QV BENCH{n:06d}",
                                "in_reply_to": None,
                                "records": [{"file": "VEHICLE", "hit": n % 50 == 0,
                                             "fields": {"LIC": f"BEN{n:06d}", "LIS": "MD",
                                                        "NAM": f"BENCHMARK, PERSON {n}",
                                                        "VIN": f"1BENCH{n:011d}"}}]})

            started = time.perf_counter()
            writer.call(fill)
            result["fill_s"] = round(time.perf_counter() - started, 1)
            page.reload()
        wait(app, lambda: len(page.model.rows) >= min(200, records), 60)
        result["rss_mb"], result["peak_mb"] = settle(app)
        result["sqlite_mb"] = sqlite_mb()
        if os.environ.get("MEMDEBUG"):
            diagnose(writer, traced)
        if phase == "signed-in" and pages:
            for _ in range(pages):  # scroll to the end: older returns, a page at a time
                shown = len(page.model.rows)
                page.table.scrollToBottom()
                if page.model.canFetchMore():
                    page.model.fetchMore()
                wait(app, lambda: len(page.model.rows) > shown, 30)  # noqa: B023 (called at once)
            page.table.scrollToTop()
            result["rows_listed"] = len(page.model.rows)
            result["after_paging_rss_mb"], result["peak_mb"] = settle(app)
        if searches:  # searches by name, plate, VIN and words, as a shift makes them
            texts = [text for n in random.Random(5).sample(range(records), min(searches, records))
                     for text in (f"BENCHMARK, PERSON {n}", f"BEN{n:06d}", f"1BENCH{n:011d}",
                                  f"PERSON {n}")][:searches]
            session = controller.terminal.session
            session.read().call(lambda c: [c.search(text) for text in texts])
            result["after_search_rss_mb"], result["peak_mb"] = settle(app)
        result["sqlite_end_mb"] = sqlite_mb()
        # (counted after the readings: the count reads a whole index)
        result["cached_records"] = int(writer.call(
            lambda c: c.connection.one("SELECT count(*) FROM record_index")))
    finally:
        controller.shutdown()
        window.close()
    return result


def child(args: argparse.Namespace) -> None:
    if args.child == "bare":
        result = bare()
    else:
        result = gui(args.child, args.url, args.records, args.pages, args.batch, args.searches)
    print("RESULT " + json.dumps(result), flush=True)


def run_child(phase: str, args: argparse.Namespace, env: dict[str, str],
              url: str = "") -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", phase, "--url", url, "--records",
           str(args.records), "--pages", str(args.pages), "--batch", str(args.batch),
           "--searches", str(args.searches)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=3600)
    for line in done.stderr.splitlines():
        if line.startswith("DEBUG"):
            print(phase, line)
    for line in done.stdout.splitlines():
        if line.startswith("RESULT "):
            return dict(json.loads(line[len("RESULT "):]))
    raise RuntimeError(f"{phase} failed (exit {done.returncode}):\n{done.stderr[-3000:]}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--pages", type=int, default=5, help="older pages scrolled through")
    parser.add_argument("--batch", type=int, default=500, help="returns a transaction")
    parser.add_argument("--searches", type=int, default=400, help="searches after the list")
    parser.add_argument("--child", choices=("fill", "signed-in", "bare"), help=argparse.SUPPRESS)
    parser.add_argument("--url", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    from tests.conftest import start_gateway

    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "MDT_HOME": str(Path(folder) / "home"),
               "QT_QPA_PLATFORM": "offscreen"}
        gateway = start_gateway(Path(folder) / "gateway")
        try:
            fill = run_child("fill", args, env, gateway.url)
            signed_in = run_child("signed-in", args, env, gateway.url)
        finally:
            gateway.stop()
        bare_window = run_child("bare", args, env)
    readings = ("rss_mb", "after_paging_rss_mb", "after_search_rss_mb")
    rss = max(signed_in.get(k) or 0.0 for k in readings)  # the most the signed-in GUI held
    catch_up = max(fill.get(k) or 0.0 for k in readings)
    bare_mb = bare_window["rss_mb"]
    print(f"catch-up: {args.records} returns written in {fill['fill_s']} s; list shown: RSS "
          f"{fill['rss_mb']} MB; after {args.searches} searches: "
          f"{fill.get('after_search_rss_mb')} MB (SQLite {fill['sqlite_end_mb']} MB; peak "
          f"{fill['peak_mb']} MB)")
    print(f"signed in on a cache of {signed_in['cached_records']} records, list shown: RSS "
          f"{signed_in['rss_mb']} MB; after {args.pages} older pages "
          f"({signed_in.get('rows_listed')} rows): {signed_in.get('after_paging_rss_mb')} MB; "
          f"after {args.searches} searches: {signed_in.get('after_search_rss_mb')} MB (SQLite "
          f"{signed_in['sqlite_end_mb']} MB; peak {signed_in['peak_mb']} MB)")
    print(f"bare PySide6 window: RSS {bare_mb} MB; ratio {rss / bare_mb:.2f}")
    print(json.dumps({
        "bench": "memory", "records": args.records, "searches": args.searches,
        "signed_in_rss_mb": rss, "signed_in_peak_mb": signed_in["peak_mb"],
        "signed_in_list_rss_mb": signed_in["rss_mb"],
        "after_paging_rss_mb": signed_in.get("after_paging_rss_mb"),
        "after_search_rss_mb": signed_in.get("after_search_rss_mb"),
        "signed_in_sqlite_mb": signed_in["sqlite_end_mb"],
        "rows_listed": signed_in.get("rows_listed"),
        "cached_records": signed_in["cached_records"],
        "catch_up_rss_mb": catch_up, "catch_up_list_rss_mb": fill["rss_mb"],
        "catch_up_peak_mb": fill["peak_mb"], "catch_up_sqlite_mb": fill["sqlite_end_mb"],
        "catch_up_fill_s": fill["fill_s"],
        "bare_window_rss_mb": bare_mb,
        "ratio": round(rss / bare_mb, 2), "catch_up_ratio": round(catch_up / bare_mb, 2),
        "goal_mb": GOAL_MB, "goal_met": rss <= GOAL_MB and catch_up <= GOAL_MB}))

if __name__ == "__main__":
    main()
