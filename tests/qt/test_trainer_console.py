"""The trainer console in the real GUI against the real training gateway: a trainer's sign-in
opens it (training banner on top); scenarios listed and run for chosen trainees at a speed,
paused and resumed; events injected reach a trainee; a lost link set and restored; activity per
trainee; the debrief of a scripted trainee on screen and as a PDF."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from mdt.cli import EXIT_OK, run
from mdt.ui.trainer_console import TraineesModel
from tests.conftest import Gateway

pytestmark = pytest.mark.e2e


def cli(*args: str) -> int:
    """The scripted trainee's command, on its own thread (not the GUI thread under guard)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(run, list(args)).result(60)


def trainee(gateway: Gateway, user: str, monkeypatch: pytest.MonkeyPatch) -> None:
    account = gateway.demo_account(user)
    monkeypatch.setenv("MDT_PASSWORD", account["password"])
    monkeypatch.setenv("MDT_OTP", account["otp_now"])
    assert cli("login", "--gateway", gateway.url, "--user", user) == EXIT_OK


def test_trainer_console_runs_a_class(qtbot: QtBot, gateway: Gateway, tmp_path: Path,
                                      monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str],
                                      gui_thread_guard: list[str]) -> None:
    trainee(gateway, "officer1", monkeypatch)  # signed in (headless), so the class sees it
    controller, window = signed_in_trainer(qtbot, gateway)
    console = window.console
    try:
        assert window.pages.currentWidget() is console and window.banner.isVisible()
        qtbot.waitUntil(lambda: console.scenarios.count() >= 5, timeout=10000)
        qtbot.waitUntil(lambda: console.trainees.rowCount() >= 1, timeout=10000)
        assert "TRAINING" in console.state.text()
        users = [console.trainees.data(console.trainees.index(r, 0))
                 for r in range(console.trainees.rowCount())]
        assert any(u.startswith("officer1") for u in users)

        # Start near-miss for officer1 only, ten times faster.
        console.scenarios.setCurrentIndex(console.scenarios.findData("near-miss"))
        assert "near-miss" in console.scenario_text.text().lower() or \
            "KOLVECKS" in console.scenario_text.text()
        for i in range(console.trainees_pick.count()):
            item = console.trainees_pick.item(i)
            if item.data(Qt.ItemDataRole.UserRole) == "officer1":
                item.setCheckState(Qt.CheckState.Checked)
        console.speed.setValue(10)
        console.start_button.click()
        qtbot.waitUntil(lambda: "near-miss started" in console.message.text(), timeout=10000)
        console.pause_button.click()
        qtbot.waitUntil(lambda: console.message.text() == "Paused.", timeout=10000)
        console.refresh()
        qtbot.waitUntil(lambda: "PAUSED" in console.state.text(), timeout=10000)
        console.resume_button.click()
        qtbot.waitUntil(lambda: console.message.text() == "Resumed.", timeout=10000)

        # Inject a message and a detainer to officer1; a lost link, then restored.
        console.inject_target.setCurrentIndex(console.inject_target.findData("user:officer1"))
        console.inject_kind.setCurrentIndex(console.inject_kind.findData("admin"))
        console.inject_text.setText("meet at the north gate")
        console.inject_button.click()
        qtbot.waitUntil(lambda: "sent to officer1" in console.message.text(), timeout=10000)
        console.inject_kind.setCurrentIndex(console.inject_kind.findData("detainer"))
        console.inject_button.click()
        qtbot.waitUntil(lambda: "Detainer (LESC) sent" in console.message.text(), timeout=10000)
        console.inject_kind.setCurrentIndex(console.inject_kind.findData("lost_link"))
        console.inject_button.click()
        qtbot.waitUntil(lambda: "Lost link" in console.message.text(), timeout=10000)
        assert cli("sync", "--once", "--user", "officer1") != EXIT_OK  # the link is cut
        console.restore_link.click()
        qtbot.waitUntil(lambda: "Link restored" in console.message.text(), timeout=10000)

        # The scripted trainee does the near-miss right; it got the injected events too.
        capsys.readouterr()
        for args in (["send", "QW", "NAM=KOLVECKS, DRAYTON Q", "DOB=19840312"],
                     ["send", "DQ", "OLN=S100000099", "--dest", "MD"], ["sync", "--once"]):
            assert cli(*args, "--user", "officer1") == EXIT_OK
        capsys.readouterr()
        assert cli("alerts", "--json", "--user", "officer1") == EXIT_OK
        kinds = {a["kind"] for a in json.loads(capsys.readouterr().out)}
        assert {"admin", "detainer"} <= kinds
        capsys.readouterr()
        assert cli("alerts", "--json", "--user", "officer1") == EXIT_OK
        detainer = next(a for a in json.loads(capsys.readouterr().out)
                        if a["kind"] == "detainer")
        assert cli("ack", detainer["id"], "--user", "officer1") == EXIT_OK
        assert cli("sync", "--once", "--user", "officer1") == EXIT_OK  # the audit goes up

        def passed() -> bool:
            console.refresh()
            qtbot.wait(300)
            return "PASSED: 3 of 3 met" in console.debrief_view.toPlainText()

        qtbot.waitUntil(passed, timeout=15000)
        text = console.debrief_view.toPlainText()
        assert "officer1" in text and "NOT PASSED" not in text and "PASSED: 3 of 3 met" in text, text
        console.trainee_table.selectRow(next(
            r for r in range(console.trainees.rowCount())
            if str(console.trainees.data(console.trainees.index(r, 0))).startswith("officer1")))
        qtbot.waitUntil(lambda: "KOLVECKS" in console.trainee_detail.toPlainText(),
                        timeout=5000)
        assert "Alerts acknowledged" in console.trainee_detail.toPlainText()
        assert "detainer" in console.trainee_detail.toPlainText().split(
            "Alerts acknowledged")[1]
        pdf = tmp_path / "debrief.pdf"
        console.export_pdf(pdf)  # written on a worker: wait for "saved"
        qtbot.waitUntil(lambda: "Debrief saved" in console.message.text(), timeout=15000)
        assert pdf.stat().st_size > 1000 and pdf.read_bytes().startswith(b"%PDF")
        assert gui_thread_guard == []
    finally:
        controller.shutdown()
        window.close()


def signed_in_trainer(qtbot: QtBot, gateway: Gateway) -> tuple[Any, Any]:
    from PySide6.QtWidgets import QApplication

    from mdt.settings import Settings
    from mdt.ui.application import create_window
    from mdt.ui.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_theme(app, "day")
    settings = Settings()
    settings.set("gateway_url", gateway.url)
    controller, window = create_window(settings)
    qtbot.addWidget(window)
    window.show()
    login = window.login
    qtbot.waitUntil(lambda: login.demo.rowCount() > 0, timeout=10000)
    login.use_demo_account("trainer1")
    qtbot.waitUntil(lambda: "trainer signs in" in login.error.text(), timeout=5000)
    assert login.user.text() == "trainer1" and not login.otp.text()  # never listed
    account = gateway.demo_account("trainer1")  # the trainer's own, from the gateway's machine
    login.password.setText(account["password"])
    login.otp.setText(account["otp_now"])
    login.do_sign_in()
    qtbot.waitUntil(lambda: window.pages.currentWidget() is window.console, timeout=15000)
    return controller, window


def test_trainees_model(qtmodeltester: Any) -> None:
    model = TraineesModel()
    model.set_rows([{"user_id": "officer1", "name": "Officer Tess Trainee", "role": "officer",
                     "ori": "MD1012600", "last_login_at": None, "sent": [{}],
                     "received_count": 3, "pending": 0}])
    qtmodeltester.check(model)
    assert model.data(model.index(0, 4)) == "1" and model.data(model.index(0, 3)) == "never"
