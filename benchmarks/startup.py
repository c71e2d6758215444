"""Start-up time: from launching ``mdt`` to its first shown window, against a bare PySide6 window
started the same way (a fresh Python process, offscreen), runs interleaved, medians; the built app
(``make package``, in packaging/dist) the same way when it exists; and which heavy modules the
start path imported before the first window. Also from launching to the sign-in page's having
its controller (the settings and agency file validated, the services built, after the first
window: ``sign_in_ready_ms``). Prints one JSON object on its last line.

Both sides start with their modules' bytecode cached, as an installed app does (pip compiles it
at install, a build carries it): with ``PYTHONDONTWRITEBYTECODE`` set and no ``__pycache__`` in
the checkout, every module of ``mdt`` would be compiled from source at each launch, while the
bare window's (PySide6, the standard library) have theirs. The runs keep it in a folder of
their own (``PYTHONPYCACHEPREFIX``, filled by the warm-up run); ``--as-the-environment-says``
leaves the environment as it is. ``pair_ratio`` is the median of each mdt run against the bare
run right after it: steadier than the ratio of the medians on a machine others share.

    .venv/bin/python benchmarks/startup.py [--runs N] [--as-the-environment-says]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

BARE = """
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication(sys.argv[:1])
w = QMainWindow(); w.resize(1200, 800); w.show()
def shown():
    print("first-window-shown", flush=True); app.quit()
QTimer.singleShot(0, shown)
app.exec()
"""


BUILD = Path(__file__).resolve().parent.parent / "packaging" / "dist" / f"mdt-{version('mdt')}"


START_PATH: dict[str, str] = {}  # the probe's report of what the start path imported
READY: dict[str, list[float]] = {}  # launch to "sign-in-ready", per command (probes that say)


def time_to_window(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env=env)
    assert proc.stdout is not None
    shown = None
    for line in proc.stdout:
        if line.startswith("start-path-modules:"):
            START_PATH[cmd[0]] = line.split(":", 1)[1].strip()
        if "first-window-shown" in line:
            shown = time.perf_counter() - start
        if "sign-in-ready" in line:
            READY.setdefault(cmd[0], []).append(time.perf_counter() - start)
    proc.wait(timeout=30)
    if shown is None:
        raise RuntimeError(f"{cmd} never showed a window (exit {proc.returncode})")
    return shown


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--as-the-environment-says", action="store_true",
                        help="no bytecode cache of the runs' own (PYTHONDONTWRITEBYTECODE kept)")
    args = parser.parse_args()
    cached = not args.as_the_environment_says
    with tempfile.TemporaryDirectory() as home:
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "MDT_HOME": home}
        if cached:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = str(Path(home) / "pycache")
        # A gateway nobody listens on: start-up must not wait for the network.
        mdt = [sys.executable, "-m", "mdt", "--gateway", "http://127.0.0.1:9",
               "--startup-probe"]
        bare = [sys.executable, "-c", BARE]
        time_to_window(mdt, env)  # warm the file cache once for both
        time_to_window(bare, env)
        # The built app (make package), when there is one: the same probe, from the build.
        built = BUILD / ("mdt.exe" if sys.platform == "win32" else "mdt")
        frozen = [str(built), "--gateway", "http://127.0.0.1:9", "--startup-probe"]
        if built.exists():
            time_to_window(frozen, env)
        mdt_times, bare_times, built_times = [], [], []
        for _ in range(args.runs):
            mdt_times.append(time_to_window(mdt, env))
            bare_times.append(time_to_window(bare, env))
            if built.exists():
                built_times.append(time_to_window(frozen, env))
    pair_ratio = statistics.median(m / b for m, b in zip(mdt_times, bare_times, strict=True))
    mdt_ms = statistics.median(mdt_times) * 1000
    bare_ms = statistics.median(bare_times) * 1000
    built_ms = statistics.median(built_times) * 1000 if built_times else None

    def ready_ms(command: str) -> float | None:  # the runs after the warm-up one
        times = READY.get(command, [])[1:]
        return round(statistics.median(times) * 1000, 1) if times else None
    for name, value in (("mdt", mdt_ms), ("bare PySide6", bare_ms), ("built app", built_ms)):
        if value is not None:
            print(f"{name}: median {value:.0f} ms to the first window")
    print(f"ratio mdt / bare PySide6 (same run): {mdt_ms / bare_ms:.2f}")
    reported = START_PATH.get(sys.executable)  # None: a probe that does not say
    loaded = reported or ""
    print("imported before the first window: " + (
        "not reported by this build" if reported is None else
        loaded or "none of the network stack or the cache"))
    size_mb = None
    if built.exists():
        size_mb = round(sum(p.stat().st_size for p in BUILD.rglob("*")
                            if p.is_file() and not p.is_symlink()) / 2**20, 1)
    print(json.dumps({"bench": "startup", "runs": args.runs, "mdt_ms": round(mdt_ms, 1),
                      "bare_pyside6_ms": round(bare_ms, 1),
                      "ratio": round(mdt_ms / bare_ms, 2), "pair_ratio": round(pair_ratio, 2),
                      "bytecode_cached": cached,
                      "sign_in_ready_ms": ready_ms(sys.executable),
                      "start_path_imports": None if reported is None else
                      [m for m in loaded.split(",") if m],
                      "built_app_ms": round(built_ms, 1) if built_ms else None,
                      "built_vs_source_ratio": round(built_ms / mdt_ms, 2) if built_ms else None,
                      "built_sign_in_ready_ms": ready_ms(str(built)),
                      "built_size_mb": size_mb,
                      "built_app": str(built) if built.exists() else "not built (make package)"}))


if __name__ == "__main__":
    main()
