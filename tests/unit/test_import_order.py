"""The GUI's start path imports the settings (pydantic, in part), then Qt, then the rest of the
models: pydantic's parts loaded after PySide6 went through shiboken's import hook and broke
``make run`` (ImportError: cannot import name 'import_string' from partially initialized module
'pydantic._internal._validators'). Each order is tried in a fresh interpreter."""

from __future__ import annotations

import subprocess
import sys

import pytest

PYDANTIC_USERS = ("mdt.agency_config", "mdt.core.forms", "mdt.net.events", "mdt.settings")


@pytest.mark.parametrize("first", ["mdt.settings", "mdt.paths", "mdt.devrun"])
def test_models_import_after_qt(first: str) -> None:
    code = (f"import {first}\nimport PySide6.QtWidgets\n"
            + "".join(f"import {m}\n" for m in PYDANTIC_USERS) + "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


def test_the_gui_start_imports_cleanly() -> None:
    """What ``make run`` imports on its way to the first window, in its order."""
    code = "import mdt.devrun\nimport mdt.settings\nimport mdt.ui.application\nprint('ok')"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]
