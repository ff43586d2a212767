"""``plexichat-obs``: the command line.

Subcommands, each a thin front for a module that holds its logic:

- ``serve``   run the chat API (``plexichat.service.server``)
- ``loadgen`` drive a running service with open-loop load (``plexichat.loadgen``)
- ``generate`` dashboards, rules, runbooks and the README table (``plexichat.generate``)
- ``up``      the whole stack as child processes on this machine (``plexichat.stack``)
- ``fault``   change the faults of the service ``up`` runs, while it runs
- ``status``  the guide's metric table, live from Prometheus (``plexichat.stack.status``)
- ``snapshot`` every dashboard as a PNG with live data (``plexichat.stack.snapshot``)
- ``receive`` an Alertmanager webhook receiver that logs notifications (``plexichat.stack``)
- ``postgres-source`` postgres_exporter's data source files from the service's database URL
  (``plexichat.stack.postgres_source``; the bundles' exporters run it first)

Exit codes: :class:`plexichat.exit_code.ExitCode` (0 done, 1 failure, 2 bad usage or
configuration — the message names the key —, 3 ``status``: a critical alert fires, 4
``status --check``: alerting is broken). Options
several commands share (``--dir``, ``--job``, ``--prometheus``) are defined once, as argparse
parent parsers.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from plexichat.catalog.model import JOB, PROFILES
from plexichat.config.scalars import LOG_LEVELS, log_level
from plexichat.exit_code import ExitCode
from plexichat.stack.layout import DEFAULT_DIR


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


def _log_level(text: str) -> str:
    try:
        return log_level(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parent(*flags: str, **options: Any) -> argparse.ArgumentParser:
    parent = argparse.ArgumentParser(add_help=False)
    parent.add_argument(*flags, **options)
    return parent


STACK_DIR = _parent(
    "--dir",
    type=Path,
    default=DEFAULT_DIR,
    help=f"the `up` state directory (default {DEFAULT_DIR})",
)
SERVICE_JOB = _parent("--job", default=JOB, help=f"Prometheus job of the service (default {JOB})")
PROMETHEUS = _parent(
    "--prometheus",
    metavar="URL",
    help="default: the running `plexichat-obs up` of --dir, else http://127.0.0.1:9090",
)


def _add_serve(subparsers: Any) -> None:
    p = subparsers.add_parser("serve", help="run the PlexiChat chat API")
    p.add_argument("--host", help="interface to listen on (default: service.host)")
    p.add_argument("--port", type=int, help="port to listen on (default: service.port)")
    p.add_argument("--config", type=Path, metavar="FILE", help="extra performance.yaml to apply")
    p.add_argument("--profile", choices=PROFILES, help="configuration profile")
    p.add_argument(
        "--log-level",
        type=_log_level,
        default="INFO",
        metavar="LEVEL",
        help=f"server log level: {', '.join(LOG_LEVELS)} (any case; default INFO)",
    )
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
        "(sets faults.*; refused under the production profile)",
    )
    p.set_defaults(handler=_serve)


def _serve(args: argparse.Namespace) -> int:
    from plexichat.config import ConfigError
    from plexichat.config.faults import parse_fault_spec
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
            overrides["faults"] = parse_fault_spec(args.fault)
        config_file = None if args.config is None else str(args.config.resolve())
        sources = Sources(args.profile, config_file, overrides)
        settings = sources.load()
        return serve(
            settings, log_level=args.log_level, access_log=args.access_log, sources=sources
        )
    except (ConfigError, DatabaseURLError) as exc:
        print(f"plexichat-obs serve: {exc}", file=sys.stderr)
        return ExitCode.USAGE


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
    p.add_argument(
        "--only",
        metavar="OP[,OP]",
        help="draw only these operations of the mix, e.g. create_post (weights kept)",
    )
    p.add_argument(
        "--random-paths",
        type=float,
        default=0.0,
        metavar="PERCENT",
        help="send this share of requests to random unknown paths (404)",
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
            only=frozenset(args.only.split(",")) if args.only else None,
            random_paths=args.random_paths,
        )
    except ValueError as exc:
        print(f"plexichat-obs loadgen: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    return run(config, json_output=args.json)


def _add_generate(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "generate",
        parents=[SERVICE_JOB],
        help="write dashboards, alert/recording rules, runbooks and the README metric table",
        description="Generate every artifact from the metric catalog (needs the generate extra).",
    )
    p.add_argument(
        "--profile",
        choices=PROFILES,
        help="thresholds of this profile (default: the guide's table, what the bundles ship)",
    )
    p.add_argument("--check", action="store_true", help="fail, naming files, when any is stale")
    p.add_argument("--output-dir", type=Path, default=Path("."), metavar="DIR")
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
        return ExitCode.FAILURE if problems else ExitCode.OK
    for path in generate(options, args.output_dir):
        print(f"wrote {path}")
    return ExitCode.OK


def _profile(name: str) -> str | None:
    return None if name == "none" else name


def _add_up(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "up",
        parents=[STACK_DIR],
        help="run the whole stack here: Redis, service, Prometheus, Alertmanager, receiver",
        description="Run Redis and redis_exporter, postgres_exporter when the service uses "
        "PostgreSQL (PLEXICHAT_SERVICE__DATABASE_URL), node_exporter with --node-exporter, "
        "the service, Prometheus, Alertmanager, the webhook receiver and optionally load as "
        "child processes on 127.0.0.1, with the shipped configuration (needs Debian's "
        "redis-server, prometheus-redis-exporter, prometheus and prometheus-alertmanager; "
        "prometheus-postgres-exporter with "
        "PostgreSQL, prometheus-node-exporter with --node-exporter). Ctrl-C stops everything.",
    )
    p.add_argument(
        "--profile",
        choices=(*PROFILES, "none"),
        default="development",
        help="service profile and the thresholds of its rules (default development; none: "
        "the guide's table, as the bundles ship)",
    )
    p.add_argument(
        "--traffic", type=_positive_float, metavar="RPS", help="run the load generator at RPS"
    )
    p.add_argument(
        "--identities",
        type=_positive_int,
        help="client identities the load is spread over (default: 3 per req/s, at least 256)",
    )
    p.add_argument(
        "--fault", metavar="SPEC", help="start with faults, e.g. error_rate=0.2 (see serve)"
    )
    p.add_argument(
        "--time-scale",
        type=_positive_float,
        default=1.0,
        metavar="F",
        help="multiply every for: and rule window by F (e.g. 0.02) so alerts fire and resolve "
        "in minutes; demos and tests only",
    )
    p.add_argument(
        "--ports",
        metavar="SPEC",
        help="auto (free ports) or NAME=PORT,... for service, prometheus, alertmanager, "
        "receiver, redis, redis_exporter, postgres_exporter, node_exporter (default 8000, 9090, "
        "9093, 9095, 6380, 9121, 9187, 9100)",
    )
    p.add_argument(
        "--node-exporter",
        action="store_true",
        help="also watch this host: run node_exporter (Debian's prometheus-node-exporter, only "
        "its cpu, meminfo, filesystem and loadavg collectors), scrape it as job node and "
        "generate the Node rules and panels (off by default)",
    )
    p.add_argument(
        "--native-histograms",
        action="store_true",
        help="store the service's native histograms (its duration histograms over protobuf), "
        "as the prometheus on PATH can: 2.40-2.44 with the native-histograms feature flag and "
        "WITHOUT their classic series and exemplars, 2.45 or later keeping both; the rules and "
        "dashboards read the native ones (off by default: text, classic series only)",
    )
    p.set_defaults(handler=_up)


def _up(args: argparse.Namespace) -> int:
    from plexichat.stack.supervisor import UpOptions, up

    options = UpOptions(
        directory=args.dir,
        profile=_profile(args.profile),
        traffic_rps=args.traffic,
        identities=args.identities,
        fault=args.fault,
        time_scale=args.time_scale,
        ports=args.ports,
        node_exporter=args.node_exporter,
        native_histograms=args.native_histograms,
    )
    return up(options)


def _add_fault(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "fault",
        parents=[STACK_DIR],
        help="change the faults of the service `up` runs, while it runs",
        description="Write the fault switch of a running `plexichat-obs up` (DIR/fault): the "
        "service injects these faults within a second. SPEC as for serve --fault, or off.",
    )
    p.add_argument("spec", metavar="SPEC", help="e.g. error_rate=0.2,latency_ms=300, or off")
    p.set_defaults(handler=_fault)


def _fault(args: argparse.Namespace) -> int:
    from plexichat.config import ConfigError
    from plexichat.stack.faults import set_faults

    try:
        print(set_faults(args.dir, args.spec))
    except ConfigError as exc:
        print(f"plexichat-obs fault: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except FileNotFoundError as exc:
        print(f"plexichat-obs fault: {exc}", file=sys.stderr)
        return ExitCode.FAILURE
    return ExitCode.OK


def _add_status(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "status",
        parents=[PROMETHEUS, STACK_DIR, SERVICE_JOB],
        help="the guide's metric table, live from Prometheus; exit 3 while a critical fires",
        description="Each catalog metric's current value (from the catalog's own PromQL), its "
        "target, alert threshold and state, the SLO error budgets left, the firing alerts, "
        "the Watchdog and whether its heartbeat reaches the receiver. Exit status: 0, 3 while "
        "a critical alert fires, 1 when Prometheus cannot be asked; with --check also 4 when "
        "alerting is broken (the Watchdog does not fire or its heartbeat is late) and 1 when "
        "the receiver cannot be asked.",
    )
    p.add_argument(
        "--profile",
        choices=(*PROFILES, "none"),
        help="thresholds to compare with (default: the running up's, else none)",
    )
    p.add_argument(
        "--receiver",
        metavar="URL",
        help="webhook receiver to ask for the heartbeat at URL/arrivals (default: the running "
        "up's, else none: delivery not checked)",
    )
    mode = p.add_mutually_exclusive_group()
    mode.add_argument("--watch", type=_positive_float, metavar="S", help="refresh every S seconds")
    mode.add_argument(
        "--check",
        action="store_true",
        help="monitoring probe: look once, exit 4 when alerting is broken",
    )
    p.add_argument("--format", choices=("table", "json"), default="table")
    p.set_defaults(handler=_status)


def _status(args: argparse.Namespace) -> int:
    from plexichat.stack.status_command import StatusOptions, run_status

    options = StatusOptions(
        prometheus=args.prometheus,
        directory=args.dir,
        profile=args.profile,
        job=args.job,
        receiver=args.receiver,
        watch_s=args.watch,
        check=args.check,
        json_output=args.format == "json",
    )
    return run_status(options)


def _duration(text: str) -> float:
    from plexichat.generate.promql import seconds

    try:
        value = seconds(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def _add_snapshot(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "snapshot",
        parents=[PROMETHEUS, STACK_DIR, SERVICE_JOB],
        help="draw every dashboard as a PNG with live data (a preview, no Grafana needed)",
        description="One PNG per dashboard JSON, laid out on the dashboard's grid, each panel "
        "drawn from Prometheus range queries of its own PromQL.",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="where PNGs go")
    p.add_argument("--range", type=_duration, default=900.0, metavar="DURATION", help="default 15m")
    p.add_argument(
        "--dashboards",
        type=Path,
        default=Path("dashboards"),
        metavar="DIR",
        help="dashboard JSON files (default: dashboards/, as generated)",
    )
    p.set_defaults(handler=_snapshot)


def _snapshot(args: argparse.Namespace) -> int:
    from plexichat.stack.prometheus_api import PrometheusAPI, PrometheusError
    from plexichat.stack.snapshot import NoDashboardsError, snapshot
    from plexichat.stack.status_command import StatusOptions, generation_options

    url, _ = generation_options(StatusOptions(prometheus=args.prometheus, directory=args.dir))
    try:
        with PrometheusAPI(url) as api:
            for path in snapshot(api, args.dashboards, args.out, args.range, args.job):
                print(f"wrote {path}")
    except (PrometheusError, NoDashboardsError) as exc:
        print(f"plexichat-obs snapshot: {exc}", file=sys.stderr)
        return ExitCode.FAILURE
    return ExitCode.OK


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
        return ExitCode.FAILURE


def _add_postgres_source(subparsers: Any) -> None:
    p = subparsers.add_parser(
        "postgres-source",
        help="write postgres_exporter's data source from the service's database URL",
        description="Read service.database_url as the service does "
        "(PLEXICHAT_SERVICE__DATABASE_URL, the configuration files) and write the files "
        "postgres_exporter reads through "
        "DATA_SOURCE_URI_FILE, DATA_SOURCE_USER_FILE and DATA_SOURCE_PASS_FILE into DIR. "
        "The chart's and Compose's exporters run it first, in the service's image.",
    )
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="where the files go")
    p.set_defaults(handler=_postgres_source)


def _postgres_source(args: argparse.Namespace) -> int:
    from plexichat.config import ConfigError, load_settings
    from plexichat.stack.postgres_source import KEY, DataSource, DataSourceError

    try:
        source = DataSource.from_url(load_settings().service.database_url)
    except (ConfigError, DataSourceError) as exc:
        print(f"plexichat-obs postgres-source: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if source is None:
        print(
            f"plexichat-obs postgres-source: {KEY} names no PostgreSQL database (without one "
            "the service uses SQLite): nothing for postgres_exporter to watch",
            file=sys.stderr,
        )
        return ExitCode.USAGE
    try:
        written = source.write(args.out)
    except OSError as exc:
        print(f"plexichat-obs postgres-source: {args.out}: {exc}", file=sys.stderr)
        return ExitCode.FAILURE
    # The files' names and where they point, never what the password file holds.
    print(f"wrote {', '.join(written.values())} (PostgreSQL at {source.uri})")
    return ExitCode.OK


def build_parser() -> argparse.ArgumentParser:
    """The ``plexichat-obs`` argument parser, every subcommand with its handler."""
    parser = argparse.ArgumentParser(prog="plexichat-obs", description=__doc__.splitlines()[0])
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    _add_serve(subparsers)
    _add_loadgen(subparsers)
    _add_generate(subparsers)
    _add_up(subparsers)
    _add_fault(subparsers)
    _add_status(subparsers)
    _add_snapshot(subparsers)
    _add_receive(subparsers)
    _add_postgres_source(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``plexichat-obs`` with ``argv`` (default ``sys.argv[1:]``); the exit code, an
    :class:`~plexichat.exit_code.ExitCode`: ``OK`` (0) done; ``FAILURE`` (1) the command could
    not do its job (Prometheus, the service or a component unreachable or dead); ``USAGE`` (2)
    bad usage or configuration, the message naming the flag or the file and key (argparse's
    own errors exit 2 too); ``CRITICAL`` (3) ``status`` saw a critical alert firing;
    ``ALERTING_BROKEN`` (4) ``status --check`` saw the Watchdog not firing or its heartbeat
    late at the receiver (plain ``status`` only shows that)."""
    args = build_parser().parse_args(argv)
    result: int = args.handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
