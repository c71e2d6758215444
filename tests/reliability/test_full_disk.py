"""A full disk: the cache holding returns is on a small tmpfs that is then filled. Reading goes on
(offline unlock, the returns, ``mdt show``), every write says the disk is full (not "broken", not
"damaged"), and once space is back the same session writes again."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mdt.services.terminal import Terminal
from mdt.settings import Settings
from mdt.store.errors import DiskFullError
from tests.conftest import Gateway, start_gateway, sync_until

pytestmark = pytest.mark.e2e


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 16 MiB tmpfs of its own (the suite runs as root, as CI does)."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16m,mode=0700", "tmpfs",
                           str(mount)], capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail(f"this test mounts a small tmpfs and needs root: {done.stderr.strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


@pytest.fixture
def on_small_disk(tmp_path: Path, small_disk: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Gateway]]:
    """MDT_HOME on the small disk, pointed at a real gateway (the wrapped-key file stands in
    for the keystore, so a subprocess can unlock too)."""
    home = small_disk / "home"
    (home / "config").mkdir(parents=True)
    monkeypatch.setenv("MDT_HOME", str(home))
    gateway = start_gateway(tmp_path / "gateway")
    (home / "config" / "settings.json").write_text(json.dumps(
        {"gateway_url": gateway.url, "keystore": "wrapped-file"}))
    try:
        yield home, gateway
    finally:
        gateway.stop()


def _fill(disk: Path) -> Path:
    filler = disk / "filler"
    with open(filler, "wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass
    for n in range(1000):  # and the last blocks, in small files
        try:
            (disk / f"filler-{n}").write_bytes(b"\0" * 512)
        except OSError:
            break
    return filler


def test_a_full_disk_still_reads_says_full_and_writes_again_once_space_is_back(
        small_disk: Path, on_small_disk: tuple[Path, Gateway]) -> None:
    home, gateway = on_small_disk
    account = gateway.demo_account("officer1")
    terminal = Terminal(Settings())
    terminal.login("officer1", account["password"], account["otp_now"])
    terminal.send("QV", {"LIC": "TRN4821", "LIS": "VA"})
    sync_until(terminal, terminal.recent_returns)
    assert terminal.recent_returns()
    terminal.close()

    filler = _fill(small_disk)
    # Offline unlock and reading work; the person is told why nothing new can be saved.
    full = Terminal(Settings())
    try:
        full.unlock("officer1", account["password"])
        assert any("disk holding the cache is full" in n for n in full.notices), full.notices
        assert full.recent_returns() and full.messages()
        with pytest.raises(DiskFullError, match="full"):
            full.send("QV", {"LIC": "ZZZ1234", "LIS": "MD"})
        env = {**os.environ, "MDT_HOME": str(home), "MDT_PASSWORD": account["password"]}
        show = subprocess.run([sys.executable, "-m", "mdt", "show"], capture_output=True,
                              text=True, env=env, timeout=60)
        assert show.returncode == 0, show.stderr
        assert "TRN4821" in show.stdout and "is full" in show.stderr
        assert "Check the drive" not in show.stderr and "damaged" not in show.stderr
        # Space comes back: the same session writes again, with the audit records it held.
        filler.unlink()
        for extra in small_disk.glob("filler-*"):
            extra.unlink()
        queued = full.send("QV", {"LIC": "ZZZ1234", "LIS": "MD"})
        assert any(m["id"] == queued["id"] for m in full.messages())
        assert full.writer is not None
        actions = full.writer.call(lambda c: [r[0] for r in c._conn.execute(
            "SELECT action FROM audit ORDER BY n")])
        assert actions[-2:] == ["unlock", "query"]  # the unlock held while full, then the query
        assert full.verify_audit().ok and full.check().ok
    finally:
        full.close()
    after = Terminal(Settings())
    try:
        after.unlock("officer1", account["password"])
        assert after.notices == []
    finally:
        after.close()


def test_a_read_only_drive_still_reads_and_says_read_only(
        small_disk: Path, on_small_disk: tuple[Path, Gateway]) -> None:
    _home, gateway = on_small_disk
    account = gateway.demo_account("officer1")
    terminal = Terminal(Settings())
    terminal.login("officer1", account["password"], account["otp_now"])
    queued = terminal.send("QV", {"LIC": "DS00042", "LIS": "MD"})
    terminal.close()
    remount = subprocess.run(["mount", "-o", "remount,ro", str(small_disk)],
                             capture_output=True, text=True)
    assert remount.returncode == 0, remount.stderr
    try:
        ro = Terminal(Settings())
        try:
            ro.unlock("officer1", account["password"])
            assert any("read-only" in n for n in ro.notices), ro.notices
            assert any(m["id"] == queued["id"] for m in ro.messages())
            with pytest.raises(Exception, match="read-only"):
                ro.send("QV", {"LIC": "ZZZ1234", "LIS": "MD"})
        finally:
            ro.close()
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
