"""The command line's alerts and hit confirmations: ``mdt alerts``, ``ack``, ``confirm``,
``answer``, ``queue`` (the same :class:`~mdt.services.alerts.AlertDesk` as the GUI). No Qt."""

from __future__ import annotations

import argparse
import json

from mdt.cli_common import (
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    open_profile,
    send_now,
)
from mdt.services.terminal import Terminal


def cmd_alerts(args: argparse.Namespace, terminal: Terminal) -> int:
    """Open alerts (or all), loudest and soonest first, with the time left on the gateway's
    clock. Also raises the alerts of requests whose time ran out."""
    from mdt.core.clock import parse_time
    from mdt.core.confirmation import deadline_text

    open_profile(args, terminal)
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
    return str(matches[0])


def cmd_ack(args: argparse.Namespace, terminal: Terminal) -> int:
    open_profile(args, terminal)
    alert_id = _alert_id(terminal, args.alert_id)
    if terminal.alert_desk.acknowledge(alert_id, args.note or ""):
        print(f"Acknowledged {alert_id} (audited).")
    else:
        print(f"{alert_id} was already acknowledged.")
    return EXIT_OK


def cmd_confirm(args: argparse.Namespace, terminal: Terminal) -> int:
    """A YQ for a hit: built from the record (first request) or from the last request (next)."""
    from mdt.core.confirmation import ConfirmationError

    open_profile(args, terminal)
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
    return send_now(terminal, desk.send("YQ", draft), args.queue_only)


def cmd_answer(args: argparse.Namespace, terminal: Terminal) -> int:
    """A YR for a request in the agency queue."""
    from mdt.core.confirmation import ConfirmationError

    open_profile(args, terminal)
    try:
        draft = terminal.alert_desk.draft_yr(args.nic.upper(), args.status, confirm_by=args.by
                                             or "", remarks=args.remarks or "")
    except ConfirmationError as exc:
        raise CliError(str(exc), EXIT_USAGE) from exc
    return send_now(terminal, terminal.alert_desk.send("YR", draft), args.queue_only)


def cmd_queue(args: argparse.Namespace, terminal: Terminal) -> int:
    from mdt.core.confirmation import deadline_text

    open_profile(args, terminal)
    snapshot = terminal.alert_desk.snapshot()
    if not snapshot.queue:
        print("No hit confirmation requests for the agency.")
    for item in snapshot.queue:
        state = "answered" if item.answered_by else deadline_text(item.remaining(snapshot.now))
        print(f"{item.nic} request {item.rno} from {item.request.get('requesting_ori')} "
              f"({'urgent' if item.request.get('pri') == 'U' else 'routine'}): {state}")
    return EXIT_OK
