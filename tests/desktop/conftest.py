"""Real desktop services for tests/desktop, each started by its fixture and stopped after:

- ``session_bus``: a private D-Bus session bus (``dbus-daemon --session``, what
  ``dbus-run-session`` starts), set as ``DBUS_SESSION_BUS_ADDRESS`` for the test;
- ``secret_service``: gnome-keyring-daemon's Secret Service on that bus, its login keyring
  unlocked with a password, in a throwaway home, and the real ``keyring`` SecretService backend;
- ``audio``: a PulseAudio server with a null sink as the default, recorded from its monitor.

What a fixture needs it installs with apt-get (``make desktop-test-services`` does it once for
``make test``); when it cannot, the test fails and says what to install. Nothing skips.
"""

from __future__ import annotations

import array
import contextlib
import os
import shutil
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

# command -> the Debian package that has it
PACKAGES = {"dbus-daemon": "dbus-bin", "dbus-monitor": "dbus-bin",
            "gnome-keyring-daemon": "gnome-keyring", "pulseaudio": "pulseaudio",
            "pactl": "pulseaudio-utils", "parec": "pulseaudio-utils", "paplay": "pulseaudio-utils",
            "sox": "sox", "espeak-ng": "espeak-ng", "dpkg-deb": "dpkg"}
RATE = 16000  # the null sink's rate: what is recorded, mono 16-bit


def require(*commands: str) -> None:
    """Install the packages that hold ``commands`` when they are missing; fail when it cannot."""
    missing = [c for c in commands if shutil.which(c) is None]
    if not missing:
        return
    packages = sorted({PACKAGES[c] for c in missing})
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends",
                                  *packages], capture_output=True, text=True, env=env)
        if install.returncode != 0:  # the package lists may be missing on a fresh machine
            subprocess.run(["apt-get", "update", "-qq"], capture_output=True, env=env)
            install = subprocess.run(["apt-get", "install", "-y", "-qq",
                                      "--no-install-recommends", *packages],
                                     capture_output=True, text=True, env=env)
    still = [c for c in commands if shutil.which(c) is None]
    if still:
        pytest.fail(f"This test needs {', '.join(still)}: install it with 'sudo apt-get install "
                    f"{' '.join(packages)}' (or 'make desktop-test-services').", pytrace=False)


def _wait_for(path: Path, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if time.monotonic() > deadline:
            raise AssertionError(f"{path} did not appear in {timeout} s")
        time.sleep(0.05)


def _stop(process: subprocess.Popen[bytes] | subprocess.Popen[str], *,
          keep_output: bool = False) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    for stream in (process.stdin, None if keep_output else process.stdout):
        if stream is not None:
            stream.close()


@pytest.fixture
def session_bus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    require("dbus-daemon", "dbus-monitor")
    process = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--nopidfile",
                                "--print-address=1"], stdout=subprocess.PIPE,
                               stderr=subprocess.DEVNULL, text=True)
    assert process.stdout is not None
    address = process.stdout.readline().strip()
    assert address.startswith("unix:"), f"dbus-daemon printed {address!r}"
    monkeypatch.setenv("DBUS_SESSION_BUS_ADDRESS", address)
    yield address
    _stop(process)


@dataclass
class SecretService:
    address: str
    home: Path
    password: str
    process: subprocess.Popen[bytes]

    def call(self, method: str, *args: str) -> str:
        """A Secret Service method on the bus, through dbus-send (not through the app's code)."""
        result = subprocess.run(["dbus-send", "--session", "--print-reply",
                                 "--dest=org.freedesktop.secrets", "/org/freedesktop/secrets",
                                 f"org.freedesktop.Secret.Service.{method}", *args],
                                capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result.stderr
        return result.stdout

    def lock_all(self) -> None:
        self.call("Lock", "array:objpath:/org/freedesktop/secrets/collection/login")

    def is_locked(self) -> bool:
        result = subprocess.run(
            ["dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.secrets",
             "/org/freedesktop/secrets/collection/login", "org.freedesktop.DBus.Properties.Get",
             "string:org.freedesktop.Secret.Collection", "string:Locked"],
            capture_output=True, text=True, timeout=10)
        assert result.returncode == 0, result.stderr
        return "boolean true" in result.stdout


@pytest.fixture
def secret_service(session_bus: str, tmp_path: Path,
                   monkeypatch: pytest.MonkeyPatch) -> Iterator[SecretService]:
    """gnome-keyring's Secret Service, and the real ``keyring`` SecretService backend on it."""
    require("gnome-keyring-daemon")
    import keyring
    from keyring.backends import SecretService as backend

    home = tmp_path / "keyring-home"
    (home / ".local" / "share" / "keyrings").mkdir(parents=True)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_DATA_HOME", str(home / ".local" / "share"))
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    monkeypatch.delenv("DISPLAY", raising=False)
    password = "login-keyring-password"
    process = subprocess.Popen(["gnome-keyring-daemon", "--foreground", "--unlock",
                                "--components=secrets"], stdin=subprocess.PIPE,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    assert process.stdin is not None
    process.stdin.write(password.encode())
    process.stdin.close()
    service = SecretService(session_bus, home, password, process)
    deadline = time.monotonic() + 15
    while True:  # the daemon owns org.freedesktop.secrets once it is ready
        probe = subprocess.run(["dbus-send", "--session", "--print-reply",
                                "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
                                "org.freedesktop.DBus.NameHasOwner",
                                "string:org.freedesktop.secrets"],
                               capture_output=True, text=True, timeout=10)
        if "boolean true" in probe.stdout:
            break
        assert process.poll() is None, "gnome-keyring-daemon exited"
        assert time.monotonic() < deadline, "gnome-keyring-daemon did not take the bus name"
        time.sleep(0.1)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend.Keyring())
    yield service
    keyring.set_keyring(previous)
    _stop(process)


def _samples(raw: bytes) -> array.array[int]:
    data = array.array("h")
    data.frombytes(raw[: len(raw) // 2 * 2])
    return data


@dataclass
class Recording:
    path: Path
    samples: array.array[int] = field(default_factory=lambda: array.array("h"))

    @property
    def seconds(self) -> float:
        return len(self.samples) / RATE

    def loud_windows(self, window_s: float = 0.02, threshold: int = 500) -> list[bool]:
        n = int(RATE * window_s)
        return [max((abs(x) for x in self.samples[i:i + n]), default=0) >= threshold
                for i in range(0, len(self.samples), n)]

    def bursts(self, gap_s: float = 0.4, window_s: float = 0.02) -> list[tuple[float, float]]:
        """(start, end) in seconds of each stretch of sound, gaps shorter than ``gap_s`` joined."""
        out: list[list[float]] = []
        for i, loud in enumerate(self.loud_windows(window_s)):
            if not loud:
                continue
            at = i * window_s
            if out and at - out[-1][1] <= gap_s:
                out[-1][1] = at + window_s
            else:
                out.append([at, at + window_s])
        return [(a, b) for a, b in out]

    def envelope(self, window_s: float = 0.02) -> list[float]:
        """Loudness (RMS) every ``window_s``, from the first loud window to the last."""
        n = int(RATE * window_s)
        rms = [(sum(x * x for x in self.samples[i:i + n]) / n) ** 0.5
               for i in range(0, len(self.samples) - n + 1, n)]
        loud = [i for i, value in enumerate(rms) if value >= 150]
        return rms[loud[0]:loud[-1] + 1] if loud else []

    def sox_stat(self) -> dict[str, float]:
        """What ``sox ... -n stat`` measures of the recording."""
        result = subprocess.run(["sox", "-t", "raw", "-r", str(RATE), "-e", "signed", "-b", "16",
                                 "-c", "1", str(self.path), "-n", "stat"],
                                capture_output=True, text=True, timeout=30)
        stats: dict[str, float] = {}
        for line in result.stderr.splitlines():
            name, _, value = line.partition(":")
            with contextlib.suppress(ValueError):
                stats[name.strip()] = float(value.strip())
        return stats


@dataclass
class Audio:
    """A PulseAudio server whose default sink is a null sink; ``record`` captures its monitor."""

    server: str
    folder: Path
    _recorder: subprocess.Popen[bytes] | None = None
    _count: int = 0
    _file: Any = None

    def start_recording(self) -> Path:
        """Record the null sink's monitor (raw to a file, in real time) from now on."""
        self._count += 1
        path = self.folder / f"recording-{self._count}.raw"
        self._file = open(path, "wb")  # noqa: SIM115
        self._recorder = subprocess.Popen(
            ["parec", "-d", "mdt_null.monitor", "--raw", "--format=s16le", f"--rate={RATE}",
             "--channels=1", "--latency-msec=20"], stdout=self._file, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while path.stat().st_size < RATE // 10:  # the stream runs: 50 ms came in
            assert time.monotonic() < deadline, "parec recorded nothing"
            time.sleep(0.01)
        return path

    def position(self) -> float:
        """Seconds recorded so far (to line an event up with the recording)."""
        return Path(self._file.name).stat().st_size / 2 / RATE

    def stop_recording(self) -> Recording:
        assert self._recorder is not None
        path = Path(self._file.name)
        _stop(self._recorder)
        self._recorder = None
        self._file.close()
        return Recording(path, _samples(path.read_bytes()))


@pytest.fixture
def audio(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Audio]:
    require("pulseaudio", "pactl", "parec", "paplay", "sox")
    folder = tmp_path / "pulse"
    folder.mkdir()
    socket = folder / "native"
    env = {**os.environ, "HOME": str(folder), "XDG_RUNTIME_DIR": str(folder),
           "XDG_CONFIG_HOME": str(folder)}
    env.pop("DBUS_SESSION_BUS_ADDRESS", None)
    process = subprocess.Popen(
        ["pulseaudio", "-n", "--daemonize=no", "--exit-idle-time=-1", "--use-pid-file=no",
         "--disallow-exit", "--disable-shm=yes",
         "-L", f"module-null-sink sink_name=mdt_null rate={RATE} channels=1",
         "-L", f"module-native-protocol-unix socket={socket} auth-anonymous=1",
         f"--log-target=file:{folder / 'pulseaudio.log'}"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _wait_for(socket)
    server = f"unix:{socket}"
    monkeypatch.setenv("PULSE_SERVER", server)
    info = subprocess.run(["pactl", "info"], capture_output=True, text=True, timeout=10)
    assert "Default Sink: mdt_null" in info.stdout, info.stdout + info.stderr
    yield Audio(server, folder)
    _stop(process)


def likeness(a: list[float], b: list[float], max_shift: int = 10) -> float:
    """The best Pearson correlation of two loudness envelopes, shifted by up to ``max_shift``
    windows: near 1 when both are the same words said the same way."""
    best = -1.0
    for shift in range(-max_shift, max_shift + 1):
        x, y = (a[shift:], b) if shift >= 0 else (a, b[-shift:])
        n = min(len(x), len(y))
        if n < 10:
            continue
        x, y = x[:n], y[:n]
        mx, my = sum(x) / n, sum(y) / n
        cov = sum((p - mx) * (q - my) for p, q in zip(x, y, strict=True))
        vx = sum((p - mx) ** 2 for p in x) ** 0.5
        vy = sum((q - my) ** 2 for q in y) ** 0.5
        if vx and vy:
            best = max(best, cov / (vx * vy))
    return best
