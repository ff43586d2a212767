"""*Dependencies*: Redis and, where the target runs it, PostgreSQL, as their exporters see them
(the ``dependency`` sources of the watched catalog, drawn by :mod:`.watched`): up, memory and
clients against their limits, rejected connections, evictions, commands; connections against
max_connections, transactions, deadlocks, the buffer cache hit ratio.

Beside Redis' own keyspace hit ratio, the service's Redis-tier hit ratio (the Cache dashboard's
per-tier query, :func:`.cache.tier_hit_ratio`): Redis counts the key lookups of every client's
read commands, the service only its cache's Redis-tier requests, so the two differ; one falling
alone points at the service or at another client.
"""

from __future__ import annotations

from typing import Any

from plexichat.generate.dashboards import board, cache, watched
from plexichat.generate.options import Options

KIND = "dependency"
KEYSPACE_HIT_RATIO = "redis_keyspace_hit_ratio"
"""The watched entry whose panel also draws the service's Redis-tier hit ratio."""


def build(options: Options) -> dict[str, Any]:
    """The Dependencies dashboard as Grafana 11 JSON: a row per dependency ``options`` generate
    for."""
    ours = cache.tier_hit_ratio(options, watched.WINDOW, cache.REDIS_TIER)
    beside = {KEYSPACE_HIT_RATIO: [(ours, "service's Redis tier {{job}}")]}
    return board.dashboard(
        "dependencies",
        "PlexiChat / Dependencies",
        "The service's dependencies as their exporters see them (catalog/watched.yaml).",
        watched.rows(KIND, options, beside),
        options,
    )
