"""``plexichat-obs``: the command line.

Subcommands, each a thin front for a module that holds its logic:

- ``serve``   run the chat API (``plexichat.service.server``)
- ``loadgen`` drive a running service with open-loop load (``plexichat.loadgen``)

Exit codes: 0 success, 1 failure, 2 bad usage or configuration (the message names the key).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

EXIT_USAGE = 2


def _positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {text}")
    return value


def _non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _add_serve(subparsers: Any) -> None:
    from plexichat.service.server import LOG_LEVELS

    p = subparsers.add_parser("serve", help="run the PlexiChat chat API")
    p.add_argument("--host", help="interface to listen on (default: service.host)")
    p.add_argument("--port", type=int, help="port to listen on (default: service.port)")
    p.add_argument("--config", type=Path, metavar="FILE", help="extra performance.yaml to apply")
    p.add_argument("--profile", choices=("development", "production"), help="configuration profile")
    p.add_argument("--log-level", choices=LOG_LEVELS, default="info", help="server log level")
    p.add_argument("--access-log", action="store_true", help="log every request (off by default)")
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from plexichat.config import ConfigError, load_settings
    from plexichat.service.database import DatabaseURLError
    from plexichat.service.server import serve

    service: dict[str, Any] = {}
    if args.host is not None:
        service["host"] = args.host
    if args.port is not None:
        service["port"] = args.port
    try:
        settings = load_settings(
            profile=args.profile,
            config_file=args.config,
            overrides={"service": service} if service else None,
        )
        return serve(settings, log_level=args.log_level, access_log=args.access_log)
    except (ConfigError, DatabaseURLError) as exc:
        print(f"plexichat-obs serve: {exc}", file=sys.stderr)
        return EXIT_USAGE


def _add_loadgen(subparsers: Any) -> None:
    from plexichat.loadgen import DEFAULT_MAX_IN_FLIGHT

    p = subparsers.add_parser(
        "loadgen",
        help="open-loop load against a running service",
        description="Send requests at a fixed arrival rate (open loop) with a realistic mix.",
    )
    p.add_argument(
        "--url", required=True, help="base URL of the service, e.g. http://127.0.0.1:8000"
    )
    p.add_argument("--duration", type=_positive_float, required=True, metavar="SECONDS")
    p.add_argument("--rps", type=_positive_float, required=True, help="target requests per second")
    p.add_argument(
        "--users", type=_positive_int, default=20, help="simulated users registered first"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the request mix (default 0)")
    p.add_argument(
        "--identities",
        type=_non_negative_int,
        default=0,
        help="spread requests over N client identities via X-Forwarded-For (0: none)",
    )
    p.add_argument(
        "--max-in-flight",
        type=_positive_int,
        default=DEFAULT_MAX_IN_FLIGHT,
        help="requests in flight at most; arrivals beyond are dropped and counted",
    )
    p.add_argument("--json", action="store_true", help="print the summary as JSON on stdout")
    p.set_defaults(handler=_loadgen)


def _loadgen(args: argparse.Namespace) -> int:
    from plexichat.loadgen import LoadConfig, run

    try:
        config = LoadConfig(
            url=args.url,
            duration_s=args.duration,
            rps=args.rps,
            users=args.users,
            seed=args.seed,
            identities=args.identities,
            max_in_flight=args.max_in_flight,
        )
    except ValueError as exc:
        print(f"plexichat-obs loadgen: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run(config, json_output=args.json)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plexichat-obs", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(subparsers)
    _add_loadgen(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
