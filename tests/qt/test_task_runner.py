"""mdt.app.tasks.TaskRunner: work runs on a worker; the callbacks of results that arrive together
run one per turn of the event loop, in the order the work finished, so a burst of answers is
several short turns with the timers (a paint, a key, the stall watchdog) between them, not one
long one."""

from __future__ import annotations

import threading
import time

from PySide6.QtCore import QTimer
from pytestqt.qtbot import QtBot

from mdt.app.tasks import TaskRunner


def test_results_that_arrive_together_are_delivered_one_per_turn(qtbot: QtBot) -> None:
    runner = TaskRunner(workers=4)
    gate = threading.Event()
    order: list[object] = []
    turns: list[int] = []
    turn = [0]
    ticker = QTimer()  # counts the turns of the loop on which a timer could run
    ticker.setInterval(0)
    ticker.timeout.connect(lambda: turn.__setitem__(0, turn[0] + 1))
    try:
        def work(n: int) -> int:
            gate.wait(5)
            time.sleep(0.01 * n)  # they finish in this order, all before the loop looks
            return n

        for n in range(4):
            runner.run(lambda n=n: work(n),
                       lambda result, error: (order.append(result if error is None else error),
                                              turns.append(turn[0])))
        assert runner.pending == 4
        time.sleep(0.05)
        gate.set()
        time.sleep(0.2)  # all four results are posted while the GUI thread is busy here
        ticker.start()
        qtbot.waitUntil(lambda: len(order) == 4, timeout=5000)
        assert order == [0, 1, 2, 3]
        assert runner.pending == 0
        assert len(set(turns)) == 4, turns  # one a turn: a timer ran between each two
    finally:
        ticker.stop()
        runner.shutdown()


def test_an_error_reaches_its_callback(qtbot: QtBot) -> None:
    runner = TaskRunner()
    got: list[BaseException | None] = []
    try:
        def fail() -> None:
            raise ValueError("no")

        runner.run(fail, lambda _result, error: got.append(error))
        qtbot.waitUntil(lambda: bool(got), timeout=5000)
        assert isinstance(got[0], ValueError)
    finally:
        runner.shutdown()
