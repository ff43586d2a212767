"""Alerts on the service's dependencies (``alerts/dependencies.yaml``): Redis, and PostgreSQL
where the target runs it.

The service's cache tiers and rate limiter use Redis, and its database may be PostgreSQL; when
one is in trouble nothing in the service's own series says why. The stack runs an exporter
beside each (scrape jobs ``redis`` and ``postgres`` in every target that runs them,
``plexichat.generate.stack.prometheus``), and these alerts read what they expose. What they
read, their thresholds (per profile) and their runbook text are the ``dependency`` sources'
entries of the watched catalog (``catalog/watched.yaml``): Down (the exporter reaches nothing,
or is not scraped itself), memory and clients near their limits, rejected connections,
deadlocks. An optional source the target does not run (no PostgreSQL) gets no rule group: by
generation, not by a silence.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from plexichat.catalog import default_watched
from plexichat.generate.options import Options
from plexichat.generate.watchers import Watcher, alert, for_options, of_kind

KIND = "dependency"
REDIS_JOB = default_watched().source("redis").job
"""The job of Prometheus scraping ``redis_exporter``, in every target that runs Redis."""
REDIS_EXPORTER_PORT = 9121
"""``redis_exporter``'s default listen port (Compose and the chart)."""
GROUP = "plexichat-dependency-alerts"
SERIES = frozenset(default_watched().source(REDIS_JOB).series)
"""Redis' exporter series the alerts and panels read (besides ``up``): the live test finds each
on the real exporter's /metrics."""
DEPENDENCIES: tuple[Watcher, ...] = of_kind(KIND, default_watched(), None)
"""Every dependency alert, as the guide's table (no profile) has them, optional sources
included."""


def alerts(options: Options) -> Iterator[dict[str, Any]]:
    """Every alert on the dependencies ``options``' target runs."""
    for dependency in for_options(KIND, options):
        yield alert(dependency, options)


def groups(options: Options) -> list[dict[str, Any]]:
    """The rule groups of ``dependencies.yaml``."""
    return [{"name": GROUP, "rules": list(alerts(options))}]
