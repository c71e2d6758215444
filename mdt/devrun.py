"""``make run``: start the bundled training gateway on 127.0.0.1, open the client against it,
and stop the gateway when the client quits.

The gateway keeps its state in ``<MDT data dir>/training-gateway`` so a second ``make run``
finds the same inbox; its output goes to ``training-gateway.log`` beside it (the training
gateway's synthetic data only).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from typing import TextIO

from mdt import paths

LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")


def _copy(source: TextIO, sink: TextIO) -> None:
    for line in source:  # keep the pipe drained so the gateway never blocks on its output
        sink.write(line)
        sink.flush()


def start_training_gateway() -> tuple[subprocess.Popen[str], str]:
    data = paths.data_dir() / "training-gateway"
    data.mkdir(parents=True, exist_ok=True)
    log = open(data / "training-gateway.log", "a", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--host", "127.0.0.1", "--port", "0",
         "--data-dir", str(data), "--exit-with-parent"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        log.write(line)
        log.flush()
        match = LISTENING.search(line)
        if match:
            threading.Thread(target=_copy, args=(process.stdout, log), daemon=True).start()
            return process, match.group(1)
    process.kill()
    raise SystemExit("The training gateway did not start; see " + str(data / "training-gateway.log"))


def allow_file_keystore_if_needed() -> None:
    """A training laptop often has no OS keystore (no Secret Service under a bare X session).
    For the demo only, fall back to the file that holds password-wrapped keys, and say so."""
    import keyring
    from keyring.backends import fail

    from mdt.settings import Settings

    settings = Settings()
    if isinstance(keyring.get_keyring(), fail.Keyring) and settings.get("keystore") == "os":
        settings.set("keystore", "wrapped-file")
        settings.save()
        print("No OS keystore here: this training setup keeps the password-wrapped cache key in "
              "a file (setting keystore = wrapped-file).")


def main() -> int:
    allow_file_keystore_if_needed()
    process, url = start_training_gateway()
    print(f"Training gateway at {url} (demo accounts: mdt-gateway accounts)")
    try:
        from mdt.ui.application import run_gui

        return run_gui(["--gateway-url", url, *sys.argv[1:]])
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


if __name__ == "__main__":
    sys.exit(main())
