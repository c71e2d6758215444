"""The GUI thread is never blocked by I/O, over a whole session against the real gateway: sign
in, queries from the command line, their answers and alerts, a search, a lock and an unlock. The
guard fails on any SQL, keystore, KDF or HTTP call on the GUI thread; the watchdog measures the
event loop's longest stall (a blocked GUI thread shows as a long one)."""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from mdt.app.stall_watchdog import StallWatchdog
from tests.conftest import Gateway
from tests.qt.test_alerts_gui import signed_in

pytestmark = pytest.mark.e2e


def test_a_whole_session_never_blocks_the_gui_thread(qtbot: QtBot, gateway: Gateway,
                                                      gui_thread_guard: list[str]) -> None:
    watchdog = StallWatchdog()
    watchdog.start()
    controller, window = signed_in(qtbot, gateway, "officer1")
    page = window.terminal
    try:
        for plate in ("TRN4821.LIS/VA", "CLN1000.LIS/MD", "TRN5007.LIS/MD", "ABC1234.LIS/MD",
                      "NLS2024.LIS/NC"):
            page.command.setText(f"QV LIC/{plate}")
            page.run_command()
        qtbot.waitUntil(lambda: sum(r.ret is not None for r in page.model.rows) >= 5,
                        timeout=20000)
        qtbot.waitUntil(window.alert_bar.isVisible, timeout=10000)
        page.focus_search()
        page.search.box.setText("TRN5007")
        qtbot.waitUntil(lambda: page.search.model.rowCount() >= 1, timeout=5000)
        window.lock("locked by the operator")
        window.lock_screen.password.setText("training")
        window.lock_screen.unlock.click()
        qtbot.waitUntil(lambda: window.pages.currentWidget() is page, timeout=15000)
        longest = watchdog.stop()
        assert gui_thread_guard == []  # no I/O on the GUI thread, ever
        assert watchdog.ticks > 100
        # The guard above catches every I/O call, however short (a KDF is ~60 ms). The
        # watchdog catches gross blocking of any kind (a gateway call that waits for its
        # 5-15 s timeout); its bound leaves room for painting on a loaded 2-core CI machine
        # (typically 30-70 ms here, 290 ms seen with another test suite on the same cores).
        # The figure itself is measured by benchmarks/ui.py.
        assert longest < 1000, f"the GUI thread stalled {longest:.0f} ms"
    finally:
        controller.shutdown()
        window.close()
