"""Keys that are accepted but have no effect yet, so that setting one is said, not ignored.

Work that makes a key live removes it from ``INERT_KEYS`` (and its "(accepted, not yet in
effect)" comment from ``defaults/performance.yaml``); a test keeps the two in step.
"""

import logging

from plexichat.config.settings import Settings

INERT_KEYS: frozenset[str] = frozenset(
    {
        "performance.latency_optimizer.optimization_level",
        # database.connection_pool sizes the one pool (service/db_engine.py says why)
        "performance.latency_optimizer.query_optimization.connection_pool_size",
        "performance.resource_limits.max_cpu_usage",
        # performance.metrics_collection_interval is the interval that takes effect.
        "performance.metrics.collection_interval",
        "performance.metrics.retention_period",
        "performance.metrics.exporters.grafana",
        "performance.metrics.exporters.custom_dashboard",
    }
)
"""Dotted canonical keys with no effect yet; a key stands for everything beneath it too."""
GENERATION_KEYS: frozenset[str] = frozenset({"performance.metrics.aggregation_intervals"})
"""Keys in effect at generation time, not in the service: ``plexichat-obs generate --profile``
(and ``up``, which generates for its profile) reads them from the packaged defaults and the
profile to make the recording rules and the overview's windows. The service does not read
them, and does not warn about them either: they are not inert, they act elsewhere."""


def is_inert(key: str) -> bool:
    """Whether the dotted canonical ``key`` is, or lies beneath, an inert key."""
    return any(key == inert or key.startswith(f"{inert}.") for inert in INERT_KEYS)


def inert_keys_set(settings: Settings) -> list[str]:
    """The inert keys that a source set explicitly (the packaged base defaults do not count,
    a profile's file does), sorted."""
    return sorted(key for key in settings.explicit_keys if is_inert(key))


def log_inert_keys(
    settings: Settings, logger: logging.Logger, level: int = logging.WARNING
) -> list[str]:
    """Log one line listing the inert keys that were set (nothing when there are none);
    return them."""
    keys = inert_keys_set(settings)
    if keys:
        logger.log(
            level,
            "configuration keys accepted but not yet in effect: %s (sources: %s)",
            ", ".join(keys),
            ", ".join(settings.sources[1:]) or "none",
        )
    return keys
