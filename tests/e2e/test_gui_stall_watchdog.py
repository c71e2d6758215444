"""The GUI thread is never blocked by I/O, over a whole session against the real gateway: sign
in, queries from the command line, their answers and alerts, a search, a lock and an unlock. The
guard fails on any SQL, keystore, KDF or HTTP call on the GUI thread; the watchdog measures the
event loop's stalls against a budget of one frame (16 ms, or MDT_STALL_BUDGET_MS) on a quiet
machine, both the GUI thread's own work in one go (its CPU time) and the wall clock (plus the
machine's own stall: the longest of a bare event loop measured first in this process and of a
bare PySide6 window's loop running in its own process beside the session; on a loaded machine
the budget grows with that stall). A failure names the three longest stalls and what each went
to: the Qt events and their receivers (``Polish on QLabel in FormView 'Form_YQ'``), and the MDT
code running under them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from mdt.app.stall_watchdog import StallWatchdog
from tests.conftest import Gateway
from tests.qt.test_alerts_gui import alert_up, signed_in

pytestmark = [pytest.mark.e2e, pytest.mark.serial]

# The budget: one frame at 60 Hz, unless MDT_STALL_BUDGET_MS says otherwise (a slower CI box).
FRAME_MS = float(os.environ.get("MDT_STALL_BUDGET_MS") or 16.0)
QUIET_MS = 5.0  # a bare event loop that never stalls longer runs on a quiet machine

# A bare PySide6 event loop with the same watchdog, in its own process, for as long as the
# session runs: how long the machine itself keeps a GUI process from running at the same time.
BARE_LOOP = """
import sys
from pathlib import Path
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
from mdt.app.stall_watchdog import StallWatchdog
app = QApplication(sys.argv[:1])
window = QMainWindow(); window.resize(1200, 800); window.show()
watchdog = StallWatchdog(); watchdog.start()
stop = Path(sys.argv[1])
def check():
    if stop.exists():
        print(f"{watchdog.stop():.3f}", flush=True); app.quit()
timer = QTimer(); timer.timeout.connect(check); timer.start(50)
app.exec()
"""


class BareLoop:
    """The baseline beside the session (a quiet machine gives 1-3 ms)."""

    def __init__(self, folder: Path) -> None:
        self.stop_file = folder / "stop-bare-loop"
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        self.process = subprocess.Popen([sys.executable, "-c", BARE_LOOP, str(self.stop_file)],
                                        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                        text=True, env=env)

    def longest_ms(self) -> float:
        self.stop_file.touch()
        out, _ = self.process.communicate(timeout=30)
        return float(out.strip().splitlines()[-1])

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def bare_loop_stall(qtbot: QtBot, seconds: float = 1.0) -> float:
    """The longest stall of this event loop doing nothing: what the machine itself adds."""
    watchdog = StallWatchdog()
    watchdog.start()
    qtbot.wait(int(seconds * 1000))
    return watchdog.stop()


def test_a_whole_session_never_blocks_the_gui_thread(qtbot: QtBot, gateway: Gateway,
                                                      gui_thread_guard: list[str],
                                                      tmp_path: Path) -> None:
    idle = bare_loop_stall(qtbot)
    bare = BareLoop(tmp_path)
    controller = window = None
    try:
        watchdog = StallWatchdog()
        watchdog.start()
        controller, window = signed_in(qtbot, gateway, "officer1")
        page = window.terminal
        for plate in ("TRN4821.LIS/VA", "CLN1000.LIS/MD", "TRN5007.LIS/MD", "ABC1234.LIS/MD",
                      "NLS2024.LIS/NC"):
            page.command.setText(f"QV LIC/{plate}")
            page.run_command()
        qtbot.waitUntil(lambda: sum(r.ret is not None for r in page.model.rows) >= 5,
                        timeout=20000)
        qtbot.waitUntil(lambda: alert_up(window), timeout=10000)
        page.focus_search()
        page.search.box.setText("TRN5007")
        qtbot.waitUntil(lambda: page.search.model.rowCount() >= 1, timeout=5000)
        window.lock("locked by the operator")
        window.lock_screen.password.setText("training")
        window.lock_screen.unlock.click()
        qtbot.waitUntil(lambda: window.pages.currentWidget() is page, timeout=15000)
        longest = watchdog.stop()
        machine = max(idle, bare.longest_ms())  # what the machine itself adds right now
        assert gui_thread_guard == []  # no I/O on the GUI thread, ever
        assert watchdog.ticks > 100
        # The guard above catches every I/O call, however short. The watchdog holds the rest
        # to one frame on a quiet machine (a bare event loop, here and in a process beside,
        # stalls under 5 ms): the GUI thread's own work in one go (its CPU time) and the wait
        # on the wall clock. On a loaded machine (two cores shared with the gateway, the bare
        # window and this session's workers: a KDF, the cache's SQL; a virtual machine whose
        # bare loop stalls 8-12 ms) the GUI thread also waits for a core, and one paint of the
        # whole 1200x800 page with its style sheet is 30-50 ms of work there: the work in one
        # go fails at six frames (a full collection of every object, 40-180 ms, or a page made
        # at once did that before mdt.app.collector and the staged build), the wall clock at
        # fifteen frames plus twice the bare window's longest stall (a hang a person notices).
        # The figures against one frame are benchmarks/ui.py's (issue 19).
        quiet = machine < QUIET_MS
        work_budget = FRAME_MS if quiet else 6 * FRAME_MS
        wall_budget = FRAME_MS + machine if quiet else 15 * FRAME_MS + 2 * machine
        state = (f"{'quiet' if quiet else 'loaded'} machine: a bare loop stalls "
                 f"{machine:.0f} ms")
        print(f"longest stall {longest:.1f} ms, most GUI-thread work in one go "
              f"{watchdog.longest_cpu_ms:.1f} ms ({state})\n{watchdog.report(3)}")
        assert watchdog.longest_cpu_ms < work_budget, (
            f"the GUI thread worked {watchdog.longest_cpu_ms:.0f} ms in one go (budget "
            f"{work_budget:.0f} ms, {state}):\n{watchdog.report(3, by_work=True)}")
        assert longest < wall_budget, (f"the GUI thread stalled {longest:.0f} ms (budget "
                                       f"{wall_budget:.0f} ms, {state}):\n"
                                       f"{watchdog.report(3)}")
    finally:
        bare.close()
        if controller is not None and window is not None:
            controller.shutdown()
            window.close()
