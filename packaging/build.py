"""Build the one-folder desktop app (``make package``) and smoke-test it.

    .venv/bin/python packaging/build.py [--no-smoke]

Runs PyInstaller with ``packaging/mdt.spec`` into ``packaging/dist/mdt-<version>/``, reports the
build's size on disk and its largest parts, then runs the built program's ``--self-test``
(offscreen, a throwaway cache). The last line is one JSON object:
``{"build": "mdt", "version": ..., "size_mb": ..., "files": ..., "build_s": ...,
"self_test": "ok", "self_test_s": ...}``. Exit status 0 only when the build and its self-test
pass. Build on the OS you ship for: PyInstaller does not cross-compile (docs/packaging.md).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from importlib.metadata import version
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def folder_size(folder: Path) -> tuple[int, int]:
    """Bytes and files on disk; symbolic links (PyInstaller links shared libraries on Linux)
    are not counted twice."""
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files), len(files)


def largest(folder: Path, count: int = 5) -> list[tuple[str, float]]:
    sizes = sorted(((p.stat().st_size, p) for p in folder.rglob("*")
                    if p.is_file() and not p.is_symlink()), reverse=True)[:count]
    return [(str(p.relative_to(folder)), round(s / 2**20, 1)) for s, p in sizes]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--no-smoke", action="store_true", help="build only")
    args = parser.parse_args(argv)
    built = HERE / "dist" / f"mdt-{version('mdt')}"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
                    "--distpath", str(HERE / "dist"), "--workpath", str(HERE / "build"),
                    str(HERE / "mdt.spec")], check=True, cwd=ROOT)
    build_s = time.perf_counter() - started
    size, files = folder_size(built)
    print(f"built {built} — {size / 2**20:.1f} MB in {files} files; largest: "
          + ", ".join(f"{name} {mb} MB" for name, mb in largest(built)))
    result: dict[str, object] = {"build": "mdt", "version": version("mdt"),
                                 "path": str(built), "size_mb": round(size / 2**20, 1),
                                 "files": files, "build_s": round(build_s, 1)}
    code = 0
    if not args.no_smoke:
        program = built / ("mdt.exe" if sys.platform == "win32" else "mdt")
        env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
        started = time.perf_counter()
        smoke = subprocess.run([str(program), "--self-test"], capture_output=True, text=True,
                               env=env, timeout=120)
        result["self_test_s"] = round(time.perf_counter() - started, 2)
        result["self_test"] = "ok" if smoke.returncode == 0 else "failed"
        print(smoke.stdout.strip() or smoke.stderr.strip())
        if smoke.returncode != 0:
            print(smoke.stderr, file=sys.stderr)
            code = 1
    print(json.dumps(result))
    return code


if __name__ == "__main__":
    sys.exit(main())
