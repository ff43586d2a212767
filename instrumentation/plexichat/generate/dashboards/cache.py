"""*Cache*: hit ratio overall and per tier, evictions, memory, the Redis tier's breaker."""

from __future__ import annotations

from typing import Any

from plexichat.generate.dashboards import board, panels
from plexichat.generate.options import Options

REDIS_TIER = "redis"
"""The ``cache_tier`` of the Redis tier (plexichat.cache.requests, plexichat.cache.tier.state)."""


def tier_hit_ratio(options: Options, window: str | None = None, tier: str | None = None) -> str:
    """Hits over requests per cache tier (the catalog's ``cache_hit_ratio`` breakdown) at
    ``window`` (default the entry's), of ``tier`` only when given, for the dashboard's job and
    instance variables."""
    selector = panels.SELECTOR if tier is None else f'cache_tier="{tier}", {panels.SELECTOR}'
    return options.catalog["cache_hit_ratio"].breakdown_query(window, selector) or ""


def build(options: Options) -> dict[str, Any]:
    """The Cache dashboard as Grafana 11 JSON, the hit ratio coloured by ``options``' thresholds."""
    hit = options.catalog["cache_hit_ratio"]
    resolved = options.thresholds(hit)
    describe = (
        f"Target {resolved.target.op} {resolved.target.value:.0%}"
        + (f", alert {resolved.alert.op} {resolved.alert.value:.0%}" if resolved.alert else "")
        + "."
    )
    window = hit.window or "5m"
    state = "plexichat_cache_tier_state"
    cells = [
        panels.Cell(
            panels.stat(
                "Cache hit ratio",
                "Share of top-level cache lookups served by any tier (plexichat.cache.lookups; "
                f"an L1 miss then an L2 hit is a hit). {describe}",
                hit.query(selector=panels.SELECTOR),
                "percentunit",
                panels.steps(hit, resolved),
            ),
            6,
            8,
        ),
        panels.Cell(
            panels.bargauge(
                "Hit ratio per tier",
                "Hits over requests to each tier (plexichat.cache.requests by cache.tier: "
                f"memory, redis, query). {describe}",
                tier_hit_ratio(options),
                "{{cache_tier}}",
                "percentunit",
                panels.steps(hit, resolved),
            ),
            6,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Hit ratio per tier over time",
                f"Per-tier hit ratio over {window} windows. {describe}",
                [panels.target(tier_hit_ratio(options), "{{cache_tier}}")],
                "percentunit",
                panels.steps(hit, resolved),
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Evictions per second",
                "Entries evicted per tier (plexichat.cache.evictions); a steady rate means "
                "max_size is too small for the working set.",
                [
                    panels.target(
                        "sum by (cache_tier) (rate(plexichat_cache_evictions_total"
                        f"{{{panels.SELECTOR}}}[{window}]))",
                        "{{cache_tier}}",
                    )
                ],
                "ops",
            ),
            9,
            8,
        ),
        panels.Cell(
            panels.stat(
                "Redis tier",
                "State of the Redis tier's circuit breaker (plexichat.cache.tier.state): closed "
                "is in use; open is skipped after failures (the cache serves from memory, rate "
                "limits are local); half_open is probing. No data: no Redis tier configured.",
                f"max by (cache_tier_state) "
                f'({state}{{cache_tier="{REDIS_TIER}", {panels.SELECTOR}}}) == 1',
                "short",
                legend="{{cache_tier_state}}",
                text_mode="name",
            ),
            6,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Cache memory",
                "Memory held by each in-process tier (plexichat.cache.memory.usage), to compare "
                "with caching.memory_cache.max_size.",
                [
                    panels.target(
                        "sum by (cache_tier) "
                        f"(plexichat_cache_memory_usage_bytes{{{panels.SELECTOR}}})",
                        "{{cache_tier}}",
                    )
                ],
                "bytes",
            ),
            9,
            8,
        ),
    ]
    return board.dashboard(
        "cache", "PlexiChat / Cache", "The PlexiChat cache tiers.", cells, options
    )
