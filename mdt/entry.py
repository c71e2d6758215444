"""The one parser of ``mdt``: no command (or ``mdt gui``) opens the GUI, the other commands are
the headless command line (:mod:`mdt.cli`). The same flag means the same thing in both faces:
``--gateway URL`` and ``--ca-bundle FILE``. Light on purpose (argparse only): the GUI's first
window does not wait for the command line's imports, nor the command line for Qt's.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from mdt import __version__

GUI = "gui"


def _gateway_flags(parser: argparse.ArgumentParser, default: str | None = None) -> None:
    # --gateway-url: the GUI's old spelling, still understood
    parser.add_argument("--gateway", "--gateway-url", dest="gateway", metavar="URL",
                        default=default,
                        help="gateway base URL, e.g. https://switch.agency.example")
    parser.add_argument("--ca-bundle", metavar="FILE", default=default,
                        help="PEM file of the agency CA that signed the gateway's certificate")


def _gui_flags(parser: argparse.ArgumentParser, *, sub_command: bool = False) -> None:
    """The GUI's flags, on ``mdt`` itself and on ``mdt gui``. In the sub-command their defaults
    are SUPPRESS, so a flag given before ``gui`` is not undone by its absence after it."""
    default = argparse.SUPPRESS if sub_command else None
    _gateway_flags(parser, default)
    parser.add_argument("--theme", choices=("day", "night"), default=default,
                        help="colour theme")
    parser.add_argument("--startup-probe", action="store_true",
                        default=argparse.SUPPRESS if sub_command else False,
                        help=argparse.SUPPRESS)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdt", description="MDT mobile data terminal. Without a command it opens the GUI "
        "(the same as 'mdt gui'); the other commands are the headless command line.")
    parser.add_argument("--version", action="version", version=f"mdt {__version__}")
    parser.add_argument("--self-test", action="store_true",
                        help="check that this install can start (packaged builds), then exit")
    _gui_flags(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(cli=name)
        return p

    _gui_flags(sub.add_parser("gui", help="Open the GUI (what 'mdt' alone does).",
                              description="Open the GUI (what 'mdt' alone does)."),
               sub_command=True)

    p = add("login", "Sign in to the gateway (password + one-time code).")
    _gateway_flags(p, argparse.SUPPRESS)  # also understood before the command
    p.add_argument("--user", help="user id")
    p.add_argument("--start-fresh", action="store_true",
                   help="after a password change, erase this terminal's old cache and start a new "
                        "one (without it, the previous password is asked for once)")

    p = add("send", "Queue a message (e.g. QV LIC=ABC1234 LIS=MD) and send it.")
    p.add_argument("mke", help="message key: QW, QV, DQ, RQ, IAQ, QH, QR, QG, YQ, YR, AM")
    p.add_argument("fields", nargs="*", help="TAG=value pairs")
    p.add_argument("--dest", help="destination(s), comma separated")
    p.add_argument("--purpose", help="purpose code where the key needs one")
    p.add_argument("--user")
    p.add_argument("--queue-only", action="store_true", help="queue without trying to send")

    p = add("sync", "Send the outbox and fetch new events.")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.add_argument("--deadline", type=float, default=120.0,
                   help="seconds for the whole round (default 120); exit code 6 past it")
    p.add_argument("--user")

    p = add("quarantine", "Unreadable messages from the switch, kept aside: list, show raw "
                          "text, acknowledge.")
    p.add_argument("--show", metavar="ID", help="the raw text of one (its id or first 6+ chars)")
    p.add_argument("--ack", metavar="ID", help="acknowledge one (audited; it stays kept)")
    p.add_argument("--all", action="store_true", help="acknowledged ones too")
    p.add_argument("--json", action="store_true")
    p.add_argument("--user")

    p = add("show", "Show recent returns from the encrypted cache.")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--user")

    p = add("search", "Search cached records offline (plate, VIN, name, NIC ...).")
    p.add_argument("text", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--user")

    p = add("alerts", "Show open alerts (hits, detainers, hit confirmations).")
    p.add_argument("--all", action="store_true", help="the whole history, acknowledged too")
    p.add_argument("--json", action="store_true")
    p.add_argument("--user")

    p = add("ack", "Acknowledge an alert (recorded in the audit log).")
    p.add_argument("alert_id", help="the alert's id or its first characters")
    p.add_argument("--note", help="e.g. the booking number a detainer concerns")
    p.add_argument("--user")

    p = add("confirm", "Send a hit confirmation request (YQ) built from a hit.")
    p.add_argument("target", help="the return's id (or its start); with --next: the NIC")
    p.add_argument("record", type=int, nargs="?", default=0,
                   help="which record of the return (0 = the first)")
    p.add_argument("--priority", choices=["U", "R"], default="U",
                   help="U urgent (10 minutes, default), R routine (1 hour)")
    p.add_argument("--next", action="store_true",
                   help="send the next request (RNO 2, 3) for an unanswered YQ")
    p.add_argument("--queue-only", action="store_true")
    p.add_argument("--user")

    p = add("answer", "Answer a hit confirmation request (YR) in the agency queue.")
    p.add_argument("nic")
    p.add_argument("status", choices=["Y", "N", "T"],
                   help="Y confirmed, N not confirmed, T will confirm by --by HHMM")
    p.add_argument("--by", help="HHMM, with T")
    p.add_argument("--remarks")
    p.add_argument("--queue-only", action="store_true")
    p.add_argument("--user")

    p = add("queue", "Show the agency's hit confirmation requests.")
    p.add_argument("--user")

    p = add("cancel", "Cancel a queued message before it goes out.")
    p.add_argument("message_id")
    p.add_argument("--user")

    p = add("logout", "End the gateway session (and erase, if the agency says so).")
    p.add_argument("--user")

    p = add("wipe", "Destroy a profile's key and cache on this terminal.")
    p.add_argument("--user")
    p.add_argument("--yes", action="store_true", help="really do it")

    p = add("audit", "Check the audit log.")
    p.add_argument("action", choices=["verify"])
    p.add_argument("--user")

    p = add("cache", "Check the encrypted cache.")
    p.add_argument("action", choices=["check"])
    p.add_argument("--user")

    p = sub.add_parser("msg", help="Build or parse message text without a gateway.",
                       description="Build or parse message text without a gateway.")
    msg_sub = p.add_subparsers(dest="msg_command", required=True)
    b = msg_sub.add_parser("build", help="print the fixed-format text of a message")
    b.set_defaults(cli="msg build")
    b.add_argument("mke")
    b.add_argument("fields", nargs="*")
    b.add_argument("--ori", default="MD1012600")
    b.add_argument("--dest")
    b.add_argument("--purpose")
    b.add_argument("--json", action="store_true")
    r = msg_sub.add_parser("parse", help="parse a return text file (- for stdin) into JSON")
    r.set_defaults(cli="msg parse")
    r.add_argument("file")
    return parser


def _gui_alone(argv: list[str]) -> argparse.Namespace | None:
    """The GUI's own flags and nothing else (how a desktop starts ``mdt``), read without making
    the command line's twenty sub-parsers first (some 10 ms before the first window). None for
    anything else (a command, ``--help``, an unknown, shortened or wrong flag): the whole parser
    reads it then, with its sentences. The same namespace as the whole parser's."""
    parser = argparse.ArgumentParser(prog="mdt", add_help=False, allow_abbrev=False,
                                     exit_on_error=False)
    _gui_flags(parser)
    try:
        args, rest = parser.parse_known_args(argv)
    except argparse.ArgumentError:
        return None
    if rest:
        return None
    args.self_test, args.command = False, None
    return args


def parse(argv: Sequence[str]) -> argparse.Namespace:
    """Parse ``mdt``'s arguments; ``command`` is None or ``"gui"`` for the GUI, ``cli`` names the
    command-line handler otherwise. Usage errors exit 2 with argparse's sentence."""
    gui = _gui_alone(list(argv))
    if gui is not None:
        return gui
    parser = build_parser()
    args = parser.parse_args(list(argv))
    if args.command not in (None, GUI) and (args.theme or args.startup_probe):
        parser.error(f"--theme is a GUI flag: 'mdt {args.command}' is the command line")
    return args


def wants_gui(args: argparse.Namespace) -> bool:
    return args.command in (None, GUI) and not args.self_test
