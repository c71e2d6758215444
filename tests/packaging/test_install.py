"""A normal (non-editable) ``pip install .`` is a working MDT: the packages, the resources (forms,
code tables, styles, sounds, scenarios, as ``mdt_resources``) and both commands. ``mdt
--self-test`` and ``mdt-gateway serve --port 0`` run from that install, outside the checkout.

Fast and offline: the project is copied (so the build leaves nothing in the checkout) and built
the ordinary way into a fresh venv with ``--no-deps``; the pinned dependencies come from this
test run's own environment through a ``.pth`` file (no system site-packages, nothing
downloaded or installed twice)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import venv
from pathlib import Path

import httpx
import pytest

from mdt.core.forms import KEYS
from tests.conftest import OTP_FUTURE_STEPS, Gateway

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ("pyproject.toml", "README.md", "mdt", "mock_server", "resources")

pytestmark = pytest.mark.slow


def test_every_package_is_listed_in_pyproject() -> None:
    listed = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))[
        "tool"]["setuptools"]["packages"]
    found = [".".join(init.parent.relative_to(ROOT).parts)
             for top in ("mdt", "mock_server") for init in (ROOT / top).rglob("__init__.py")]
    assert sorted(listed) == sorted([*found, "mdt_resources"])


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The ``bin`` folder of a fresh venv with MDT installed from a copy of the checkout."""
    work = tmp_path_factory.mktemp("install")
    source = work / "source"
    source.mkdir()
    for name in SHIPPED:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        else:
            shutil.copy2(ROOT / name, source / name)
    env_dir = work / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
         "--disable-pip-version-check", "--no-deps", str(source)],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()"
                           "['purelib'])"], capture_output=True, text=True, check=True)
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site.stdout.strip()) / "mdt-test-deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    shutil.rmtree(source)  # nothing may still read the copy
    return env_dir / "bin"


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if k not in ("MDT_RESOURCES_DIR", "PYTHONPATH", "MDT_AGENCY_CONFIG")}
    return env | {"MDT_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}


def test_the_install_has_its_resources(installed: Path, tmp_path: Path) -> None:
    where = subprocess.run(
        [str(installed / "python"), "-c", "import mdt, mdt.paths, mdt.core.forms as f; "
         "print(mdt.__file__); print(mdt.paths.resources_dir()); print(len(f.all_forms()))"],
        capture_output=True, text=True, timeout=60, cwd=tmp_path, env=_env(tmp_path))
    assert where.returncode == 0, where.stderr
    code, resources, forms = where.stdout.split()
    prefix = str(installed.parent)
    assert code.startswith(prefix) and resources.startswith(prefix), where.stdout
    assert Path(resources).name == "mdt_resources" and forms == "11"
    for folder in ("codes", "forms", "scenarios", "sounds", "styles"):
        assert any((Path(resources) / folder).iterdir()), folder


def test_the_self_test_passes_from_the_install(installed: Path, tmp_path: Path) -> None:
    done = subprocess.run([str(installed / "mdt"), "--self-test"], capture_output=True,
                          text=True, timeout=120, cwd=tmp_path, env=_env(tmp_path))
    assert done.returncode == 0, done.stderr
    line = done.stdout.strip().splitlines()[-1]
    assert line.startswith("mdt self-test OK") and "11 forms" in line


def test_the_gateway_serves_from_the_install(installed: Path, tmp_path: Path) -> None:
    process = subprocess.Popen(
        [str(installed / "mdt-gateway"), "serve", "--host", "127.0.0.1", "--port", "0",
         "--data-dir", str(tmp_path / "gateway"), "--latency", "0", "--exit-with-parent",
         "--otp-future-steps", str(OTP_FUTURE_STEPS)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path,
        env=_env(tmp_path))
    assert process.stdout is not None
    line = process.stdout.readline()  # its one line on standard output, once it listens
    gateway = Gateway(url=line.rsplit(" ", 1)[-1].strip(), process=process,
                      data_dir=tmp_path / "gateway")
    try:
        assert line.startswith("mdt-gateway listening on http://127.0.0.1:"), line
        assert httpx.get(f"{gateway.url}/v1/health", timeout=10).json()["status"] == "ok"
        # what it serves comes from the installed mdt_resources: the forms, a code table
        account = gateway.demo_account("officer1")
        session = httpx.post(f"{gateway.url}/v1/sessions", timeout=10, json={
            "user_id": "officer1", "password": account["password"], "otp": account["otp_now"]})
        assert session.status_code == 201, session.text
        auth = {"Authorization": f"Bearer {session.json()['token']}"}
        forms = httpx.get(f"{gateway.url}/v1/forms", headers=auth, timeout=10).json()["forms"]
        assert sorted(f["mke"] for f in forms) == sorted(KEYS)
        assert httpx.get(f"{gateway.url}/v1/codes/SEX", headers=auth, timeout=10).status_code == 200
    finally:
        gateway.stop()
    assert process.returncode == 0
