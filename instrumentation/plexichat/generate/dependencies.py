"""Alerts on the service's dependencies (``alerts/dependencies.yaml``): Redis.

The service's cache tiers and rate limiter use Redis; when it is gone they degrade (the memory
tier answers, requests do not fail) and nothing in the service's own series says why. The stack
runs ``redis_exporter`` beside Redis (scrape job ``redis`` in every target,
``plexichat.generate.stack.prometheus``), and these alerts read what it exposes:

- ``RedisDown``: the exporter reaches no Redis (``redis_up == 0``) or is not scraped itself.
- ``RedisMemoryHigh``: used memory above 90 % of ``maxmemory``, only where one is set (without
  it ``redis_memory_max_bytes`` is 0 and the ratio means nothing).
- ``RedisClientsNearMax``: connected clients above 80 % of ``maxclients``, before Redis refuses
  any.
- ``RedisRejectedConnections``: Redis refused clients (``maxclients`` reached).

Metric names are those of Debian's ``prometheus-redis-exporter`` 1.45 against ``redis-server``
7.0 (checked on their ``/metrics``; the live test tests/e2e/test_dependencies.py finds each).
Windows and ``for:`` follow the options' time scale like every other rule.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plexichat.generate.options import Options
from plexichat.generate.watchers import Watcher, alert

REDIS_JOB = "redis"
"""The job of Prometheus scraping ``redis_exporter``, in every target that runs Redis."""
REDIS_EXPORTER_PORT = 9121
"""``redis_exporter``'s default listen port (Compose and the chart)."""
GROUP = "plexichat-dependency-alerts"
SERIES = frozenset(
    {
        "redis_up",
        "redis_memory_used_bytes",
        "redis_memory_max_bytes",
        "redis_rejected_connections_total",
        "redis_connected_clients",
        "redis_config_maxclients",
    }
)
"""The exporter's series these alerts read (besides ``up``): no catalog instrument, so the live
test finds each on the real exporter's /metrics."""
_REDIS = f'job="{REDIS_JOB}"'


def _rejected(options: Options) -> str:
    window = options.window("5m")
    return (
        f"sum by (job, instance) (increase(redis_rejected_connections_total{{{_REDIS}}}"
        f"[{window}])) > 0"
    )


DEPENDENCIES: tuple[Watcher, ...] = (
    Watcher(
        name="RedisDown",
        expr=lambda options: f"redis_up{{{_REDIS}}} == 0\nor up{{{_REDIS}}} == 0",
        hold="1m",
        severity="critical",
        summary="Redis behind {{ $labels.instance }} is down: the service's Redis cache tier "
        "and rate limiter degrade to the process-local ones.",
        meaning="redis_exporter cannot reach Redis (`redis_up == 0`), or Prometheus cannot "
        "scrape the exporter (`up == 0` for job redis), so nothing is known about Redis. The "
        "service keeps answering: its cache falls back to the memory tier (a lower hit ratio, "
        "more database queries, each worker with its own cache) and the rate limiter counts "
        "per process, so with several workers or replicas a client gets more than its limit.",
        first_look="`redis-cli -h <host> -p <port> ping` (with the password: `REDISCLI_AUTH`); "
        "Redis' process or pod, its restarts and log (an OOM kill, a full disk for the "
        "append-only file); the exporter's log (`Couldn't connect to redis instance`); the "
        'service\'s log and `plexichat_cache_requests_total{cache_tier="redis"}`.',
        silence=f"job={REDIS_JOB}",
    ),
    Watcher(
        name="RedisMemoryHigh",
        expr=lambda options: (
            f"redis_memory_used_bytes{{{_REDIS}}} / redis_memory_max_bytes{{{_REDIS}}} > 0.9\n"
            f"and redis_memory_max_bytes{{{_REDIS}}} > 0"
        ),
        hold="5m",
        severity="warning",
        summary="Redis {{ $labels.instance }} uses {{ $value | humanizePercentage }} of its "
        "maxmemory.",
        meaning="Redis holds more than 90 % of its `maxmemory`. The bundles run it with "
        "`allkeys-lru`, so at the limit it evicts the least recently used keys: the cache hit "
        "ratio falls and the database takes the misses. (Without a maxmemory this alert never "
        "fires; the memory limit of the container is then the only bound.)",
        first_look="`redis-cli info memory` (used_memory, maxmemory, mem_fragmentation_ratio); "
        "`redis-cli info stats` (evicted_keys); the cache's TTLs and what fills it "
        "(`redis-cli --bigkeys`); raise `redis.maxmemory` or the memory limit.",
        silence=f"job={REDIS_JOB}",
    ),
    Watcher(
        name="RedisClientsNearMax",
        expr=lambda options: (
            f"redis_connected_clients{{{_REDIS}}} / redis_config_maxclients{{{_REDIS}}} > 0.8"
        ),
        hold="5m",
        severity="warning",
        summary="Redis {{ $labels.instance }} has {{ $value | humanizePercentage }} of its "
        "maxclients connected: near the limit where it refuses clients.",
        meaning="More than 80 % of Redis' `maxclients` connections are open. At the limit "
        "Redis refuses new connections (`RedisRejectedConnections`) and the service's workers "
        "that cannot connect lose their Redis tier.",
        first_look="`redis-cli info clients` and `redis-cli client list` (who holds the "
        "connections: each worker's and replica's pool, a leak); `redis-cli config get "
        "maxclients` against the process' open-file limit.",
        silence=f"job={REDIS_JOB}",
    ),
    Watcher(
        name="RedisRejectedConnections",
        expr=_rejected,
        hold="1m",
        severity="warning",
        summary="Redis {{ $labels.instance }} rejected {{ $value | humanize }} connections in "
        "5m: it has reached maxclients.",
        meaning="Redis refuses new clients because `maxclients` connections are open; the "
        "service's workers that cannot connect fall back to their memory cache.",
        first_look="`redis-cli info clients` (connected_clients) against `redis-cli config get "
        "maxclients`; `redis-cli client list` for who holds the connections (a leak, a pool "
        "sized too large times the workers and replicas).",
        silence=f"job={REDIS_JOB}",
    ),
)


def alerts(options: Options) -> Iterator[dict[str, Any]]:
    """Every alert on the dependencies."""
    for dependency in DEPENDENCIES:
        yield alert(dependency, options)


def groups(options: Options) -> list[dict[str, Any]]:
    """The rule groups of ``dependencies.yaml``."""
    return [{"name": GROUP, "rules": list(alerts(options))}]
