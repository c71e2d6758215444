"""mdt.core is the domain: it runs from a test, a script or a command line, and never imports
Qt."""

from __future__ import annotations

import pkgutil
import subprocess
import sys

import mdt.core


def test_core_modules_import_no_qt() -> None:
    modules = sorted(f"mdt.core.{m.name}" for m in pkgutil.iter_modules(mdt.core.__path__))
    assert {"mdt.core.codes", "mdt.core.forms", "mdt.core.rules", "mdt.core.message",
            "mdt.core.returns", "mdt.core.cautions"} <= set(modules)
    code = (f"import sys\nfor name in {modules!r}:\n    __import__(name)\n"
            "from mdt.core.forms import all_forms\nall_forms()\n"
            "bad = sorted(m for m in sys.modules if m.startswith(('PySide6', 'shiboken6', "
            "'PyQt')))\nprint(','.join(bad))\nsys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, f"mdt.core pulls in Qt: {result.stdout}{result.stderr}"
