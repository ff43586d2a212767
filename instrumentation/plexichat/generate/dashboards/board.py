"""One generated dashboard: the panels its module designs, then a default panel for every
catalog instrument that names the dashboard (``dashboard: business``) and that no designed
panel reads.

So a new instrument is on its dashboard as soon as the catalog defines it, without dashboard
code. The default panel follows from the instrument's kind:

- a counter: its rate per second over 5 minutes, summed by its attributes;
- a histogram: p50 / p95 / p99 over all its series (its exemplars with the first, when the
  catalog keeps them);
- a gauge or up-down counter: its value per instance and attributes.

A counter's rate, a histogram's quantiles (OpenTelemetry histograms take non-negative values)
and a size cannot be negative: those panels start at 0. Any other gauge may (an up-down
counter is allowed to), so the data sets its floor.

A panel designed in the dashboard's module that reads the instrument's series replaces the
default one.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from plexichat.catalog import Instrument
from plexichat.generate.dashboards import panels
from plexichat.generate.options import Options

WINDOW = "5m"
"""The rate window of the default panels."""
WIDTH, HEIGHT = 12, 8
_SERIES = re.compile(r"([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[]")
_SUFFIXES = ("_bucket", "_sum", "_count", "_total")
_VALUE_UNITS = {"s": "s", "By": "bytes"}
_RATE_UNITS = {"By": "Bps"}


def dashboard(
    name: str, title: str, description: str, cells: Iterable[panels.Cell], options: Options
) -> dict[str, Any]:
    """Dashboard ``name`` (``dashboards/<name>.json``, uid ``plexichat-<name>``) as Grafana JSON:
    ``cells``, then the default panels of the instruments they leave out."""
    designed = list(cells)
    shown = read_by(designed)
    unshown = [
        instrument
        for instrument in options.catalog.instruments
        if instrument.dashboard == name and instrument.prometheus_name not in shown
    ]
    jobs = sorted({job for e in options.watched.entries for job in e.jobs or (e.source.job,)})
    return panels.dashboard(
        panels.uid(name),
        title,
        description,
        [*designed, *(panels.Cell(default_panel(i), WIDTH, HEIGHT) for i in unshown)],
        options.profile,
        [panels.watched_annotation(jobs, options.watched.heartbeat.name)],
    )


def read_by(cells: Iterable[panels.Cell]) -> set[str]:
    """The metric families the cells' queries read (a counter without ``_total``, a
    histogram without ``_bucket``/``_sum``/``_count``)."""
    found = set()
    for cell in cells:
        for target in getattr(cell.panel, "targets", None) or ():
            for series in _SERIES.findall(target.expr):
                found.add(_family(series))
    return found


def _family(series: str) -> str:
    for suffix in _SUFFIXES:
        if series.endswith(suffix):
            return series.removesuffix(suffix)
    return series


def default_panel(instrument: Instrument) -> Any:
    """The panel an instrument gets from its kind (see the module's docstring)."""
    labels = instrument.prometheus_labels
    if instrument.kind == "counter":
        total = f"{instrument.prometheus_series}{{{panels.SELECTOR}}}"
        by = f" by ({', '.join(labels)}) " if labels else ""
        query = f"sum{by}(rate({total}[{WINDOW}]))"
        return panels.timeseries(
            instrument.name,
            f"{instrument.description} Per second ({instrument.name}, {instrument.unit}).",
            [panels.target(query, _legend(labels) or instrument.name)],
            _RATE_UNITS.get(instrument.unit, "ops"),
        )
    unit = _VALUE_UNITS.get(instrument.unit, "short")
    if instrument.kind == "histogram":
        return panels.timeseries(
            instrument.name,
            f"{instrument.description} p50 / p95 / p99 over all series ({instrument.name}, "
            f"{instrument.unit}).",
            panels.quantiles(instrument.prometheus_name, WINDOW, exemplars=instrument.exemplars),
            unit,
        )
    by_instance = ("instance", *labels)
    query = (
        f"sum by ({', '.join(by_instance)}) ({instrument.prometheus_series}{{{panels.SELECTOR}}})"
    )
    return panels.timeseries(
        instrument.name,
        f"{instrument.description} Per instance ({instrument.name}, {instrument.unit}).",
        [panels.target(query, _legend(by_instance))],
        unit,
        minimum=0 if unit == "bytes" else None,
    )


def _legend(labels: Sequence[str]) -> str:
    """Grafana's legend naming each series by ``labels``: ``{{job_kind}} {{instance}}``."""
    return " ".join(f"{{{{{label}}}}}" for label in labels)
