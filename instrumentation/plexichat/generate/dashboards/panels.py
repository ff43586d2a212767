"""Shared building blocks of the dashboards: datasource, variables, panels, layout, cleanup.

Layout is kept apart from queries: a dashboard module lists ``Cell``s (a panel and its size) and
``grid`` places them left to right in Grafana's 24 columns. ``render`` turns a grafanalib
``Dashboard`` into the JSON Grafana 11 reads: grafanalib still writes keys of Grafana < 7 (``span``,
Angular graph options, ``null`` fields); ``modern`` drops exactly those, so that every key left
is one the Grafana 11 schema knows (a test loads each dashboard with grafana-foundation-sdk).

Axes: a panel whose values cannot be negative (a rate, ratio, count, size or duration: all but
an error budget left) starts at 0 (``min: 0``), because Grafana's auto range otherwise pads
below the data and a quiet error rate sits on a negative axis. The top is never pinned (no
``max`` or soft max at a threshold): the data sets it, so 2 ms of latency fills its panel
instead of lying flat under a 500 ms alert line. Thresholds are dashed lines over the data;
Grafana's auto range ignores them, so one far above the data is out of view.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import attr
from grafanalib import core  # type: ignore[import-untyped]
from grafanalib._gen import DashboardEncoder  # type: ignore[import-untyped]

from plexichat.catalog import MetricEntry, Thresholds
from plexichat.generate import banner, promql

SCHEMA_VERSION = 39
"""Grafana 11's dashboard schema version, set explicitly (grafanalib's default is 12)."""
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
SELECTOR = 'job=~"$job", instance=~"$instance"'
"""The label matchers of every raw-series query (recorded series carry ``job`` only)."""
JOB_SELECTOR = 'job=~"$job"'
COLUMNS = 24
TAGS = ["plexichat", "generated"]

REDUCE_LAST = {"calcs": ["lastNotNull"], "fields": "", "values": False}
FIRING = 'ALERTS{alertstate="firing", job=~"$job"}'
"""Prometheus' series of the alerts that fire (the SLO and catalog alerts carry ``job``)."""
UNITS = {"s": "s", "By": "bytes", "1": "percentunit", "{request}/s": "reqps"}


@dataclass(frozen=True)
class Cell:
    """A panel and its size in grid units (24 columns wide), for :func:`grid` to place."""

    panel: core.Panel
    width: int
    height: int


class ExemplarTarget(core.Target):  # type: ignore[misc]
    """A Prometheus query whose panel also shows the exemplars of the series it reads (trace
    ids on latency buckets, linked to Tempo by the data source); grafanalib has no field."""

    def to_json_data(self) -> dict[str, Any]:
        """The target's JSON with ``exemplar: true``."""
        data: dict[str, Any] = super().to_json_data()
        data["exemplar"] = True
        return data


def target(expr: str, legend: str = "", ref: str = "A", *, exemplar: bool = False) -> core.Target:
    """A Prometheus query of the dashboard's data source; ``exemplar=True`` shows the exemplars
    of what it reads."""
    kind = ExemplarTarget if exemplar else core.Target
    return kind(expr=expr, legendFormat=legend, refId=ref, datasource=DATASOURCE)


def targets(*pairs: tuple[str, str]) -> list[core.Target]:
    """``(expr, legend)`` pairs with refIds A, B, C..."""
    return [target(expr, legend, chr(ord("A") + i)) for i, (expr, legend) in enumerate(pairs)]


def quantiles(
    series: str,
    window: str,
    levels: tuple[float, ...] = (0.5, 0.95, 0.99),
    *,
    exemplars: bool = True,
) -> list[Any]:
    """Quantiles of a histogram (native where stored, else classic:
    :func:`~plexichat.generate.promql.histogram_quantile`); with ``exemplars`` the first query
    also shows the exemplars of a latency histogram (once: all of them read the same
    buckets)."""
    return [
        target(
            promql.histogram_quantile(q, series, SELECTOR, window),
            f"p{round(q * 100)}",
            chr(ord("A") + i),
            exemplar=exemplars and i == 0,
        )
        for i, q in enumerate(levels)
    ]


def unit_of(entry: MetricEntry) -> str:
    """The Grafana unit of ``entry``'s value: seconds, percent (of 1), req/s, else a plain
    number."""
    return UNITS.get(entry.value_unit, "short")


def steps(entry: MetricEntry, resolved: Thresholds) -> list[core.Threshold]:
    """Green on the target's side, yellow between target and alert, red past the alert."""
    target_value = resolved.target.value
    alert_value = resolved.alert.value if resolved.alert is not None else None
    if resolved.target.op == "<":  # higher is worse
        found = [core.Threshold("green", 0, 0.0), core.Threshold("yellow", 1, target_value)]
        if alert_value is not None:
            found.append(core.Threshold("red", 2, alert_value))
        return found
    base = "red" if alert_value is not None else "yellow"
    found = [core.Threshold(base, 0, 0.0)]
    if alert_value is not None:
        found.append(core.Threshold("yellow", 1, alert_value))
    found.append(core.Threshold("green", len(found), target_value))
    return found


def timeseries(
    title: str,
    description: str,
    queries: Sequence[core.Target],
    unit: str = "short",
    thresholds: Sequence[core.Threshold] = (),
    minimum: int | None = 0,
    units: Mapping[str, str] | None = None,
) -> core.TimeSeries:
    """A time series panel from ``minimum`` (``None``: the data's floor) up to the data's top;
    with ``thresholds``, their values are drawn as dashed lines. ``units`` gives the queries
    (by refId) whose unit is not ``unit``: Grafana draws each unit on an axis of its own."""
    return core.TimeSeries(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=list(queries),
        unit=unit,
        valueMin=minimum,
        thresholds=list(thresholds) or [core.Threshold("green", 0, 0.0)],
        thresholdsStyleMode="dashed" if thresholds else "off",
        legendDisplayMode="list",
        tooltipMode="multi",
        fillOpacity=10,
        spanNulls=True,
        overrides=[
            {
                "matcher": {"id": "byFrameRefID", "options": ref},
                "properties": [{"id": "unit", "value": other}],
            }
            for ref, other in (units or {}).items()
        ],
    )


def stat(
    title: str,
    description: str,
    expr: str,
    unit: str,
    thresholds: Sequence[core.Threshold] = (),
    decimals: int | None = None,
    legend: str = "",
    text_mode: str = "auto",
    minimum: int | None = 0,
    no_value: str = "none",
    mappings: Sequence[dict[str, Any]] = (),
) -> core.Stat:
    """A single value over its sparkline from ``minimum`` (``None``: the data's floor);
    ``text_mode="name"`` shows the series' legend instead (a state); ``no_value`` is shown
    without data, ``mappings`` (Grafana value mappings) name values."""
    return core.Stat(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(expr, legend)],
        textMode=text_mode,
        format=unit,
        reduceCalc="lastNotNull",
        graphMode="area",
        colorMode="value",
        decimals=decimals,
        noValue=no_value,
        mappings=list(mappings),
        thresholds=list(thresholds) or [core.Threshold("green", 0, 0.0)],
        extraJson={"fieldConfig": {"defaults": {"min": minimum}}},  # grafanalib has no field
    )


def gauge(
    title: str, description: str, expr: str, unit: str, thresholds: Sequence[core.Threshold]
) -> core.GaugePanel:
    """A gauge of the last value of ``expr``, from 0 (to 1 for ``percentunit``), coloured by
    ``thresholds``."""
    return core.GaugePanel(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(expr)],
        format=unit,
        calc="lastNotNull",
        min=0,
        max=1 if unit == "percentunit" else None,
        thresholds=list(thresholds),
        extraJson={"options": {"reduceOptions": REDUCE_LAST, "showThresholdMarkers": True}},
    )


def bargauge(
    title: str,
    description: str,
    expr: str,
    legend: str,
    unit: str,
    thresholds: Sequence[core.Threshold],
) -> core.BarGauge:
    """A horizontal bar per series of ``expr`` (named by ``legend``) from 0 (to 1 for
    ``percentunit``), coloured by ``thresholds``.

    grafanalib writes the unit, range and calculation under the pre-Grafana 7 ``fieldOptions``,
    which Grafana 11 ignores (``modern`` drops it): without them here each bar's range would be
    the data's own, the lowest bar drawn empty.
    """
    return core.BarGauge(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[target(expr, legend)],
        displayMode="gradient",
        orientation="horizontal",
        thresholds=list(thresholds),
        extraJson={
            "fieldConfig": {
                "defaults": {"unit": unit, "min": 0, "max": 1 if unit == "percentunit" else None}
            },
            "options": {"reduceOptions": REDUCE_LAST},
        },
    )


def table(title: str, description: str, expr: str, unit: str) -> core.Table:
    """A table of ``expr``'s series at the current instant."""
    return core.Table(
        title=title,
        description=description,
        dataSource=DATASOURCE,
        targets=[
            core.Target(expr=expr, refId="A", instant=True, format="table", datasource=DATASOURCE)
        ],
        unit=unit,
    )


@attr.s
class AlertList(core.Panel):  # type: ignore[misc]
    """Grafana's alert list, showing the data source's firing and pending alerts (Prometheus
    rules read through the data source, filtered to the selected jobs)."""

    def to_json_data(self) -> dict[str, Any]:
        """The panel's JSON: an ``alertlist`` of the data source's alerts for ``$job``."""
        data: dict[str, Any] = self.panel_json(
            {
                "type": "alertlist",
                "targets": None,
                "fieldConfig": None,
                "options": {
                    "viewMode": "list",
                    "groupMode": "default",
                    "groupBy": [],
                    "maxItems": 20,
                    "sortOrder": 1,
                    "dashboardAlerts": False,
                    "alertName": "",
                    "alertInstanceLabelFilter": '{job=~"$job"}',
                    "datasource": "${datasource}",
                    "stateFilter": {
                        "firing": True,
                        "pending": True,
                        "noData": False,
                        "normal": False,
                        "error": True,
                    },
                },
            }
        )
        return data


@attr.s
class Row(core.RowPanel):  # type: ignore[misc]
    """A row: a title across the grid over the panels below it, down to the next row (always
    open: it holds no panels of its own)."""

    def to_json_data(self) -> dict[str, Any]:
        """The row's JSON with only the keys Grafana 11's row panel has (grafanalib adds a
        query panel's)."""
        return {
            "type": "row",
            "title": self.title,
            "collapsed": False,
            "panels": [],
            "gridPos": self.gridPos,
            "id": self.id,
        }


def row(title: str) -> Row:
    """A row titled ``title``; place it as a full-width cell one grid unit high."""
    return Row(title=title)  # type: ignore[call-arg]  # attrs fields of an untyped base


def alert_list(title: str, description: str) -> AlertList:
    """An alert-list panel of the firing and pending alerts of the selected jobs."""
    # attrs fields of an untyped base class: mypy cannot see them.
    return AlertList(title=title, description=description, dataSource=DATASOURCE)  # type: ignore[call-arg]


def uid(name: str) -> str:
    """The uid of generated dashboard ``name`` (``dashboards/<name>.json``)."""
    return f"plexichat-{name}"


def link(title: str, uid: str) -> dict[str, Any]:
    """A panel link to another generated dashboard, keeping the time range and variables."""
    return {
        "title": title,
        "type": "link",
        "url": f"/d/{uid}?${{__url_time_range}}&${{__all_variables}}",
        "targetBlank": False,
    }


FIRING_ANNOTATION = {
    "name": "Firing alerts",
    "datasource": DATASOURCE,
    "enable": True,
    "iconColor": "red",
    "expr": FIRING,
    # The Prometheus data source's own annotation options (outside Grafana's core schema).
    "step": "60s",
    "titleFormat": "{{alertname}}",
    "tagKeys": "severity,metric,slo",
    "useValueForTime": False,
}
"""Every dashboard's time series mark when an alert of the selected jobs fired."""


def watched_annotation(jobs: Sequence[str], heartbeat: str) -> dict[str, Any]:
    """Every dashboard's time series also mark when an alert on the stack or a dependency
    fired (``jobs``: every watched source's, which the ``$job`` variable -- the service's jobs
    -- never selects): a Redis outage explains the cache panels, a dead Alertmanager the
    silence. The always-firing ``heartbeat`` is left out: it would mark every moment."""
    matchers = f'alertstate="firing", alertname!="{heartbeat}", job=~"{"|".join(jobs)}"'
    return {
        **FIRING_ANNOTATION,
        "name": "Stack and dependency alerts",
        "iconColor": "orange",
        "expr": f"ALERTS{{{matchers}}}",
        "tagKeys": "severity,job",
    }


DASHBOARD_LINKS = [
    core.DashboardLink(
        title="PlexiChat",
        type="dashboards",
        tags=["plexichat"],
        asDropdown=True,
        includeVars=True,
        keepTime=True,
    )
]
"""Every dashboard links to the others (they share the ``plexichat`` tag)."""


def grid(cells: Iterable[Cell]) -> list[core.Panel]:
    """Place cells left to right, wrapping at 24 columns; a row is as tall as its tallest cell."""
    x = y = row_height = 0
    placed: list[core.Panel] = []
    for cell in cells:
        if x + cell.width > COLUMNS:
            x, y, row_height = 0, y + row_height, 0
        cell.panel.gridPos = core.GridPos(h=cell.height, w=cell.width, x=x, y=y)
        placed.append(cell.panel)
        x += cell.width
        row_height = max(row_height, cell.height)
    return placed


def _label_filter(name: str, label: str, query: str) -> core.Template:
    """A multi-value variable over ``query``'s label values, all of them by default."""
    return core.Template(
        name=name,
        label=label,
        query=query,
        dataSource=DATASOURCE,
        includeAll=True,
        multi=True,
        allValue=".+",
        default="$__all",
        refresh=2,
    )


def _variables() -> core.Templating:
    return core.Templating(
        [
            core.Template(
                name="datasource", label="Data source", query="prometheus", type="datasource"
            ),
            _label_filter("job", "Job", "label_values(target_info, job)"),
            _label_filter(
                "instance", "Instance", 'label_values(target_info{job=~"$job"}, instance)'
            ),
        ]
    )


def dashboard(
    uid: str,
    title: str,
    description: str,
    cells: Iterable[Cell],
    profile: str | None,
    annotations: Sequence[dict[str, Any]] = (),
) -> dict[str, Any]:
    """The dashboard as Grafana 11 JSON (sorted keys are applied when written): the firing
    alerts of the selected jobs marked, and ``annotations`` besides."""
    board = core.Dashboard(
        title=title,
        uid=uid,
        description=f"{description} {banner.text(profile)}",
        tags=TAGS,
        panels=grid(cells),
        templating=_variables(),
        annotations=core.Annotations(list=[FIRING_ANNOTATION, *annotations]),
        links=DASHBOARD_LINKS,
        schemaVersion=SCHEMA_VERSION,
        time=core.Time("now-6h", "now"),
        timezone="browser",
        refresh="30s",
        graphTooltip=1,
    ).auto_panel_ids()
    data = json.loads(json.dumps(board.to_json_data(), cls=DashboardEncoder))
    cleaned: dict[str, Any] = modern(data)
    return cleaned


# Keys grafanalib writes for Grafana < 7 or Angular panels, which the Grafana 11 schema has no
# place for (checked with grafana-foundation-sdk), by the key of the object holding them
# ("" = anywhere).
LEGACY_KEYS: dict[str, frozenset[str]] = {
    "": frozenset(
        {
            "span",
            "height",
            "minSpan",
            "error",
            "hideControls",
            "sharedCrosshair",
            "style",
            "rows",
            "cacheTimeout",
            "maxPerRow",
            "repeatDirection",
            "fieldOptions",
            "columns",
            "fontSize",
            "showThresholdLabels",
            "showThresholdMarkers",
            "__inputs",
        }
    ),
    "panels": frozenset({"editable"}),
    "defaults": frozenset({"calcs", "override", "values"}),
    "targets": frozenset({"metric", "step", "target", "query", "intervalFactor"}),
    "steps": frozenset({"index", "line", "op", "yaxis"}),
    "list": frozenset({"useTags", "auto_count", "auto_min", "auto", "tags"}),
    "current": frozenset({"tags"}),
    "timepicker": frozenset({"time_options"}),
}


def modern(node: Any, parent: str = "") -> Any:
    """``node`` without ``None`` values and without ``LEGACY_KEYS``; a threshold step's base
    value stays ``null`` (grafanalib writes the string ``"null"``)."""
    if isinstance(node, list):
        return [modern(item, parent) for item in node]
    if not isinstance(node, dict):
        return node
    dropped = LEGACY_KEYS[""] | LEGACY_KEYS.get(parent, frozenset())
    cleaned: dict[str, Any] = {}
    for key, value in node.items():
        if parent == "steps" and key == "value":
            cleaned[key] = None if value in (None, "null") else value
        elif value is None or key in dropped:
            continue
        else:
            cleaned[key] = modern(value, key)
    return cleaned
