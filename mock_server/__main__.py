"""``mdt-gateway``: run the training gateway, list its demo accounts, codes and roster.

``serve`` prints exactly one line to standard output once it listens,
``mdt-gateway listening on http://HOST:PORT``, and nothing else there (its other notes go to
standard error), so a launcher can read the real port when it asked for ``--port 0``.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import ipaddress
import logging
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import platformdirs

from mock_server.accounts import DEMO_ACCOUNTS, DEMO_PASSWORD, ROLES, otp_secret_for


def default_data_dir() -> Path:
    return Path(platformdirs.user_data_dir("mdt-gateway", "MDT"))


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    # No Nagle: an answer written in two pieces (headers, body) must not wait for the client's
    # delayed ACK (40 ms a request otherwise). Accepted connections inherit it.
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sock.bind((host, port))
    sock.listen(128)
    sock.set_inheritable(True)
    return sock


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mock_server.app import create_app
    from mock_server.config import GatewayConfig
    from mock_server.faults import Faults

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    config = GatewayConfig(data_dir=data_dir, latency=args.latency, iar_delay=args.iar_delay,
                           confirm_delay=args.confirm_delay, seed=args.seed,
                           heartbeat=args.heartbeat, token_ttl=args.token_ttl,
                           text_only=args.text_only, wrap_width=args.wrap,
                           training=args.training,
                           publish_accounts=_publish(args),
                           otp_future_steps=args.otp_future_steps,
                           forms_dir=Path(args.forms_dir) if args.forms_dir else None,
                           scenarios_dir=Path(args.scenarios_dir) if args.scenarios_dir else None,
                           faults=Faults(error_rate=args.error_rate, drop_rate=args.drop_rate,
                                         duplicate_rate=args.duplicate_rate,
                                         destinations_down=[d.upper() for d in args.down],
                                         parts_out_of_order=args.parts_out_of_order))
    app = create_app(config)
    try:
        sock = _bind(args.host, args.port)
    except OSError as exc:
        print(f"mdt-gateway: cannot listen on {args.host}:{args.port}: {exc.strerror}",
              file=sys.stderr)
        return 1
    port = sock.getsockname()[1]
    tls: dict[str, str] = {}
    scheme = "http"
    if args.tls:  # a classroom: the gateway's own CA signs its certificate
        from mock_server.tls import ensure_tls

        files = ensure_tls(data_dir, args.tls_name)
        tls = {"ssl_certfile": str(files.cert), "ssl_keyfile": str(files.key)}
        scheme = "https"
        print(f"mdt-gateway: TLS; trainees trust the CA in {files.ca} (their ca_bundle "
              "setting)", file=sys.stderr, flush=True)
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=2, **tls))  # type: ignore[arg-type]
    host = f"[{args.host}]" if ":" in args.host else args.host
    mode = "training" if config.training else "LIVE (no training endpoints, no demo accounts)"
    print(f"mdt-gateway: {mode}; state in {data_dir}", file=sys.stderr, flush=True)
    if config.training:
        _tell_trainer(data_dir, config.publish_accounts)
    print(f"mdt-gateway listening on {scheme}://{host}:{port}", flush=True)

    async def run() -> None:
        watcher = None
        if args.exit_with_parent:
            parent = os.getppid()

            async def watch() -> None:  # the program that started us is gone: stop too
                while not server.should_exit:
                    if os.getppid() != parent:
                        server.should_exit = True
                    await asyncio.sleep(0.5)

            watcher = asyncio.create_task(watch())
        try:
            await server.serve(sockets=[sock])  # SIGTERM / SIGINT: a graceful shutdown
        finally:
            if watcher is not None:
                watcher.cancel()

    def stop(_signum: int, _frame: object) -> None:
        server.should_exit = True

    # Uvicorn handles SIGTERM / SIGINT while it serves, then restores these handlers and sends
    # the signal again: with them, that second delivery is harmless and the exit status is 0.
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    asyncio.run(run())
    return 0


def _publish(args: argparse.Namespace) -> bool:
    """Trainee accounts listed on the sign-in page: on loopback by default; on a classroom
    network only when the trainer says so (``--publish-accounts``)."""
    if args.publish_accounts is not None:
        return bool(args.publish_accounts)
    try:
        return bool(ipaddress.ip_address(args.host).is_loopback)
    except ValueError:
        return bool(args.host == "localhost")


def _tell_trainer(data_dir: Path, published: bool) -> None:
    """On the trainer's console only: the trainer's own sign-in (never listed to trainees)."""
    from mock_server import otp
    from mock_server.state import State

    state = State(data_dir / "gateway.sqlite")
    try:
        for account in [a for a in state.accounts() if a.demo and a.role == "trainer"]:
            code, _wait = otp.next_code(account.otp_secret,
                                        last_used=state.otp_last_step(account.user_id))
            print(f"mdt-gateway: trainer {account.user_id}: password {DEMO_PASSWORD}, one-time "
                  f"code now {code or '(wait a moment)'}; later ones: mdt-gateway otp "
                  f"{account.user_id} --data-dir {data_dir} (or add the TOTP secret "
                  f"{account.otp_secret} to an authenticator app)", file=sys.stderr, flush=True)
    finally:
        state.close()
    if not published:
        print("mdt-gateway: the trainee accounts are not listed to the network (add "
              "--publish-accounts to list them on the sign-in page)", file=sys.stderr, flush=True)


def _accounts(_args: argparse.Namespace) -> int:
    print(f"Demo accounts (training gateways only). Password for all: {DEMO_PASSWORD}")
    print(f"{'user id':<10} {'role':<11} {'ORI':<10} {'unit':<9} {'name':<24} TOTP secret")
    for user_id, name, role, ori, unit in DEMO_ACCOUNTS:
        secret = ("(this gateway's own: mdt-gateway otp " + user_id + ")" if role == "trainer"
                  else otp_secret_for(user_id))
        print(f"{user_id:<10} {role:<11} {ori:<10} {unit:<9} {name:<24} {secret}")
    print("\nOne-time code now: mdt-gateway otp USER (or add the secret to any TOTP app: "
          "SHA-1, 6 digits, 30 s).")
    return 0


def _otp(args: argparse.Namespace) -> int:
    from mock_server import otp
    from mock_server.state import State

    folder = Path(args.data_dir) if args.data_dir else default_data_dir()
    state = State(folder / "gateway.sqlite")
    try:
        account = state.account(args.user)
        if account is None:
            print(f"mdt-gateway: no account {args.user!r}", file=sys.stderr)
            return 2
        # The next code not yet used: a code signs in once.
        code, wait = otp.next_code(account.otp_secret,
                                   last_used=state.otp_last_step(account.user_id),
                                   future_steps=args.future_steps)
        if code is None:
            print(f"mdt-gateway: the codes of {args.user} for now have all signed in; the next "
                  f"one in {wait:.0f} s", file=sys.stderr)
            return 3
    finally:
        state.close()
    print(code)
    return 0


def _new_password(prompt: str) -> str | None:
    """A password from MDT_GATEWAY_PASSWORD or a prompt; None (said why) when too short."""
    password = os.environ.get("MDT_GATEWAY_PASSWORD") or getpass.getpass(prompt)
    if len(password) < 8:
        print("mdt-gateway: the password needs at least 8 characters", file=sys.stderr)
        return None
    return password


def _add_account(args: argparse.Namespace) -> int:
    from mock_server.state import State

    password = _new_password("Password: ")
    if password is None:
        return 2
    state = State((Path(args.data_dir) if args.data_dir else default_data_dir()) / "gateway.sqlite")
    try:
        account = state.add_account(args.user, password, args.name, args.role, args.ori.upper(),
                                    args.unit)
    finally:
        state.close()
    print(f"Account {account.user_id} ({account.role}, {account.ori}) saved.")
    print(f"TOTP secret: {account.otp_secret}")
    print(f"One-time code now: mdt-gateway otp {account.user_id} --data-dir DIR")
    return 0


def _passwd(args: argparse.Namespace) -> int:
    """Set an account's password (a trainer resetting a trainee's, or a class on password
    changes: the terminal must keep its cache when the password changes at the gateway)."""
    from mock_server.state import State

    password = _new_password("New password: ")
    if password is None:
        return 2
    state = State((Path(args.data_dir) if args.data_dir else default_data_dir()) / "gateway.sqlite")
    try:
        if not state.set_password(args.user, password):
            print(f"mdt-gateway: no account {args.user!r}", file=sys.stderr)
            return 2
    finally:
        state.close()
    print(f"Password of {args.user} changed.")
    return 0


def _ca(args: argparse.Namespace) -> int:
    """The classroom CA file trainees' terminals must trust (made if missing)."""
    from mock_server.tls import ensure_tls

    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    print(ensure_tls(data_dir).ca)
    return 0


def _roster(args: argparse.Namespace) -> int:
    from mock_server.world import World

    world = World(args.seed, persons=0)
    print("Training subjects (synthetic). How to query each:")
    for entry in world.roster:
        print(f"- {entry.title}: {entry.how}\n    teaches {entry.teaches}")
    print("\nAgencies: MD1012600 (officer1, officer2, dispatch1), VA0290000 (officer3, dispatch2), "
          "MD0030000 (officer4; its hit confirmations are answered by the switch), VTICE0900 "
          "(LESC, simulated).")
    return 0


def _serve_options(p: argparse.ArgumentParser, top: bool) -> None:
    """The options of ``serve``; given before the sub-command (``mdt-gateway --port 0``) or after
    it (``mdt-gateway serve --port 0``). The sub-command's copies default to "not given", so they
    never undo what was given before it."""

    def d(value: object) -> object:
        return value if top else argparse.SUPPRESS

    p.add_argument("--host", default=d("127.0.0.1"))
    p.add_argument("--otp-future-steps", type=int, default=d(1),
                   help="how many 30 s steps ahead the sign-in page may hand out fresh one-time "
                        "codes (each code signs in once; a test suite signing in many times a "
                        "minute raises it)")
    publish = p.add_mutually_exclusive_group()
    publish.add_argument("--publish-accounts", dest="publish_accounts", action="store_true",
                         default=d(None), help="list the trainee demo accounts on the sign-in "
                                               "page (the default on 127.0.0.1 only)")
    publish.add_argument("--no-publish-accounts", dest="publish_accounts", action="store_false",
                         default=d(None), help="do not list them")
    p.add_argument("--port", type=int, default=d(8765), help="0 picks a free port")
    p.add_argument("--data-dir", default=d(None), help="where the gateway keeps its state (SQLite); default: "
                                      f"{default_data_dir()}")
    p.add_argument("--latency", type=float, default=d(0.8),
                   help="seconds before an answer, with a little seeded jitter (0: at once)")
    p.add_argument("--iar-delay", type=float, default=d(20.0),
                   help="extra seconds before LESC's IAR answers an IAQ")
    p.add_argument("--confirm-delay", type=float, default=d(45.0),
                   help="seconds before an agency no trainee sits at answers a YQ")
    p.add_argument("--seed", type=int, default=d(1), help="seed of the synthetic world")
    p.add_argument("--heartbeat", type=float, default=d(15.0), help="SSE heartbeat seconds")
    p.add_argument("--token-ttl", type=float, default=d(12 * 3600.0),
                   help="session lifetime in seconds")
    p.add_argument("--text-only", action="store_true", default=d(False),
                   help="send return text without structured records (a legacy switch)")
    p.add_argument("--wrap", type=int, default=d(0), metavar="COLUMNS",
                   help="cut return text at this many columns, mid-value, as a legacy switch's "
                        "terminal does (e.g. 80; 0: not cut)")
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--training", dest="training", action="store_true", default=d(True),
                      help="a training gateway (the default): training endpoints, demo accounts")
    mode.add_argument("--live", dest="training", action="store_false", default=d(True),
                      help="behave as a live gateway: no training endpoints, no demo accounts")
    p.add_argument("--forms-dir", default=d(None), help="serve the form definitions (*.json) in this folder")
    p.add_argument("--scenarios-dir", default=d(None), help="bundled scenarios (*.json) from this folder")
    p.add_argument("--error-rate", type=float, default=d(0.0),
                   help="fault: share of API calls answered 503")
    p.add_argument("--drop-rate", type=float, default=d(0.0),
                   help="fault: share of API calls carried out, then dropped mid-answer")
    p.add_argument("--duplicate-rate", type=float, default=d(0.0),
                   help="fault: share of live events sent twice")
    p.add_argument("--parts-out-of-order", action="store_true", default=d(False),
                   help="fault: answers in several parts arrive last part first")
    p.add_argument("--down", action="append", default=d([]), metavar="DEST",
                   help="fault: a destination that is down (repeatable)")
    p.add_argument("--tls", action="store_true", default=d(False),
                   help="HTTPS with the gateway's own classroom CA (made in the data folder)")
    p.add_argument("--tls-name", action="append", default=d([]), metavar="NAME",
                   help="another host name or address for the certificate (repeatable)")
    p.add_argument("--exit-with-parent", action="store_true", default=d(False),
                   help="stop when the process that started the gateway ends")


def main(argv: Sequence[str] | None = None) -> int:
    os.umask(0o077)  # the gateway's state, TLS files and exports: owner-only
    parser = argparse.ArgumentParser(prog="mdt-gateway",
                                     description="MDT's bundled training gateway.")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the gateway (the default)")
    _serve_options(parser, top=True)
    _serve_options(serve, top=False)
    sub.add_parser("accounts", help="print the demo accounts and their TOTP secrets")
    otp = sub.add_parser("otp", help="print an account's current one-time code")
    otp.add_argument("user")
    otp.add_argument("--data-dir", help="the gateway's data folder (default: the usual one)")
    otp.add_argument("--future-steps", type=int, default=1, help=argparse.SUPPRESS)
    add = sub.add_parser("add-account", help="add a (non-demo) account, e.g. for --live")
    add.add_argument("user")
    add.add_argument("--name", required=True)
    add.add_argument("--role", choices=ROLES, required=True)
    add.add_argument("--ori", required=True)
    add.add_argument("--unit", default="")
    add.add_argument("--data-dir")
    passwd = sub.add_parser("passwd", help="set an account's password (MDT_GATEWAY_PASSWORD or "
                                           "a prompt)")
    passwd.add_argument("user")
    passwd.add_argument("--data-dir")
    ca = sub.add_parser("ca", help="print where the classroom CA (for --tls) is, making it")
    ca.add_argument("--data-dir")
    roster = sub.add_parser("roster", help="print the training subjects and how to query them")
    roster.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    handler = {"accounts": _accounts, "otp": _otp, "roster": _roster, "ca": _ca,
               "add-account": _add_account, "passwd": _passwd}.get(args.command, _serve)
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
