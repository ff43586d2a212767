"""*Stack health*: the alerting path watching itself -- Prometheus and Alertmanager as they
expose themselves (the ``watcher`` sources of the watched catalog, drawn by :mod:`.watched`):
targets up, scrape durations, rule evaluation failures and durations, configuration reloads,
notifications sent and failed, the Alertmanagers Prometheus knows. On top, *Stack healthy* and
*Watchdog last seen* (:mod:`.health`).
"""

from __future__ import annotations

from typing import Any

from plexichat.generate.dashboards import board, health, panels, watched
from plexichat.generate.options import Options

KIND = "watcher"
STAT_WIDTH, STAT_HEIGHT = 12, 4


def build(options: Options) -> dict[str, Any]:
    """The Stack health dashboard as Grafana 11 JSON."""
    cells = [
        panels.Cell(health.stack_healthy(options), STAT_WIDTH, STAT_HEIGHT),
        panels.Cell(health.watchdog_last_seen(options), STAT_WIDTH, STAT_HEIGHT),
        *watched.rows(KIND, options),
    ]
    return board.dashboard(
        "stack_health",
        "PlexiChat / Stack health",
        "Prometheus and Alertmanager as they see themselves and each other "
        "(catalog/watched.yaml): who watches the watchers.",
        cells,
        options,
    )
