"""Issue 16, "Must show", as officer1 reads it at a traffic stop: the real window (offscreen,
1200 × 800) against the real training gateway, driven by keyboard only, one sign-in for the
module. Each test reads what the screen says (tests/acceptance/screen.py): the headline atop the
return and its colour role, the list's rows, the hit banner's confirmation state and clock, the
alert bar and the status bar."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from mdt.services.terminal import Terminal
from tests.acceptance.roles import Trainer, sign_in_headless
from tests.acceptance.screen import CTRL, SHIFT, Key, Screen
from tests.conftest import Gateway, sync_until

pytestmark = pytest.mark.e2e



@pytest.fixture
def screen(officer: Screen, trainer: Trainer, gui_thread_guard: list[str]) -> Iterator[Screen]:
    """officer1's window; after the test the trainer calms the link and the officer clears
    the alert bar (Ctrl+K), so the next test starts from a quiet screen."""
    yield officer
    trainer.calm()
    officer.acknowledge_all()


@pytest.fixture(scope="module")
def dispatch1(gateway: Gateway) -> Iterator[Terminal]:
    """MD1012600's dispatcher at the desk (headless, as ``mdt answer`` works): answers YQs
    about the records our agency entered (TRN5007)."""
    terminal = sign_in_headless(gateway, "dispatch1")
    yield terminal
    terminal.close()


def send_with_destination(screen: Screen, command: str, dest: str) -> None:
    """A DQ / RQ typed on the command line; when the form asks for the state (it keeps the last
    one), Tab to it, type it, Enter."""
    before = len(screen.rows())
    screen.command(command)
    screen.wait(lambda: screen.feedback().startswith("Not sent: Enter the destination") or
                len(screen.rows()) > before, what="sent (a new row) or the state asked for")
    if screen.feedback().startswith("Not sent"):
        screen.tab_to("field_DEST")
        screen.type(dest)
        screen.key(Key.Key_Return)


def send_urgent_yq(screen: Screen, plate: str, nic: str) -> None:
    """Run the plate; on its hit, Shift+Tab to "Urgent YQ", Space, Enter in the prefilled YQ."""
    screen.command(f"QV LIC/{plate}")
    screen.wait_shown(f"QV LIC/{plate.split('.')[0]}", "HIT")
    screen.press_button("Urgent YQ")
    screen.wait(lambda: screen.page.views["YQ"].values().get("NIC") == nic, what="the YQ draft")
    assert "prefilled" in screen.feedback()
    screen.key(Key.Key_Return)
    screen.wait(lambda: screen.banner().state.startswith("YQ sent (urgent, request 1"),
                what="the YQ sent, on the hit's banner")


@pytest.fixture(scope="module")
def waiting_yq(officer: Screen) -> str:
    """A stop on TRN4821 (entered by VA0290000, whose dispatcher does not answer) with an
    urgent YQ waiting for its answer."""
    send_urgent_yq(officer, "TRN4821.LIS/VA", "V260000001")
    officer.acknowledge_all()
    return "QV LIC/TRN4821"


@pytest.fixture(scope="module")
def confirmed_stop(officer: Screen, dispatch1: Terminal) -> str:
    """A stop on TRN5007 whose urgent YQ our dispatcher answered Y (CONFIRMED)."""
    send_urgent_yq(officer, "TRN5007.LIS/MD", "V260000002")
    desk = dispatch1.alert_desk
    sync_until(dispatch1, lambda: [i for i in desk.snapshot().queue if i.nic == "V260000002"])
    desk.send("YR", desk.draft_yr("V260000002", "Y", remarks="STILL STOLEN. HOLD"))
    sync_until(dispatch1, lambda: dispatch1.messages(1)[0]["state"] != "queued")
    officer.wait(lambda: officer.banner().state.startswith("CONFIRMED"), what="CONFIRMED")
    return "QV LIC/TRN5007"


# -- a return for every kind of answer -------------------------------------------------------------
def test_a_clean_plate_says_no_record(screen: Screen) -> None:
    screen.command("QV LIC/CLN1000.LIS/MD")
    row = screen.wait_shown("QV LIC/CLN1000", "No record")
    assert screen.headline() == "No record — NO NCIC WANT LIC/CLN1000 LIS/MD"
    assert screen.headline_role() == "clear" and screen.headline_style() == "NoHitBanner"
    assert (row.result, row.source) == ("No record", "NCIC")
    assert screen.banner().state == "" and screen.caveats() == ""  # nothing to confirm
    assert screen.received().startswith("Received ") and "from NCIC" in screen.received()
    assert not screen.alert_bar().visible
    assert screen.status_bar().connection == "Online"
    screen.shot("clean-plate")


def test_a_stolen_car_is_a_hit_to_confirm_before_acting(screen: Screen) -> None:
    screen.command("QV LIC/TRN4821.LIS/VA")
    row = screen.wait_shown("QV LIC/TRN4821", "HIT — STOLEN VEHICLE")
    assert row.result == "HIT — STOLEN VEHICLE"
    assert screen.headline() == "HIT — STOLEN VEHICLE"  # what to do: on the hit's row below
    assert screen.headline_role() == "hit" and screen.headline_style() == "HitBanner"
    assert "NOT PROBABLE CAUSE" in screen.caveats()
    banner = screen.banner()
    assert banner.state.startswith("Not confirmed yet — not probable cause: do not act until")
    assert banner.state_style == "ConfirmNone" and banner.can_request
    screen.wait(lambda: screen.alert_bar().visible, what="the hit on the alert bar")
    bar = screen.alert_bar()
    assert (bar.severity, bar.title) == ("CRITICAL", "HIT — vehicle: plate TRN4821 VA")
    assert bar.action == "Confirm hit (YQ)…"
    screen.shot("stolen-car")


@pytest.mark.parametrize(("command", "query", "headline"), [
    ("QV LIC/TRN5007.LIS/MD", "QV LIC/TRN5007", "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS"),
    ("KOLVEX, DRAYTON Q 19840312", "QW NAM/KOLVEX, DRAYTON Q",
     "HIT — WANTED PERSON — ARMED AND DANGEROUS"),
], ids=["stolen-car", "wanted-person"])
def test_armed_and_dangerous_comes_first(screen: Screen, command: str, query: str,
                                         headline: str) -> None:
    screen.command(command)
    row = screen.wait_shown(query, headline)
    assert row.result.startswith(headline)
    assert screen.headline_role() == "danger" and screen.headline_style() == "HitBanner"
    assert "not probable cause" in screen.banner().state
    screen.wait(lambda: "ARMED AND DANGEROUS" in screen.alert_bar().title,
                what="officer safety on the alert bar")
    bar = screen.alert_bar()
    assert bar.severity == "CRITICAL" and bar.title.startswith("HIT — 00 ARMED AND DANGEROUS")
    assert "Officer safety" in bar.detail
    screen.shot(f"armed-and-dangerous-{query.split()[0].lower()}")


def test_a_refused_destination_takes_the_focus(screen: Screen) -> None:
    screen.command("DQ OLN/S100000008")
    screen.wait(lambda: screen.feedback().startswith("Not sent: Enter the destination"))
    screen.wait(lambda: (focus := screen.focused()) is not None and
                focus.objectName() == "field_DEST", what="the focus on the refused Destination")
    screen.key(Key.Key_Escape)  # the officer clears the form


def test_a_suspended_licence_is_headed_by_its_status_not_no_record(screen: Screen) -> None:
    screen.command("DQ OLN/S100000008")  # no state: the form opens and says what is missing
    screen.wait(lambda: screen.feedback().startswith("Not sent: Enter the destination"),
                what="the missing destination said")
    screen.tab_to("field_DEST")
    screen.type("VA")
    screen.key(Key.Key_Return)
    row = screen.wait_shown("DQ OLN/S100000008", "RECORD")
    assert screen.headline() == "RECORD — DRIVER LICENSE: SUSPENDED" == row.result
    assert screen.headline_role() == "warning" and screen.headline_style() == "NoticeBanner"
    assert "No record" not in screen.headline() and screen.banner().state == ""
    screen.shot("suspended-licence")


def test_a_registration_is_a_record_with_nothing_notable(screen: Screen) -> None:
    send_with_destination(screen, "RQ LIC/CLN1000", "MD")
    row = screen.wait_shown("RQ LIC/CLN1000", "RECORD")
    assert row.result == screen.headline() == "RECORD — REGISTRATION, nothing notable"
    assert screen.headline_role() == "info" and screen.headline_style() == "RecordBanner"


def test_a_destination_down_is_the_switch_status_then_the_answer(screen: Screen,
                                                                  trainer: Trainer) -> None:
    # (the switch's word a moment after its receipt: said before it, it is lost under the
    # receipt, see test_answered_queries_leave_nothing_waiting_in_the_status_bar)
    trainer.destination_down("officer1", "VA", latency=0.5)
    send_with_destination(screen, "DQ OLN/S100000008", "VA")
    row = screen.wait_shown("DQ OLN/S100000008", "Switch status")
    assert row.result == "Switch status"
    assert screen.headline() == "Switch status — DESTINATION VA DOWN - WILL FORWARD"
    assert screen.headline_role() == "status" and screen.headline_style() == "StatusBanner"
    trainer.calm()  # VA is back: the held answer comes
    screen.wait_shown("DQ OLN/S100000008", "RECORD — DRIVER LICENSE: SUSPENDED")


def test_an_iaq_with_a_detainer(screen: Screen) -> None:
    screen.command("IAQ NAM/ZANMIR, SOREN T.DOB/19790704.SEX/M.POB/MX.CUS/Y.OFF/5012"
                   ".ARN/A200000002")
    row = screen.wait_shown("IAQ NAM/ZANMIR, SOREN T", "RECORD")
    assert row.query.startswith("IAQ NAM/ZANMIR, SOREN T DOB/19790704"), row  # not ATN/PHN
    assert row.result == screen.headline() == "RECORD — LESC STATUS: DEPORTED FELON, DETAINER"
    assert row.source == "VTICE0900"
    assert screen.headline_role() == "warning" and screen.headline_style() == "NoticeBanner"
    screen.wait(lambda: screen.alert_bar().title.startswith("DETAINER"), what="the detainer")
    bar = screen.alert_bar()
    assert bar.severity == "CRITICAL" and "ZANMIR, SOREN T" in bar.title
    assert bar.countdown.startswith("hold window ") and bar.countdown.endswith(" left")
    assert bar.action == "Show detainer…"
    assert "notify DHS before release" in bar.detail
    screen.shot("iaq-detainer")


def test_a_new_critical_hit_takes_the_bar_from_a_detainer(screen: Screen,
                                                          trainer: Trainer) -> None:
    trainer.inject("detainer", user="officer1")
    screen.wait(lambda: screen.alert_bar().title.startswith("DETAINER"), what="the detainer")
    screen.command("QV LIC/TRN5007.LIS/MD")
    screen.wait(lambda: "ARMED AND DANGEROUS" in screen.alert_bar().title,
                what="the new hit taking the bar")
    bar = screen.alert_bar()
    assert bar.title.startswith("HIT — 00 ARMED AND DANGEROUS") and bar.severity == "CRITICAL"
    assert bar.more == "All alerts (+1)" and bar.kinds == ("caution", "detainer")
    screen.shot("new-hit-over-detainer")
    # the detainer one key away: the history (Ctrl+Shift+A) lists it, unacknowledged ...
    screen.key(Key.Key_A, CTRL | SHIFT)
    dialog = screen.window.alerts_dialog
    assert dialog is not None
    screen.wait(lambda: any(a["kind"] == "detainer" and not a.get("acked_by")
                            for a in dialog.model.alerts), what="the detainer in the history")
    screen.key(Key.Key_Escape)
    screen.wait(lambda: not dialog.isVisible(), what="the history closed (Esc)")
    # ... and acknowledging the hit (Ctrl+K) puts it back on the bar
    screen.key(Key.Key_K, CTRL)
    screen.wait(lambda: screen.alert_bar().title.startswith("DETAINER"), what="the detainer back")


# -- a query that waits owns the screen ------------------------------------------------------------
def test_a_query_waiting_offline_owns_the_screen(screen: Screen, trainer: Trainer) -> None:
    screen.command("QG SER/TRG4821.MAK/SW")
    screen.wait_shown("QG SER/TRG4821", "HIT — STOLEN GUN")
    trainer.cut_link("officer1")
    screen.command("QV LIC/CLN1000.LIS/MD")
    screen.wait(lambda: screen.selected() == screen.rows()[0] and
                screen.rows()[0].result.startswith("Queued"), what="the queued query selected")
    screen.wait_shown("QV LIC/CLN1000", "Queued (offline) — goes out when the link is back")
    assert screen.headline_role() == "pending" and screen.headline_style() == "PendingBanner"
    assert "QV LIC/CLN1000 LIS/MD" in screen.body()
    assert "STOLEN" not in screen.body() and screen.caveats() == ""  # not the gun's return
    assert screen.banner().state == ""
    assert screen.feedback() == ""  # the wait said once, in its header (no "Queued QV — …")
    status = screen.status_bar()
    assert status.connection.startswith(("Offline", "Poor link")), status
    # (between retries it says "Outbox: sending…")
    screen.wait(lambda: "1 queued" in screen.status_bar().outbox, what="1 queued")
    screen.shot("waiting-offline")
    # a second query while the first waits: it has its row at once, and it is the one shown
    screen.command("QV LIC/TRN6230.LIS/MD")
    screen.wait_shown("QV LIC/TRN6230", "Queued (offline)")
    assert [r.result for r in screen.rows()[:2]] == [
        "Queued (offline) — goes out when the link is back"] * 2
    screen.wait(lambda: "2 queued" in screen.status_bar().outbox, what="2 queued")
    trainer.calm()
    screen.wait_row("QV LIC/CLN1000", "No record", timeout=20_000)
    screen.wait_shown("QV LIC/TRN6230", "No record")  # the newest answer takes the pane
    screen.wait(lambda: screen.status_bar().connection == "Online", what="online again")


def test_a_query_waiting_online_owns_the_screen(screen: Screen, trainer: Trainer) -> None:
    screen.command("QG SER/TRG4821.MAK/SW")
    screen.wait_shown("QG SER/TRG4821", "HIT — STOLEN GUN")
    trainer.slow_switch("officer1", 3.0)
    screen.command("QV LIC/TRN6230.LIS/MD")
    row = screen.wait_shown("QV LIC/TRN6230", "Sent — waiting for the answer")
    assert row.result == "Sent — waiting for the answer"
    assert screen.headline_role() == "pending" and screen.headline_style() == "PendingBanner"
    assert "STOLEN" not in screen.body() and screen.banner().state == ""
    assert screen.status_bar().connection == "Online"
    screen.shot("waiting-online")
    screen.wait_shown("QV LIC/TRN6230", "No record")


def test_answered_queries_leave_nothing_waiting_in_the_status_bar(screen: Screen) -> None:
    for plate in ("CLN1000.LIS/MD", "TRN6230.LIS/MD", "NLS2024.LIS/MD", "CLN1000.LIS/MD"):
        screen.command(f"QV LIC/{plate}")
    screen.wait(lambda: all(r.source for r in screen.rows()), what="every query answered")
    screen.wait(lambda: "Outbox: " in screen.status_bar().outbox)
    assert screen.status_bar().outbox == "Outbox: empty", \
          f"every row has its answer; the status bar says {screen.status_bar().outbox!r}"


# -- hit confirmation -------------------------------------------------------------------------------
def test_an_unanswered_yq_runs_its_clock_then_goes_overdue(screen: Screen,
                                                          waiting_yq: str) -> None:
    screen.select(waiting_yq)
    banner = screen.banner()
    assert banner.state_style == "ConfirmWaiting" and banner.clock.endswith(" left"), banner
    assert banner.actions == ()  # no second YQ while the first waits
    status = screen.status_bar()
    assert status.deadline.startswith("Next deadline: answer to my YQ on V260000001 — ")
    assert "CONFIRMED" not in screen.headline()  # a waiting YQ confirms nothing
    with screen.gateway_clock_ahead(11):  # eleven minutes later, on the gateway's clock
        screen.wait(lambda: screen.banner().state_style == "ConfirmOverdue", what="overdue")
        banner = screen.banner()
        assert banner.state.startswith("NO ANSWER to request 1 (urgent) — OVERDUE ")
        assert banner.state.endswith("send request 2 now")
        assert banner.clock.startswith("OVERDUE ") and banner.actions == (
            "Send request 2 (RNO 2)…",)
        screen.wait(lambda: "SECOND REQUEST (RNO 2)" in screen.alert_bar().title,
                    what="the overdue YQ on the alert bar")
        bar = screen.alert_bar()
        assert bar.severity == "CRITICAL" and bar.countdown.startswith("OVERDUE ")
        assert bar.action == "Send next request…"
        assert "OVERDUE" in screen.status_bar().deadline
        assert "CONFIRMED" not in screen.headline()  # still not confirmed
        screen.shot("yq-unanswered-overdue")


def test_an_overdue_yq_says_so_in_its_row_too(screen: Screen, waiting_yq: str) -> None:
    screen.select(waiting_yq)
    with screen.gateway_clock_ahead(11):
        screen.wait(lambda: screen.banner().state_style == "ConfirmOverdue", what="overdue")
        row = screen.row("YQ RTY/SV NIC/V260000001")
        assert row is not None
        assert row.result.startswith("No answer after 1"), f"the YQ's row says {row.result!r}"


def test_the_hit_banner_carries_the_confirmation_state_and_its_clock(screen: Screen,
                                                                     waiting_yq: str) -> None:
    screen.select(waiting_yq)
    banner = screen.banner()
    assert banner.text.startswith("HIT")  # one header: the hit, then its state and clock
    assert banner.state.startswith("YQ sent (urgent, request 1")
    assert screen.hit_banner_clock().endswith(" left"), banner


def test_a_yq_answered_y_by_the_dispatcher_is_confirmed_everywhere(
        screen: Screen, confirmed_stop: str) -> None:
    screen.select(confirmed_stop)
    assert screen.headline() == ("HIT — STOLEN VEHICLE — ARMED AND DANGEROUS — CONFIRMED by the "
                                 "entering agency.")
    assert screen.headline_role() == "danger"
    banner = screen.banner()
    assert banner.state.startswith("CONFIRMED by Dispatcher Dana Desk (MD1012600)")
    assert "STILL STOLEN. HOLD" in banner.state
    assert banner.state_style == "ConfirmYes" and banner.actions == () and banner.clock == ""
    # one state: the YQ's row is answered, no clock runs for it in the status bar
    row = screen.row("YQ RTY/SV NIC/V260000002")
    assert row is not None and row.result == "Answered — CONFIRMED"
    assert "V260000002" not in screen.status_bar().deadline
    screen.shot("yq-answered-confirmed")


def test_a_new_stop_on_a_confirmed_record_starts_its_own_confirmation(
        screen: Screen, confirmed_stop: str) -> None:
    screen.command("QV LIC/TRN5007.LIS/MD")  # the same car, a new stop
    screen.wait(lambda: (row := screen.selected()) is not None and row.result.startswith("HIT")
                and row.query == "QV LIC/TRN5007 LIS/MD" and screen.rows()[0] == row,
                what="the new stop's return shown")
    assert screen.headline() == "HIT — STOLEN VEHICLE — ARMED AND DANGEROUS"
    assert "not probable cause" in screen.banner().state and "CONFIRMED" not in screen.headline()
    banner = screen.banner()
    assert banner.state.startswith("Not confirmed yet") and banner.state_style == "ConfirmNone"
    assert banner.earlier.startswith("Earlier stop: CONFIRMED by Dispatcher Dana Desk "
                                     "(MD1012600)")
    assert banner.earlier.endswith("it does not confirm this stop.")
    assert banner.can_request  # its own YQ, one key away
    screen.shot("new-stop-on-confirmed-record")
