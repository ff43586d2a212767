"""One PNG per dashboard: its panels placed on the dashboard's own 24-column grid, each drawn
from Prometheus range queries over the chosen range (matplotlib's Agg backend, no display)."""

from __future__ import annotations

from pathlib import Path

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from plexichat.stack.prometheus_api import PrometheusAPI
from plexichat.stack.snapshot.dashboard import GRID_COLUMNS, Dashboard, Panel
from plexichat.stack.snapshot.panels import NamedSeries, draw, is_finite

WIDTH_IN = 16.0
ROW_IN = 0.42  # one grid row (Grafana: 30 px and a margin)
PAD = 0.006
AXIS_LABELS = 0.035  # of the width, left of a time series for its y-axis labels
POINTS = 240


def _fetch(
    api: PrometheusAPI, panel: Panel, start: float, end: float, step: float
) -> list[NamedSeries]:
    found: list[NamedSeries] = []
    for query in panel.queries:
        for series in api.query_range(query.expr, start, end, step):
            points = [(t, v) for t, v in series.points if is_finite(v)]
            found.append(NamedSeries(query.name(series.labels), points))
    return found


def _step_for(range_s: float) -> float:
    return max(1.0, round(range_s / POINTS))


def draw_dashboard(
    dashboard: Dashboard, data: dict[int, list[NamedSeries]], subtitle: str
) -> Figure:
    """The figure of ``dashboard`` with ``data`` (series by panel index) and a ``subtitle``."""
    rows = dashboard.rows
    height = rows * ROW_IN + 0.6
    figure = Figure(figsize=(WIDTH_IN, height), dpi=100)
    FigureCanvasAgg(figure)
    top = 1 - 0.6 / height
    figure.text(0.005, 1 - 0.2 / height, dashboard.title, fontsize=13, weight="bold", va="top")
    figure.text(
        0.995, 1 - 0.22 / height, subtitle, fontsize=8, ha="right", va="top", color="#666666"
    )
    for index, panel in enumerate(dashboard.panels):
        if panel.type == "row":  # a title across the grid, over the panels below it
            figure.text(
                PAD, top - panel.y / rows * top, panel.title, fontsize=11, weight="bold", va="top"
            )
            continue
        left = panel.x / GRID_COLUMNS + PAD
        width = panel.w / GRID_COLUMNS - 2 * PAD
        if panel.type == "timeseries":
            left, width = left + AXIS_LABELS, width - AXIS_LABELS
        bottom = top - (panel.y + panel.h) / rows * top + PAD * 3
        tall = panel.h / rows * top - PAD * 9
        ax = figure.add_axes((left, bottom, width, tall))
        draw(ax, panel, data.get(index, []))
    return figure


def snapshot_dashboard(
    api: PrometheusAPI, dashboard: Dashboard, start: float, end: float, out: Path, subtitle: str
) -> Path:
    """Query, draw and write ``<out>/<dashboard>.png`` for ``start`` to ``end``; its path."""
    step = _step_for(end - start)
    data = {i: _fetch(api, panel, start, end, step) for i, panel in enumerate(dashboard.panels)}
    figure = draw_dashboard(dashboard, data, subtitle)
    path = out / f"{dashboard.name}.png"
    figure.savefig(path)
    return path
