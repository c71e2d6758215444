"""Where MDT finds its resources and keeps its files.

Set ``MDT_HOME`` to put everything (settings, caches, logs) under one folder: tests, training
laptops and portable installs use it. Otherwise the platform's usual places are used
(``platformdirs``): on Linux ``~/.local/share/MDT`` and ``~/.config/MDT``, on Windows
``%LOCALAPPDATA%\\MDT\\MDT``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import platformdirs

APP_NAME = "MDT"


def resources_dir() -> Path:
    """The shipped resources (forms, code tables, styles, scenarios); ``MDT_RESOURCES_DIR``
    points elsewhere (a self-test of a damaged copy, an agency's own forms)."""
    override = os.environ.get("MDT_RESOURCES_DIR")
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parent.parent / "resources"


def _home() -> Path | None:
    home = os.environ.get("MDT_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    """Per-user data: one folder per profile with its encrypted cache."""
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def config_dir() -> Path:
    """Settings (no criminal-justice data ever goes here)."""
    home = _home()
    path = home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, APP_NAME))
    path.mkdir(parents=True, exist_ok=True)
    return path


def profile_dir(profile: str) -> Path:
    """The folder of one user profile (its cache file lives here)."""
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in profile)
    path = data_dir() / "profiles" / safe
    path.mkdir(parents=True, exist_ok=True)
    return path
