"""Issue 16 at the dispatcher's desk: dispatch1's real window (offscreen, 1200 × 800) against
the real training gateway, keyboard only, one sign-in for the module. Another agency asks ours to
confirm a record (a trainer injects the request): the queue, the alert bar and the status bar
show it with its clock; answered Y by keyboard it is answered everywhere; left unanswered it is
overdue everywhere (the gateway's clock run on, not waited for)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.acceptance.roles import Trainer
from tests.acceptance.screen import CTRL, SHIFT, Key, QueueItem, Screen

pytestmark = pytest.mark.e2e


@pytest.fixture
def screen(dispatcher: Screen, trainer: Trainer, gui_thread_guard: list[str]) -> Iterator[Screen]:
    yield dispatcher
    trainer.calm()
    dispatcher.acknowledge_all()


def item(screen: Screen, nic: str) -> QueueItem | None:
    return next((i for i in screen.queue() if i.nic == nic), None)


def test_an_incoming_yq_answered_y_by_keyboard_is_answered_everywhere(
        screen: Screen, trainer: Trainer) -> None:
    assert screen.page.layout_kind == "dispatcher"
    trainer.inject("incoming_yq", ori="MD1012600")  # VA0290000 asks about TRN5007 (V260000002)
    screen.wait(lambda: item(screen, "V260000002"), what="the request in the queue")
    request = item(screen, "V260000002")
    assert request is not None
    assert (request.request, request.subject, request.state) == ("1st", "TRN5007",
                                                                 "waiting for you")
    assert request.time_left.endswith(" left")
    assert "1 waiting" in screen.queue_heading()
    screen.wait(lambda: screen.alert_bar().kinds[:1] == ("incoming_yq",), what="the alert")
    bar = screen.alert_bar()
    assert bar.severity == "CRITICAL" and bar.title.startswith("Confirm for VA0290000: ")
    assert "NIC V260000002 (URGENT) — " in bar.title
    assert "DEPUTY PAT PRACTICE (VA0290000)" in bar.detail
    assert bar.countdown.endswith(" left") and bar.action == "Answer (YR)…"
    assert screen.status_bar().deadline.startswith("Next deadline: ")
    assert screen.status_bar().deadline.endswith(" left")
    screen.shot("incoming-yq")

    # The alert bar's action (Shift+Tab back from the command line, Space) opens the queue;
    # the answer goes by the command line (the queue's buttons are out of the keyboard's
    # reach: see the known-wrong test below); the YR form asks for the requester's ORI.
    screen.press_button("Answer (YR)")
    screen.wait(lambda: screen.focused() is screen.page.queue.table, what="the queue focused")
    screen.command("YR RTY/SV.RNO/1.OCA/26-004513.NIC/V260000002.CST/Y.LIC/TRN5007.LIS/MD"
                   ".REM/STILL STOLEN. HOLD")
    screen.wait(lambda: screen.feedback().startswith("Not sent: Enter the destination"),
                what="the destination asked for")
    screen.tab_to("field_DEST")
    screen.type("VA0290000")
    screen.key(Key.Key_Return)
    screen.wait(lambda: (i := item(screen, "V260000002")) is not None and
                i.state == "answered: confirmed", what="answered in the queue")
    request = item(screen, "V260000002")
    assert request is not None and request.time_left == "answered"
    assert "none waiting" in screen.queue_heading()
    screen.wait(lambda: "incoming_yq" not in screen.alert_bar().kinds, what="the alert answered")
    assert "V260000002" not in screen.status_bar().deadline
    screen.shot("incoming-yq-answered")


def test_an_unanswered_request_goes_overdue_everywhere(screen: Screen,
                                                       trainer: Trainer) -> None:
    trainer.request_confirmation("MD1012600", nic="W260000011", rty="WP",
                                 data_set={"NAM": "KOLVEX, DRAYTON Q", "DOB": "19840312"})
    screen.wait(lambda: item(screen, "W260000011"), what="the request in the queue")
    with screen.gateway_clock_ahead(11):  # past its 10 minutes, on the gateway's clock
        screen.wait(lambda: (i := item(screen, "W260000011")) is not None and
                    i.state == "OVERDUE — answer now", what="overdue in the queue")
        request = item(screen, "W260000011")
        assert request is not None and request.time_left.startswith("OVERDUE ")
        screen.wait(lambda: screen.alert_bar().countdown.startswith("OVERDUE "),
                    what="overdue on the alert bar")
        assert screen.alert_bar().kinds[0] == "incoming_yq"
        assert "W260000011" in screen.alert_bar().title
        screen.wait(lambda: "OVERDUE" in screen.status_bar().deadline,
                    what="overdue in the status bar")


def test_the_queue_answers_are_reached_by_tab(screen: Screen, trainer: Trainer) -> None:
    trainer.request_confirmation("MD1012600", nic="V260000077", rty="SV",
                                 data_set={"LIC": "TRN4821", "LIS": "VA"})
    screen.wait(lambda: item(screen, "V260000077"), what="the request in the queue")
    screen.key(Key.Key_Q, CTRL | SHIFT)  # the queue
    screen.wait(lambda: screen.focused() is screen.page.queue.table, what="the queue focused")
    reached = set()
    for _ in range(30):
        screen.key(Key.Key_Tab)
        focus = screen.focused()
        reached.add(focus.objectName() if focus is not None else "")
        if focus is screen.page.queue.confirm:
            break
    assert screen.focused() is screen.page.queue.confirm, \
          f"30 Tabs from the queue reached only {sorted(reached)}"
