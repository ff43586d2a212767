"""The metric catalog: the guide's "Core Performance Metrics" table as data.

``metrics.yaml`` beside this module is the single source of truth for metric names, units,
instruments, PromQL and thresholds; dashboards, alert and recording rules and the README
table are generated from it. This package imports nothing else of ``plexichat``.

::

    from plexichat.catalog import load_catalog

    catalog = load_catalog()                    # the packaged metrics.yaml
    entry = catalog["response_time"]
    entry.query("5m", 'job="plexichat"')        # PromQL of the table's value
    entry.thresholds("production").alert        # Alert(op='>', value=0.5, ...)
    catalog.bucket_boundaries("http.server.request.duration")

The PromQL template scheme (``{window}``, ``{selector}``) is described in
``plexichat.catalog.loader``.
"""

from plexichat.catalog.catalog import Catalog
from plexichat.catalog.errors import CatalogError
from plexichat.catalog.loader import default_path, load_catalog
from plexichat.catalog.model import (
    PROFILES,
    Alert,
    Breakdown,
    Follow,
    Instrument,
    MetricEntry,
    Target,
    Thresholds,
)

__all__ = [
    "PROFILES",
    "Alert",
    "Breakdown",
    "Catalog",
    "CatalogError",
    "Follow",
    "Instrument",
    "MetricEntry",
    "Target",
    "Thresholds",
    "default_path",
    "load_catalog",
]
