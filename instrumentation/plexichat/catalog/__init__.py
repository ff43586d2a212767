"""The metric catalog: every instrument we emit, and the guide's "Core Performance Metrics" table.

``metrics.yaml`` beside this module is the single source of truth for instrument names, kinds,
units, descriptions and attributes (its ``instruments`` section), for the table's PromQL and
thresholds (its ``metrics`` section) and for the alerts on our own instruments that the table
has no row for (its ``alerts`` section); dashboards, alert and recording rules and the README
table are generated from it, and the instrumentation creates each instrument from its entry
(``MetricRegistry.instrument(name)``). This package imports nothing else of ``plexichat``.

::

    from plexichat.catalog import default_catalog

    catalog = default_catalog()                 # the packaged metrics.yaml, loaded once
    catalog.instrument("plexichat.cache.lookups").unit   # '{lookup}'
    entry = catalog["response_time"]
    entry.query("5m", 'job="plexichat"')        # PromQL of the table's value
    entry.thresholds("production").alert        # Alert(op='>', value=0.5, ...)
    catalog.bucket_boundaries("http.server.request.duration")

``watched.yaml`` is the catalog of what the stack reads from others -- its dependencies'
exporters and the alerting path itself (``default_watched()``, :mod:`.watched`).

The PromQL template scheme (``{window}``, ``{selector}``) is described in
``plexichat.catalog.loader``.
"""

from plexichat.catalog.alert_rule import AlertRule
from plexichat.catalog.catalog import Catalog
from plexichat.catalog.errors import CatalogError
from plexichat.catalog.loader import default_catalog, default_path, load_catalog
from plexichat.catalog.model import (
    PROFILES,
    Alert,
    Breakdown,
    Follow,
    Instrument,
    MetricEntry,
    Recording,
    Target,
    Thresholds,
)
from plexichat.catalog.watched import Source, Watched, WatchedEntry
from plexichat.catalog.watched_loader import default_watched, load_watched

__all__ = [
    "PROFILES",
    "Alert",
    "AlertRule",
    "Breakdown",
    "Catalog",
    "CatalogError",
    "Follow",
    "Instrument",
    "MetricEntry",
    "Recording",
    "Source",
    "Target",
    "Thresholds",
    "Watched",
    "WatchedEntry",
    "default_catalog",
    "default_path",
    "default_watched",
    "load_catalog",
    "load_watched",
]
