"""``make run``: start the bundled training gateway on 127.0.0.1, open the client against it,
and stop the gateway when the client quits.

The gateway keeps its state in ``<MDT data dir>/training-gateway`` and its port in
``gateway.json`` there: the first run takes 8765 (the client's default gateway URL) or, when that
is taken, a free port, and every later run uses the same one, so the client (``.venv/bin/mdt``
too) finds the same inbox again. A training gateway already answering on that port (started with
``python -m mdt.devrun --gateway-only``) is used as it is. Its output goes to
``training-gateway.log`` beside it (the training gateway's synthetic data only).

The cache key goes to the OS keystore when the machine has one (Secret Service, Windows
Credential Locker, macOS Keychain); ``make run`` says which store it uses, and only where there
is none does it turn on the password-wrapped key file for the demo (setting ``keystore`` in
``settings.json``), saying so and where that setting lives.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import TextIO

from mdt import paths

LISTENING = re.compile(r"listening on (http://127\.0\.0\.1:\d+)")
DEFAULT_PORT = 8765


_COPIERS: dict[int, threading.Thread] = {}


def _copy(source: TextIO, sink: TextIO) -> None:
    for line in source:  # keep the pipe drained so the gateway never blocks on its output
        sink.write(line)
        sink.flush()
    source.close()
    sink.close()


def gateway_dir() -> Path:
    data = paths.data_dir() / "training-gateway"
    data.mkdir(parents=True, exist_ok=True)
    return data


def _saved() -> dict[str, object]:
    try:
        saved = json.loads((gateway_dir() / "gateway.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return saved if isinstance(saved, dict) else {}


def saved_port() -> int | None:
    port = _saved().get("port")
    return port if isinstance(port, int) and 0 < port < 65536 else None


def _save_port(port: int, pid: int) -> None:
    from mdt.atomic import atomic_write_text

    atomic_write_text(gateway_dir() / "gateway.json", json.dumps({"port": port, "pid": pid}))


def _port_free(port: int) -> bool:
    with socket.socket() as probe:
        if sys.platform != "win32":  # as the gateway binds: a closed socket's TIME_WAIT is free
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _ours_running(port: int) -> bool:
    """Whether the process holding ``port`` is the gateway this data folder started (its pid
    saved with the port, serving this folder), not another one on the machine."""
    pid = _saved().get("pid")
    if _saved().get("port") != port or not isinstance(pid, int):
        return False
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists():
        return str(gateway_dir()).encode() in cmdline.read_bytes()
    return sys.platform != "linux"  # no /proc: the saved pid and the health check must do


def training_gateway_at(url: str) -> bool:
    """Whether a training gateway answers at ``url`` (one started earlier, still running)."""
    import httpx

    try:
        body = httpx.get(f"{url}/v1/health", timeout=2).json()
    except (httpx.HTTPError, ValueError):
        return False
    return isinstance(body, dict) and body.get("status") == "ok" and bool(body.get("training"))


def start_training_gateway(port: int | None = None) -> tuple[subprocess.Popen[str] | None, str]:
    """The gateway's process (None when one was already running there) and its URL."""
    data = gateway_dir()
    if port is None:
        port = saved_port() or DEFAULT_PORT
    url = f"http://127.0.0.1:{port}"
    if not _port_free(port):
        if _ours_running(port) and training_gateway_at(url):
            return None, url  # this folder's gateway, still running: found again
        port = 0  # something else has it: a free port, saved for next time
    log = open(data / "training-gateway.log", "a", encoding="utf-8")  # noqa: SIM115
    process = subprocess.Popen(
        [sys.executable, "-m", "mock_server", "serve", "--host", "127.0.0.1", "--port", str(port),
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
            copier = threading.Thread(target=_copy, args=(process.stdout, log), daemon=True)
            copier.start()
            _COPIERS[process.pid] = copier
            _save_port(int(match.group(1).rsplit(":", 1)[1]), process.pid)
            return process, match.group(1)
    process.kill()
    process.wait()
    process.stdout.close()
    log.close()
    raise SystemExit("The training gateway did not start; see " + str(data / "training-gateway.log"))


def keystore_in_use() -> str:
    """Say which store will hold the cache key; where the machine has no OS keystore, turn on
    the password-wrapped key file for this training setup (and say where that setting lives)."""
    import keyring
    from keyring.backends import fail, null

    from mdt.settings import Settings

    settings = Settings()
    where = settings.path
    try:
        backend = keyring.get_keyring()
    except Exception:
        backend = fail.Keyring()  # type: ignore[no-untyped-call]
    has_os = not isinstance(backend, fail.Keyring | null.Keyring)
    name = f"{type(backend).__module__.rsplit('.', 1)[-1]} ({type(backend).__name__})"
    if settings.get("keystore") == "wrapped-file":
        extra = (f" This machine has an OS keystore ({name}): set keystore = \"os\" in {where} "
                 "to use it for new profiles.") if has_os else ""
        return (f"Keystore: the password-wrapped key file {paths.data_dir() / 'wrapped-keys.json'}"
                f" (setting keystore = \"wrapped-file\" in {where}).{extra}")
    if has_os:
        return f"Keystore: the OS keystore, {name} (setting keystore = \"os\" in {where})."
    settings.set("keystore", "wrapped-file")
    settings.save()
    return ("No OS keystore here (no Secret Service on this session's D-Bus, for example): this "
            "training setup keeps the password-wrapped cache key in "
            f"{paths.data_dir() / 'wrapped-keys.json'} (setting keystore = \"wrapped-file\", "
            f"now in {where}).")


def allow_file_keystore_if_needed() -> None:  # the older name
    print(keystore_in_use())


def _stop(process: subprocess.Popen[str] | None) -> None:
    if process is None:
        return
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
    copier = _COPIERS.pop(process.pid, None)
    if copier is not None:
        copier.join(10)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mdt.devrun")
    parser.add_argument("--gateway-only", action="store_true",
                        help="start only the training gateway (same port and data) until Ctrl+C")
    args, rest = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    process, url = start_training_gateway()
    data = gateway_dir()
    print(f"Training gateway at {url}, data in {data} "
          f"({'already running' if process is None else 'started'}; demo accounts: "
          ".venv/bin/mdt-gateway accounts).")
    print(f"  Again with the same port and data: make run, or the gateway alone: "
          f".venv/bin/python -m mdt.devrun --gateway-only; the client alone: "
          f".venv/bin/mdt --gateway {url}")
    if args.gateway_only:
        try:
            while process is None or process.poll() is None:
                time.sleep(0.5)
        except KeyboardInterrupt:
            pass
        finally:
            _stop(process)
        return 0
    print(keystore_in_use())
    try:
        from mdt.ui.application import run_gui

        return run_gui(["--gateway", url, *rest])
    finally:
        with contextlib.suppress(Exception):
            _stop(process)


if __name__ == "__main__":
    sys.exit(main())
