"""The rule that holds the architecture together: core, store and net never import Qt, and the
headless CLI runs without it."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEADLESS_MODULES = [
    "mdt.core.command", "mdt.core.forms", "mdt.core.codes", "mdt.core.message",
    "mdt.core.returns", "mdt.store.cache", "mdt.store.keys", "mdt.store.writer_thread",
    "mdt.net.gateway", "mdt.net.sync", "mdt.net.loop", "mdt.services.terminal", "mdt.cli", "mdt.settings",
]


@pytest.mark.parametrize("module", HEADLESS_MODULES)
def test_headless_module_imports_no_qt(module: str) -> None:
    code = (f"import sys, {module}; "
            "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6')));"
            "print(','.join(bad)); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"{module} pulls in Qt: {result.stdout}{result.stderr}"


def test_version_flag_prints_version_without_qt() -> None:
    result = subprocess.run([sys.executable, "-m", "mdt", "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0
    assert result.stdout.startswith("mdt ")
