"""``plexichat-obs``: the command line.

Subcommands, each a thin front for a module that holds its logic:

- ``serve``   run the chat API (``plexichat.service.server``)
- ``loadgen`` drive a running service with open-loop load (``plexichat.loadgen``)
- ``generate`` dashboards, rules, runbooks and the README table (``plexichat.generate``)
- ``receive`` an Alertmanager webhook receiver that logs notifications (``plexichat.stack``)

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
    p.add_argument(
        "--workers",
        type=_positive_int,
        help="worker processes (default: service.workers, 1); more than 1 needs the Redis tier",
    )
    p.add_argument(
        "--fault",
        metavar="SPEC",
        help="inject faults, e.g. error_rate=0.2,latency_ms=300[,routes=/api/posts/*] "
        "(sets chaos.*; refused under the production profile)",
    )
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from plexichat.config import ConfigError
    from plexichat.config.chaos import parse_fault_spec
    from plexichat.service.db_engine import DatabaseURLError
    from plexichat.service.server import serve
    from plexichat.service.workers import Sources

    service: dict[str, Any] = {}
    if args.host is not None:
        service["host"] = args.host
    if args.port is not None:
        service["port"] = args.port
    if args.workers is not None:
        service["workers"] = args.workers
    overrides: dict[str, Any] = {"service": service} if service else {}
    try:
        if args.fault is not None:
            overrides["chaos"] = parse_fault_spec(args.fault)
        config_file = None if args.config is None else str(args.config.resolve())
        sources = Sources(args.profile, config_file, overrides)
        settings = sources.load()
        return serve(
            settings, log_level=args.log_level, access_log=args.access_log, sources=sources
        )
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
    p.add_argument(
        "--no-register",
        dest="register",
        action="store_false",
        help="no registrations in the mix: a fixed population (for soaks)",
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
            register=args.register,
        )
    except ValueError as exc:
        print(f"plexichat-obs loadgen: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return run(config, json_output=args.json)


def _add_generate(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "generate",
        help="write dashboards, alert/recording rules, runbooks and the README metric table",
        description="Generate every artifact from the metric catalog (needs the generate extra).",
    )
    p.add_argument(
        "--profile",
        choices=("development", "production"),
        help="thresholds of this profile (default: the guide's table, what the bundles ship)",
    )
    p.add_argument("--check", action="store_true", help="fail, naming files, when any is stale")
    p.add_argument("--output-dir", type=Path, default=Path("."), metavar="DIR")
    p.add_argument("--job", default="plexichat", help="Prometheus job the rules select")
    p.add_argument("--runbook-base-url", help="base URL of docs/runbooks.md for runbook_url")
    p.add_argument("--slo-window", default="30d", help="SLO period (default 30d)")
    p.set_defaults(handler=_generate)


def _generate(args: argparse.Namespace) -> int:
    from plexichat.generate import Options, check, generate
    from plexichat.generate.options import DEFAULT_RUNBOOK_BASE_URL

    options = Options.for_profile(
        args.profile,
        job=args.job,
        runbook_base_url=args.runbook_base_url or DEFAULT_RUNBOOK_BASE_URL,
        slo_window=args.slo_window,
    )
    if args.check:
        problems = check(options, args.output_dir)
        for problem in problems:
            print(f"plexichat-obs generate --check: {problem}", file=sys.stderr)
        if problems:
            print("run `plexichat-obs generate` and commit the result", file=sys.stderr)
        return 1 if problems else 0
    for path in generate(options, args.output_dir):
        print(f"wrote {path}")
    return 0


def _add_receive(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "receive",
        help="Alertmanager webhook receiver: log every notification",
        description="Append each alert of every Alertmanager webhook delivery to a JSON-lines "
        "file and print one line per alert (status, alertname, severity, service, summary).",
    )
    p.add_argument("--host", default="127.0.0.1", help="interface (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=9095, help="port (default 9095; 0: any free)")
    p.add_argument(
        "--out",
        type=Path,
        default=Path("notifications.jsonl"),
        metavar="FILE",
        help="JSON-lines file the notifications are appended to",
    )
    p.set_defaults(handler=_receive)


def _receive(args: argparse.Namespace) -> int:
    from plexichat.stack.receiver import serve

    try:
        return serve(args.host, args.port, args.out)
    except OSError as exc:
        print(f"plexichat-obs receive: {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="plexichat-obs", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(subparsers)
    _add_loadgen(subparsers)
    _add_generate(subparsers)
    _add_receive(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
