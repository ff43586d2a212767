"""Grafana dashboards built with grafanalib, one module per dashboard; shared parts in ``panels``;
``board`` assembles one, adding a default panel for each catalog instrument no module designs.
Dependencies and Stack health are drawn from the watched catalog (``watched``), with ``health``'s
stats.

``DASHBOARDS`` maps each file name (``dashboards/<name>.json``) to its module's ``build``.
"""

from collections.abc import Callable
from typing import Any

from plexichat.generate.dashboards import (
    business,
    cache,
    database,
    dependencies,
    http,
    overview,
    slo,
    stack_health,
    system,
)
from plexichat.generate.options import Options

Builder = Callable[[Options], dict[str, Any]]

DASHBOARDS: dict[str, Builder] = {
    "overview": overview.build,
    "http": http.build,
    "cache": cache.build,
    "database": database.build,
    "system": system.build,
    "business": business.build,
    "slo": slo.build,
    "dependencies": dependencies.build,
    "stack_health": stack_health.build,
}

__all__ = ["DASHBOARDS", "Builder"]
