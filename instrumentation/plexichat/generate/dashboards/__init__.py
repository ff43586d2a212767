"""Grafana dashboards built with grafanalib, one module per dashboard; shared parts in ``panels``;
``board`` assembles one, adding a default panel for each catalog instrument no module designs.

``DASHBOARDS`` maps each file name (``dashboards/<name>.json``) to its module's ``build``.
"""

from collections.abc import Callable
from typing import Any

from plexichat.generate.dashboards import business, cache, database, http, overview, slo, system
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
}

__all__ = ["DASHBOARDS", "Builder"]
