"""*Overview*: the guide's whole table at a glance.

One strip of eight stats at the top (each coloured by its target and alert threshold, linking
to the dashboard that explains it); below it *Stack healthy* (the dependencies and the alerting
path, :mod:`.health`, linking to the Dependencies and Stack health dashboards) beside the alerts
that fire or are pending; then each metric's trend (the recorded value at every aggregation
interval). Firing alerts mark the trends (the ``ALERTS`` annotation every dashboard carries).
"""

from __future__ import annotations

from typing import Any

from plexichat.catalog import MetricEntry
from plexichat.generate import promql
from plexichat.generate.dashboards import board, health, panels
from plexichat.generate.options import Options

STAT_HEIGHT = 4
TREND_WIDTH, TREND_HEIGHT = 12, 7
ALERTS_HEIGHT = 5
HEALTH_WIDTH = 4
HOMES = {"http": "HTTP", "database": "Database", "cache": "Cache", "system": "System"}
"""The dashboards the table's instruments live on, by their catalog name."""


def _describe(entry: MetricEntry, options: Options) -> str:
    resolved = options.thresholds(entry)
    alert = (
        f"alert {resolved.alert.op} {promql.display(entry, resolved.alert.value)} for "
        f"{resolved.alert.for_}"
        if resolved.alert is not None
        else "no alert in this profile"
    )
    return (
        f"{entry.guide_name}: {entry.description.lower()}. Target {resolved.target.op} "
        f"{promql.display(entry, resolved.target.value)}; {alert}. Green meets the target, "
        f"yellow misses it, red is past the alert threshold. The link opens the "
        f"{HOMES[entry.instrument.dashboard]} dashboard."
    )


def _trend(entry: MetricEntry, options: Options) -> list[Any]:
    if entry.recording is None:
        return [panels.target(entry.query(selector=panels.SELECTOR), "{{instance}}")]
    return panels.targets(
        *(
            (f"{entry.recorded(w)}{{{panels.JOB_SELECTOR}}}", f"{w} {{{{job}}}}")
            for w in options.aggregation_intervals
        )
    )


def build(options: Options) -> dict[str, Any]:
    """The Overview dashboard as Grafana 11 JSON: every catalog entry against ``options``'
    thresholds."""
    entries = list(options.catalog)
    stat_width = panels.COLUMNS // len(entries)
    cells: list[panels.Cell] = []
    for entry in entries:
        stat = panels.stat(
            entry.guide_name,
            _describe(entry, options),
            entry.query(selector=panels.SELECTOR),
            panels.unit_of(entry),
            panels.steps(entry, options.thresholds(entry)),
        )
        home = entry.instrument.dashboard
        stat.links = [panels.link(f"{HOMES[home]} dashboard", panels.uid(home))]
        cells.append(panels.Cell(stat, stat_width, STAT_HEIGHT))
    healthy = health.stack_healthy(options)
    healthy.links = [
        panels.link("Stack health dashboard", panels.uid("stack_health")),
        panels.link("Dependencies dashboard", panels.uid("dependencies")),
    ]
    cells.append(panels.Cell(healthy, HEALTH_WIDTH, ALERTS_HEIGHT))
    cells.append(
        panels.Cell(
            panels.alert_list(
                "Alerts firing and pending",
                "The Prometheus alerts of the selected jobs that fire or are pending (the "
                "generated catalog, service and SLO rules); each links to its runbook through "
                "its runbook_url annotation.",
            ),
            panels.COLUMNS - HEALTH_WIDTH,
            ALERTS_HEIGHT,
        )
    )
    for entry in entries:
        resolved = options.thresholds(entry)
        unit = panels.unit_of(entry)
        cells.append(
            panels.Cell(
                panels.timeseries(
                    f"{entry.guide_name} trend",
                    f"{entry.guide_name} averaged over each aggregation interval "
                    f"({', '.join(options.aggregation_intervals)}) from the recording rules; "
                    "lines mark the target and the alert threshold.",
                    _trend(entry, options),
                    unit,
                    panels.steps(entry, resolved),
                ),
                TREND_WIDTH,
                TREND_HEIGHT,
            )
        )
    return board.dashboard(
        "overview",
        "PlexiChat / Overview",
        "The PlexiChat performance guide's core metrics against their targets and alert "
        "thresholds.",
        cells,
        options,
    )
