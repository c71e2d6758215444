"""What every command of the command line shares: exit codes, the one error type, secrets
from a prompt or the environment, the user a command is for, and output that cannot drive the
terminal. No Qt."""

from __future__ import annotations

import argparse
import getpass
import io
import os
import re
import sys
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from mdt.net.gateway import GatewayUnreachable
from mdt.services.terminal import Terminal

EXIT_OK, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_REFUSED, EXIT_CACHE = 0, 2, 3, 4, 5
EXIT_DEADLINE = 6  # ``mdt sync --once`` did not finish within its deadline



class CliError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliError(f"No {prompt.lower()} given: set {env} or run in a terminal.", EXIT_USAGE)
    return getpass.getpass(f"{prompt}: ")


def field_pairs(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        tag, sep, value = pair.partition("=")
        if not sep or not tag:
            raise CliError(f"'{pair}' is not TAG=value (for example LIC=ABC1234).", EXIT_USAGE)
        values[tag.strip().upper()] = value
    return values


def age(iso: str, now: datetime | None = None) -> str:
    from mdt.core.present import age_text

    return age_text(iso, now)


def user_for(args: argparse.Namespace, terminal: Terminal) -> str:
    user = args.user or terminal.settings.get("last_user")
    if not user:
        raise CliError("No user: pass --user ID (or log in once with 'mdt login').", EXIT_USAGE)
    return str(user)


def open_profile(args: argparse.Namespace, terminal: Terminal) -> None:
    terminal.unlock(user_for(args, terminal), secret("MDT_PASSWORD", "Password"))
    tell_notices(terminal)


def tell_notices(terminal: Terminal) -> None:
    """What the sign-in must tell the person (a damaged cache set aside, a password change)."""
    for notice in terminal.notices:
        print(f"mdt: {notice}", file=sys.stderr)


def send_now(terminal: Terminal, message: dict[str, Any], queue_only: bool) -> int:
    print(f"Queued {message['mke']} {message['id']}:")
    print(message["text"])
    if not queue_only:
        try:
            report = terminal.sync_once()
        except GatewayUnreachable as exc:
            print(f"Offline ({exc.message}); the message stays queued. Run 'mdt sync' later.")
            return EXIT_OK
        print(f"Sent {report.sent}; {report.applied} new events.")
    return EXIT_OK


_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character (escape sequences, NUL, bidi overrides) shown as a
    visible ``\\xNN`` / ``\\uNNNN`` instead of acting on the terminal: gateway text is hostile."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


class SafeStream(io.TextIOBase):
    """stdout / stderr for the command line: what is printed cannot drive the terminal."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def write(self, text: str) -> int:
        self.inner.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self.inner.flush()

    def isatty(self) -> bool:
        return bool(self.inner.isatty())
