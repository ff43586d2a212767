"""*Database*: query time per operation, slow queries, connections."""

from __future__ import annotations

from typing import Any

from plexichat.generate import promql
from plexichat.generate.dashboards import board, panels
from plexichat.generate.options import Options

DB = "db_client_operation_duration_seconds"
SLOW_QUERY_SECONDS = 1.0
"""The guide's ``database.query_optimization.slow_query_threshold`` (1000 ms), a bucket edge."""


def build(options: Options) -> dict[str, Any]:
    """The Database dashboard as Grafana 11 JSON, query time against ``options``' thresholds."""
    entry = options.catalog["db_query_time"]
    resolved = options.thresholds(entry)
    window = entry.window or "5m"
    target = f"Target {resolved.target.op} {resolved.target.value * 1000:g} ms" + (
        f", alert {resolved.alert.op} {resolved.alert.value * 1000:g} ms."
        if resolved.alert
        else "."
    )
    cells = [
        panels.Cell(
            panels.stat(
                "Average query time",
                f"{entry.description} (db.client.operation.duration). {target}",
                entry.query(selector=panels.SELECTOR),
                "s",
                panels.steps(entry, resolved),
            ),
            6,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Average query time per operation",
                f"Mean duration per db.operation.name (SELECT, INSERT...). {target}",
                [
                    panels.target(
                        entry.breakdown_query(selector=panels.SELECTOR) or "",
                        "{{db_operation_name}}",
                    )
                ],
                "s",
                panels.steps(entry, resolved),
            ),
            18,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "p95 query time per operation",
                "95th percentile of db.client.operation.duration per operation.",
                [
                    panels.target(
                        promql.histogram_quantile(
                            0.95, DB, panels.SELECTOR, window, ("db_operation_name",)
                        ),
                        "{{db_operation_name}}",
                        exemplar=True,
                    )
                ],
                "s",
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Slow queries per second",
                "Operations slower than the guide's slow_query_threshold (1000 ms) per "
                "second; they are logged with their plan when explain_slow_queries is on.",
                [
                    panels.target(
                        promql.slower_rate(
                            DB, SLOW_QUERY_SECONDS, panels.SELECTOR, window, ("db_operation_name",)
                        ),
                        "{{db_operation_name}}",
                    )
                ],
                "ops",
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Operations per second",
                "Database operations per second by operation and database system.",
                [
                    panels.target(
                        promql.observed_rate(
                            DB, panels.SELECTOR, window, ("db_system_name", "db_operation_name")
                        ),
                        "{{db_system_name}} {{db_operation_name}}",
                    )
                ],
                "ops",
            ),
            12,
            8,
        ),
        panels.Cell(
            panels.timeseries(
                "Connections in use",
                "Database connections checked out of the pool (the guide's "
                "database_connections gauge), against database.connection_pool.max_size.",
                [
                    panels.target(
                        f"plexichat_database_connections{{{panels.SELECTOR}}}", "{{instance}}"
                    )
                ],
            ),
            12,
            8,
        ),
    ]
    return board.dashboard(
        "database", "PlexiChat / Database", "Database operations of PlexiChat.", cells, options
    )
