"""The Linux package: the .deb made from the PyInstaller one-folder build, installed here with
dpkg -i, its --self-test run from /usr/bin, removed, and nothing of it left."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

import pytest

from tests.desktop.conftest import require

ROOT = Path(__file__).resolve().parents[2]
FOLDER = ROOT / "packaging" / "dist" / f"mdt-{version('mdt')}"


@pytest.mark.timeout(900)
def test_the_deb_installs_passes_its_self_test_and_uninstalls_cleanly() -> None:
    require("dpkg-deb")
    if os.geteuid() != 0:
        pytest.fail("dpkg -i needs root: run this test as root (CI does).", pytrace=False)
    if not (FOLDER / "mdt").exists():  # make test builds it first; run alone, the test builds it
        subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"), "--no-smoke"],
                       check=True, cwd=ROOT, timeout=800, capture_output=True)
    run = subprocess.run([sys.executable, str(ROOT / "packaging" / "deb.py"), "--test"],
                         capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert run.stdout.strip(), run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    assert run.returncode == 0, (result, run.stderr[-2000:])
    assert result["self_test"] == "ok", result
    assert result["removed"] is True and result["left_behind"] == []
    assert Path(result["deb"]).exists() and result["deb_mb"] > 10
    status = subprocess.run(["dpkg-query", "-W", "-f=${Status}", "mdt"], capture_output=True,
                            text=True)
    assert "install ok installed" not in status.stdout
