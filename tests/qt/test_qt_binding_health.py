"""A guard on the Qt binding itself: PySide6 6.12.0 on Python 3.11 lost a reference to None on
every call of a Python slot, and the process aborted ("deallocating None") after a few thousand
signals, a few minutes of a running terminal. The pinned release must not do that."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import sys, time
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QApplication
app = QApplication([])
class Source(QObject):
    changed = Signal(object, object, object)
source = Source()
source.changed.connect(lambda a, b, c: None)
before = sys.getrefcount(None)
for _ in range(20000):
    source.changed.emit(None, None, None)
timer = QTimer(); timer.setInterval(0); timer.timeout.connect(lambda: None); timer.start()
end = time.perf_counter() + 0.3
while time.perf_counter() < end:
    app.processEvents()
print(sys.getrefcount(None) - before)
"""


def test_python_slots_do_not_leak_references_to_none() -> None:
    result = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True,
                            timeout=120, env={"QT_QPA_PLATFORM": "offscreen", "PATH": ""})
    assert result.returncode == 0, result.stderr[-500:]
    assert abs(int(result.stdout.strip())) < 100
