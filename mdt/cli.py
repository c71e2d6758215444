"""The headless command line: ``mdt login``, ``mdt send``, ``mdt sync``, ``mdt show``,
``mdt alerts`` / ``ack`` / ``confirm`` / ``answer`` / ``queue``. No Qt.

It runs the same :class:`~mdt.terminal.Terminal` as the GUI. Passwords and one-time codes come
from a prompt, or from ``MDT_PASSWORD`` / ``MDT_OTP`` for scripts. Exit codes: 0 done,
2 usage or invalid input, 3 gateway unreachable, 4 refused by the gateway (bad credentials,
locked, expired session), 5 cache or keystore problem.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import io
import json
import os
import re
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from mdt import __version__
from mdt.agency_config import (
    AgencyConfigError,
    TrainingNotAllowed,
    apply_agency_config,
    load_agency_config,
)
from mdt.core.forms import FormInvalid
from mdt.net.gateway import AuthExpired, GatewayRefused, GatewayUnreachable
from mdt.settings import Settings, SettingsError
from mdt.store.errors import CacheError
from mdt.terminal import Terminal

EXIT_OK, EXIT_USAGE, EXIT_UNREACHABLE, EXIT_REFUSED, EXIT_CACHE = 0, 2, 3, 4, 5
EXIT_DEADLINE = 6  # ``mdt sync --once`` did not finish within its deadline


class CliError(Exception):
    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


def _secret(env: str, prompt: str) -> str:
    value = os.environ.get(env)
    if value:
        return value
    if not sys.stdin.isatty():
        raise CliError(f"No {prompt.lower()} given: set {env} or run in a terminal.", EXIT_USAGE)
    return getpass.getpass(f"{prompt}: ")


def _field_pairs(pairs: Sequence[str]) -> dict[str, str]:
    values: dict[str, str] = {}
    for pair in pairs:
        tag, sep, value = pair.partition("=")
        if not sep or not tag:
            raise CliError(f"'{pair}' is not TAG=value (for example LIC=ABC1234).", EXIT_USAGE)
        values[tag.strip().upper()] = value
    return values


def _age(iso: str, now: datetime | None = None) -> str:
    from mdt.core.present import age_text

    return age_text(iso, now)


def _user(args: argparse.Namespace, terminal: Terminal) -> str:
    user = args.user or terminal.settings.get("last_user")
    if not user:
        raise CliError("No user: pass --user ID (or log in once with 'mdt login').", EXIT_USAGE)
    return str(user)


def _open(args: argparse.Namespace, terminal: Terminal) -> None:
    terminal.unlock(_user(args, terminal), _secret("MDT_PASSWORD", "Password"))
    _tell_notices(terminal)


def _tell_notices(terminal: Terminal) -> None:
    """What the sign-in must tell the person (a damaged cache set aside, a password change)."""
    for notice in terminal.notices:
        print(f"mdt: {notice}", file=sys.stderr)


def cmd_login(args: argparse.Namespace, terminal: Terminal) -> int:
    from mdt.store.errors import PasswordChangedError

    if args.gateway:  # for this sign-in; kept (saved) only once it worked
        terminal.set_gateway(args.gateway, args.ca_bundle or "", save=False)
    user = _user(args, terminal)
    password = _secret("MDT_PASSWORD", "Password")
    otp = _secret("MDT_OTP", "One-time code")
    previous = os.environ.get("MDT_PREVIOUS_PASSWORD") or None
    try:
        operator = terminal.login(user, password, otp, previous_password=previous,
                                  start_fresh=args.start_fresh)
    except PasswordChangedError as exc:
        if previous is not None or not sys.stdin.isatty():
            raise CliError(f"{exc.user_message} Run 'mdt login' again with MDT_PREVIOUS_PASSWORD "
                           "set (or in a terminal, to be asked), or with --start-fresh.",
                           EXIT_CACHE) from exc
        print(exc.user_message, file=sys.stderr)
        previous = getpass.getpass("Previous password (empty: cancel): ")
        if not previous:
            raise CliError("Cancelled: nothing changed on this terminal.", EXIT_USAGE) from exc
        # The gateway's session from a moment ago goes on (its one-time code works once).
        operator = terminal.login(user, password, otp, previous_password=previous)
    _tell_notices(terminal)
    mode = "TRAINING gateway" if operator.training else "gateway"
    print(f"Signed in as {operator.name} ({operator.role}, {operator.ori}) on {mode} "
          f"{operator.gateway_url}.")
    return EXIT_OK


def cmd_send(args: argparse.Namespace, terminal: Terminal) -> int:
    _open(args, terminal)
    values = _field_pairs(args.fields)
    dest = [d.upper() for d in args.dest.split(",")] if args.dest else None
    message = terminal.send(args.mke.upper(), values, dest=dest, purpose=args.purpose)
    return _send_now(terminal, message, args.queue_only)


def _send_now(terminal: Terminal, message: dict[str, Any], queue_only: bool) -> int:
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


def cmd_alerts(args: argparse.Namespace, terminal: Terminal) -> int:
    """Open alerts (or all), loudest and soonest first, with the time left on the gateway's
    clock. Also raises the alerts of requests whose time ran out."""
    from mdt.core.alerts import parse_time
    from mdt.core.confirmation import deadline_text

    _open(args, terminal)
    desk = terminal.alert_desk
    snapshot = desk.snapshot()
    alerts = desk.history() if args.all else snapshot.open_alerts
    if args.json:
        print(json.dumps(alerts, indent=2))
        return EXIT_OK
    if not alerts:
        print("No open alerts.")
    for alert in alerts:
        deadline = parse_time(alert.get("deadline"))
        left = deadline_text(deadline - snapshot.now) if deadline else ""
        acked = f" — acknowledged by {alert['acked_by']}" if alert.get("acked_at") else ""
        print(f"{alert['id'][:8]} {alert['severity'].upper():8} {alert['title']}"
              + (f" [{left}]" if left else "") + acked)
    return EXIT_OK


def _alert_id(terminal: Terminal, prefix: str) -> str:
    matches = [a["id"] for a in terminal.alert_desk.history() if a["id"].startswith(prefix)]
    if len(matches) != 1:
        raise CliError(f"'{prefix}' matches {len(matches)} alerts: give more of the id.",
                       EXIT_USAGE)
    return matches[0]


def cmd_ack(args: argparse.Namespace, terminal: Terminal) -> int:
    _open(args, terminal)
    alert_id = _alert_id(terminal, args.alert_id)
    if terminal.alert_desk.acknowledge(alert_id, args.note or ""):
        print(f"Acknowledged {alert_id} (audited).")
    else:
        print(f"{alert_id} was already acknowledged.")
    return EXIT_OK


def cmd_confirm(args: argparse.Namespace, terminal: Terminal) -> int:
    """A YQ for a hit: built from the record (first request) or from the last request (next)."""
    from mdt.core.confirmation import ConfirmationError

    _open(args, terminal)
    desk = terminal.alert_desk
    try:
        if args.next:
            draft = desk.draft_next_request(args.target)
        else:
            returns = [r for r in terminal.recent_returns(500) if r.id.startswith(args.target)]
            if len(returns) != 1:
                raise CliError(f"'{args.target}' matches {len(returns)} cached returns.",
                               EXIT_USAGE)
            draft = desk.draft_yq(returns[0].id, args.record, args.priority)
    except ConfirmationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    return _send_now(terminal, desk.send("YQ", draft), args.queue_only)


def cmd_answer(args: argparse.Namespace, terminal: Terminal) -> int:
    """A YR for a request in the agency queue."""
    from mdt.core.confirmation import ConfirmationError

    _open(args, terminal)
    try:
        draft = terminal.alert_desk.draft_yr(args.nic.upper(), args.status, confirm_by=args.by
                                             or "", remarks=args.remarks or "")
    except ConfirmationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    return _send_now(terminal, terminal.alert_desk.send("YR", draft), args.queue_only)


def cmd_queue(args: argparse.Namespace, terminal: Terminal) -> int:
    from mdt.core.confirmation import deadline_text

    _open(args, terminal)
    snapshot = terminal.alert_desk.snapshot()
    if not snapshot.queue:
        print("No hit confirmation requests for the agency.")
    for item in snapshot.queue:
        state = "answered" if item.answered_by else deadline_text(item.remaining(snapshot.now))
        print(f"{item.nic} request {item.rno} from {item.request.get('requesting_ori')} "
              f"({'urgent' if item.request.get('pri') == 'U' else 'routine'}): {state}")
    return EXIT_OK


def cmd_sync(args: argparse.Namespace, terminal: Terminal) -> int:
    """One round (``--once``): the outbox out, the inbox in, within a total deadline. Says what
    was kept aside (unreadable messages from the switch, protocol errors) and why it stopped."""
    from mdt.net.sync import SyncDeadline, describe_failure

    _open(args, terminal)
    if not args.once:
        raise CliError("Only 'mdt sync --once' runs headless; the GUI keeps in sync itself.",
                       EXIT_USAGE)
    try:
        report = terminal.sync_once(deadline=args.deadline)
    except SyncDeadline as exc:
        print(f"mdt: {exc.message}", file=sys.stderr)
        return EXIT_DEADLINE
    except (GatewayRefused, CacheError) as exc:
        _, sentence = describe_failure(exc, str(getattr(exc, "sync_phase", "")))
        said = exc.message if isinstance(exc, GatewayRefused) else ""
        print(f"mdt: {sentence}" + (f": {said}" if said else "."), file=sys.stderr)
        return EXIT_REFUSED if isinstance(exc, GatewayRefused) else EXIT_CACHE
    print(f"Sent {report.sent}, refused {report.failed}, applied {report.applied} events "
          f"(inbox at {report.cursor}).")
    if report.quarantined:
        many = report.quarantined != 1
        print(f"{report.quarantined} unreadable message{'s' if many else ''} from the switch "
              f"{'were' if many else 'was'} kept aside (quarantined, encrypted); the next "
              "events were applied. See 'mdt quarantine'.")
    for error in report.protocol_errors:
        print(f"Protocol error from the gateway: {error}. See 'mdt quarantine'.")
    return EXIT_OK


def cmd_quarantine(args: argparse.Namespace, terminal: Terminal) -> int:
    """Unreadable messages from the switch (and protocol errors): list, show the raw text,
    acknowledge."""
    _open(args, terminal)
    if args.show:
        found = terminal.quarantined_raw(args.show)
        if found is None:
            raise CliError(f"No single quarantined message matches '{args.show}'.", EXIT_USAGE)
        if args.json:
            print(json.dumps(found.to_dict(with_raw=True), indent=2))
        else:
            print(found.title)
            print(f"received {found.received_at}; event id {found.event_id or '?'}, "
                  f"type {found.event_type or '?'}")
            print("--- raw text as the switch sent it ---")
            print(found.raw)
        return EXIT_OK
    if args.ack:
        if terminal.acknowledge_quarantined(args.ack):
            print(f"Acknowledged {args.ack} (audited); it stays kept.")
            return EXIT_OK
        raise CliError(f"No open quarantined message matches '{args.ack}'.", EXIT_USAGE)
    items = terminal.quarantined(open_only=not args.all)
    if args.json:
        print(json.dumps([q.to_dict() for q in items], indent=2))
        return EXIT_OK
    if not items:
        print("No unreadable messages from the switch.")
    for item in items:
        seen = " — acknowledged" if item.acknowledged_at else ""
        print(f"{item.id[:8]} {item.received_at} {item.title}{seen}")
    if items:
        print("Show the raw text with 'mdt quarantine --show ID'.")
    return EXIT_OK


def _headline(ret: Any) -> Any:
    from mdt.core.headline import decide

    return decide(ret.records, ret.text)


def _return_dict(ret: Any) -> dict[str, Any]:
    query = ret.query or {}
    return {
        "id": ret.id, "message_id": ret.message_id, "mke": ret.mke, "source": ret.source,
        "hit": ret.hit, "received_at": ret.received_at, "part": ret.part, "parts": ret.parts,
        "cached": True, "query": {"mke": query.get("mke"), "fields": query.get("fields")},
        "headline": _headline(ret).to_dict(), "records": ret.records, "text": ret.text,
    }


def cmd_show(args: argparse.Namespace, terminal: Terminal) -> int:
    _open(args, terminal)
    returns = terminal.recent_returns(args.limit)
    for ret in returns:  # each return shown is a read of CJI: audited, as in the GUI
        terminal.viewed(ret.id)
    if args.json:
        print(json.dumps([_return_dict(r) for r in returns], indent=2))
        return EXIT_OK
    if not returns:
        print("No returns in the cache.")
    for ret in returns:
        query = ret.query or {}
        asked = " ".join(f"{k}/{v}" for k, v in (query.get("fields") or {}).items())
        headline = _headline(ret)
        state = {"hit": "HIT", "notable": "NOTABLE"}.get(headline.kind.value, "no hit")
        print(f"[{state}] {query.get('mke', ret.mke)} {asked} — from {ret.source}, "
              f"cached, received {_age(ret.received_at)}")
        print(f"    {headline.text}")
        for record in ret.records:
            for caveat in record.get("caveats", []):
                print(f"    CAVEAT: {caveat}")
            for line in record.get("narrative") or []:
                print(f"    TEXT: {line}")
    from mdt.core.confirmation import answered_requests
    from mdt.core.present import query_headline, query_summary

    # Queries without a return: still waiting (with the no-answer rule), or answered by the
    # switch with a status or a refusal - the same headline as the GUI's row.
    pending = [m for m in terminal.messages(200) if m.get("state") in
               ("queued", "sending", "accepted", "acknowledged", "status", "failed")]
    answered = answered_requests(terminal.alert_desk.snapshot().confirmations) \
        if any(m.get("mke") == "YQ" for m in pending) else {}
    after = float(terminal.settings.get("unanswered_after_minutes"))
    for message in pending:
        words = query_headline(message, unanswered_after=after,
                               answer=answered.get(str(message.get("id")))).text
        print(f"[{message['state']}] {message['mke']} {message['id']} — "
              f"{query_summary(message)} — {words}")
    return EXIT_OK


def cmd_msg_build(args: argparse.Namespace, terminal: Terminal) -> int:
    from mdt.core.forms import load_form
    from mdt.core.message import OperatorProfile, build_message

    profile = OperatorProfile(user_id="cli", name="", ori=args.ori, unit="", atn="", phn="")
    dest = [d.upper() for d in args.dest.split(",")] if args.dest else None
    message = build_message(load_form(args.mke.upper()), _field_pairs(args.fields), profile,
                            dest=dest, purpose=args.purpose)
    print(json.dumps(message, indent=2) if args.json else message["text"])
    return EXIT_OK


def cmd_msg_parse(args: argparse.Namespace, terminal: Terminal) -> int:
    from mdt.core.returns import parse_return

    if args.file == "-":
        text = sys.stdin.read()
    else:
        with open(args.file, encoding="utf-8", errors="replace") as handle:
            text = handle.read()
    from mdt.core.headline import decide

    parsed = parse_return(text)
    print(json.dumps({"kind": parsed.kind, "hit": parsed.hit,
                      "headline": decide(None, text, parsed=parsed).to_dict(),
                      "header": list(parsed.header) if parsed.header else None,
                      "caveats": parsed.caveats, "status_text": parsed.status_text,
                      "narrative": parsed.narrative, "warnings": parsed.warnings,
                      "records": [r.to_dict() for r in parsed.records]}, indent=2))
    return EXIT_OK


def cmd_search(args: argparse.Namespace, terminal: Terminal) -> int:
    _open(args, terminal)
    hits, _cursor = terminal.search(" ".join(args.text), args.limit)
    if args.json:
        print(json.dumps([{"return_id": h.return_id, "record": h.record, "how": h.how,
                           "file": h.file, "hit": h.hit, "received_at": h.received_at,
                           "fields": h.fields} for h in hits], indent=2))
        return EXIT_OK
    if not hits:
        print("Nothing in the cache matches.")
    for h in hits:
        state = "HIT" if h.hit else "info"
        who = h.fields.get("NAM") or h.fields.get("LIC") or h.fields.get("VIN") or ""
        print(f"[{state}] {h.file} {who} — matched by {h.how}, received {_age(h.received_at)}")
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace, terminal: Terminal) -> int:
    _open(args, terminal)
    if terminal.cancel(args.message_id):
        print(f"Cancelled {args.message_id}: it will not be sent.")
        return EXIT_OK
    print(f"mdt: {args.message_id} is not waiting in the outbox (already sent, or unknown).",
          file=sys.stderr)
    return EXIT_USAGE


def cmd_logout(args: argparse.Namespace, terminal: Terminal) -> int:
    _open(args, terminal)
    terminal.logout()
    erased = " and erased the cached returns" if terminal.settings.get("erase_on_logout") else ""
    print(f"Logged out{erased}.")
    return EXIT_OK


def cmd_wipe(args: argparse.Namespace, terminal: Terminal) -> int:
    user = _user(args, terminal)
    if not args.yes:
        raise CliError(f"This destroys {user}'s cache key and cached files for good; "
                       "add --yes to do it.", EXIT_USAGE)
    terminal.wipe(user)
    print(f"Wiped {user}'s profile on this terminal.")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace, terminal: Terminal) -> int:
    _open(args, terminal)
    report = terminal.verify_audit()
    if report.ok:
        print(f"Audit log intact: {report.checked} records, chain verified.")
        return EXIT_OK
    for problem in report.problems:
        print(problem)
    return EXIT_CACHE


def cmd_cache_check(args: argparse.Namespace, terminal: Terminal) -> int:
    _open(args, terminal)
    report = terminal.check()
    if report.ok:
        print("Cache OK: every page verified, audit chain intact.")
        return EXIT_OK
    for problem in report.problems:
        print(problem)
    return EXIT_CACHE


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mdt", description="MDT mobile data terminal. Without a command it opens the GUI.")
    parser.add_argument("--version", action="version", version=f"mdt {__version__}")
    sub = parser.add_subparsers(dest="command")

    def add(name: str, fn: Callable[[argparse.Namespace, Terminal], int], help_text: str
            ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.set_defaults(func=fn)
        return p

    p = add("login", cmd_login, "Sign in to the gateway (password + one-time code).")
    p.add_argument("--gateway", help="gateway base URL, e.g. https://switch.agency.example")
    p.add_argument("--ca-bundle", help="PEM file of the agency CA that signed the gateway's cert")
    p.add_argument("--user", help="user id")
    p.add_argument("--start-fresh", action="store_true",
                   help="after a password change, erase this terminal's old cache and start a new "
                        "one (without it, the previous password is asked for once)")

    p = add("send", cmd_send, "Queue a message (e.g. QV LIC=ABC1234 LIS=MD) and send it.")
    p.add_argument("mke", help="message key: QW, QV, DQ, RQ, IAQ, QH, QR, QG, YQ, YR, AM")
    p.add_argument("fields", nargs="*", help="TAG=value pairs")
    p.add_argument("--dest", help="destination(s), comma separated")
    p.add_argument("--purpose", help="purpose code where the key needs one")
    p.add_argument("--user")
    p.add_argument("--queue-only", action="store_true", help="queue without trying to send")

    p = add("sync", cmd_sync, "Send the outbox and fetch new events.")
    p.add_argument("--once", action="store_true", help="one round, then exit")
    p.add_argument("--deadline", type=float, default=120.0,
                   help="seconds for the whole round (default 120); exit code 6 past it")
    p.add_argument("--user")

    p = add("quarantine", cmd_quarantine,
            "Unreadable messages from the switch, kept aside: list, show raw text, acknowledge.")
    p.add_argument("--show", metavar="ID", help="the raw text of one (its id or first 6+ chars)")
    p.add_argument("--ack", metavar="ID", help="acknowledge one (audited; it stays kept)")
    p.add_argument("--all", action="store_true", help="acknowledged ones too")
    p.add_argument("--json", action="store_true")
    p.add_argument("--user")

    p = add("show", cmd_show, "Show recent returns from the encrypted cache.")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--user")

    p = add("search", cmd_search, "Search cached records offline (plate, VIN, name, NIC ...).")
    p.add_argument("text", nargs="+")
    p.add_argument("--json", action="store_true")
    p.add_argument("--limit", type=int, default=20)
    p.add_argument("--user")

    p = add("alerts", cmd_alerts, "Show open alerts (hits, detainers, hit confirmations).")
    p.add_argument("--all", action="store_true", help="the whole history, acknowledged too")
    p.add_argument("--json", action="store_true")
    p.add_argument("--user")

    p = add("ack", cmd_ack, "Acknowledge an alert (recorded in the audit log).")
    p.add_argument("alert_id", help="the alert's id or its first characters")
    p.add_argument("--note", help="e.g. the booking number a detainer concerns")
    p.add_argument("--user")

    p = add("confirm", cmd_confirm, "Send a hit confirmation request (YQ) built from a hit.")
    p.add_argument("target", help="the return's id (or its start); with --next: the NIC")
    p.add_argument("record", type=int, nargs="?", default=0,
                   help="which record of the return (0 = the first)")
    p.add_argument("--priority", choices=["U", "R"], default="U",
                   help="U urgent (10 minutes, default), R routine (1 hour)")
    p.add_argument("--next", action="store_true",
                   help="send the next request (RNO 2, 3) for an unanswered YQ")
    p.add_argument("--queue-only", action="store_true")
    p.add_argument("--user")

    p = add("answer", cmd_answer, "Answer a hit confirmation request (YR) in the agency queue.")
    p.add_argument("nic")
    p.add_argument("status", choices=["Y", "N", "T"],
                   help="Y confirmed, N not confirmed, T will confirm by --by HHMM")
    p.add_argument("--by", help="HHMM, with T")
    p.add_argument("--remarks")
    p.add_argument("--queue-only", action="store_true")
    p.add_argument("--user")

    p = add("queue", cmd_queue, "Show the agency's hit confirmation requests.")
    p.add_argument("--user")

    p = add("cancel", cmd_cancel, "Cancel a queued message before it goes out.")
    p.add_argument("message_id")
    p.add_argument("--user")

    p = add("logout", cmd_logout, "End the gateway session (and erase, if the agency says so).")
    p.add_argument("--user")

    p = add("wipe", cmd_wipe, "Destroy a profile's key and cache on this terminal.")
    p.add_argument("--user")
    p.add_argument("--yes", action="store_true", help="really do it")

    p = add("audit", cmd_audit_verify, "Check the audit log.")
    p.add_argument("action", choices=["verify"])
    p.add_argument("--user")

    p = add("cache", cmd_cache_check, "Check the encrypted cache.")
    p.add_argument("action", choices=["check"])
    p.add_argument("--user")

    p = add("msg", cmd_msg_build, "Build or parse message text without a gateway.")
    msg_sub = p.add_subparsers(dest="msg_command", required=True)
    b = msg_sub.add_parser("build", help="print the fixed-format text of a message")
    b.set_defaults(func=cmd_msg_build)
    b.add_argument("mke")
    b.add_argument("fields", nargs="*")
    b.add_argument("--ori", default="MD1012600")
    b.add_argument("--dest")
    b.add_argument("--purpose")
    b.add_argument("--json", action="store_true")
    r = msg_sub.add_parser("parse", help="parse a return text file (- for stdin) into JSON")
    r.set_defaults(func=cmd_msg_parse)
    r.add_argument("file")
    return parser


_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """``text`` with every control character (escape sequences, NUL, bidi overrides) shown as a
    visible ``\\xNN`` / ``\\uNNNN`` instead of acting on the terminal: gateway text is hostile."""
    return _UNSAFE.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 0x100
                       else f"\\u{ord(m.group()):04x}", text)


class _SafeStream(io.TextIOBase):
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


def run(argv: Sequence[str]) -> int:
    with contextlib.redirect_stdout(_SafeStream(sys.stdout)), \
            contextlib.redirect_stderr(_SafeStream(sys.stderr)):
        return _run(argv)


def _run(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    terminal: Terminal | None = None
    try:
        settings = Settings()
        agency = load_agency_config()
        apply_agency_config(settings, agency)
        terminal = Terminal(settings, agency=agency)
        return int(args.func(args, terminal))
    except AgencyConfigError as exc:
        print(f"mdt: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except TrainingNotAllowed as exc:
        print(f"mdt: {exc}", file=sys.stderr)
        return EXIT_REFUSED
    except CliError as exc:
        print(f"mdt: {exc}", file=sys.stderr)
        return exc.code
    except FormInvalid as exc:
        for error in exc.errors:
            print(f"mdt: {error.message}", file=sys.stderr)
        return EXIT_USAGE
    except GatewayUnreachable as exc:
        print(f"mdt: {exc.message}", file=sys.stderr)
        return EXIT_UNREACHABLE
    except (GatewayRefused, AuthExpired) as exc:
        print(f"mdt: {exc.message}", file=sys.stderr)
        return EXIT_REFUSED
    except CacheError as exc:
        print(f"mdt: {exc.user_message}", file=sys.stderr)
        return EXIT_CACHE
    except SettingsError as exc:
        print(f"mdt: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        if terminal is not None:
            terminal.close()
