"""A Debian package of the one-folder app (``make deb``), and its install test.

    .venv/bin/python packaging/deb.py [--test] [--folder packaging/dist/mdt-<version>]

Wraps ``packaging/dist/mdt-<version>/`` (``make package``) into
``packaging/dist/mdt_<version>_<arch>.deb``: the program under ``/opt/mdt``, ``/usr/bin/mdt``
linking to it, a desktop entry, and the Debian packages Qt's xcb platform needs as
dependencies; the desktop services MDT uses when they are there (espeak-ng or speech-dispatcher
for read-aloud, the PulseAudio client for sounds, gnome-keyring for the keystore) as
recommendations. ``--test`` then installs it with ``dpkg -i`` (as root; missing dependencies from
Debian with ``apt-get -f install``), runs ``mdt --self-test`` from ``/usr/bin``, removes it
with ``dpkg -r`` and checks that nothing of it is left. The last line is one JSON object:
``{"package": "mdt", "deb": ..., "deb_mb": ..., "installed_mb": ..., "build_s": ...,
"install_s": ..., "self_test": "ok", "remove_s": ..., "left_behind": []}``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
PREFIX = "/opt/mdt"
DEPENDS = ("libc6, libfontconfig1, libdbus-1-3, libegl1, libgl1, libxkbcommon-x11-0, "
           "libxcb-cursor0, libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, "
           "libxcb-render-util0, libxcb-shape0, libxcb-xinerama0, libxcb-xkb1")
RECOMMENDS = "espeak-ng | speech-dispatcher, pulseaudio-utils, gnome-keyring | kwalletmanager"
DESKTOP_ENTRY = """[Desktop Entry]
Type=Application
Name=MDT
Comment=Mobile data terminal (message switch client)
Exec=/usr/bin/mdt
Terminal=false
Categories=Office;
"""


def arch() -> str:
    return subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                          check=True).stdout.strip()


def build(folder: Path, out_dir: Path) -> Path:
    ver = version("mdt")
    name = f"mdt_{ver}_{arch()}"
    with tempfile.TemporaryDirectory(prefix="mdt-deb-") as tmp:
        root = Path(tmp) / name
        shutil.copytree(folder, root / PREFIX.lstrip("/"), symlinks=True)
        (root / "usr" / "bin").mkdir(parents=True)
        (root / "usr" / "bin" / "mdt").symlink_to(f"{PREFIX}/mdt")
        apps = root / "usr" / "share" / "applications"
        apps.mkdir(parents=True)
        (apps / "mdt.desktop").write_text(DESKTOP_ENTRY, encoding="utf-8")
        size_kib = sum(p.stat().st_size for p in root.rglob("*")
                       if p.is_file() and not p.is_symlink()) // 1024
        (root / "DEBIAN").mkdir()
        (root / "DEBIAN" / "control").write_text(
            f"Package: mdt\nVersion: {ver}\nArchitecture: {arch()}\n"
            "Maintainer: MDT project <mdt@example.invalid>\nSection: misc\nPriority: optional\n"
            f"Installed-Size: {size_kib}\nDepends: {DEPENDS}\nRecommends: {RECOMMENDS}\n"
            "Description: Mobile data terminal for law enforcement\n"
            " A desktop client for an agency's message-switch gateway: queries, returns,\n"
            " alerts read aloud, an encrypted offline cache. Installed under /opt/mdt.\n",
            encoding="utf-8")
        out_dir.mkdir(parents=True, exist_ok=True)
        deb = out_dir / f"{name}.deb"
        subprocess.run(["dpkg-deb", "--root-owner-group", "-Zgzip", "-z6", "--build",
                        str(root), str(deb)], check=True, stdout=subprocess.DEVNULL)
    return deb


def _run(cmd: list[str], **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, **kw)  # type: ignore[call-overload]


def install_test(deb: Path) -> dict[str, object]:
    """dpkg -i, the installed program's --self-test, dpkg -r, and what is left of it."""
    if os.geteuid() != 0:
        raise SystemExit("The install test needs root (dpkg -i): sudo .venv/bin/python "
                         "packaging/deb.py --test")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    started = time.perf_counter()
    installed = _run(["dpkg", "-i", str(deb)], env=env)
    if installed.returncode != 0:  # dependencies Debian has and this machine lacks
        fixed = _run(["apt-get", "-f", "install", "-y", "-qq"], env=env)
        if fixed.returncode != 0:
            _run(["apt-get", "update", "-qq"], env=env)
            fixed = _run(["apt-get", "-f", "install", "-y", "-qq"], env=env)
        if fixed.returncode != 0:
            raise SystemExit(f"dpkg -i {deb} failed:\n{installed.stderr}\n{fixed.stderr}")
    install_s = time.perf_counter() - started
    status = _run(["dpkg-query", "-W", "-f=${Status} ${Version}", "mdt"]).stdout
    assert status.startswith("install ok installed"), status
    files = [line for line in _run(["dpkg", "-L", "mdt"]).stdout.splitlines()
             if line.startswith((PREFIX, "/usr/bin/mdt", "/usr/share/applications/mdt"))]
    installed_mb = sum(os.path.getsize(f) for f in files
                       if os.path.isfile(f) and not os.path.islink(f)) / 2**20
    with tempfile.TemporaryDirectory(prefix="mdt-deb-home-") as home:
        started = time.perf_counter()
        smoke = _run(["/usr/bin/mdt", "--self-test"], timeout=180,
                     env={**os.environ, "QT_QPA_PLATFORM": "offscreen", "MDT_HOME": home})
        self_test_s = time.perf_counter() - started
    started = time.perf_counter()
    removed = _run(["dpkg", "-r", "mdt"], env=env)
    remove_s = time.perf_counter() - started
    left = [p for p in (PREFIX, "/usr/bin/mdt", "/usr/share/applications/mdt.desktop")
            if os.path.lexists(p)]
    still = _run(["dpkg-query", "-W", "-f=${Status}", "mdt"]).stdout
    result: dict[str, object] = {
        "installed_mb": round(installed_mb, 1), "installed_files": len(files),
        "install_s": round(install_s, 1), "self_test": "ok" if smoke.returncode == 0 else
        "failed", "self_test_s": round(self_test_s, 1), "self_test_says":
        (smoke.stdout.strip() or smoke.stderr.strip()).splitlines()[-1:],
        "removed": removed.returncode == 0 and "installed" not in still.split()[-1:],
        "remove_s": round(remove_s, 1), "left_behind": left}
    if smoke.returncode != 0:
        print(smoke.stdout, smoke.stderr, file=sys.stderr)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--folder", type=Path, default=HERE / "dist" / f"mdt-{version('mdt')}")
    parser.add_argument("--test", action="store_true", help="install, self-test, remove")
    args = parser.parse_args(argv)
    if not (args.folder / "mdt").exists():
        raise SystemExit(f"No one-folder build at {args.folder}: run 'make package' first.")
    started = time.perf_counter()
    deb = build(args.folder, HERE / "dist")
    result: dict[str, object] = {"package": "mdt", "version": version("mdt"), "deb": str(deb),
                                 "deb_mb": round(deb.stat().st_size / 2**20, 1),
                                 "build_s": round(time.perf_counter() - started, 1)}
    print(f"built {deb} ({result['deb_mb']} MB)")
    code = 0
    if args.test:
        result.update(install_test(deb))
        code = 0 if result["self_test"] == "ok" and result["removed"] and \
            not result["left_behind"] else 1
    print(json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
