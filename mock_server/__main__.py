"""``mdt-gateway``: run the training gateway, list its demo accounts, codes and roster."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import socket
import sys
from collections.abc import Sequence
from pathlib import Path

import platformdirs
import pyotp

from mock_server.state import DEMO_ACCOUNTS, DEMO_PASSWORD, otp_secret_for


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from mock_server.app import GatewayConfig, create_app
    from mock_server.faults import Faults

    data_dir = Path(args.data_dir or platformdirs.user_data_dir("mdt-gateway", "MDT"))
    config = GatewayConfig(data_dir=data_dir, latency=args.latency, iar_delay=args.iar_delay,
                           seed=args.seed, heartbeat=args.heartbeat, token_ttl=args.token_ttl,
                           text_only=args.text_only, training=not args.live,
                           forms_dir=Path(args.forms_dir) if args.forms_dir else None,
                           faults=Faults(error_rate=args.error_rate, drop_rate=args.drop_rate,
                                         duplicate_rate=args.duplicate_rate,
                                         destinations_down=[d.upper() for d in args.down],
                                         parts_out_of_order=args.parts_out_of_order))
    app = create_app(config)
    sock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(128)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False,
                                           timeout_graceful_shutdown=2))
    mode = "training" if config.training else "LIVE (no training endpoints)"
    print(f"mdt-gateway listening on http://{args.host}:{port} ({mode}, data in {data_dir})",
          flush=True)

    async def run() -> None:
        watcher = None
        if args.exit_with_parent:
            parent = os.getppid()

            async def watch() -> None:  # the client that started us is gone: stop too
                while not server.should_exit:
                    if os.getppid() != parent:
                        server.should_exit = True
                    await asyncio.sleep(0.5)

            watcher = asyncio.create_task(watch())
        await server.serve(sockets=[sock])  # SIGTERM / SIGINT: a graceful shutdown
        if watcher is not None:
            watcher.cancel()

    asyncio.run(run())
    return 0


def _accounts(_args: argparse.Namespace) -> int:
    print(f"Demo accounts (training only). Password for all: {DEMO_PASSWORD}")
    print(f"{'user id':<10} {'role':<11} {'ORI':<10} {'name':<24} TOTP secret")
    for user_id, name, role, ori, _unit in DEMO_ACCOUNTS:
        print(f"{user_id:<10} {role:<11} {ori:<10} {name:<24} {otp_secret_for(user_id)}")
    print("\nOne-time code now: mdt-gateway otp USER (or add the secret to any TOTP app).")
    return 0


def _otp(args: argparse.Namespace) -> int:
    if args.user not in {a[0] for a in DEMO_ACCOUNTS}:
        print(f"mdt-gateway: no demo account {args.user!r}", file=sys.stderr)
        return 2
    print(pyotp.TOTP(otp_secret_for(args.user)).now())
    return 0


def _roster(args: argparse.Namespace) -> int:
    from mock_server.world import World

    world = World(args.seed, persons=0)
    print("Training subjects (synthetic). How to query each:")
    for entry in world.roster:
        print(f"- {entry.title}: {entry.how}\n    teaches {entry.teaches}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="mdt-gateway",
                                     description="MDT's bundled training gateway.")
    sub = parser.add_subparsers(dest="command")
    serve = sub.add_parser("serve", help="run the gateway (the default)")
    for p in (parser, serve):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=8765, help="0 picks a free port")
        p.add_argument("--data-dir", help="where the gateway keeps its state (SQLite)")
        p.add_argument("--latency", type=float, default=0.8, help="seconds before an answer")
        p.add_argument("--iar-delay", type=float, default=20.0,
                       help="extra seconds before LESC's IAR answers an IAQ")
        p.add_argument("--seed", type=int, default=1, help="seed of the synthetic world")
        p.add_argument("--heartbeat", type=float, default=15.0, help="SSE heartbeat seconds")
        p.add_argument("--token-ttl", type=float, default=12 * 3600.0,
                       help="session lifetime in seconds")
        p.add_argument("--text-only", action="store_true",
                       help="send return text without structured records (a legacy switch)")
        p.add_argument("--forms-dir", help="serve the form definitions (*.json) in this folder")
        p.add_argument("--error-rate", type=float, default=0.0,
                       help="fault: share of API calls answered 503")
        p.add_argument("--drop-rate", type=float, default=0.0,
                       help="fault: share of API calls carried out, then dropped mid-answer")
        p.add_argument("--duplicate-rate", type=float, default=0.0,
                       help="fault: share of live events sent twice")
        p.add_argument("--parts-out-of-order", action="store_true",
                       help="fault: answers in several parts arrive last part first")
        p.add_argument("--down", action="append", default=[], metavar="DEST",
                       help="fault: a destination that is down (repeatable)")
        p.add_argument("--exit-with-parent", action="store_true",
                       help="stop when the process that started the gateway ends")
        p.add_argument("--live", action="store_true",
                       help="behave as a live gateway: no training endpoints or demo accounts")
    sub.add_parser("accounts", help="print the demo accounts and their TOTP secrets")
    otp = sub.add_parser("otp", help="print a demo account's current one-time code")
    otp.add_argument("user")
    roster = sub.add_parser("roster", help="print the training subjects and how to query them")
    roster.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.WARNING)
    handler = {"accounts": _accounts, "otp": _otp, "roster": _roster}.get(args.command, _serve)
    return handler(args)


if __name__ == "__main__":
    sys.exit(main())
