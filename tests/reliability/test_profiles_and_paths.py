"""Profiles on one terminal: concurrent creation keeps every wrapped key; user ids are checked
before they become paths; a look-up creates no folder; kept v1/v2 caches upgrade in one start."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import filelock
import pytest

from mdt import paths
from mdt.store.errors import InvalidUserIdError
from mdt.store.keys import KeyVault, ScryptParams, WrappedKeyFile

DATA = Path(__file__).resolve().parent.parent / "data" / "caches"
FAST = ScryptParams(n=2**10, r=8, p=1)

_WRITER = """
import sys
from pathlib import Path
from mdt.store.keys import KeyVault, ScryptParams, WrappedKeyFile
store = WrappedKeyFile(Path(sys.argv[1]))
vault = KeyVault(keystore=store, kdf=ScryptParams(n=2**10, r=8, p=1))
print("ready", flush=True)
sys.stdin.readline()  # all start together
for n in range(int(sys.argv[3])):
    vault.create_profile(f"{sys.argv[2]}{n}", "pw")
"""


def test_two_processes_creating_profiles_at_once_keep_every_key(tmp_path: Path) -> None:
    target = tmp_path / "wrapped-keys.json"
    procs = [subprocess.Popen([sys.executable, "-c", _WRITER, str(target), name, "25"],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for name in ("alpha", "bravo")]
    for proc in procs:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    for proc in procs:
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    for proc in procs:
        proc.communicate(timeout=60)
        assert proc.returncode == 0
    keys = json.loads(target.read_text())
    assert len(keys) == 50, sorted(keys)
    assert oct(target.stat().st_mode & 0o777) == "0o600"


def test_a_writer_waits_for_the_one_holding_the_lock(tmp_path: Path) -> None:
    """Deterministic: while the lock is held, another process's write does not happen."""
    target = tmp_path / "wrapped-keys.json"
    held = filelock.FileLock(str(target) + ".lock")
    with held:
        proc = subprocess.Popen([sys.executable, "-c", _WRITER, str(target), "late", "1"],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
        time.sleep(1.0)
        assert proc.poll() is None and not target.exists()  # waiting on the lock
    proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert list(json.loads(target.read_text())) == ["MDT/late0"]


@pytest.mark.parametrize("user_id", ["..", ".", "", "a/b", "../x", "a\\b", ".hidden", "x" * 65,
                                     "nul\x00", "officer 1", "ü"])
def test_user_ids_that_cannot_be_folder_names_are_refused(user_id: str, mdt_home: Path) -> None:
    with pytest.raises(InvalidUserIdError, match="not a valid user id"):
        paths.profile_dir(user_id)
    assert not (mdt_home / "data" / "profiles").exists() or \
        list((mdt_home / "data" / "profiles").iterdir()) == []


def test_a_look_up_creates_no_folder(mdt_home: Path) -> None:
    folder = paths.profile_dir("officer1")
    assert folder == mdt_home / "data" / "profiles" / "officer1" and not folder.exists()
    assert paths.profile_dir("officer1", create=True).is_dir()


@pytest.mark.parametrize("version", [1, 2, 3])
def test_a_kept_old_cache_upgrades_and_opens_in_one_start(version: int, tmp_path: Path) -> None:
    """The profile's cache is a kept schema-v1/v2/v3 file. The first start upgrades it and is
    killed right after its first commit (the upgrade and that commit still in the WAL); the next
    start opens it as it is and finds it whole, and so does the one after (its returns are
    years old: retention erases them on the way)."""
    from tests.unit.test_store_cache import KEY

    home = tmp_path / "home"
    folder = home / "data" / "profiles" / "officer1"
    folder.mkdir(parents=True)
    (home / "config").mkdir()
    (home / "config" / "settings.json").write_text(json.dumps(
        {"keystore": "wrapped-file", "last_user": "officer1"}))
    shutil.copy(DATA / f"cache-v{version}.db", folder / "cache.db")
    vault = KeyVault(keystore=WrappedKeyFile(home / "data" / "wrapped-keys.json"), kdf=FAST)
    vault.rewrap("officer1", KEY, "training")
    (folder / "profile.json").write_text(json.dumps(
        {"user_id": "officer1", "name": "Officer One", "role": "officer", "ori": "MD1012600"}))
    env = {**os.environ, "MDT_HOME": str(home), "MDT_PASSWORD": "training"}
    killed = subprocess.run([sys.executable, "-m", "mdt", "show"], capture_output=True,
                            text=True, env={**env, "MDT_FAULT_KILL_AFTER_COMMIT": "1"},
                            timeout=60)
    assert killed.returncode == -9, killed.stderr
    wal = folder / "cache.db-wal"
    assert wal.exists() and wal.stat().st_size > 0  # the upgrade is in a hot WAL
    for start in ("after the kill", "again"):
        checked = subprocess.run([sys.executable, "-m", "mdt", "cache", "check"],
                                 capture_output=True, text=True, env=env, timeout=60)
        assert checked.returncode == 0, (start, checked.stdout, checked.stderr)
        assert "damaged" not in checked.stdout + checked.stderr, start
        assert not list(folder.glob("cache.db.damaged-*")), start
