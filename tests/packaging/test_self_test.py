"""``mdt --self-test`` from source: it passes on this tree, and a damaged installation fails it
with the step that failed (CI also runs it on the built app: ``packaging/build.py``)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

RESOURCES = Path(__file__).resolve().parents[2] / "resources"


def self_test(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "mdt", "--self-test"], capture_output=True,
                          text=True, timeout=120, env={**os.environ, **env,
                                                       "QT_QPA_PLATFORM": "offscreen"})


def test_self_test_passes_and_says_what_it_checked(tmp_path: Path) -> None:
    done = self_test({"MDT_HOME": str(tmp_path / "home")})
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("mdt self-test OK: SQLCipher") and "11 forms" in line
    assert "main window shown" in line
    assert not (tmp_path / "home").exists() or not any((tmp_path / "home").rglob("cache.db"))


def test_a_damaged_installation_fails_with_the_step(tmp_path: Path) -> None:
    broken = tmp_path / "resources"
    shutil.copytree(RESOURCES, broken)
    (broken / "codes" / "LIS.csv").write_text("code,description\n", encoding="utf-8")
    done = self_test({"MDT_RESOURCES_DIR": str(broken), "MDT_HOME": str(tmp_path / "home")})
    assert done.returncode == 1
    assert "self-test FAILED at the forms and code tables" in done.stderr
    assert "LIS" in done.stderr


def test_a_wrong_agency_file_fails_the_self_test(tmp_path: Path) -> None:
    agency = tmp_path / "mdt-agency.toml"
    agency.write_text("[lock_minutes]\nofficer = 90\n", encoding="utf-8")
    done = self_test({"MDT_AGENCY_CONFIG": str(agency), "MDT_HOME": str(tmp_path / "home")})
    assert done.returncode == 1 and "[lock_minutes] officer" in done.stderr
