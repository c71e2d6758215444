"""Where MDT finds its resources and keeps its files.

Set ``MDT_HOME`` to put everything (settings, caches, logs) under one folder: tests, training
laptops and portable installs use it. Otherwise the platform's usual places are used
(``platformdirs``): on Linux ``~/.local/share/MDT`` and ``~/.config/MDT``, on Windows
``%LOCALAPPDATA%\\MDT\\MDT``.
"""

from __future__ import annotations

import importlib.resources
import os
import re
import sys
from pathlib import Path

import platformdirs

APP_NAME = "MDT"


def resources_dir() -> Path:
    """The shipped resources (forms, code tables, styles, sounds, scenarios): the installed
    package ``mdt_resources`` (the top-level ``resources/`` folder, see ``pyproject.toml``), read
    through :mod:`importlib.resources`. ``MDT_RESOURCES_DIR`` points elsewhere (a self-test of a
    damaged copy, an agency's own forms); a PyInstaller build has them in its ``resources``
    folder; a checkout that was never installed uses its own ``resources/``."""
    override = os.environ.get("MDT_RESOURCES_DIR")
    if override:
        return Path(override)
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    try:
        return Path(str(importlib.resources.files("mdt_resources")))
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "resources"


def _home() -> Path | None:
    home = os.environ.get("MDT_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    """Per-user data: one folder per profile with its encrypted cache."""
    home = _home()
    path = home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, APP_NAME))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def config_dir() -> Path:
    """Settings (no criminal-justice data ever goes here)."""
    home = _home()
    path = home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, APP_NAME))
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


# A user id becomes a folder name: letters, digits, ".", "_" and "-" only, starting with a letter
# or a digit (so never "", ".", ".." or a hidden name), at most 64 characters. Anything else is
# refused, not rewritten: "a/b" and "a_b" must never share a folder.
USER_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def check_user_id(user_id: object) -> str:
    """``user_id`` if it is one this terminal can keep a profile for; InvalidUserIdError (with a
    sentence saying what is allowed) otherwise. Every id from outside (a login answer, the
    command line, ``last_user`` in the settings) goes through this before it becomes a path."""
    from mdt.store.errors import InvalidUserIdError

    if not isinstance(user_id, str) or not USER_ID.fullmatch(user_id):
        raise InvalidUserIdError(str(user_id))
    return user_id


def profile_dir(profile: str, *, create: bool = False) -> Path:
    """The folder of one user profile (its cache file lives here). Looking it up creates
    nothing; ``create`` makes it (owner-only) when a profile is being created."""
    path = data_dir() / "profiles" / check_user_id(profile)
    if create:
        path.parent.mkdir(exist_ok=True, mode=0o700)
        path.mkdir(exist_ok=True, mode=0o700)
    return path
