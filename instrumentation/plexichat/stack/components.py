"""What each child of ``plexichat-obs up`` is: its command, its readiness check, its URL.

Start order (stop is the reverse): Redis, its exporter (``redis_exporter``), when the service uses
PostgreSQL ``postgres_exporter``, with ``--node-exporter`` ``node_exporter``, the service (with the
Redis tier on), the webhook receiver, Alertmanager (notifying the receiver), Prometheus (scraping
the service and the exporters, sending to Alertmanager), and with ``--traffic`` the load generator.
Prometheus and Alertmanager get the configuration ``plexichat.generate.stack`` builds for the ``up``
target, written under the state directory together with the rules generated for the chosen profile
and time scale.
"""

from __future__ import annotations

import math
import os
import socket
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from plexichat.generate.node import collector_flags
from plexichat.stack.layout import StackDir
from plexichat.stack.ports import HOST
from plexichat.stack.postgres_source import environment
from plexichat.stack.process import Child

LOADGEN_SEGMENT_S = 3600
"""The load generator runs in hour-long segments (each prints its summary to its log); ``up``
starts the next one when a segment ends."""
IDENTITIES_PER_RPS = 3
"""Client identities per request/second: at 100 requests a minute per client (the guide's
limit), 3 per req/s keeps every identity at 20 a minute, well inside its budget."""
MIN_IDENTITIES = 256
REDIS_MAXMEMORY = "200mb"
"""up's Redis evicts (allkeys-lru) at the Compose stack's maxmemory, as both bundles' do: so
``RedisMemoryHigh`` and the Dependencies dashboard's memory panels have a limit to read."""
NOT_INHERITED = ("DATA_SOURCE_", "PG", "PLEXICHAT_")
"""Variables of ``up``'s environment that ``postgres_exporter`` does not get: its own data
source variables (``DATA_SOURCE_NAME`` would win over the files), libpq's ``PG*`` (defaults
lib/pq reads) and the service's settings, the database URL among them."""


@dataclass
class Component:
    """A child and how to tell that it is ready."""

    name: str
    child: Child
    ready: Callable[[], bool]
    ready_what: str
    url: str | None = None
    data: Path | None = None
    timeout_s: float = 30.0
    restart_on_success: bool = False  # the load generator's segments
    # What its death means when the stack survives it (Redis: the service degrades to its
    # memory cache, RedisDown fires); None: its death stops the stack.
    survivable: str | None = None
    notes: list[str] = field(default_factory=list)


def _http_ok(url: str) -> Callable[[], bool]:
    def check() -> bool:
        try:
            return httpx.get(url, timeout=1).status_code == 200
        except httpx.HTTPError:
            return False

    return check


def _redis_pong(port: int) -> Callable[[], bool]:
    def check() -> bool:
        with socket.create_connection((HOST, port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(16).startswith(b"+PONG")

    return check


def _rules_loaded(url: str) -> Callable[[], bool]:
    ready = _http_ok(f"{url}/-/ready")

    def check() -> bool:
        if not ready():
            return False
        groups = httpx.get(f"{url}/api/v1/rules", timeout=1).json()["data"]["groups"]
        return bool(groups)

    return check


def _cli(*args: str) -> list[str]:
    return [sys.executable, "-m", "plexichat.cli", *args]


def redis(binary: str, stack: StackDir, port: int) -> Component:
    """Redis on ``port``, persisting nothing, evicting at ``REDIS_MAXMEMORY``."""
    directory = stack.component("redis")
    argv = [binary, "--bind", HOST, "--port", str(port), "--save", "", "--appendonly", "no"]
    argv += ["--dir", str(directory), "--maxmemory", REDIS_MAXMEMORY]
    argv += ["--maxmemory-policy", "allkeys-lru"]
    return Component(
        "redis",
        Child("redis", argv, stack.log("redis")),
        _redis_pong(port),
        "answering PING",
        url=f"redis://{HOST}:{port}",
        data=directory,
        survivable="the service degrades to its memory cache and per-process rate limits; "
        "RedisDown fires (restart up to get Redis back)",
    )


def _exporter(
    name: str,
    argv: list[str],
    stack: StackDir,
    port: int,
    env: Mapping[str, str] | None = None,
    *,
    data: Path | None = None,
    survivable: str | None = None,
) -> Component:
    """Exporter ``name`` run as ``argv``, listening on ``port``: ready when it serves
    ``/metrics``, which is its URL."""
    metrics = f"http://{HOST}:{port}/metrics"
    return Component(
        name,
        Child(name, argv, stack.log(name), env=env),
        _http_ok(metrics),
        "serving /metrics",
        url=metrics,
        data=data,
        survivable=survivable,
    )


def redis_exporter(binary: str, stack: StackDir, redis_port: int, port: int) -> Component:
    """``redis_exporter`` on ``port``, reading up's Redis (no password there); ready when it
    serves ``/metrics``. Prometheus scrapes it as job ``redis``."""
    argv = [binary, "-redis.addr", f"redis://{HOST}:{redis_port}"]
    argv += ["-web.listen-address", f"{HOST}:{port}"]
    return _exporter("redis_exporter", argv, stack, port)


def postgres_exporter(binary: str, stack: StackDir, port: int, source: Path) -> Component:
    """``postgres_exporter`` on ``port``, connecting to the service's PostgreSQL through the data
    source files in ``source`` (``plexichat.stack.postgres_source``: the password in a file,
    neither on its command line nor in its environment); ready when it serves ``/metrics``.
    Prometheus scrapes it as job ``postgres``. It outlives PostgreSQL: a database that goes
    away is ``pg_up 0``, the exporter keeps serving."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(NOT_INHERITED)}
    env.update(environment(source))
    argv = [binary, f"--web.listen-address={HOST}:{port}"]
    return _exporter("postgres_exporter", argv, stack, port, env, data=source)


def node_exporter(binary: str, stack: StackDir, port: int) -> Component:
    """``node_exporter`` on ``port``, reading this host's /proc, /sys and mounts, with only the
    collectors the Node entries read (``plexichat.generate.node.COLLECTORS``); ready when it
    serves ``/metrics``. Prometheus scrapes it as job ``node``. Debian's systemd unit of the
    same package is not used: this child is the stack's own, on up's port. Its death leaves the
    host unwatched, nothing else: the stack keeps running and ``NodeExporterDown`` says so."""
    argv = [binary, f"--web.listen-address={HOST}:{port}", *collector_flags()]
    survivable = "the host is unwatched; NodeExporterDown fires (restart up to get it back)"
    return _exporter("node_exporter", argv, stack, port, survivable=survivable)


def service_environment(
    stack: StackDir, ports: Mapping[str, int], *, profile: str | None, traffic: bool
) -> dict[str, str]:
    """The service's environment: the caller's, then up's settings (which win over it)."""
    env = {k: v for k, v in os.environ.items() if k != "PLEXICHAT_PROFILE"}
    prefix = "PLEXICHAT_PERFORMANCE__"
    env.update(
        {
            "PLEXICHAT_SERVICE__DATA_DIR": str(stack.component("service") / "data"),
            f"{prefix}PERFORMANCE_LOG_FILE": str(stack.log("performance")),
            f"{prefix}OBSERVABILITY__ENVIRONMENT": "up",
            f"{prefix}CACHING__REDIS_CACHE__ENABLED": "true",
            f"{prefix}CACHING__REDIS_CACHE__HOST": HOST,
            f"{prefix}CACHING__REDIS_CACHE__PORT": str(ports["redis"]),
        }
    )
    if profile != "production":  # fault injection is refused there, the switch too
        env["PLEXICHAT_FAULTS__CONTROL_FILE"] = str(stack.fault)
    if traffic:
        # The load generator claims many client identities in X-Forwarded-For; the service
        # believes the header from loopback only, so the per-client rate limit stays real.
        env[f"{prefix}API__RATE_LIMITING__CLIENT_HEADER"] = "X-Forwarded-For"
        env[f"{prefix}API__RATE_LIMITING__TRUSTED_PROXIES"] = f"[{HOST}/32]"
    return env


def service(
    stack: StackDir,
    ports: Mapping[str, int],
    *,
    profile: str | None,
    traffic: bool,
) -> Component:
    """The PlexiChat service on its port, with ``up``'s settings in its environment; ready when
    ``/readyz`` says so."""
    argv = _cli("serve", "--port", str(ports["service"]), "--log-level", "warning")
    if profile is not None:
        argv += ["--profile", profile]
    url = f"http://{HOST}:{ports['service']}"
    env = service_environment(stack, ports, profile=profile, traffic=traffic)
    return Component(
        "service",
        Child("service", argv, stack.log("service"), env=env),
        _http_ok(f"{url}/readyz"),
        "ready (/readyz)",
        url=url,
        data=stack.component("service") / "data",
    )


def receiver(stack: StackDir, port: int) -> Component:
    """The webhook receiver, appending to the stack's notification log."""
    argv = _cli("receive", "--port", str(port), "--out", str(stack.notifications))
    url = f"http://{HOST}:{port}"
    return Component(
        "receiver",
        Child("receiver", argv, stack.log("receiver")),
        _http_ok(f"{url}/-/ready"),
        "ready",
        url=f"{url}/alerts",
        data=stack.notifications,
    )


def alertmanager(binary: str, stack: StackDir, port: int, flags: list[str]) -> Component:
    """Alertmanager with ``flags``; ready at ``/-/ready``."""
    url = f"http://{HOST}:{port}"
    return Component(
        "alertmanager",
        Child("alertmanager", [binary, *flags], stack.log("alertmanager")),
        _http_ok(f"{url}/-/ready"),
        "ready",
        url=url,
        data=stack.component("alertmanager") / "data",
    )


def prometheus(binary: str, stack: StackDir, port: int, flags: list[str]) -> Component:
    """Prometheus with ``flags``; ready once it serves its rule groups."""
    url = f"http://{HOST}:{port}"
    return Component(
        "prometheus",
        Child("prometheus", [binary, *flags], stack.log("prometheus")),
        _rules_loaded(url),
        "ready with its rules loaded",
        url=url,
        data=stack.component("prometheus") / "data",
    )


def identities_for(rps: float) -> int:
    """Client identities for ``rps``, so that none nears the guide's rate limit (at least
    ``MIN_IDENTITIES``)."""
    return max(MIN_IDENTITIES, math.ceil(rps * IDENTITIES_PER_RPS))


def loadgen(stack: StackDir, service_url: str, rps: float, identities: int) -> Component:
    """The load generator at ``rps`` over ``identities`` clients, in hour-long segments that
    ``up`` restarts."""
    argv = _cli("loadgen", "--url", service_url, "--duration", str(LOADGEN_SEGMENT_S))
    argv += ["--rps", f"{rps:g}", "--identities", str(identities)]
    return Component(
        "loadgen",
        Child("loadgen", argv, stack.log("loadgen")),
        lambda: True,
        "started",
        url=f"{rps:g} req/s over {identities} client identities",
        restart_on_success=True,
    )
