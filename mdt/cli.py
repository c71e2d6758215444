"""The headless command line: ``mdt login``, ``mdt send``, ``mdt sync``, ``mdt show``,
``mdt alerts`` / ``ack`` / ``confirm`` / ``answer`` / ``queue``. No Qt.

It runs the same :class:`~mdt.services.terminal.Terminal` as the GUI. Passwords and one-time codes come
from a prompt, or from ``MDT_PASSWORD`` / ``MDT_OTP`` for scripts. Exit codes: 0 done,
2 usage or invalid input, 3 gateway unreachable, 4 refused by the gateway (bad credentials,
locked, expired session), 5 cache or keystore problem.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any

from mdt.agency_config import (
    AgencyConfigError,
    TrainingNotAllowed,
    apply_agency_config,
    load_agency_config,
)
from mdt.cli_alerts import cmd_ack, cmd_alerts, cmd_answer, cmd_confirm, cmd_queue
from mdt.cli_common import (
    EXIT_CACHE,
    EXIT_DEADLINE,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    CliError,
    SafeStream,
    age,
    field_pairs,
    open_profile,
    printable,
    secret,
    send_now,
    tell_notices,
    user_for,
)
from mdt.core.forms import FormInvalid
from mdt.net.gateway import AuthExpired, GatewayRefused, GatewayUnreachable
from mdt.services.terminal import Terminal

__all__ = ["COMMANDS", "EXIT_CACHE", "EXIT_DEADLINE", "EXIT_OK", "EXIT_REFUSED",
           "EXIT_UNREACHABLE", "EXIT_USAGE", "CliError", "printable", "run"]
from mdt.settings import Settings, SettingsError
from mdt.store.errors import CacheError


def cmd_login(args: argparse.Namespace, terminal: Terminal) -> int:
    from mdt.store.errors import PasswordChangedError

    if args.gateway:  # for this sign-in; kept (saved) only once it worked
        terminal.set_gateway(args.gateway, args.ca_bundle or "", save=False)
    user = user_for(args, terminal)
    password = secret("MDT_PASSWORD", "Password")
    otp = secret("MDT_OTP", "One-time code")
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
    tell_notices(terminal)
    mode = "TRAINING gateway" if operator.training else "gateway"
    print(f"Signed in as {operator.name} ({operator.role}, {operator.ori}) on {mode} "
          f"{operator.gateway_url}.")
    return EXIT_OK


def cmd_send(args: argparse.Namespace, terminal: Terminal) -> int:
    open_profile(args, terminal)
    values = field_pairs(args.fields)
    dest = [d.upper() for d in args.dest.split(",")] if args.dest else None
    message = terminal.send(args.mke.upper(), values, dest=dest, purpose=args.purpose)
    return send_now(terminal, message, args.queue_only)


def cmd_sync(args: argparse.Namespace, terminal: Terminal) -> int:
    """One round (``--once``): the outbox out, the inbox in, within a total deadline. Says what
    was kept aside (unreadable messages from the switch, protocol errors) and why it stopped."""
    from mdt.net.sync import SyncDeadline, describe_failure

    open_profile(args, terminal)
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
    open_profile(args, terminal)
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
    open_profile(args, terminal)
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
              f"cached, received {age(ret.received_at)}")
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
    message = build_message(load_form(args.mke.upper()), field_pairs(args.fields), profile,
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
    open_profile(args, terminal)
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
        print(f"[{state}] {h.file} {who} — matched by {h.how}, received {age(h.received_at)}")
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace, terminal: Terminal) -> int:
    open_profile(args, terminal)
    if terminal.cancel(args.message_id):
        print(f"Cancelled {args.message_id}: it will not be sent.")
        return EXIT_OK
    print(f"mdt: {args.message_id} is not waiting in the outbox (already sent, or unknown).",
          file=sys.stderr)
    return EXIT_USAGE


def cmd_logout(args: argparse.Namespace, terminal: Terminal) -> int:
    open_profile(args, terminal)
    terminal.logout()
    erased = " and erased the cached returns" if terminal.settings.get("erase_on_logout") else ""
    print(f"Logged out{erased}.")
    return EXIT_OK


def cmd_wipe(args: argparse.Namespace, terminal: Terminal) -> int:
    user = user_for(args, terminal)
    if not args.yes:
        raise CliError(f"This destroys {user}'s cache key and cached files for good; "
                       "add --yes to do it.", EXIT_USAGE)
    terminal.wipe(user)
    print(f"Wiped {user}'s profile on this terminal.")
    return EXIT_OK


def cmd_audit_verify(args: argparse.Namespace, terminal: Terminal) -> int:
    open_profile(args, terminal)
    report = terminal.verify_audit()
    if report.ok:
        print(f"Audit log intact: {report.checked} records, chain verified.")
        return EXIT_OK
    for problem in report.problems:
        print(problem)
    return EXIT_CACHE


def cmd_cache_check(args: argparse.Namespace, terminal: Terminal) -> int:
    open_profile(args, terminal)
    report = terminal.check()
    if report.ok:
        print("Cache OK: every page verified, audit chain intact.")
        return EXIT_OK
    for problem in report.problems:
        print(problem)
    return EXIT_CACHE


COMMANDS: dict[str, Callable[[argparse.Namespace, Terminal], int]] = {
    "login": cmd_login, "send": cmd_send, "sync": cmd_sync, "quarantine": cmd_quarantine,
    "show": cmd_show, "search": cmd_search, "alerts": cmd_alerts, "ack": cmd_ack,
    "confirm": cmd_confirm, "answer": cmd_answer, "queue": cmd_queue, "cancel": cmd_cancel,
    "logout": cmd_logout, "wipe": cmd_wipe, "audit": cmd_audit_verify, "cache": cmd_cache_check,
    "msg build": cmd_msg_build, "msg parse": cmd_msg_parse,
}
"""The sub-commands of :func:`mdt.entry.build_parser` (one parser for ``mdt``, GUI and CLI)."""


def run(argv: Sequence[str]) -> int:
    with contextlib.redirect_stdout(SafeStream(sys.stdout)), \
            contextlib.redirect_stderr(SafeStream(sys.stderr)):
        return _run(argv)


def _run(argv: Sequence[str]) -> int:
    from mdt.entry import parse

    args = parse(argv)
    if not getattr(args, "cli", None):
        print("mdt: the command line needs a command (see mdt --help)", file=sys.stderr)
        return EXIT_USAGE
    terminal: Terminal | None = None
    try:
        settings = Settings()
        agency = load_agency_config()
        apply_agency_config(settings, agency)
        terminal = Terminal(settings, agency=agency)
        return int(COMMANDS[args.cli](args, terminal))
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
