"""A gateway may serve newer form definitions: the client takes valid ones, keeps them for
offline use, and refuses broken ones without losing the forms it had."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from mdt.paths import resources_dir
from mdt.services.terminal import Terminal
from mdt.settings import Settings
from tests.conftest import start_gateway

pytestmark = pytest.mark.e2e


def _forms_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "served-forms"
    shutil.copytree(resources_dir() / "forms", folder)
    return folder


def _terminal(url: str) -> Terminal:
    settings = Settings()
    settings.set("gateway_url", url)
    return Terminal(settings)


def test_newer_forms_are_used_and_kept_offline(tmp_path: Path) -> None:
    folder = _forms_dir(tmp_path)
    qv = json.loads((folder / "QV.json").read_text())
    qv["title"] = "Vehicle (NCIC) — agency edition"
    (folder / "QV.json").write_text(json.dumps(qv))
    gw = start_gateway(tmp_path / "gw", "--forms-dir", str(folder))
    terminal = _terminal(gw.url)
    try:
        account = gw.demo_account("officer1")
        terminal.login("officer1", account["password"], account["otp_now"])
        assert terminal.forms.source == "gateway"
        assert terminal.forms.get("QV").title == "Vehicle (NCIC) — agency edition"
        assert terminal.refresh_forms() == "unchanged"  # ETag: nothing sent again
    finally:
        terminal.close()
        gw.stop()
    offline = _terminal(gw.url)
    try:
        offline.unlock("officer1", "training")
        assert offline.forms.get("QV").title == "Vehicle (NCIC) — agency edition"
    finally:
        offline.close()


def test_broken_served_forms_are_refused(tmp_path: Path) -> None:
    folder = _forms_dir(tmp_path)
    (folder / "QV.json").write_text(json.dumps({"mke": "QV", "title": "broken", "fields": [
        {"tag": "LIC", "label": "Plate", "kind": "telepathy"}]}))
    gw = start_gateway(tmp_path / "gw", "--forms-dir", str(folder))
    terminal = _terminal(gw.url)
    try:
        account = gw.demo_account("officer1")
        terminal.login("officer1", account["password"], account["otp_now"])
        assert terminal.forms.source == "shipped"
        assert terminal.forms.get("QV").title == "Vehicle (NCIC)"
        assert terminal.refresh_forms() == "refused"
    finally:
        terminal.close()
        gw.stop()


def test_code_tables_are_fetched_once_and_kept_offline(tmp_path: Path) -> None:
    gw = start_gateway(tmp_path / "gw")
    terminal = _terminal(gw.url)
    try:
        account = gw.demo_account("officer1")
        terminal.login("officer1", account["password"], account["otp_now"])  # fetches them
        assert terminal.code_tables.served["LIS"]["NB"] == "Nebraska"
        assert terminal.refresh_codes() == []  # every ETag matched: nothing sent again
    finally:
        terminal.close()
        gw.stop()
    offline = _terminal(gw.url)
    try:
        offline.unlock("officer1", "training")
        assert offline.code_tables.served["LIS"]["NB"] == "Nebraska"
        assert offline.code_tables["OLS"].lookup("NB") == "Nebraska"
    finally:
        offline.close()


def test_unknown_code_tables_are_404(gateway_url_and_headers: tuple[str, dict[str, str]]) -> None:
    import httpx

    url, headers = gateway_url_and_headers
    response = httpx.get(f"{url}/v1/codes/NOPE", headers=headers)
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"
    ok = httpx.get(f"{url}/v1/codes/SEX", headers=headers).json()
    assert {c["code"] for c in ok["codes"]} == {"F", "M", "U"}


@pytest.fixture
def gateway_url_and_headers(gateway):  # type: ignore[no-untyped-def]
    import httpx

    account = gateway.demo_account("officer1")
    token = httpx.post(f"{gateway.url}/v1/sessions", json={
        "user_id": "officer1", "password": account["password"], "otp": account["otp_now"],
        "device_id": "t"}).json()["token"]
    return gateway.url, {"Authorization": f"Bearer {token}"}
