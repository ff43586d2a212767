"""A Grafana dashboard JSON read back as what a preview needs: panels on the 24-column grid,
each with its type, title, unit, thresholds and queries, the dashboard's variables filled in
(``$job`` with the job, ``$instance`` with every instance, ``$__rate_interval`` with
``RATE_INTERVAL``)."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

GRID_COLUMNS = 24
RATE_INTERVAL = "1m"
"""What Grafana makes of ``$__rate_interval`` at the bundles' 15 s scrape interval (four of
them) and a step under 45 s: a preview's range query uses it at any step."""
_LEGEND = re.compile(r"\{\{\s*(\w+)\s*\}\}")


@dataclass(frozen=True)
class Query:
    """One query of a panel and its legend format."""

    expr: str
    legend: str  # Grafana's legendFormat; "" names a series by its labels

    def name(self, labels: dict[str, str]) -> str:
        """The series' name as Grafana shows it: the legend with ``{{label}}`` filled in, else
        its labels."""
        if self.legend:
            named = _LEGEND.sub(lambda m: labels.get(m.group(1), ""), self.legend).strip()
            if named:
                return named
        shown = {k: v for k, v in labels.items() if k != "__name__"}
        return ", ".join(f"{k}={v}" for k, v in sorted(shown.items())) or "value"


@dataclass(frozen=True)
class Step:
    """One threshold step: a Grafana colour from ``value`` up."""

    color: str
    value: float | None  # None: the base step, below every other


@dataclass(frozen=True)
class Panel:
    """One panel as the preview draws it: type, grid position, unit, thresholds, queries."""

    type: str
    title: str
    x: int
    y: int
    w: int
    h: int
    unit: str | None
    steps: tuple[Step, ...]
    queries: tuple[Query, ...]
    minimum: float | None = None
    maximum: float | None = None
    thresholds_style: str = "off"  # Grafana's thresholdsStyle.mode: off, line, dashed, area...
    options: dict[str, Any] = field(default_factory=dict)

    def color_of(self, value: float) -> str:
        """The colour of the threshold step ``value`` falls in (Grafana's absolute mode)."""
        chosen = self.steps[0].color if self.steps else "green"
        for step in self.steps:
            if step.value is None or value >= step.value:
                chosen = step.color
        return chosen


@dataclass(frozen=True)
class Dashboard:
    """A dashboard's name (its file's stem), title and panels."""

    name: str
    title: str
    panels: tuple[Panel, ...]

    @property
    def rows(self) -> int:
        """The grid rows the panels reach down to."""
        return max((p.y + p.h for p in self.panels), default=1)


def _steps(defaults: dict[str, Any]) -> tuple[Step, ...]:
    steps = []
    for step in defaults.get("thresholds", {}).get("steps", []):
        value = step.get("value")
        # grafanalib writes the base step's value as the string "null"
        number = None if value in (None, "null") else float(value)
        steps.append(Step(str(step.get("color", "green")), number))
    return tuple(steps)


def _fill(expr: str, job: str) -> str:
    return (
        expr.replace("$job", job)
        .replace("$instance", ".+")
        .replace("$__rate_interval", RATE_INTERVAL)
    )


def _panel(data: dict[str, Any], job: str) -> Panel:
    defaults = data.get("fieldConfig", {}).get("defaults", {})
    grid = data.get("gridPos", {})
    style = defaults.get("custom", {}).get("thresholdsStyle", {}).get("mode", "off")
    return Panel(
        type=str(data.get("type", "")),
        title=str(data.get("title", "")),
        x=int(grid.get("x", 0)),
        y=int(grid.get("y", 0)),
        w=int(grid.get("w", GRID_COLUMNS)),
        h=int(grid.get("h", 8)),
        unit=defaults.get("unit"),
        steps=_steps(defaults),
        queries=tuple(
            Query(_fill(str(t["expr"]), job), str(t.get("legendFormat", "")))
            for t in data.get("targets", [])
            if t.get("expr") and not t.get("hide")
        ),
        minimum=defaults.get("min"),
        maximum=defaults.get("max"),
        thresholds_style=str(style),
        options=data.get("options", {}),
    )


def load(path: Path, job: str) -> Dashboard:
    """The dashboard JSON at ``path``, its ``$job`` set to ``job`` and ``$instance`` to every
    instance."""
    data = json.loads(path.read_text(encoding="utf-8"))
    panels: list[Panel] = []
    for item in data.get("panels", []):
        panels.append(_panel(item, job))
        for inner in item.get("panels", []):  # panels of a collapsed row
            panels.append(_panel(inner, job))
    return Dashboard(path.stem, str(data.get("title", path.stem)), tuple(panels))
