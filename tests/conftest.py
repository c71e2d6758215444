"""Shared fixtures: every test gets its own MDT_HOME and an in-memory keystore; end-to-end tests
get a real ``mdt-gateway`` process on 127.0.0.1 with a free port."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from keyring.backend import KeyringBackend
from keyring.errors import PasswordDeleteError

from tests.gateway_fork import ForkedGateway, fork_gateway, spawn_each

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Hypothesis runs the same examples on every run (derandomize): a red run is the code's fault
# and comes back on the next run, never the luck of a seed, and a busy machine's slow input
# generation is not a failure. To look for new examples: HYPOTHESIS_PROFILE=explore (random,
# more of them); keep what it finds as a test.
hypothesis_settings.register_profile(
    "repeatable", derandomize=True, database=None, suppress_health_check=[HealthCheck.too_slow])
hypothesis_settings.register_profile("explore", max_examples=2000, derandomize=False)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


class MemoryKeyring(KeyringBackend):
    """An in-memory OS keystore: the only thing the tests stand in for."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.entries: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.entries.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.entries[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        try:
            del self.entries[(service, username)]
        except KeyError:
            raise PasswordDeleteError(username) from None


@pytest.fixture(autouse=True)
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture(autouse=True, scope="session")
def kdf_once_per_input() -> Iterator[dict[tuple[str, bytes, object], bytes]]:
    """The key derivation is the real one (Argon2id at the shipped cost, about 0.4 s), made once
    per password, salt and cost in this test process: a test unlocks the same profile five or
    six times (login, send, sync, quarantine, a terminal), and deriving the same key again
    proves nothing new. A wrong password, a new salt (every new wrap) or another cost derives
    again. Processes the tests start (``mdt`` on the command line) derive every time."""
    from mdt.store.keys import KeyVault

    real = KeyVault._derive
    made: dict[tuple[str, bytes, object], bytes] = {}

    def derive(passphrase: str, salt: bytes, params: Any) -> bytes:
        key = (passphrase, salt, params)
        if key not in made:
            made[key] = real(passphrase, salt, params)
        return made[key]

    KeyVault._derive = staticmethod(derive)  # type: ignore[method-assign]
    yield made
    KeyVault._derive = staticmethod(real)  # type: ignore[method-assign]


@pytest.fixture(autouse=True)
def mdt_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "mdt-home"
    home.mkdir()
    monkeypatch.setenv("MDT_HOME", str(home))
    return home


@dataclass
class Gateway:
    """A running training gateway process."""

    url: str
    process: subprocess.Popen[str] | ForkedGateway
    data_dir: Path
    drain: threading.Thread | None = None

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.drain is not None:
            self.drain.join(10)
        if self.process.stdout is not None:
            self.process.stdout.close()

    demo_account_password = "training"

    def demo_account(self, user_id: str) -> dict[str, str]:
        """A demo account as the sign-in page lists it, with a fresh one-time code (each code
        signs in once). A trainer's secrets are never listed, so the test (the trainer, at the
        gateway's machine) takes its code as ``mdt-gateway otp`` does."""
        for _ in range(100):
            accounts = httpx.get(f"{self.url}/v1/training/demo-accounts",
                                 timeout=5).json()["accounts"]
            account = dict(next(a for a in accounts if a["user_id"] == user_id))
            if "otp_secret" not in account:
                return account | {"password": self.demo_account_password,
                                  "otp_secret": self.otp_secret(user_id),
                                  "otp_now": self.trainer_code(user_id)}
            if account.get("otp_now"):
                return account
            time.sleep(min(30.0, float(account.get("otp_fresh_in_s") or 1.0)))
        raise AssertionError(f"no fresh one-time code for {user_id}")

    def trainer_code(self, user_id: str) -> str:
        from mock_server import otp
        from mock_server.state import State

        state = State(self.data_dir / "gateway.sqlite")
        try:
            account = state.account(user_id)
            assert account is not None
            code, _wait = otp.next_code(account.otp_secret,
                                        last_used=state.otp_last_step(user_id),
                                        future_steps=OTP_FUTURE_STEPS)
            assert code is not None
            return code
        finally:
            state.close()

    def expire_sessions(self, user_id: str) -> None:
        """Every session of ``user_id`` expires now, as at the end of its time to live (the
        gateway reads a token's expiry from its state at each request): a test forces the
        expiry instead of racing a short ``--token-ttl``."""
        import sqlite3

        conn = sqlite3.connect(self.data_dir / "gateway.sqlite", timeout=10)
        try:
            with conn:
                changed = conn.execute("UPDATE sessions SET expires_at = ? WHERE user_id = ?",
                                       (time.time() - 1, user_id)).rowcount
            assert changed, f"{user_id} has no session to expire"
        finally:
            conn.close()

    def otp_secret(self, user_id: str) -> str:
        import sqlite3

        conn = sqlite3.connect(f"file:{self.data_dir / 'gateway.sqlite'}?mode=ro", uri=True)
        try:
            return str(conn.execute("SELECT otp_secret FROM accounts WHERE user_id = ?",
                                    (user_id,)).fetchone()[0])
        finally:
            conn.close()


OTP_FUTURE_STEPS = 100_000
LISTENING = re.compile(r"listening on (https?://127\.0\.0\.1:\d+)")



def sync_until(terminal: Any, condition: Callable[[], Any], timeout: float = 20) -> Any:
    """``sync_once`` until ``condition()`` gives something (returned), within ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        terminal.sync_once()
        found = condition()
        if found:
            return found
        assert time.monotonic() < deadline, "the gateway's answer did not come in time"
        time.sleep(0.1)

def start_gateway(data_dir: Path, *extra: str) -> Gateway:
    """Start ``mdt-gateway serve`` on a free port and wait until it answers (forked from a
    process that has its imports: tests/gateway_fork.py)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    # Each one-time code signs in once; a suite signs in many times a minute, so the gateway may
    # hand out fresh codes ahead of the clock (demo_account below takes them).
    argv = ["serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir),
            "--latency", "0", "--exit-with-parent", "--otp-future-steps", str(OTP_FUTURE_STEPS),
            *extra]
    if spawn_each():
        return _spawn_gateway(data_dir, argv)
    log = data_dir.parent / f"{data_dir.name}-{time.time_ns()}.log"
    process = fork_gateway(argv, log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = LISTENING.search(log.read_text(errors="replace"))
        if match:
            return Gateway(url=match.group(1), process=process, data_dir=data_dir)
        if process.poll() is not None:
            break
        time.sleep(0.01)
    process.kill()
    raise RuntimeError("mdt-gateway did not start:\n" + log.read_text(errors="replace"))


def _spawn_gateway(data_dir: Path, argv: list[str]) -> Gateway:
    """``python -m mock_server <argv>``, a fresh interpreter (MDT_TEST_GATEWAY_SPAWN=1)."""
    cmd = [sys.executable, "-m", "mock_server", *argv]
    process = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    deadline = time.monotonic() + 30
    url = None
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = LISTENING.search(line)
        if match:
            url = match.group(1)
            break
    if url is None:
        process.kill()
        raise RuntimeError("mdt-gateway did not start:\n" + "".join(seen))
    # Keep draining its output so the pipe never fills and blocks the server.
    def drain() -> None:
        assert process.stdout is not None
        for _ in process.stdout:
            pass

    drainer = threading.Thread(target=drain, daemon=True)
    drainer.start()
    return Gateway(url=url, process=process, data_dir=data_dir, drain=drainer)


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[Gateway]:
    gw = start_gateway(tmp_path / "gateway")
    yield gw
    gw.stop()


@pytest.fixture
def gateway_with(tmp_path: Path) -> Iterator[Callable[..., Gateway]]:
    """Start training gateways with extra options (e.g. ``"--confirm-delay", "0.3"``); each is
    stopped when the test ends."""
    started: list[Gateway] = []

    def start(*extra: str) -> Gateway:
        started.append(start_gateway(tmp_path / f"gateway-{len(started)}", *extra))
        return started[-1]

    yield start
    for gw in started:
        gw.stop()


@pytest.fixture
def gui_thread_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Fail the test if the GUI (main) thread does SQL, network, keystore or key-derivation work.

    Wraps the cache, the key vault, the keyring API and httpx's send so that each call records
    itself when made on the main thread."""
    import functools
    import inspect
    import threading

    import httpx as _httpx

    from mdt.store.cache import Cache
    from mdt.store.keys import KeyVault

    violations: list[str] = []

    def guard(owner: object, name: str) -> None:
        original = getattr(owner, name)
        if isinstance(inspect.getattr_static(owner, name), classmethod):
            func = original.__func__

            @functools.wraps(func)
            def cls_wrapper(cls, *args, **kwargs):  # type: ignore[no-untyped-def]
                if threading.current_thread() is threading.main_thread():
                    violations.append(f"{getattr(owner, '__name__', owner)}.{name}")
                return func(cls, *args, **kwargs)

            monkeypatch.setattr(owner, name, classmethod(cls_wrapper))
            return

        @functools.wraps(original)
        def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
            if threading.current_thread() is threading.main_thread():
                violations.append(f"{getattr(owner, '__name__', owner)}.{name}")
            return original(*args, **kwargs)

        monkeypatch.setattr(owner, name, wrapper)

    for cls in (Cache, KeyVault):
        for name, value in list(vars(cls).items()):
            if not name.startswith("_") and (callable(value) or isinstance(value, classmethod)):
                guard(cls, name)
    for name in ("get_password", "set_password", "delete_password"):
        guard(keyring, name)
    guard(_httpx.AsyncClient, "send")  # the app's only HTTP client (tests use the sync one)
    yield violations
    assert not violations, f"blocking work on the GUI thread: {sorted(set(violations))}"


@pytest.fixture(autouse=True)
def collector_thawed() -> Iterator[None]:
    """The application freezes what it made for the window's life (mdt.app.collector); a test's
    window lives only as long as its test, so what it froze goes back to the collector after."""
    yield
    import gc

    from mdt.app import collector

    while collector.paused():
        collector.resume()
    gc.unfreeze()


@pytest.fixture(autouse=True, scope="module")
def windows_deleted_after_each_module() -> Iterator[None]:
    """What a module's tests left of their windows is deleted once the module is done (its
    module-scoped windows are closed by then). A test's window is closed by qtbot, but the
    objects that still point at it (its controller's callbacks, its timers) kept it and its
    parentless parts alive for the rest of the process: a worker held thousands of widgets
    after a few modules, and every theme change re-polished them all."""
    yield
    if "PySide6.QtWidgets" not in sys.modules:
        return
    from PySide6.QtCore import QCoreApplication, QEvent
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    for widget in app.topLevelWidgets():
        widget.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    app.processEvents()
